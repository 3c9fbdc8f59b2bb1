"""Who said it: the names a document gives a quote's speaker, nearest first, and the quotes that share one.

The review's speaker keys read this: the picker's candidates (the people and organisations the rules'
analysis finds in the text, the names this document's items already use, the names the store's gold
uses elsewhere), each with its mentions outside quotation marks, ordered by nearness to a quote; a
type-ahead filter over them; the speaker of the previous quote; the quotes after a fixed one that take
the same speaker ("he said" chained to it); the quotes of one speaker. Nothing here decides: the
decisions are `ReviewQueue.edit`'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from annotator.lexicon import JOINERS, PARTICLES, TITLES
from annotator.names import fold, inside_quotation, normalise_name, same_name, speaker_mentions
from annotator.propose.rules.analysis import _Analysis
from annotator.qa import mention_names_other, same_source
from annotator.schemas import Annotation
from annotator.store import StoredAnnotation

PRONOUNS = frozenset("he she they it we i you him them his her their its our my your".split())
"""Words that stand for a speaker without naming them ("His lawyer said" points at "His"): as a speaker they are
unresolved."""

_SOURCE_FIELDS = ("speaker", "holder", "attributed_to")
"""The fields of an item that name a source."""

Span = tuple[int, int]


@dataclass(frozen=True)
class SpeakerCandidate:
    """A name the picker offers: its canonical form, its mentions (nearest the quote first) and where it came from."""

    name: str
    mentions: tuple[Span, ...]
    kind: str = ""
    """person or org when the rules' analysis says so; '' when it does not know."""
    origin: str = "text"
    """text (the rules' analysis of the document), items (this document's labels), store (gold elsewhere)."""
    distance: int | None = None
    """Characters between the quote and the nearest mention; None when the text never names them outside quotes."""


@dataclass(frozen=True)
class SpeakerChoice:
    """What the reviewer picked: a name and the mention to point at (None: the text never names them)."""

    name: str
    mention: Span | None


