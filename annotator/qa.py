"""Quality checks on gold labels and proposals: what `annotator qa` reports.

Every check reads plain data: a document's text and its annotation records (dicts in the contract
shape, `StoredAnnotation`s or `Annotation`s), so the store and a contract file go through one code
path (`documents_from_store`, `documents_from_file`, then `check_documents`). Nothing here prints;
the CLI renders the `QaReport`.

Per item (rejected items, the hard negatives, get only the integrity checks, marked *):

* `span`* (error): `text[start:end]` is the annotation's text, the span is non-empty and inside
  the document.
* `speaker-mention`* (error): a quote's `speaker_start`/`speaker_end` are both set or both null, and
  a set mention is a non-blank span inside the document.
* `speaker-name` (warning): a quote's canonical `speaker` has none of its words anywhere in the
  document (titles, case, `al-` prefixes and apostrophes aside): a likely invented speaker.
* `speaker-in-quote`* (error): a quote's speaker mention lies inside its quoted words, or inside
  any quotation marks. A quote names its speaker outside them; an article that quotes an
  instruction (`output the quote "We will win" by "John Smith"`) can plant one.
* `speaker-mention-name` (error): the speaker mention holds a proper name that is not the speaker's
  (`mention_names_other`): the mention points at another entity. Pronouns and descriptions ("he",
  "the ministry") fit any speaker.
* `placeholder` (error): a field holds a stand-in ("?", "unknown", …: `schemas.PLACEHOLDERS`).
* `figure-value` (error): the value is the number written in the span (`schemas.figure_value_problem`,
  the rule the edit form applies, within `VALUE_TOLERANCE`); a warning when no number can be read
  there, an error when that value is 0.

Per document:

* `partial-review` (warning): some of its items are decided and others not, so its gold is partial
  (exports for training and eval leave it out unless asked).

* `canonical-name` (error): one source written two ways among quote speakers, stance holders and
  figure sources (`same_source`).

Across documents, a section of the report rather than a finding: documents about the same event
(`group_events`: Jaccard overlap of their distinctive proper names, `EVENT_THRESHOLD`) whose
figures count the same thing (same canonical unit, subjects alike by `SUBJECT_THRESHOLD`) with different
values (`disagreeing_figures`).

`check_documents` is linear in documents: it reads them as a stream, checks each as it arrives, and
keeps of each only what the comparison across documents needs (`Coverage`: its distinctive names
as numbers, its figures). Documents that may report one event are found through an index from
name to documents, never by comparing all pairs; a name in more than `COMMON_NAME_DOCUMENTS`
documents proposes no pair (it says nothing about which event a document reports), though it still
counts in the overlap of a pair that other names propose.
"""

from __future__ import annotations

import functools
import re
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from annotator import contract
from annotator.contract import ContractDocument, Item, iter_contract, status_filter
from annotator.errors import AnnotatorError
from annotator.lexicon import CAPITAL_STOPWORDS, DAYS_MONTHS, JOINERS, PARTICLES, TITLES
from annotator.names import APOSTROPHES, fold, fold_text, inside_quotation, normalise_name
from annotator.numbers import canonical_unit
from annotator.schemas import VALUE_TOLERANCE, Annotation, figure_value_problem, is_placeholder, same_value, span_problem
from annotator.store import Store, StoredAnnotation

SEVERITIES = ("error", "warning")
EVENT_THRESHOLD = 0.15
"""Least Jaccard overlap of distinctive proper names for two documents to report one event.

Measured: the two seed articles (Belfast Telegraph, Al Jazeera) overlap 0.22; a wire story on
Ukraine, a markets story and a US story overlap them and each other 0.07 at most.
"""
COMMON_NAME_DOCUMENTS = 100
"""Most documents a name may be in and still propose that two of them report one event.

A name in more documents (an agency, a capital, "Security Council") says nothing about which event
a document reports: it proposes no pair, so that qa stays linear in documents (each name costs at
most this many comparisons per document), though it still counts in the overlap of a pair that
rarer names propose. A store of at most this many documents is grouped as if every pair were compared.
"""
SUBJECT_THRESHOLD = 70.0
"""Least rapidfuzz `token_set_ratio` of two figures' subjects (unit word removed) to count the same thing.

Measured: "forced to flee" / "forced to leave their homes" 78; "killed" / "forced to flee" 30;
"displaced by fighting" / "forced to leave their homes" 33; "internally displaced" / "displaced by
fighting" 63. Subjects naming different places ("population of Khan Sheikhoun" / "population of
Idlib", 81) are told apart by their proper names, not by this ratio.
"""

