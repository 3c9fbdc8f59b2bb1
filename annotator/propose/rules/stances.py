"""Stances: explicit evaluative verbs with a named holder (the `Stances` section of the package
docstring)."""

from __future__ import annotations

import re

from annotator.propose.rules.speakers import _Speakers
from annotator.propose.rules.text import (
    _FILL,
    _alternation,
    _end_of_word_before,
    _origin,
    _strip_span,
)
from annotator.schemas import Stance

_STANCE_VERBS = frozenset(
    """condemned condemns denounced denounces criticised criticized criticises criticizes slammed slams
    deplored deplores decried decries rejected rejects opposes opposed welcomed welcomes praised praises
    hailed hails applauded applauds endorsed endorses supports supported backs backed""".split()
)
# Words that may stand between a stance's holder and its verb: "Russia has strongly criticised".
_STANCE_BETWEEN = frozenset(
    """has have had also strongly repeatedly again publicly swiftly firmly openly sharply roundly previously
    long is are was were""".split()
)
_STANCE_VERB = re.compile(
    r" (?P<aux>(?:(?:has|have|had|also|strongly|repeatedly|again|publicly|swiftly|firmly|openly|sharply|"
    r"roundly|previously|long)\s+)*)(?P<verb>(?:is|are|was|were)\s+opposed\s+to|"
    + _alternation(sorted(_STANCE_VERBS))
    + r")\s+(?!by\b|to\b)"
)
_STANCE_AGAINST = frozenset(
    "condemned condemns denounced denounces criticised criticized criticises criticizes slammed slams "
    "deplored deplores decried decries rejected rejects opposes opposed".split()
)
_TARGET_STOP = re.compile(
    r"[,.;:!?“”\"()\[\]—–\n]|\s(?:and|but|as|after|for|over|because|while|saying|calling|which|who|whom|"
    r"whose|when|since|amid|despite|before|until|if)\b"
)
_PRONOUN_TARGETS = frozenset("it them this that him her these those us me you".split())


class _Stances(_Speakers):
    """The rules for stances: explicit evaluative verbs with a named holder right before them.

    Mixed into `_Analysis`, whose views (text, narrative, stance anchors) they read.
    """

    # -- stances --------------------------------------------------------------------------------

    def _find_stances(self) -> list[Stance]:
        """Explicit evaluative verbs with a named holder right before them; see the docstring."""
        narrative = self.narrative
        text = self.text
        stances: list[Stance] = []
        for verb_at in self.stance_anchors:
            # Step back over "has", "strongly" and the like to where the holder's name must end.
            end = verb_at
            while True:
                end = _end_of_word_before(narrative, end)
                space = narrative.rfind(" ", max(0, end - 20), end)
                if space < 0 or narrative[space + 1 : end] not in _STANCE_BETWEEN:
                    break
                end = space + 1
            holder = self._mention_ending_at(end)
            if holder is None:
                continue
            match = _STANCE_VERB.match(narrative, holder.end)
            if match is None or match.start("verb") > verb_at or match.end("verb") <= verb_at:
                continue
            before = narrative[max(0, holder.start - 12) : holder.start].split()
            previous = before[-1].lower() if before else ""
            if previous in ("the", "a", "an") and match.group("verb") in ("backed", "supported"):
                continue  # "the Russia backed forces": an adjective, not a verb
            if previous in ("which", "who", "that") or narrative[holder.start - 1 : holder.start] == "-":
                continue
            target_start = match.end()
            stop = _TARGET_STOP.search(narrative, target_start, min(len(narrative), target_start + 200))
            target_end = stop.start() if stop is not None else min(len(narrative), target_start + 200)
            target_start, target_end = _strip_span(narrative, target_start, target_end, " \t")
            words = narrative[target_start:target_end].split()
            if not words or len(words) > 12 or _FILL in narrative[target_start:target_end]:
                continue
            if len(words) == 1 and words[0].lower() in _PRONOUN_TARGETS:
                continue
            if words[0].lower() in ("to", "by", "that", "not"):
                continue
            verb = match.group("verb").split()[0]
            polarity = "against" if verb in _STANCE_AGAINST or "opposed" in match.group("verb") else "favor"
            stances.append(
                Stance(
                    start=holder.start,
                    end=target_end,
                    text=text[holder.start : target_end],
                    holder=self._canonical(holder),
                    target=text[target_start:target_end],
                    polarity=polarity,
                    origin=_origin(),
                )
            )
        return stances
