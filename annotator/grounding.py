"""Anchor proposed spans to exact character offsets of a document.

An LLM returns the words of a quote, not where they are, and the words are often not verbatim:
curly quotes become straight, whitespace collapses, dashes and ellipses change, a word is dropped
or swapped. `DocumentIndex.ground` finds the span in three steps, each with its own score:

1. exact: `str.find` of the snippet (score 1.0);
2. normalized: both texts mapped through `normalize_text` (quote marks, dashes, ellipsis,
   whitespace, zero-width characters, case), found there and mapped back to the original
   offsets (score 0.99, or 0.98 when the letter case differs too);
3. fuzzy: rapidfuzz's best aligned window, moved to word boundaries and scored by
   `fuzz.ratio / 100` against the snippet; a snippet with `...` elisions whose pieces are all
   found, in order and close together, scores `ELIDED_SCORE`.

A result below the threshold comes back as method `"none"` without offsets: the caller stores it
flagged as ungrounded and never presents it as verbatim. Offsets are Python string (code point)
offsets, and `document[start:end] == grounding.text` always holds.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeGuard

from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

Method = Literal["exact", "normalized", "fuzzy", "none"]

DEFAULT_THRESHOLD = 0.85
"""The score a grounding needs to count as grounded."""

EXACT_SCORE = 1.0
NORMALIZED_SCORE = 0.99
CASEFOLDED_SCORE = 0.98
ELIDED_SCORE = 0.9
"""Score of a snippet whose `...`-separated pieces are each found, in order, close together."""

FUZZY_WINDOW = 7000
"""Characters either side of a hint that the fuzzy step searches before the whole document.