_EXCERPT = 60
_NAME_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_CAPITALISED = re.compile(r"[^\W\d_][\w’'-]*")
_FUNCTION_WORDS = frozenset({*JOINERS, *PARTICLES, "and", "&"})
_TITLE_WORDS = frozenset(title.rstrip(".").casefold() for title in TITLES)
_NOT_NAMES = frozenset(word.casefold() for word in (*CAPITAL_STOPWORDS, *DAYS_MONTHS, *TITLES))
_COMPOUND = re.compile(r",|&|\b(?:and|or)\b", re.IGNORECASE)
_SENTENCE_END = ".!?:;\n"
_DESCRIPTION_HEAD = re.compile(
    r"(?i:the|a|an|his|her|its|their|this|that|these|those)\s+.*?(?=\s+(?:that|which|who|whom|whose|where|by|of|in|on|"
    r"at|for|from|with|to)\b|\s*[,(;:—–]|$)",
)
_PRONOUNS = frozenset("he she they it we i you his her their its this that these those".split())


def _word_pattern(word: str) -> re.Pattern[str]:
    """`word` standing alone, as the article writes it (case as given)."""
    return re.compile(rf"(?<![^\W_]){re.escape(word)}(?![^\W_])")


_RECORD_KEYS = frozenset({"id", "kind", "start", "end", "text", "status", "origin"})
_OPENERS = " \t“\"‘'([—–-"


# ---------------------------------------------------------------------------- data


@dataclass(frozen=True)
class NameForm:
    """One way a source is written, and the items that write it so."""

    name: str
    items: list[str | None]


@dataclass(frozen=True)
class Finding:
    """One problem with one item (or, for `canonical-name`, a pair of name forms)."""

    severity: str
    check: str
    document_id: str
    source: str
    item_id: str | None
    kind: str | None
    start: int | None
    end: int | None
    excerpt: str
    message: str
    forms: list[NameForm] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready data with stable keys."""
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FigureSide:
    """One figure of a disagreeing pair, with what a reader needs to compare it."""

    document_id: str
    source: str
    item_id: str | None
    value: float
    unit: str | None
    qualifier: str | None
    subject: str | None
    attributed_to: str | None
    start: int
    end: int
    text: str

    @property
    def said_by(self) -> str:
        """Who gives the figure: its `attributed_to`, or the outlet itself."""
        return self.attributed_to or "the outlet"


@dataclass(frozen=True)
class FigureDisagreement:
    """Two documents about one event count the same thing with different values."""

    event: int
    subject_similarity: float
    first: FigureSide
    second: FigureSide

    def to_dict(self) -> dict[str, Any]:
        """The pair as JSON-ready data with stable keys."""
        data = asdict(self)
        data["first"]["said_by"] = self.first.said_by
        data["second"]["said_by"] = self.second.said_by
        return data


@dataclass(frozen=True)
class Event:
    """Documents grouped as reports of one event, and the proper names that group them."""

    number: int
    document_ids: list[str]
    sources: list[str]
    shared_names: list[str]
    similarity: float

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON-ready data with stable keys."""
        return asdict(self)


@dataclass
class QaReport:
    """Every finding, the events found and the figures that disagree across their documents."""

    documents: int
    findings: list[Finding]
    events: list[Event]
    disagreements: list[FigureDisagreement]

    @property
    def errors(self) -> int:
        """How many findings are errors."""
        return sum(1 for finding in self.findings if finding.severity == "error")

    @property
    def warnings(self) -> int:
        """How many findings are warnings."""
        return sum(1 for finding in self.findings if finding.severity == "warning")

    def failed(self, strict: bool = False) -> bool:
        """Whether the check fails: any error, or with `strict` any warning too."""
        return self.errors > 0 or (strict and self.warnings > 0)

    def summary(self) -> str:
        """`N errors, M warnings, K disagreeing figures across D documents`."""
        return (
            f"{self.errors} errors, {self.warnings} warnings, "
            f"{len(self.disagreements)} disagreeing figures across {self.documents} documents"
        )

    def to_dict(self) -> dict[str, Any]:
        """The whole report as JSON-ready data with stable keys."""
        return {
            "summary": {
                "errors": self.errors,
                "warnings": self.warnings,
                "disagreeing_figures": len(self.disagreements),
                "documents": self.documents,
            },
            "findings": [finding.to_dict() for finding in self.findings],
            "events": [event.to_dict() for event in self.events],
            "disagreements": [pair.to_dict() for pair in self.disagreements],
        }


