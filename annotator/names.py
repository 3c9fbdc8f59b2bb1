"""Names of sources, reduced for comparison: the one place that says when two names are written alike.

Used by `evaluate` (is the proposed speaker the gold speaker?) and `qa` (is one source written two
ways in a document?). Kept free of heavy imports.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from typing import Any

APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'"})
# Letters that are a base letter with a stroke or without a dot; NFKD leaves them whole.
_BASE_LETTERS = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ŧ": "t"})
_NAME_PREFIX = re.compile(r"(?<![^\W_])(?:(?:al|el)-)+")
_LEADING_THE = re.compile(r"^(?:the\s+)+")


def fold(text: str) -> str:
    """Case, diacritics and apostrophe variants folded away."""
    text = _strip_marks(_strip_marks(text.casefold()).casefold())
    return text.translate(_BASE_LETTERS).translate(APOSTROPHES)


class _FoldedCharacters(dict[int, str]):
    """`fold` of each character, worked out when first met.

    `fold` maps a text character by character (case folding and compatibility decomposition are per
    character, and the marks that canonical reordering moves are the ones it drops), so a whole
    text is folded by `str.translate` with this table, at C speed, instead of one character at a time.
    """

    def __missing__(self, code: int) -> str:
        folded = self[code] = fold(chr(code))
        return folded


_FOLDED = _FoldedCharacters()


def fold_text(text: str) -> str:
    """`fold(text)`, for a long text: the same string, faster (`_FoldedCharacters`)."""
    return text.translate(_FOLDED)


def _strip_marks(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))


@functools.lru_cache(maxsize=65536)
def normalise_name(name: str) -> str:
    """A source's name reduced for comparison: case, diacritics, apostrophes (’ vs '), `al-`/`el-`
    prefixes, a leading "the" and spacing ignored. `The Syrian Observatory` → `syrian observatory`,
    `Bashar al-Assad` → `bashar assad`. Remembered for the names met most: an archive names the same
    sources over and over, and comparing reviewers' labels asks for each again and again."""
    folded = _NAME_PREFIX.sub("", fold(name))
    return _LEADING_THE.sub("", " ".join(folded.split()))


def same_name(a: Any, b: Any) -> bool:
    """Whether two canonical names (or two nulls) are the same name once normalised."""
    if not isinstance(a, str) or not isinstance(b, str):
        return a is None and b is None
    return normalise_name(a) == normalise_name(b)


def speaker_mentions(document: str, speaker: str) -> list[tuple[int, int]]:
    """Where `document` names `speaker`: the whole name, else (for a name of several words) its last word."""
    words = speaker.split()
    for name in [speaker] + ([words[-1]] if len(words) > 1 else []):
        found = [(m.start(), m.end()) for m in re.finditer(rf"(?<![^\W_]){re.escape(name)}(?![^\W_])", document)]
        if found:
            return found
    return []


_OPENING_MARKS = "“«„"
_CLOSING_MARKS = "”»"


def inside_quotation(document: str, start: int, end: int) -> bool:
    """Whether `document[start:end]` lies inside quotation marks (“…”, «…», "…") of its paragraph.

    Single marks are left out: they are apostrophes as often as quotes.
    """
    paragraph = document.rfind("\n", 0, start) + 1
    depth, straight = 0, False
    for char in document[paragraph:start]:
        if char in _OPENING_MARKS:
            depth += 1
        elif char in _CLOSING_MARKS:
            depth = max(0, depth - 1)
        elif char == '"':
            straight = not straight
    return depth > 0 or straight


def nearest_mention(document: str, speaker: str | None, start: int, end: int) -> tuple[int, int] | None:
    """The mention of `speaker` nearest the quote at `start:end`, or None when the text never names them.

    A mention inside the quote or inside any quotation marks is never the speaker's: an article can
    quote someone naming another.
    """
    if not speaker or not speaker.strip():
        return None
    outside = [(s, e) for s, e in speaker_mentions(document, speaker.strip())
               if (e <= start or s >= end) and not inside_quotation(document, s, e)]
    if not outside:
        return None
    return min(outside, key=lambda span: min(abs(span[0] - end), abs(start - span[1])))
