"""Names of sources, reduced for comparison: the one place that says when two names are written alike.

Used by `evaluate` (is the proposed speaker the gold speaker?) and `qa` (is one source written two
ways in a document?). Kept free of heavy imports.
"""

from __future__ import annotations

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


def _strip_marks(text: str) -> str:
    return "".join(char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char))


def normalise_name(name: str) -> str:
    """A source's name reduced for comparison: case, diacritics, apostrophes (’ vs '), `al-`/`el-`
    prefixes, a leading "the" and spacing ignored. `The Syrian Observatory` → `syrian observatory`,
    `Bashar al-Assad` → `bashar assad`."""
    folded = _NAME_PREFIX.sub("", fold(name))
    return _LEADING_THE.sub("", " ".join(folded.split()))


def same_name(a: Any, b: Any) -> bool:
    """Whether two canonical names (or two nulls) are the same name once normalised."""
    if not isinstance(a, str) or not isinstance(b, str):
        return a is None and b is None
    return normalise_name(a) == normalise_name(b)