# ---------------------------------------------------------------------------- input


def checked_document(
    document_id: str,
    source: str,
    text: str,
    annotations: Iterable[Mapping[str, Any] | StoredAnnotation | Annotation],
    undecided: int = 0,
) -> ContractDocument:
    """A document to check, from its text and annotations in any of the shapes the tool uses."""
    from annotator.schemas import Document

    items = [Item.from_record(a) if isinstance(a, Mapping) else Item.of(a) for a in annotations]
    return ContractDocument(Document(id=document_id, source=source, text=text), items, None, undecided)


def documents_from_store(
    store: Store, status: str = "all", kinds: Sequence[str] | None = None
) -> Iterator[ContractDocument]:
    """The store's documents with their items that pass the filters, as `export` selects them (partly
    reviewed documents included, so that their partial gold is reported), read one at a time."""
    return contract.documents_from_store(store, status, kinds, partial=True)


def documents_from_file(
    path: Path, status: str = "all", kinds: Sequence[str] | None = None
) -> Iterator[ContractDocument]:
    """A contract JSONL file's documents with their items that pass the filters, read one line at a time.

    An unknown status fails at once; a bad line (or no document at all) is an AnnotatorError
    `FILE:LINE: problem` when reading reaches it.
    """
    statuses = status_filter(status)

    def read() -> Iterator[ContractDocument]:
        found = False
        for _, document in iter_contract(path):
            found = True
            yield document.only(statuses, kinds or None)
        if not found:
            from annotator.ingest import shown

            raise AnnotatorError(f"{shown(path)}: no documents")

    return read()


# ---------------------------------------------------------------------------- names


def name_words(name: str) -> list[str]:
    """The words that identify a source, normalised: no titles, particles, joiners or possessive 's."""
    words = []
    for word in _NAME_WORD.findall(normalise_name(name)):
        word = word.removesuffix("'s")
        if word not in _FUNCTION_WORDS and word not in _TITLE_WORDS:
            words.append(word)
    return words


def is_proper_name(name: str) -> bool:
    """Whether every word of a name, joiners and particles aside, is capitalised ("Hayat Tahrir al-Sham")."""
    words = []
    for word in name.split():
        word = word.strip("“”\"‘’'(),.")
        if not word or word.casefold() in _FUNCTION_WORDS:
            continue
        head, dash, rest = word.partition("-")
        if dash and rest and head.casefold() in PARTICLES:
            word = rest
        words.append(word)
    return bool(words) and all(word[:1].isupper() for word in words)


def same_source(a: str, b: str) -> bool:
    """Whether two names are one source written two ways.

    True when they are equal once normalised (`normalise_name`), or when one is a proper name whose
    words are all among the other's ("Sheikho" / "Ahmed Sheikho", "Assad" / "Bashar al-Assad").
    Names of several sources ("militant group and opposition activists") never contain another
    source: they are compound sources of their own.
    """
    if normalise_name(a) == normalise_name(b):
        return True
    if _COMPOUND.search(a) or _COMPOUND.search(b):
        return False
    words_a, words_b = set(name_words(a)), set(name_words(b))
    return bool(words_a and words_b) and (
        (words_a <= words_b and is_proper_name(a)) or (words_b <= words_a and is_proper_name(b))
    )


def document_words(text: str) -> set[str]:
    """Every word of a text, folded as `name_words` folds a name's words."""
    words = set()
    for word in _NAME_WORD.findall(fold_text(text)):
        words.add(word)
        words.add(word.removesuffix("'s"))
    return words


def opens_sentence(text: str, at: int) -> bool:
    """Whether the word at `at` opens a sentence: only openers (spaces, quote marks, brackets,
    dashes) stand between it and the start of the text or a sentence end."""
    # Walked back, not `text[:at].rstrip(...)`: a copy of the text so far per word is quadratic.
    while at > 0 and text[at - 1] in _OPENERS:
        at -= 1
    return at == 0 or text[at - 1] in _SENTENCE_END


def distinctive_names(text: str) -> set[str]:
    """The proper names that say what a text is about: capitalised words of two letters or more,
    not opening a sentence, not days, months, titles or sentence words, folded (`Khan`, `Sheikhoun`)."""
    names: set[str] = set()
    for match in _CAPITALISED.finditer(text):
        parts = _name_parts(match.group())
        # A sentence's first word is capitalised whatever it is.
        if parts and not opens_sentence(text, match.start()):
            names.update(parts)
    return names