Wide enough to hold a default 12,000-character chunk (`chunking.CHUNK_CHARS`) when the hint is its
middle (`Chunk.middle`).
"""

MAX_ELIDED_CHARS = 1000
"""The most characters an elision (`...`) in a snippet may stand for."""

DOUBLE_QUOTES = '"\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033\u301d\u301e\uff02'
SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b\u2032\u2039\u203a\uff07"
QUOTE_MARKS = DOUBLE_QUOTES + SINGLE_QUOTES
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
ZERO_WIDTH = "\u00ad\u200b\u200c\u200d\u2060\ufeff"

_CHAR_MAP: dict[str, str] = {
    **dict.fromkeys(DOUBLE_QUOTES, '"'),
    **dict.fromkeys(SINGLE_QUOTES, "'"),
    "\u2026": "...",
}
_ZW = re.escape(ZERO_WIDTH)
_SPECIAL = re.compile(
    # Spaces around a dash are dropped so that "a — b", "a—b" and "a - b" all read "a-b".
    rf"(?P<dash>[\s{_ZW}]*[-{re.escape(DASHES)}][\s{_ZW}]*)"
    # A lone " " is already normal; leaving it out of the matches keeps the index build fast.
    rf"|(?P<space>[\s{_ZW}]{{2,}}|[^\S ]|[{_ZW}])"
    rf"|(?P<char>[{re.escape(''.join(_CHAR_MAP))}])"
)
_EDGE = 200
"""Characters at each end of a long snippet that decide where its fuzzy span starts and ends."""
_WORD = re.compile(r"\w+")
_LAST_WORD = re.compile(r"\w+(?=\W*$)")
_ELISION = re.compile(r"\s*[\[(]?\.{3,}[\])]?\s*")


@dataclass(frozen=True)
class Grounding:
    """Where a snippet sits in a document, how it was found and how closely it matches."""

    start: int | None
    """Offset of the first character; None when not found."""
    end: int | None
    """Offset after the last character; None when not found."""
    text: str | None
    """`document[start:end]`; None when not found."""
    score: float
    """1.0 exact, 0.99 or 0.98 normalized, `fuzz.ratio / 100` fuzzy; for `none`, the best score seen."""
    method: Method
    """How it was found: `exact`, `normalized`, `fuzzy`, or `none` when it was not."""
    threshold: float = DEFAULT_THRESHOLD
    """The threshold this grounding was judged against."""

    @property
    def grounded(self) -> bool:
        """Whether the span was found with a score at or above the threshold."""
        return self.start is not None and self.score >= self.threshold


def normalize_text(text: str, casefold: bool = True) -> str:
    """`text` with quote marks, dashes, ellipses, whitespace and zero-width characters made uniform."""
    return _normalize_with_map(text, casefold)[0]


def _normalize_with_map(text: str, casefold: bool) -> tuple[str, array, array]:
    """The normalised text and, for each of its characters, the original characters behind it.

    `text[starts[k]:ends[k]]` produced normalised character `k`, so the normalised span `a:b`
    covers the original span `starts[a]:ends[b - 1]`.
    """
    parts: list[str] = []
    starts = array("q")
    ends = array("q")

    def plain(lo: int, hi: int) -> None:
        segment = text[lo:hi]
        folded = segment.casefold() if casefold else segment
        if len(folded) == len(segment):
            # Casefolding never deletes a character, so equal length means one to one.
            parts.append(folded)
            starts.extend(range(lo, hi))
            ends.extend(range(lo + 1, hi + 1))
            return
        for offset, char in enumerate(segment):
            out = char.casefold()
            parts.append(out)
            starts.extend([lo + offset] * len(out))
            ends.extend([lo + offset + 1] * len(out))

    position = 0
    for match in _SPECIAL.finditer(text):
        if match.start() > position:
            plain(position, match.start())
        position = match.end()
        group = match.group()
        if match.lastgroup == "dash":
            # The "-" stands for the dash alone, so a span never starts or ends on the dropped spaces.
            at = match.start() + next(i for i, char in enumerate(group) if char == "-" or char in DASHES)
            parts.append("-")
            starts.append(at)
            ends.append(at + 1)
        elif match.lastgroup == "space":
            if any(char not in ZERO_WIDTH for char in group):
                parts.append(" ")
                starts.append(match.start())
                ends.append(match.end())
        else:
            out = _CHAR_MAP[group]
            parts.append(out)
            starts.extend([match.start()] * len(out))
            ends.extend([match.end()] * len(out))
    if position < len(text):
        plain(position, len(text))
    return "".join(parts), starts, ends


def clean_snippet(snippet: str) -> str:
    """The snippet without surrounding whitespace and the quote marks an LLM wraps it in.

    A pair of marks around the whole snippet goes unless double marks also appear inside
    (`"Yes," he said, "we will."` keeps its marks); a lone double mark at either end goes when it
    is the only one. A lone single mark stays: it is usually an apostrophe (`workers'`, `'90s`).
    """
    text = snippet.strip().strip(ZERO_WIDTH).strip()
    while len(text) >= 2 and text[0] in QUOTE_MARKS and text[-1] in QUOTE_MARKS:
        inner = text[1:-1]
        if (text[0] in DOUBLE_QUOTES or text[-1] in DOUBLE_QUOTES) and any(c in DOUBLE_QUOTES for c in inner):
            break
        text = inner.strip()
    if sum(char in DOUBLE_QUOTES for char in text) == 1:
        if text[0] in DOUBLE_QUOTES:
            text = text[1:].strip()
        elif text[-1] in DOUBLE_QUOTES:
            text = text[:-1].strip()
    return text


def _fit(snippet: str, window: str) -> float:
    """How well `window` stands for `snippet`: an F-score of their common characters, recall weighted 4:1.

    Plain `fuzz.ratio` weighs both sides equally, so it would rather end a span before a word
    the LLM dropped than take in the dropped word and the quoted word after it.
    """
    common = LCSseq.similarity(snippet, window)
    if not common:
        return 0.0
    precision, recall = common / len(window), common / len(snippet)
    return 5 * precision * recall / (4 * precision + recall)


def _similar_word(found: re.Match[str] | None, words: list[str]) -> TypeGuard[re.Match[str]]:
    """Whether a word was found and is one of `words`, allowing a typo in a long word."""
    if found is None:
        return False
    word = found.group()
    return any(word == other or (min(len(word), len(other)) >= 4 and fuzz.ratio(word, other) >= 80) for other in words)


def _wordy(char: str) -> bool:
    return char.isalnum() or char == "_"


@dataclass(frozen=True)
class _Match:
    """A span in normalised offsets with its score and method."""

    start: int
    end: int
    score: float
    method: Method


class DocumentIndex:
    """A document prepared for grounding many snippets: its normalisation is built once."""

    def __init__(self, document: str) -> None:
        self.document = document
        self._norm = ""
        self._starts = self._ends = array("q")
        self._prepared = False

    def _prepare(self) -> None:
        # Built on the first snippet that is not found verbatim: most are, and then it is never needed.
        if not self._prepared:
            self._norm, self._starts, self._ends = _normalize_with_map(self.document, casefold=True)
            self._prepared = True

    def ground(self, snippet: str, hint: int | None = None, threshold: float = DEFAULT_THRESHOLD) -> Grounding:
        """Find `snippet` in the document: exact, then normalized, then fuzzy.

        `hint` is a document offset the caller expects the snippet near (for a chunked document,
        `chunk.middle`): of several occurrences the nearest wins, and the fuzzy step searches
        `FUZZY_WINDOW` characters either side of it before the whole document.
        """
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, not {threshold}")
        document = self.document
        none = Grounding(None, None, None, 0.0, "none", threshold)
        clean = clean_snippet(snippet)
        if not clean or not document:
            return none
        if hint is not None:
            hint = min(max(hint, 0), len(document))

        start = _nearest(document, clean, hint, hint, lambda k: k)
        if start is not None:
            return self._result(start, start + len(clean), EXACT_SCORE, "exact", threshold)

        needle = normalize_text(clean).strip()
        if not needle:
            return none
        self._prepare()
        norm_hint = None if hint is None else bisect_left(self._starts, hint)
        found = _nearest(self._norm, needle, norm_hint, hint, self._starts.__getitem__)
        if found is not None:
            start, end = self._starts[found], self._ends[found + len(needle) - 1]
            same = normalize_text(document[start:end], casefold=False) == normalize_text(clean, casefold=False)
            return self._result(start, end, NORMALIZED_SCORE if same else CASEFOLDED_SCORE, "normalized", threshold)

        candidates = [self._fuzzy(needle, norm_hint, threshold), self._elided(needle, norm_hint)]
        best = max((c for c in candidates if c is not None), key=lambda c: c.score, default=None)
        if best is None:
            return none
        start, end = self._starts[best.start], self._ends[best.end - 1]
        return self._result(start, end, best.score, best.method, threshold)

    def _result(self, start: int, end: int, score: float, method: Method, threshold: float) -> Grounding:
        if score < threshold:
            return Grounding(None, None, None, score, "none", threshold)
        return Grounding(start, end, self.document[start:end], score, method, threshold)

    def _fuzzy(self, needle: str, hint: int | None, threshold: float) -> _Match | None:
        """The best fuzzy window: around the hint first, then in the whole document."""
        size = len(self._norm)
        regions = []
        if hint is not None:
            reach = FUZZY_WINDOW + len(needle)
            regions.append((max(0, hint - reach), min(size, hint + reach)))
        if not regions or regions[0] != (0, size):
            regions.append((0, size))
        best: _Match | None = None
        for lo, hi in regions:
            if best is not None and best.score >= threshold:
                break
            match = self._align(needle, lo, hi)
            if match is not None and (best is None or match.score > best.score):
                best = match
        return best

    def _align(self, needle: str, lo: int, hi: int) -> _Match | None:
        """rapidfuzz's aligned window in `norm[lo:hi]`, moved to word boundaries and rescored."""
        if lo >= hi:
            return None
        alignment = fuzz.partial_ratio_alignment(needle, self._norm[lo:hi])
        if alignment is None or alignment.dest_end <= alignment.dest_start:
            return None
        return self._refine(needle, lo + alignment.dest_start, lo + alignment.dest_end, lo, hi)

    def _refine(self, needle: str, start: int, end: int, lo: int, hi: int) -> _Match | None:
        """Move the window's edges to the nearby word boundaries where the snippet fits best.

        partial_ratio's window is exactly as long as the snippet, so when the LLM dropped words
        the span in the document is longer; the slack lets the edges reach past it. The fit
        weighs recall over precision (`_fit`) so that a dropped word next to the snippet's last
        word does not cost the span that last word.
        """
        norm = self._norm
        long = len(needle) > 2 * _EDGE
        # A long snippet is compared at its edges only, so the slack has to stay inside them.
        slack = min(len(needle) // 4 + 8, _EDGE - 50) if long else len(needle) // 4 + 8
        # At the ends of the text rapidfuzz's window can be shorter than the snippet.
        short = max(0, len(needle) - (end - start))
        starts = [p for p in range(max(lo, start - slack - short), min(hi, start + slack + 1)) if self._start_ok(p)]
        ends = [q for q in range(max(lo + 1, end - slack), min(hi, end + slack + short) + 1) if self._end_ok(q)]
        if not starts:
            # Text without spaces (a URL, CJK): the aligned edge is as good as any.
            while start < end and norm[start].isspace():
                start += 1
            starts = [start]
        if not ends:
            while end > start and norm[end - 1].isspace():
                end -= 1
            ends = [end]

        # An edge is taken at one of the snippet's own first or last words, with punctuation only
        # where the snippet has it too; other edges only when there is none of those. Otherwise a
        # stray word the LLM added pulls the span onto the punctuation and words beside it.
        first_words = _WORD.findall(needle[:_EDGE])[:3]
        last_words = _WORD.findall(needle[-_EDGE:])[-3:]

        def opens(p: int) -> bool:
            word = _WORD.search(norm, p, p + 60)
            return _similar_word(word, first_words) and needle.startswith(norm[p : word.start()])

        def closes(q: int) -> bool:
            word = _LAST_WORD.search(norm, max(0, q - 60), q)
            return _similar_word(word, last_words) and needle.endswith(norm[word.end() : q])

        starts = [p for p in starts if opens(p)] or starts
        ends = [q for q in ends if closes(q)] or ends

        def nearest(options: list[int], to: int, fit: Callable[[int], float]) -> int:
            # Ties go to the edge nearest rapidfuzz's own alignment.
            return max(options, key=lambda k: (fit(k), -abs(k - to)))

        if long:
            # Scoring each candidate against the whole snippet would cost seconds for a page-long
            # quote; against a fixed point inside the window, only the edge itself varies.
            head, tail = needle[:_EDGE], needle[-_EDGE:]
            p = nearest(starts, start, lambda p: _fit(head, norm[p : start + _EDGE]))
            ends = [q for q in ends if q > p]
            if not ends:
                return None
            q = nearest(ends, end, lambda q: _fit(tail, norm[end - _EDGE : q]))
        else:
            # Coordinate ascent: the best start for the nearest end, the best end for it, the start again.
            q = min(ends, key=lambda q: abs(q - end))
            for _ in range(2):
                p = nearest([p for p in starts if p < q] or starts, start, lambda p: _fit(needle, norm[p:q]))
                ends = [k for k in ends if k > p]
                if not ends:
                    return None
                q = nearest(ends, end, lambda q: _fit(needle, norm[p:q]))
        return _Match(p, q, fuzz.ratio(needle, norm[p:q]) / 100, "fuzzy")

    def _start_ok(self, p: int) -> bool:
        char = self._norm[p]
        return not char.isspace() and not (p > 0 and _wordy(self._norm[p - 1]) and _wordy(char))

    def _end_ok(self, q: int) -> bool:
        char = self._norm[q - 1]
        return not char.isspace() and not (q < len(self._norm) and _wordy(char) and _wordy(self._norm[q]))

    def _elided(self, needle: str, hint: int | None) -> _Match | None:
        """A snippet with `...` elisions whose pieces are all found, in order, close together."""
        if not _ELISION.search(needle):
            return None
        pieces = [piece for piece in (part.strip() for part in _ELISION.split(needle)) if piece]
        # A piece of a word or two would turn up anywhere: no evidence of where the quote is.
        if not pieces or any(len(piece) < 8 for piece in pieces):
            return None
        norm = self._norm
        occurrences: list[int] = []
        at = norm.find(pieces[0])
        while at >= 0 and len(occurrences) < 200:
            occurrences.append(at)
            at = norm.find(pieces[0], at + 1)
        if hint is not None:
            occurrences.sort(key=lambda k: abs(k - hint))
        for start in occurrences:
            end = start + len(pieces[0])
            for piece in pieces[1:]:
                at = norm.find(piece, end, end + MAX_ELIDED_CHARS + len(piece))
                if at < 0:
                    break
                end = at + len(piece)
            else:
                return _Match(start, end, ELIDED_SCORE, "fuzzy")
        return None


def _nearest(text: str, needle: str, hint: int | None, target: int | None, original: Callable[[int], int]) -> int | None:
    """Offset of `needle` in `text`: the occurrence nearest the hint, else the first.

    `hint` is an offset of `text`; `original` maps offsets of `text` to the document, where the
    distance to `target` (the caller's hint) is measured. On a tie the earlier occurrence wins.
    """
    if hint is None or target is None:
        found = text.find(needle)
        return found if found >= 0 else None
    after = text.find(needle, hint)
    # rfind wants the whole needle before its end bound: this is the last occurrence starting before hint.
    before = text.rfind(needle, 0, hint - 1 + len(needle))
    options = [k for k in (before, after) if k >= 0]
    if not options:
        return None
    return min(options, key=lambda k: (abs(original(k) - target), k))


def ground(document: str, snippet: str, *, hint: int | None = None, threshold: float = DEFAULT_THRESHOLD) -> Grounding:
    """Ground one snippet in one document; build a `DocumentIndex` to ground many in the same one."""
    return DocumentIndex(document).ground(snippet, hint=hint, threshold=threshold)
