"""One pass over one document: the views every rule reads, the anchors found in one search, and
the annotations built from what the sections find."""

from __future__ import annotations

import re
from functools import lru_cache

from annotator.propose.rules.figures import _NUMBER_ANCHOR_WORDS, _Figures
from annotator.propose.rules.quotes import (
    _BARE_CUES,
    _CUE_VERBS,
    _QUOTING_VERBS,
    _Cue,
    _cue_at,
    _QuoteDraft,
    _Quotes,
)
from annotator.propose.rules.speakers import _NAME, _Mention, _Speaker
from annotator.propose.rules.stances import _STANCE_VERBS, _Stances
from annotator.propose.rules.text import _FILL, _alternation, _origin
from annotator.schemas import Annotation, Figure, Quote

_PARAGRAPH = re.compile(r"[^\r\n]+")
# One search, over the lower-cased text, finds reporting words, number words and stance verbs: each
# pass of `re` over a text costs about as much as the rest of a rule, so the lists share one tree.
_WORD_ANCHOR = re.compile(
    r"\b(?:"
    + _alternation(
        [*_CUE_VERBS, *_BARE_CUES, *_QUOTING_VERBS, "described", "according", *_NUMBER_ANCHOR_WORDS, *_STANCE_VERBS]
    )
    + r")\b"
)


class _Analysis(_Quotes, _Figures, _Stances):
    """One pass over one document; holds the views and indexes the rules share."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.paragraphs = _paragraphs(text)
        self.paragraph_starts = [start for start, _ in self.paragraphs]
        self.segments = self._scan_quotes()
        self.segment_opens = [seg.open for seg in self.segments]
        self.narrative = self._mask()
        # Capitalised runs are found in one pass and cleaned into mentions only when a rule asks:
        # most of them (sentence openers, places) are never looked at.
        self.name_spans = [match.span() for match in _NAME.finditer(self.narrative)]
        self.name_starts = [start for start, _ in self.name_spans]
        self.cleaned: dict[int, _Mention | None] = {}
        self.name_by_end: dict[int, int] | None = None
        self.full_names: dict[str, tuple[list[int], list[_Mention]]] = {}
        self.name_words: dict[str, list[int]] | None = None  # built when a full name is first looked for
        self.text_words: frozenset[str] | None = None  # built when a source's capital is first looked at
        self.written_words: dict[str, bool] = {}
        self.cues: list[_Cue] = []
        self.number_anchors: list[int] = []
        self.stance_anchors: list[int] = []
        self._find_anchors()
        self.cue_starts = [cue.start for cue in self.cues]
        self.speaker_log: list[tuple[int, _Speaker]] = []
        self.first_contents: dict[int, int] = {}  # by paragraph index, worked out when first asked
        self.pure_quotes: dict[int, bool] = {}
        self.quotes: list[_QuoteDraft] = []

    def _find_anchors(self) -> None:
        """Where reporting words, number words and stance verbs stand, in one search."""
        text = self.text
        narrative = self.narrative
        lowered = text.lower()
        if len(lowered) == len(text):
            searched, anchor = lowered, _WORD_ANCHOR
        else:  # lower-casing changed some lengths ("İ"), so its offsets are not the text's
            searched, anchor = text, _word_anchor_any_case()
        for match in anchor.finditer(searched):
            position = match.start()
            word = match.group().lower()
            if word in _NUMBER_ANCHOR_WORDS:
                self.number_anchors.append(position)
            elif narrative[position] == _FILL:
                continue  # reporting words and stances inside quotes are the speaker's, not the story's
            elif word in _STANCE_VERBS:
                self.stance_anchors.append(position)
            else:
                cue = _cue_at(narrative, text[position : match.end()], position, len(text))
                if cue is not None:
                    self.cues.append(cue)

    # -- output ---------------------------------------------------------------------------------

    def annotations(self) -> list[Annotation]:
        """Run every rule and build the validated annotation models."""
        self._find_quotes()
        figures = self._find_figures()
        stances = self._find_stances()
        text = self.text
        seen: set[tuple[str, int, int]] = set()
        out: list[Annotation] = []
        for draft in self.quotes:
            key = ("quote", draft.start, draft.end)
            if key in seen or draft.end <= draft.start:
                continue
            seen.add(key)
            speaker = draft.speaker
            has_mention = speaker is not None and speaker.start is not None and speaker.end is not None
            out.append(
                Quote(
                    start=draft.start,
                    end=draft.end,
                    text=text[draft.start : draft.end],
                    speaker=speaker.name if speaker else None,
                    speaker_start=speaker.start if has_mention else None,
                    speaker_end=speaker.end if has_mention else None,
                    cue=draft.cue,
                    quote_type=draft.quote_type,
                    origin=_origin(),
                )
            )
        for figure in figures:
            key = ("figure", figure.start, figure.end)
            if key in seen:
                continue
            seen.add(key)
            out.append(
                Figure(
                    start=figure.start,
                    end=figure.end,
                    text=text[figure.start : figure.end],
                    value=figure.value,
                    unit=figure.unit,
                    qualifier=figure.qualifier,
                    subject=figure.subject,
                    attributed_to=figure.attributed_to,
                    origin=_origin(),
                )
            )
        for stance in stances:
            key = ("stance", stance.start, stance.end)
            if key not in seen:
                seen.add(key)
                out.append(stance)
        out.sort(key=lambda a: (a.start, a.end, a.kind))
        return out


@lru_cache(maxsize=1)
def _word_anchor_any_case() -> re.Pattern[str]:
    """The anchor search for the rare text whose lower-casing changes its length; built on demand."""
    return re.compile(_WORD_ANCHOR.pattern, re.IGNORECASE)


def _paragraphs(text: str) -> list[tuple[int, int]]:
    """The spans of the non-blank lines of `text`."""
    if "\r" in text:
        return [(m.start(), m.end()) for m in _PARAGRAPH.finditer(text) if m.group().strip()]
    # Splitting on newlines is several times faster than a regex over the whole text.
    spans = []
    position = 0
    for line in text.split("\n"):
        end = position + len(line)
        if line.strip():
            spans.append((position, end))
        position = end + 1
    return spans