# Words recur across documents (names, and every sentence word): folding each once keeps the
# comparison across documents cheap per document.
@functools.lru_cache(maxsize=1 << 12)
def _name_parts(word: str) -> tuple[str, ...]:
    """The names a word holds wherever it stands: its capitalised parts (split at hyphens) of two letters
    or more, folded, that are not days, months, titles, sentence words or particles."""
    parts = []
    for part in word.split("-"):
        part = part.translate(APOSTROPHES).removesuffix("'s")
        if len(part) < 2 or not part[:1].isupper():
            continue
        folded = fold(part)
        if folded not in _NOT_NAMES and folded not in PARTICLES:
            parts.append(folded)
    return tuple(parts)


# ---------------------------------------------------------------------------- per item


def check_document(document: ContractDocument, tolerance: float = VALUE_TOLERANCE) -> list[Finding]:
    """Every finding for one document: its items' spans, speakers and figures, then its names."""
    findings: list[Finding] = []
    words = document_words(document.text)
    if document.partial:
        still = f"{document.undecided} items still undecided" if document.undecided else "its review is unfinished"
        findings.append(Finding(
            "warning", "partial-review", document.id, document.source, None, None, None, None,
            excerpt(document.text),
            f"{still}: this document's gold is partial, and exports for training and eval leave it out",
        ))
    for record in document.records:
        findings += _check_item(document, record, words, tolerance)
    findings += _check_names(document)
    return findings


def _finding(
    document: ContractDocument, record: Mapping[str, Any], severity: str, check: str, message: str, **extra: Any
) -> Finding:
    start, end = record.get("start"), record.get("end")
    return Finding(
        severity=severity, check=check, document_id=document.id, source=document.source, item_id=record.get("id"),
        kind=record.get("kind"), start=start if isinstance(start, int) else None,
        end=end if isinstance(end, int) else None, excerpt=excerpt(str(record.get("text") or "")), message=message,
        **extra,
    )


def excerpt(text: str, limit: int = _EXCERPT) -> str:
    """A span's text on one line, cut to `limit` characters with an ellipsis."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _check_item(
    document: ContractDocument, record: Mapping[str, Any], words: set[str], tolerance: float
) -> list[Finding]:
    findings = []
    span_problem = span_problem_of(document.text, record)
    if span_problem is not None:
        findings.append(_finding(document, record, "error", "span", span_problem))
    kind = record.get("kind")
    mention_sound = False
    if kind == "quote":
        mention_problem = mention_problem_of(document.text, record)
        if mention_problem is not None:
            findings.append(_finding(document, record, "error", "speaker-mention", mention_problem))
        mention_sound = mention_problem is None and span_problem is None and record.get("speaker_start") is not None
        mention = (record["speaker_start"], record["speaker_end"]) if mention_sound else None
        if mention is not None and (_overlaps(mention, (record["start"], record["end"]))
                                    or inside_quotation(document.text, *mention)):
            findings.append(_finding(
                document, record, "error", "speaker-in-quote",
                f"speaker mention {excerpt(document.text[record['speaker_start']:record['speaker_end']], 40)!r} lies "
                "inside quoted words: a quote names its speaker outside them (a quoted instruction can plant one)",
            ))
    if record.get("status") == "rejected":
        return findings  # a hard negative: its fields are what was wrong, by design
    for name, value in record.items():
        if name not in _RECORD_KEYS and is_placeholder(value):
            findings.append(_finding(
                document, record, "error", "placeholder", f"{name} {value!r} is a placeholder, not a label",
            ))
    if kind == "quote":
        speaker = record.get("speaker")
        if mention_sound and isinstance(speaker, str) and speaker.strip():
            other = mention_names_other(document.text, record["speaker_start"], record["speaker_end"], speaker)
            if other is not None:
                findings.append(_finding(
                    document, record, "error", "speaker-mention-name",
                    f"speaker mention {excerpt(document.text[record['speaker_start']:record['speaker_end']], 40)!r} "
                    f"names {other!r}, not speaker {speaker!r}",
                ))
        if isinstance(speaker, str) and invented_speaker(speaker, words):
            findings.append(_finding(
                document, record, "warning", "speaker-name",
                f"none of the words of speaker {speaker!r} occurs in the document",
            ))
    if kind == "figure" and span_problem is None:
        found = figure_value_finding(record, tolerance)
        if found is not None:
            findings.append(_finding(document, record, found[0], "figure-value", found[1]))
    return findings


def span_problem_of(text: str, record: Mapping[str, Any]) -> str | None:
    """What is wrong with an item's span in `text`, or None when `text[start:end]` is its text."""
    start, end, claimed = record.get("start"), record.get("end"), record.get("text")
    if not isinstance(start, int) or not isinstance(end, int):
        return f"span {start!r}:{end!r} is not a pair of offsets"
    problem = span_problem(start, end, len(text))
    if problem is not None:
        return problem
    if not isinstance(claimed, str) or not claimed:
        return "the annotation has no text"
    if text[start:end] != claimed:
        return f"text {excerpt(claimed, 40)!r} is not what the document holds at {start}:{end} " \
               f"({excerpt(text[start:end], 40)!r})"
    return None