class DocumentNames:
    """The people and organisations one document names, as the rules' analysis reads them, with their mentions.

    A mention is grouped under the canonical name the rules give it ("Mr Assad" under "Bashar Assad",
    "Sheikho" under "Ahmed Sheikho"), titles included, as the rules point a speaker mention. Only the
    narrative is read: a name inside quotation marks is never a mention.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        groups: dict[str, tuple[str, set[str], list[Span]]] = {}
        titled: dict[str, str] = {}
        analysis = _Analysis(text)
        for index in range(len(analysis.name_spans)):
            mention = analysis._mention(index)
            if mention is None:
                continue
            kind = analysis._mention_kind(mention)
            canonical = analysis._canonical(mention)
            name, kinds, spans = groups.setdefault(normalise_name(canonical), (canonical, set(), []))
            kinds.add(kind)
            spans.append((mention.start, mention.end))
            if mention.title and len(canonical.split()) == 1 and canonical not in TITLES:
                titled.setdefault(normalise_name(canonical), " ".join(text[mention.start : mention.end].split()))
        self.groups: dict[str, tuple[str, str, tuple[Span, ...]]] = {}
        """normalised name → (canonical name, kind, mentions in text order): people and organisations only."""
        for key, (name, kinds, spans) in groups.items():
            kind = "person" if "person" in kinds else "org" if "org" in kinds else ""
            # A one-word name of no known kind is most often a place or an adjective ("Idlib", "Syrian").
            if kind or len(name.split()) > 1:
                self.groups[key] = (name, kind, tuple(sorted(set(spans))))
        self.titled = {key: form for key, form in titled.items() if key in self.groups}
        """normalised name → the name with its title, for a name the text gives only with one ("Lord Justice Harmon",
        "Dr Quinn": no first name to go by): the picker offers that form too."""
        self._in_text_order: list[tuple[int, int, str]] | None = None

    def sources_between(self, start: int, end: int) -> list[str]:
        """The people and organisations the narrative names in [start, end), canonical names in text order."""
        if self._in_text_order is None:
            self._in_text_order = sorted((first, last, name) for name, _, spans in self.groups.values()
                                         for first, last in spans)
        return [name for first, last, name in self._in_text_order if first >= start and last <= end]

    def mentions(self, name: str) -> list[Span]:
        """Where the text names `name` outside quotation marks: the analysis's mentions and the name's own words."""
        found = set(self.groups.get(normalise_name(name), ("", "", ()))[2])
        words = name.split()
        # The analysis has every capitalised mention of its own names; the name's words are looked for
        # only for other names ("opposition activists"), and only when the text holds them at all: each
        # look is a pass over the whole text.
        if not found and words and words[-1] in self.text:
            found.update(span for span in speaker_mentions(self.text, name.strip())
                         if not inside_quotation(self.text, *span))
        # Of overlapping mentions the longer stays ("President Bashar Assad" over "Bashar Assad").
        kept: list[Span] = []
        for span in sorted(found, key=lambda s: (s[0], -s[1])):
            if kept and span[0] < kept[-1][1]:
                if span[1] - span[0] > kept[-1][1] - kept[-1][0]:
                    kept[-1] = span
                continue
            kept.append(span)
        return kept


@lru_cache(maxsize=4)
def document_names(text: str) -> DocumentNames:
    """The names of a document, read once while it is reviewed."""
    return DocumentNames(text)


def distance(span: Span, quote: Span) -> int:
    """Characters between a mention and a quote (0 when they touch)."""
    return max(0, quote[0] - span[1], span[0] - quote[1])


def nearest_first(mentions: Iterable[Span], quote: Span) -> tuple[Span, ...]:
    """The mentions outside the quote, nearest it first (the earlier of two as near)."""
    outside = [span for span in mentions if span[1] <= quote[0] or span[0] >= quote[1]]
    return tuple(sorted(outside, key=lambda span: (distance(span, quote), span[0])))


def is_pronoun(words: str | None) -> bool:
    """Whether `words` are a pronoun standing for a speaker ("he", "They")."""
    return bool(words) and fold(words.strip()) in PRONOUNS  # type: ignore[union-attr]


def source_names(items: Iterable[StoredAnnotation]) -> list[str]:
    """The source names the items use (speakers, holders, figures' sources), first use first, each once."""
    seen: dict[str, str] = {}
    for item in items:
        fields = item.fields()
        for field in _SOURCE_FIELDS:
            value = fields.get(field)
            if isinstance(value, str) and value.strip() and not is_pronoun(value):
                seen.setdefault(normalise_name(value), value.strip())
    return list(seen.values())


def speaker_candidates(
    names: DocumentNames, quote: Span, used: Sequence[str] = (), elsewhere: Sequence[str] = ()
) -> list[SpeakerCandidate]:
    """Every name the picker offers for the quote at `quote`, the nearest named first.

    The people and organisations of the text (one the text gives only with a title also with it, right after:
    "Harmon", "Lord Justice Harmon"), the names `used` by this document's items and the names used
    `elsewhere` in the store, each once (names written alike are one name: the text's form wins, then the
    items'); those the text never names outside quotes come last, in the order given.
    """
    found: dict[str, SpeakerCandidate] = {}
    offered = []
    for key, (name, kind, _) in names.groups.items():
        offered.append((name, kind, "text"))
        if key in names.titled:
            offered.append((names.titled[key], kind, "text"))
    offered += [(name, "", "items") for name in used] + [(name, "", "store") for name in elsewhere]
    for name, kind, origin in offered:
        key = normalise_name(name)
        if not key or key in found or is_pronoun(name):
            continue
        mentions = nearest_first(names.mentions(name), quote)
        found[key] = SpeakerCandidate(name, mentions, kind, origin, distance(mentions[0], quote) if mentions else None)
    rank = {key: order for order, key in enumerate(found)}
    return sorted(found.values(), key=lambda c: (_band(c), c.distance or 0, rank[normalise_name(c.name)]))


def _band(candidate: SpeakerCandidate) -> int:
    """Sources first (a name the labels use, a person or organisation), then other names, then names not in the text.

    The analysis also groups places and adjectives under long names ("Syrian" under "Syrian Kurdish"):
    near as they may be, they are seldom who speaks.
    """
    if candidate.distance is None:
        return 2
    return 0 if candidate.origin != "text" or candidate.kind else 1


def filter_candidates(candidates: Sequence[SpeakerCandidate], typed: str) -> list[SpeakerCandidate]:
    """The candidates that match what the reviewer typed, best first; all of them for nothing typed.

    Best: each typed word begins a word of the name ("ah sh" → Ahmed Sheikho), or the name's initials
    begin with it ("hts" → Hayat Tahrir al-Sham, "sohr" → Syrian Observatory for Human Rights); then the
    typed letters anywhere in the name; then a close spelling (rapidfuzz, for a typo of four letters or
    more). Within each, the nearer name first, as listed.
    """
    query = " ".join(fold(typed).split())
    if not query:
        return list(candidates)
    tiers: list[tuple[int, float, int, SpeakerCandidate]] = []
    for order, candidate in enumerate(candidates):
        name = " ".join(fold(candidate.name).replace("-", " ").split())
        words = name.split()
        initials = "".join(word[0] for word in words if word not in PARTICLES and word not in JOINERS)
        if _words_begin(query.split(), words) or initials.startswith(query.replace(" ", "")):
            tiers.append((0, 0.0, order, candidate))
        elif query in name:
            tiers.append((1, 0.0, order, candidate))
        else:
            score = fuzz.partial_ratio(query, name) if len(query) >= 4 else 0.0
            if score >= 80:
                tiers.append((2, -score, order, candidate))
    return [candidate for *_, candidate in sorted(tiers, key=lambda t: t[:3])]


def _words_begin(typed: list[str], words: list[str]) -> bool:
    """Whether each typed word begins a different word of the name, in order."""
    position = 0
    for part in typed:
        while position < len(words) and not words[position].startswith(part):
            position += 1
        if position == len(words):
            return False
        position += 1
    return True


def mention_for(names: DocumentNames, speaker: str | None, quote: Span, current: tuple[int | None, int | None]) -> dict[str, int | None]:
    """The mention a quote should point at once its speaker is `speaker`.

    The `current` mention stays when it fits the name (names them, or is a pronoun or a description);
    otherwise the name's mention nearest the quote outside quotation marks, or none.
    """
    text = names.text
    if (speaker and current[0] is not None and current[1] is not None
            and mention_names_other(text, current[0], current[1], speaker, quote) is None):
        return {"speaker_start": current[0], "speaker_end": current[1]}
    mentions = nearest_first(names.mentions(speaker), quote) if speaker and speaker.strip() else ()
    return {"speaker_start": mentions[0][0] if mentions else None, "speaker_end": mentions[0][1] if mentions else None}


def with_speaker(annotation: Annotation, speaker: str | None, mention: Span | None) -> Annotation:
    """The quote with this speaker and mention (None: no mention)."""
    return annotation.model_copy(update={
        "speaker": speaker, "speaker_start": mention[0] if mention else None, "speaker_end": mention[1] if mention else None,
    })


def _quotes(items: Iterable[StoredAnnotation]) -> list[StoredAnnotation]:
    return sorted((item for item in items if item.kind == "quote"), key=lambda item: (item.start, item.end))


def _named(item: StoredAnnotation) -> str | None:
    """The quote's speaker, when it names someone (not none, not a pronoun)."""
    speaker = item.fields().get("speaker")
    return speaker if isinstance(speaker, str) and speaker.strip() and not is_pronoun(speaker) else None


def mention_text(document: str, item: StoredAnnotation) -> str | None:
    """The words of the item's speaker mention, or None."""
    fields = item.fields()
    start, end = fields.get("speaker_start"), fields.get("speaker_end")
    return document[start:end] if isinstance(start, int) and isinstance(end, int) else None


def previous_speaker(items: Iterable[StoredAnnotation], item: StoredAnnotation) -> StoredAnnotation | None:
    """The nearest quote before `item` in the document whose speaker names someone (rejected ones left out)."""
    before = [q for q in _quotes(items) if (q.start, q.end) < (item.start, item.end) and q.id != item.id]
    return next((q for q in reversed(before) if q.status != "rejected" and _named(q)), None)


def following_quotes(document: str, items: Iterable[StoredAnnotation], item: StoredAnnotation) -> list[StoredAnnotation]:
    """The undecided quotes after `item` that should take its speaker too.

    Two rules: a later quote whose mention is written as `item`'s is (not a pronoun: "Sheikho" and
    "Sheikho"), anywhere after it; and a quote with no speaker or a pronoun for one ("he said"), in
    the chain that runs from `item` to the next quote naming another speaker, or to the next person or
    organisation the narrative names between two quotes ("Adeyemi wept. Outside court, she said …": her
    "she" is not the judge's). A quote whose speaker is the same source written another way ("Silva"
    for "Ana Silva", `qa.same_source`) is taken too and does not end the chain (after its end only where
    the text names them, not by a pronoun). Quotes the reviewer has decided, and those that already have
    the speaker, are left as they are.
    """
    speaker = _named(item)
    if speaker is None:
        return []
    words = mention_text(document, item)
    same_words = fold(words.strip()) if words and not is_pronoun(words) else None
    names = document_names(document)
    chained, out, last = True, [], item.end
    for quote in _quotes(items):
        if (quote.start, quote.end) <= (item.start, item.end) or quote.id == item.id:
            continue
        # Up to the end of the quote's sentence: "…,” said its UK director, Helen Brooks." names its speaker after it.
        end = _sentence_end(document, quote.end)
        between, last = (last, end), max(last, end)
        if chained and any(not same_source(other, speaker) for other in names.sources_between(*between)):
            chained = False
        named = _named(quote)
        if named is not None and same_name(named, speaker):
            continue
        written = mention_text(document, quote)
        if quote.status == "proposed":
            if same_words is not None and written is not None and fold(written.strip()) == same_words:
                out.append(quote)
                continue
            # The same source written another way is taken anywhere when the text names them there ("Silva
            # said"); resolved from a pronoun, only in the chain (the engine may have taken the wrong "she").
            if (named is None and chained) or (named is not None and same_source(named, speaker)
                                               and (chained or not is_pronoun(written))):
                out.append(quote)
                continue
        if named is not None and not same_source(named, speaker):
            chained = False
    return out


_SENTENCE_END = re.compile(r"[.!?](?=[\s”’\"']*(?:\s|$))|\n")


def _sentence_end(document: str, offset: int) -> int:
    """Where the sentence that goes on at `offset` ends (its full stop, or the end of the line).

    A quote that ends its own sentence ("“Bring coats.” Farmer Jo …": a capital follows) ends it at `offset`.
    """
    if offset and document[offset - 1] in ".!?":
        rest = document[offset:offset + 8].lstrip("”’\"' \t")
        if not rest or rest[0].isupper() or rest[0] == "\n":
            return offset
    found = _SENTENCE_END.search(document, offset)
    return found.end() if found else len(document)


def quotes_of(items: Iterable[StoredAnnotation], name: str) -> list[StoredAnnotation]:
    """The document's quotes whose speaker is `name` (written alike), in text order."""
    return [quote for quote in _quotes(items) if same_name(quote.fields().get("speaker"), name)]


def source_of(item: StoredAnnotation) -> str | None:
    """The name an item gives its source: a quote's speaker, a stance's holder, a figure's `attributed_to`."""
    fields = item.fields()
    for field in _SOURCE_FIELDS:
        value = fields.get(field)
        if isinstance(value, str) and value.strip() and not is_pronoun(value):
            return value
    return None