def mention_problem_of(text: str, record: Mapping[str, Any]) -> str | None:
    """What is wrong with a quote's speaker mention, or None (both offsets null is no mention, and fine)."""
    start, end = record.get("speaker_start"), record.get("speaker_end")
    if start is None and end is None:
        return None
    if start is None or end is None:
        return f"speaker_start {start} and speaker_end {end}: both must be set or both null"
    if not isinstance(start, int) or not isinstance(end, int):
        return f"speaker mention {start!r}:{end!r} is not a pair of offsets"
    if start < 0 or end > len(text) or end <= start:
        return f"speaker mention {start}:{end} is not a span inside the document ({len(text)} characters)"
    if not text[start:end].strip():
        return f"speaker mention {start}:{end} is blank"
    return None


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def mention_names_other(
    text: str, start: int, end: int, speaker: str, quote: tuple[int, int] | None = None
) -> str | None:
    """The name a speaker mention `text[start:end]` holds that is not `speaker`'s, or None when it fits.

    A mention fits when one of its proper-name words is a word of the speaker's name or the initials
    of it ("UN" for "United Nations"), or when it holds no proper name at all: a pronoun or a
    description ("he", "the ministry", "officials"). Of a description that opens with a determiner, only
    its head counts, up to a relative clause or a preposition ("the group that tracks Syria's war" is
    "the group"). Capitalised words that open a sentence, titles and days are not names. With
    `quote`, a mention inside the quoted words never fits.
    """
    if quote is not None and _overlaps((start, end), quote):
        return text[start:end]
    head = _DESCRIPTION_HEAD.match(text, start, end)
    if head is not None:
        end = head.end()  # "the group that tracks Syria's war": only "the group" says who it is
    names = []
    for match in _CAPITALISED.finditer(text, start, end):
        at_start = opens_sentence(text, match.start())
        for part in match.group().split("-"):
            part = part.translate(APOSTROPHES).removesuffix("'s")
            folded = fold(part)
            if not part[:1].isupper() or folded in _NOT_NAMES or folded in PARTICLES or folded in _FUNCTION_WORDS:
                continue
            # A capital that opens a sentence is a name only if the article never writes the word in lower case.
            if at_start and (folded in _PRONOUNS or _word_pattern(folded).search(text)):
                continue
            names.append(folded)
    if not names:
        return None
    own = set(name_words(speaker))
    initials = "".join(word[:1] for word in name_words(speaker) if len(name_words(speaker)) > 1)
    if any(name in own or (initials and name == initials) for name in names):
        return None
    return " ".join(text[start:end].split())


def invented_speaker(speaker: str, words: set[str]) -> bool:
    """Whether a speaker has words that identify it and none of them is among a document's `words`."""
    wanted = name_words(speaker)
    return bool(wanted) and not any(word in words for word in wanted)


def figure_value_finding(record: Mapping[str, Any], tolerance: float = VALUE_TOLERANCE) -> tuple[str, str] | None:
    """(severity, message) when a figure's value is not the number written in its span, else None."""
    return figure_value_problem(str(record.get("text") or ""), record.get("value"), tolerance)


# ---------------------------------------------------------------------------- per document


def _names_of(record: Mapping[str, Any]) -> str | None:
    """The source an item names: a quote's speaker, a stance's holder, a figure's attributed_to."""
    field_name = {"quote": "speaker", "stance": "holder", "figure": "attributed_to"}.get(str(record.get("kind")))
    name = record.get(field_name) if field_name else None
    return name if isinstance(name, str) and name.strip() else None


def _check_names(document: ContractDocument) -> list[Finding]:
    """One finding per pair of names that are one source written two ways."""
    forms: dict[str, list[Mapping[str, Any]]] = {}
    for record in document.records:
        name = _names_of(record) if record.get("status") != "rejected" else None
        if name is not None:
            forms.setdefault(name, []).append(record)
    names = list(forms)
    findings = []
    for index, other in _name_pairs(names):
        a, b = names[index], names[other]
        if not same_source(a, b):
            continue
        # The shorter form is the likelier one to fix: it is where the item is shown.
        short, long = sorted((a, b), key=lambda name: (len(name_words(name)), len(name)))
        first = forms[short][0]
        findings.append(_finding(
            document, first, "error", "canonical-name",
            f"{short!r} ({_ids(forms[short])}) and {long!r} ({_ids(forms[long])}) are one source written "
            "two ways; use one canonical name",
            forms=[NameForm(name, [record.get("id") for record in forms[name]]) for name in (short, long)],
        ))
    return findings


def _name_pairs(names: Sequence[str]) -> list[tuple[int, int]]:
    """The pairs of `names` (by position, each in order, the pairs in order) that `same_source` may join.

    Found through an index, not by trying every pair: two names are one source only when they are
    equal once normalised, or when every word of one is a word of the other, so each name is paired
    with the names of its normal form and with those that hold its rarest word.
    """
    by_form: dict[str, list[int]] = {}
    by_word: dict[str, list[int]] = {}
    words_of: list[set[str]] = []
    for index, name in enumerate(names):
        by_form.setdefault(normalise_name(name), []).append(index)
        words = set(name_words(name)) if not _COMPOUND.search(name) else set()
        words_of.append(words)
        for word in words:
            by_word.setdefault(word, []).append(index)
    pairs: set[tuple[int, int]] = set()
    for indices in by_form.values():
        pairs.update((a, b) for position, a in enumerate(indices) for b in indices[position + 1 :])
    for index, words in enumerate(words_of):
        if words and is_proper_name(names[index]):
            rarest = min(words, key=lambda word: len(by_word[word]))
            pairs.update((min(index, other), max(index, other)) for other in by_word[rarest] if other != index)
    return sorted(pairs)


def _ids(records: Sequence[Mapping[str, Any]]) -> str:
    return ", ".join(str(record.get("id") or "no id") for record in records)


# ---------------------------------------------------------------------------- across documents


def name_overlap(a: set[str], b: set[str]) -> float:
    """Jaccard overlap of two sets of names: shared over all (0 when both are empty)."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def group_events(documents: Iterable[ContractDocument], threshold: float = EVENT_THRESHOLD) -> list[Event]:
    """Documents reporting one event: linked when their `distinctive_names` overlap at least `threshold`.

    Linked documents chain into one event (single linkage); an event has two documents or more, in
    the order given. Its similarity is the weakest link inside it, its shared names those all its
    documents have. Only documents that share a name held by at most `COMMON_NAME_DOCUMENTS`
    documents are compared (`Coverage.groups`), so unrelated ones cost nothing.
    """
    coverage = Coverage.of(documents)
    return coverage.events(coverage.groups(threshold))


@dataclass(frozen=True)
class EventGroup:
    """An event's documents as positions in a `Coverage`, and its weakest link."""

    number: int
    members: list[int]
    weakest: float


class Coverage:
    """What the comparison across documents keeps of each document, added one at a time as they stream by.

    Of each document: its id and source, its `distinctive_names` as numbers, and its figures
    (`FigureSide`s); never its text or its other items. Names are numbered in the order first seen,
    with how many documents hold each.
    """

    def __init__(self, common: int = COMMON_NAME_DOCUMENTS) -> None:
        self.common = common
        self.ids: list[str] = []
        self.sources: list[str] = []
        self.figures: list[tuple[FigureSide, ...]] = []
        self._number_of: dict[str, int] = {}
        self._names: list[str] = []
        self._holders = array("i")
        self._document_names: list[array[int]] = []
        self._strings: dict[str, str] = {}  # one copy of each unit, qualifier, subject and source of a figure

    @classmethod
    def of(cls, documents: Iterable[ContractDocument], common: int = COMMON_NAME_DOCUMENTS) -> Coverage:
        """The coverage of every document of `documents`."""
        coverage = cls(common)
        for document in documents:
            coverage.add(document)
        return coverage

    def __len__(self) -> int:
        return len(self.ids)

    def add(self, document: ContractDocument) -> None:
        """Keep what the comparison needs of one more document."""
        numbers = array("i")
        for name in distinctive_names(document.text):
            number = self._number_of.get(name)
            if number is None:
                number = self._number_of[name] = len(self._names)
                self._names.append(name)
                self._holders.append(0)
            self._holders[number] += 1
            numbers.append(number)
        self._document_names.append(numbers)
        self.ids.append(document.id)
        self.sources.append(document.source)
        self.figures.append(tuple(_figure_sides(document, self._strings)))

    def groups(self, threshold: float = EVENT_THRESHOLD) -> list[EventGroup]:
        """The documents that report one event (see `group_events`), in the order of their first document.

        Each document is compared only with the earlier documents that hold one of its names, found
        through an index from name to documents; a name held by more than `common` documents is left
        out of the index (it proposes no pair) but counts in the overlap of a pair proposed.
        """
        holders, names_of, common = self._holders, self._document_names, self.common
        parent = list(range(len(names_of)))

        def root(index: int) -> int:
            while parent[index] != index:
                parent[index] = parent[parent[index]]
                index = parent[index]
            return index

        index_of_name: dict[int, list[int]] = {}
        common_names: list[tuple[int, ...]] = []
        links: list[tuple[int, float]] = []
        for index, numbers in enumerate(names_of):
            shared: Counter[int] = Counter()
            frequent = []
            for number in numbers:
                held = holders[number]
                if held > common:
                    frequent.append(number)
                elif held > 1:
                    earlier = index_of_name.setdefault(number, [])
                    shared.update(earlier)  # one more name in common with each earlier holder
                    earlier.append(index)
            common_names.append(tuple(frequent))
            mine = set(frequent)
            for other, count in shared.items():
                if mine:
                    count += len(mine.intersection(common_names[other]))
                overlap = count / (len(names_of[other]) + len(numbers) - count)
                if overlap >= threshold:
                    links.append((other, overlap))
                    parent[root(index)] = root(other)
        weakest: dict[int, float] = {}
        for other, overlap in links:
            top = root(other)
            weakest[top] = min(overlap, weakest.get(top, overlap))
        members: dict[int, list[int]] = {}
        for index in range(len(names_of)):
            top = root(index)
            if top in weakest:
                members.setdefault(top, []).append(index)
        return [EventGroup(number, found, weakest[top])
                for number, (top, found) in enumerate(members.items(), start=1)]

    def events(self, groups: Sequence[EventGroup]) -> list[Event]:
        """The events of `groups`, with their documents' ids and sources and the names all of them hold."""
        events = []
        for group in groups:
            first, *rest = (self._document_names[index] for index in group.members)
            shared = set(first).intersection(*rest)
            events.append(Event(
                number=group.number, document_ids=[self.ids[index] for index in group.members],
                sources=[self.sources[index] for index in group.members],
                shared_names=sorted(self._names[number] for number in shared), similarity=round(group.weakest, 3),
            ))
        return events

    def disagreements(
        self,
        groups: Sequence[EventGroup],
        subject_threshold: float = SUBJECT_THRESHOLD,
        tolerance: float = VALUE_TOLERANCE,
    ) -> list[FigureDisagreement]:
        """The figures that disagree inside each of `groups` (see `disagreeing_figures`)."""
        pairs = []
        for group in groups:
            sides = [side for index in group.members for side in self.figures[index]]
            pairs += _disagreeing(group.number, sides, subject_threshold, tolerance)
        return pairs


def _unit_key(unit: Any) -> str:
    """A figure's unit for comparison: its canonical name (`numbers.canonical_unit`), folded, so
    that `people` and `person`, `km` and `kilometres`, `$` and `USD` are one unit."""
    canonical = canonical_unit(str(unit)) if unit is not None else None
    return " ".join(fold(canonical).split()) if canonical else ""


def subject_key(subject: str | None, unit: str | None) -> str:
    """A figure's subject for comparison: folded, without the unit's word in any form.

    `people forced to flee` counted in `person` (or `people`) → `forced to flee`.
    """
    if not subject:
        return ""
    unit_word = _unit_key(unit) or None
    return " ".join(
        word for word in fold(subject).split() if word != unit_word and _unit_key(word) != unit_word
    )


def subject_similarity(a: FigureSide, b: FigureSide) -> float:
    """How alike two figures' subjects are, 0-100: token_set_ratio without the unit word, and 0 when
    they name different places or people ("population of Khan Sheikhoun" / "population of Idlib")."""
    return _similarity(_subject_of(a), _subject_of(b))


def _subject_of(side: FigureSide) -> tuple[str, set[str]]:
    """What `subject_similarity` compares of a figure: its `subject_key` and its subject's proper names."""
    return subject_key(side.subject, side.unit), _subject_names(side.subject)


def _similarity(a: tuple[str, set[str]], b: tuple[str, set[str]]) -> float:
    (key_a, names_a), (key_b, names_b) = a, b
    if not key_a or not key_b:
        return 0.0
    if names_a and names_b and names_a != names_b:
        return 0.0
    return float(fuzz.token_set_ratio(key_a, key_b))


def _subject_names(subject: str | None) -> set[str]:
    """The proper names in a subject: the place or group counted ("Khan Sheikhoun")."""
    words = (fold(word.strip(",.()")) for word in (subject or "").split() if is_proper_name(word))
    return {word for word in words if word not in _NOT_NAMES}


def _figure_sides(document: ContractDocument, strings: dict[str, str] | None = None) -> Iterator[FigureSide]:
    """The figures of a document that can be compared: not rejected, with a number and a sound span.

    With `strings`, their units, qualifiers, subjects and sources are taken from it (and added to
    it), so that the figures of many documents hold one copy of each.
    """

    def one(value: Any) -> Any:
        return strings.setdefault(value, value) if strings is not None and isinstance(value, str) else value

    for record in document.records:
        value = record.get("value")
        if record.get("kind") != "figure" or record.get("status") == "rejected":
            continue
        if not isinstance(value, (int, float)) or isinstance(value, bool) or span_problem_of(document.text, record):
            continue
        yield FigureSide(
            document_id=document.id, source=document.source, item_id=record.get("id"), value=float(value),
            unit=one(record.get("unit")), qualifier=one(record.get("qualifier")),
            subject=one(record.get("subject")), attributed_to=one(record.get("attributed_to")),
            start=record["start"], end=record["end"], text=record["text"],
        )


def disagreeing_figures(
    documents: Iterable[ContractDocument],
    events: Sequence[Event],
    subject_threshold: float = SUBJECT_THRESHOLD,
    tolerance: float = VALUE_TOLERANCE,
) -> list[FigureDisagreement]:
    """Pairs of figures from different documents of one event that count the same thing (same unit,
    subjects alike by `subject_threshold`) with values further apart than `tolerance`."""
    coverage = Coverage.of(documents)
    position = {document_id: index for index, document_id in enumerate(coverage.ids)}
    groups = [EventGroup(event.number, [position[document_id] for document_id in event.document_ids], event.similarity)
              for event in events]
    return coverage.disagreements(groups, subject_threshold, tolerance)


def _disagreeing(
    event: int, sides: Sequence[FigureSide], subject_threshold: float, tolerance: float
) -> list[FigureDisagreement]:
    """The pairs of `sides` (an event's figures, in order) that disagree, each pair in order."""
    units = [_unit_key(side.unit) for side in sides]
    subjects = [_subject_of(side) for side in sides]
    pairs = []
    for index, first in enumerate(sides):
        for other in range(index + 1, len(sides)):
            second = sides[other]
            if first.document_id == second.document_id or units[index] != units[other]:
                continue
            if same_value(first.value, second.value, tolerance):
                continue
            similarity = _similarity(subjects[index], subjects[other])
            if similarity >= subject_threshold:
                pairs.append(FigureDisagreement(event, round(similarity, 1), first, second))
    return pairs


# ---------------------------------------------------------------------------- all together


def check_documents(
    documents: Iterable[ContractDocument],
    event_threshold: float = EVENT_THRESHOLD,
    subject_threshold: float = SUBJECT_THRESHOLD,
    tolerance: float = VALUE_TOLERANCE,
) -> QaReport:
    """Run every check: findings per document (errors first, then by span), events and disagreeing figures.

    The documents are read once, in order, and each is checked as it comes; only its findings and
    what `Coverage` keeps of it (its names as numbers, its figures) stay, never its text or items.
    """
    findings = []
    coverage = Coverage()
    for document in documents:
        found = check_document(document, tolerance)
        found.sort(key=lambda f: (SEVERITIES.index(f.severity), f.start if f.start is not None else -1, f.check))
        findings += found
        coverage.add(document)
    groups = coverage.groups(event_threshold)
    return QaReport(
        documents=len(coverage),
        findings=findings,
        events=coverage.events(groups),
        disagreements=coverage.disagreements(groups, subject_threshold, tolerance),
    )
