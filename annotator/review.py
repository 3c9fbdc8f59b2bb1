"""The review queue: which document and item a reviewer is on, and the decisions they make.

The terminal UI is a view of this: every key that decides something calls one method here, and
each decision is committed to the store before the method returns.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher
from typing import Any

from pydantic import ValidationError

from annotator.contract import status_filter
from annotator.errors import AnnotatorError
from annotator.names import nearest_mention
from annotator.numbers import figure_values
from annotator.schemas import Annotation, Document, Origin, annotation_class
from annotator.store import Store, StoredAnnotation, manual_id

STATUS_FILTERS = ("all", "unreviewed", "gold", "rejected", "flagged")
"""The review screen's status filters, in the order `f` cycles them (each a `contract.status_filter`)."""


ATTENTION_SCAN = 20
"""Documents `next_attention` looks through after the current one (each is read and checked whole)."""

ATTENTION_CACHE = 64
"""Documents whose attention `ReviewQueue.attention` keeps, by their items as they stand: a second `g` over the
same documents reads their items again but checks only those that changed."""


@dataclass(frozen=True)
class Attention:
    """Why an item needs a human: `urgency` 0 (a flag, a qa error) comes before 1 (the rest)."""

    urgency: int
    reason: str
    """`flag`, `qa`, `grounding`, `disagreement` or `speaker`."""
    message: str

    def line(self, width: int = 60) -> str:
        """The reason on one short line."""
        return clip_words(f"{self.reason}: {self.message}", width)


def attention_of(
    document: Document, items: Sequence[StoredAnnotation], grounding: dict[str, tuple[float | None, str | None]]
) -> dict[str, list[Attention]]:
    """What needs a human in a document's items, item id → reasons, most urgent first.

    A flag, and a `qa` finding on the item (errors are urgent, warnings not), whatever its status; on
    undecided proposals also a span the engine's words were not found in verbatim (fuzzy grounding,
    score under 1), two engines that disagree (proposals of one kind from different origins that
    overlap with different fields) and an unresolved speaker (none, a pronoun, or a description).
    """
    from annotator.contract import ContractDocument, Item
    # qa's pronouns, not `speakers.is_pronoun`: `speakers` reads the rules' analysis, an engine's.
    from annotator.qa import _PRONOUNS, check_document, is_proper_name

    found: dict[str, list[Attention]] = {}

    def note(item_id: str | None, attention: Attention) -> None:
        if item_id is not None:
            found.setdefault(item_id, []).append(attention)

    for item in items:
        if item.status == "flagged":
            note(item.id, Attention(0, "flag", "marked for discussion"))
    for finding in check_document(ContractDocument(document, [Item.of(item) for item in items])):
        if finding.item_id is not None and finding.check != "partial-review":
            note(finding.item_id, Attention(0 if finding.severity == "error" else 1, "qa", finding.message))
    open_items = sorted((item for item in items if item.status == "proposed" and item.proposal_id is not None),
                        key=lambda item: (item.start, item.end))
    for item in open_items:
        score, method = grounding.get(item.id, (None, None))
        if (method is not None and method != "exact") or (score is not None and score < 1):
            note(item.id, Attention(1, "grounding", f"{method or 'fuzzy'} {score if score is not None else 0:.2f}"))
        if item.kind == "quote":
            speaker = item.fields().get("speaker")
            if not isinstance(speaker, str) or not speaker.strip():
                note(item.id, Attention(1, "speaker", "no speaker"))
            elif speaker.strip().lower() in _PRONOUNS or not is_proper_name(speaker):
                note(item.id, Attention(1, "speaker", f"{speaker!r} names nobody"))
    for index, item in enumerate(open_items):
        for other in open_items[index + 1:]:
            if other.start >= item.end:
                break  # items come by span: none later overlaps
            if (other.kind == item.kind and other.origin_json != item.origin_json and other.start < item.end
                    and other.fields() != item.fields()):
                engine = other.origin().get("engine") or "another engine"
                note(item.id, Attention(1, "disagreement", f"{engine} proposes other fields"))
                note(other.id, Attention(1, "disagreement", f"{item.origin().get('engine') or 'another engine'} "
                                                           "proposes other fields"))
    for reasons in found.values():
        reasons.sort(key=lambda attention: attention.urgency)
    return found


def draft_annotation(kind: str, start: int, end: int, document: str) -> Annotation:
    """A new `kind` on `document[start:end]` for the reviewer to complete: its required fields left empty.

    Nothing is made up: a figure's value is offered only when its span writes a number (the reviewer
    confirms it by saving), and a stance's holder, target and polarity wait for the reviewer. The
    draft is not validated; saving it is (`ReviewQueue.add`).
    """
    cls = annotation_class(kind)
    text = document[start:end]
    offered: dict[str, Any] = {}
    if "value" in cls.model_fields:
        read = figure_values(text)
        if read:
            offered["value"] = read[0]
    return cls.model_construct(kind=kind, start=start, end=end, text=text, status="added", **offered)


@dataclass(frozen=True)
class Reversal:
    """What an undo or redo took back or brought back: the decision and the item it was on, as it now stands."""

    action: str
    item_id: str
    kind: str
    text: str
    status: str
    count: int = 1
    """Decisions taken back or brought back together (a batch: `ReviewQueue.accept_rest`)."""

    def describe(self, verb: str) -> str:
        """One line for the reviewer: "undid accept of quote “We will …” (now proposed)", or "undid accept of 7 items"."""
        if self.count > 1:
            return f"{verb} {self.action} of {self.count} items"
        words = clip_words(self.text, 40)
        now = f" (now {self.status})" if self.status else ""
        return f"{verb} {self.action} of {self.kind} “{words}”{now}"


def speaker_mention_for(
    document: str, speaker: str | None, start: int, end: int, current: tuple[int | None, int | None]
) -> dict[str, int | None]:
    """The speaker mention a quote at `start:end` should have once its speaker is `speaker`.

    The `current` mention stays when it still fits the name (it names them, or is a pronoun or a
    description); otherwise the name's mention nearest the quote, or none when the text never names them.
    """
    from annotator.qa import mention_names_other

    if current[0] is not None and current[1] is not None and speaker:
        if mention_names_other(document, current[0], current[1], speaker, (start, end)) is None:
            return {"speaker_start": current[0], "speaker_end": current[1]}
    found = nearest_mention(document, speaker, start, end)
    return {"speaker_start": found[0] if found else None, "speaker_end": found[1] if found else None}


def clip_words(text: str, width: int) -> str:
    """`text` on one line (runs of whitespace as one space), cut after a whole word with "…" when longer than `width`."""
    words = " ".join(text.split())
    if len(words) <= width:
        return words
    cut = words[: max(width - 1, 1)]
    if words[len(cut)] != " " and " " in cut:  # the cut falls inside a word: end at the word before
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:") + "…"


def word_diff(before: str, after: str, context: int = 3) -> list[tuple[str, str]]:
    """What changed between two spans, word by word: ("=", kept), ("-", removed), ("+", added) runs of words.

    Kept runs longer than `context` words on each side of a change are cut to "…", so a span moved by
    a few words reads as those words, not as two whole paragraphs.
    """
    old, new = before.split(), after.split()
    diff: list[tuple[str, str]] = []
    opcodes = SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    for index, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            words = old[i1:i2]
            if len(opcodes) == 1:  # the same words (the span moved by a character or a space): show them
                diff.append(("=", " ".join(words)))
                continue
            head = words[:context] if index > 0 else []
            tail = words[-context:] if index < len(opcodes) - 1 else []
            if len(head) + len(tail) < len(words):
                kept = " ".join([*head, "…", *tail])
            else:
                kept = " ".join(words)
            diff.append(("=", kept))
            continue
        if i2 > i1:
            diff.append(("-", " ".join(old[i1:i2])))
        if j2 > j1:
            diff.append(("+", " ".join(new[j1:j2])))
    return diff


@dataclass(frozen=True)
class Change:
    """One field that differs between what was proposed and the label that stands."""

    field: str
    before: Any
    after: Any


def annotation_of(item: StoredAnnotation) -> Annotation:
    """The stored item as its kind's model (for editing)."""
    cls = annotation_class(item.kind)
    origin = item.origin()
    return cls.model_validate(
        {**item.fields(), "id": item.id, "kind": item.kind, "start": item.start, "end": item.end, "text": item.text,
         "status": item.status, "origin": origin or None}
    )


class ReviewQueue:
    """A reviewer's way through documents and their items, with kind and status filters."""

    def __init__(self, store: Store, document_ids: Sequence[str] | None, annotator: str) -> None:
        """Review `document_ids` in that order, or (None) every document in the store, in the order added."""
        self.whole_store = document_ids is None
        self.document_ids = store.document_ids() if document_ids is None else list(document_ids)
        if not self.document_ids:
            raise AnnotatorError("no documents to review")
        self.store = store
        self._index: dict[str, int] | None = None
        self.annotator = annotator
        # With several reviewers per document, a reviewer sees and changes only their own decisions.
        self.reviewer: str | None = annotator if store.overlap() > 1 else None
        self.kinds: tuple[str, ...] | None = None
        self.status_filter = "all"
        self.document_index = 0
        self.document: Document | None = None
        self.all_items: list[StoredAnnotation] = []
        self.items: list[StoredAnnotation] = []
        self.position = 0
        self._attention: dict[Any, dict[str, list[Attention]]] = {}

    # ---------------------------------------------------------------- navigation

    def open(self, index: int, item_id: str | None = None) -> None:
        """Show the document at `index`, on `item_id` if given, else on its first item."""
        index = max(0, min(index, len(self.document_ids) - 1))
        self.document_index = index
        self.document = self.store.document(self.document_ids[index])
        self.position = 0
        self._read_items(item_id)

    def reload(self, item_id: str | None = None) -> None:
        """Read the current document's items again (after new proposals or an undo)."""
        self._read_items(item_id or (self.current.id if self.current else None))

    def _read_items(self, keep: str | None) -> None:
        self.all_items = list(self.store.annotations(document_id=self.document_ids[self.document_index],
                                                     reviewer=self.reviewer))
        self._filter(keep)

    def _filter(self, keep: str | None = None) -> None:
        statuses = status_filter(self.status_filter)
        self.items = [
            item for item in self.all_items
            if (self.kinds is None or item.kind in self.kinds) and (statuses is None or item.status in statuses)
        ]
        ids = [item.id for item in self.items]
        self.position = ids.index(keep) if keep in ids else min(self.position, max(len(self.items) - 1, 0))

    @property
    def current(self) -> StoredAnnotation | None:
        """The item under review, if the document has any that pass the filters."""
        return self.items[self.position] if self.items else None

    def move(self, delta: int) -> None:
        """Next (`+1`) or previous (`-1`) item in this document."""
        if self.items:
            self.position = max(0, min(self.position + delta, len(self.items) - 1))

    def advance(self) -> bool:
        """Go on after a decision, as a reviewer reading on expects: to the next undecided item of this document
        (after the current one, then before it), else to the next document with one (as `next_unreviewed`).

        Returns False when nothing anywhere is undecided; the queue then steps to the next item, as it always did.
        """
        later = [*range(self.position + 1, len(self.items)), *range(self.position)]
        found = next((position for position in later if self.items[position].status == "proposed"), None)
        if found is not None:
            self.position = found
            return True
        if self.next_unreviewed():
            return True
        self.move(1)
        return False

    def move_document(self, delta: int) -> None:
        """Next or previous document."""
        self.open(self.document_index + delta)

    def show_item(self, item_id: str) -> bool:
        """Make `item_id` of this document the current item, clearing the filters that hide it; False if it is not here."""
        if item_id not in {item.id for item in self.all_items}:
            return False
        if item_id not in {item.id for item in self.items}:
            self.kinds, self.status_filter = None, "all"
            self._filter()
        self.position = [item.id for item in self.items].index(item_id)
        return True

    def next_unreviewed(self) -> bool:
        """Go to the next proposed item, later in this document or in the next ones (wrapping); False if none."""
        for position in range(self.position + 1, len(self.items)):
            if self.items[position].status == "proposed":
                self.position = position
                return True
        for index in self._documents_with_undecided():
            found = next(self.store.annotations(self.document_ids[index], statuses=["proposed"], kinds=self.kinds,
                                                reviewer=self.reviewer), None)
            if found is not None:
                if self.status_filter not in ("all", "unreviewed"):
                    self.status_filter = "all"
                self.open(index, found.id)
                return True
        return False

    def _documents_with_undecided(self) -> Iterator[int]:
        """Indexes of the documents after the current one (wrapping round to it) that may hold an undecided item."""
        count = len(self.document_ids)
        if not self.whole_store:
            yield from ((self.document_index + step) % count for step in range(1, count + 1))
            return
        # The whole store, in the order added: the store's index of undecided proposals says where.
        document_id = self.store.next_undecided_document(self.document_ids[self.document_index], self.kinds)
        if document_id is not None:
            if self._index is None or document_id not in self._index:  # (a document stored since the review began)
                self.document_ids = self.store.document_ids()
                self._index = {document_id: index for index, document_id in enumerate(self.document_ids)}
            yield self._index[document_id]

    def set_kind_filter(self, kinds: Sequence[str] | None) -> None:
        """Show only these kinds (None: every kind)."""
        self.kinds = tuple(kinds) if kinds else None
        self._filter(self.current.id if self.current else None)

    def cycle_status_filter(self) -> str:
        """all → unreviewed → gold → rejected → flagged → all; returns the new filter."""
        self.status_filter = STATUS_FILTERS[(STATUS_FILTERS.index(self.status_filter) + 1) % len(STATUS_FILTERS)]
        self._filter(self.current.id if self.current else None)
        return self.status_filter

    # ----------------------------------------------------------------- decisions

    def _decided(self, item: StoredAnnotation, action: str, annotation: Annotation | None = None) -> StoredAnnotation:
        """Record a decision on `item` and return the item as the store now holds it."""
        self.store.record_decision(item.id, action, self.annotator, annotation, document_id=item.document_id)
        # Read back, not worked out here: the card shows exactly the label the store derived.
        updated = self.store.annotation(item.id, self.reviewer) or replace(item, status="rejected")
        self.all_items = [updated if i.id == item.id else i for i in self.all_items]
        self.items = [updated if i.id == item.id else i for i in self.items]
        return updated

    def accept(self) -> StoredAnnotation | None:
        """Accept the current item as it stands (an edit stays; an item added by hand is gold already) and go on
        to the next undecided item (`advance`)."""
        item = self.current
        if item is None:
            return None
        if item.proposal_id is not None:
            item = self._decided(item, "accept")
        self.advance()
        return item

    def reject(self) -> StoredAnnotation | None:
        """Reject the current item and go on to the next undecided item (`advance`)."""
        item = self.current
        if item is None:
            return None
        item = self._decided(item, "reject")
        if item.proposal_id is None:  # a withdrawn manual item is no longer listed
            self.reload()
        else:
            self.advance()
        return item

    def reviewed(self, annotation: Annotation) -> Annotation:
        """`annotation` held to the rules for a reviewer's values (AnnotatorError naming the problem)."""
        if self.document is None:
            raise AnnotatorError("no document is open")
        try:
            return type(annotation).model_validate(
                annotation.model_dump(), context={"document": self.document.text, "reviewed": True}
            )
        except ValidationError as error:
            problem = error.errors()[0]
            raise AnnotatorError(str(problem["msg"]).removeprefix("Value error, ")) from None

    def edit(self, annotation: Annotation, item: StoredAnnotation | None = None) -> StoredAnnotation | None:
        """Record the current item (or `item` of this document) as corrected (span or fields): one decision,
        accepting it as changed.

        A changed speaker takes its mention along: when the mention still points at the old words and
        they do not fit the new name, it moves to the new name's mention nearest the quote, or is cleared.
        An unchanged current item is accepted (and the queue goes on, `accept`); an unchanged other item is left as
        it is. A changed item stays current: the caller goes on (`advance`) when the fix completes the decision.
        """
        other = item is not None and (self.current is None or item.id != self.current.id)
        item = item or self.current
        if item is None:
            return None
        annotation = self.reviewed(self.follow_speaker(item, annotation))
        if self._same(item, annotation):
            return item if other else self.accept()
        return self._decided(item, "edit", annotation)

    def follow_speaker(self, item: StoredAnnotation, annotation: Annotation) -> Annotation:
        """`annotation` with its speaker mention re-pointed if the speaker changed and the old mention names someone else."""
        before, after = item.fields(), annotation.fields()
        if item.kind != "quote" or self.document is None or before.get("speaker") == after.get("speaker"):
            return annotation
        kept = (after.get("speaker_start"), after.get("speaker_end"))
        if kept != (before.get("speaker_start"), before.get("speaker_end")):
            return annotation  # the reviewer set the mention themselves
        return annotation.model_copy(update=speaker_mention_for(
            self.document.text, after.get("speaker"), annotation.start, annotation.end, kept
        ))

    def add(self, annotation: Annotation) -> StoredAnnotation:
        """Add an annotation the engine missed, and make it the current item."""
        if self.document is None:
            raise AnnotatorError("no document is open")
        annotation = self.reviewed(annotation)
        annotation = annotation.model_copy(update={"origin": annotation.origin or Origin(engine="manual")})
        item_id = manual_id()
        self.store.record_decision(item_id, "add", self.annotator, annotation, document_id=self.document.id)
        self.reload(item_id)
        return self.current  # type: ignore[return-value]

    def undo(self) -> Reversal | None:
        """Undo this reviewer's latest decision, wherever it was, and show that item again."""
        return self._show_reversal(self.store.undo(self.annotator, role="review"))

    def redo(self) -> Reversal | None:
        """Redo this reviewer's latest undo (if no new decision came since), and show that item again."""
        return self._show_reversal(self.store.redo(self.annotator, role="review"))

    def _show_reversal(self, event: dict[str, Any] | None) -> Reversal | None:
        if event is None:
            return None
        if event["document_id"] not in self.document_ids:
            self.document_ids.append(event["document_id"])
        self.open(self.document_ids.index(event["document_id"]), event["item_id"])
        shown = self.current if self.current is not None and self.current.id == event["item_id"] else None
        if shown is None:  # filtered out, or a withdrawn manual item: name it from the store
            shown = self.store.annotation(event["item_id"], self.reviewer)
        return Reversal(event["action"], event["item_id"], event["kind"], shown.text if shown else "",
                        shown.status if shown else "", event.get("count", 1))

    @staticmethod
    def _same(item: StoredAnnotation, annotation: Annotation) -> bool:
        return (item.start, item.end) == (annotation.start, annotation.end) and item.fields() == annotation.fields()

    # ------------------------------------------------------------------- reading

    def changes(self, item: StoredAnnotation) -> list[Change]:
        """What an edit changed between the proposal and the label that stands now."""
        if item.status != "edited":
            return []
        proposed = next((row for row in self.store.proposal_rows([item.id])), None)
        if proposed is None:
            return []
        changes = [Change(name, value, item.fields().get(name)) for name, value in json.loads(proposed["fields"]).items()
                   if item.fields().get(name) != value]
        if (proposed["start"], proposed["end"]) != (item.start, item.end):
            changes.insert(0, Change("span", proposed["text"], item.text))
        return changes

    def progress(self) -> tuple[int, int]:
        """(reviewed, total) proposals of the current document, every kind: what `overall_progress` counts store-wide.

        Items added by hand are labels, not proposals waiting for a decision, so neither count includes them.
        """
        proposals = [item for item in self.all_items if item.proposal_id is not None]
        return sum(1 for item in proposals if item.status != "proposed"), len(proposals)

    def proposals_arrived(self, document_id: str) -> bool:
        """New proposals were stored for a document: re-read it if it is open (True)."""
        if self.document is not None and document_id == self.document.id:
            self.reload()
            return True
        return False

    def overall_progress(self) -> tuple[int, int]:
        """(reviewed, total) proposals in the whole store, every reviewer's decisions included (the store's tallies)."""
        if self.reviewer is not None:
            return self.store.reviewer_counts(self.reviewer, self.document_ids)
        return self.store.review_counts()

    # ------------------------------------------------- batches, flags, notes, attention

    def undecided(self) -> list[StoredAnnotation]:
        """The current document's proposals nobody has decided on, every kind, whatever the filters show."""
        return [item for item in self.all_items if item.proposal_id is not None and item.status == "proposed"]

    def accept_rest(self) -> int:
        """Accept every undecided proposal of the current document in one transaction (one batch, one undo step).

        Returns how many were accepted; the current item stays where it was.
        """
        rest = self.undecided()
        if rest:
            self.store.record_decisions([item.id for item in rest], "accept", self.annotator)
            self.reload()
        return len(rest)

    def flag(self, note: str = "") -> StoredAnnotation | None:
        """Flag the current item for discussion with a short comment, and go on (`advance`): it is neither gold nor
        rejected."""
        item = self.current
        if item is None:
            return None
        self.store.flag(item.id, self.annotator, note)
        updated = self.store.annotation(item.id, self.reviewer) or item
        self.all_items = [updated if i.id == item.id else i for i in self.all_items]
        self.items = [updated if i.id == item.id else i for i in self.items]
        self.advance()
        return updated

    def flag_note(self, item: StoredAnnotation) -> str | None:
        """The comment of a flagged item's flag (None when it is not flagged or has none)."""
        return self.store.flag_note(item.id, self.reviewer) if item.status == "flagged" else None

    def document_note(self) -> dict[str, Any] | None:
        """The note in effect on the current document (`note`, `done`, `annotator`), or None."""
        return self.store.document_note(self.document.id) if self.document is not None else None

    def set_document_note(self, note: str, done: bool) -> None:
        """Leave a note on the current document and say whether it is done."""
        if self.document is None:
            raise AnnotatorError("no document is open")
        self.store.record_document_note(self.document.id, self.annotator, note, done)

    def attention(self) -> dict[str, list[Attention]]:
        """What needs a human in the current document, item id → reasons (most urgent first)."""
        if self.document is None:
            return {}
        # Asked on every card: checked again only when an item changed.
        key = (self.document.id, tuple((i.id, i.status, i.start, i.end, i.fields_json) for i in self.all_items))
        found = self._attention.get(key)
        if found is None:
            found = attention_of(self.document, self.all_items, self.store.grounding(self.document.id))
            if len(self._attention) >= ATTENTION_CACHE:
                del self._attention[next(iter(self._attention))]  # the oldest
            self._attention[key] = found
        return found

    def next_attention(self, scan: int = ATTENTION_SCAN) -> Attention | None:
        """Go to the next item that needs a human most: in this document (flags and qa errors first, then the
        rest, each after the current item first), else in the following `scan` documents. None if none there."""
        here = self.current.id if self.current else None
        origin = self.document_ids[self.document_index]
        order = [item.id for item in self.all_items]
        start = order.index(here) + 1 if here in order else 0
        for step in range(min(scan, len(self.document_ids)) + 1):
            if step:
                self.open((self.document_index + 1) % len(self.document_ids))
                order, start = [item.id for item in self.all_items], 0
            found = self.attention()
            if not found:
                continue
            cyclic = order[start:] + order[:start]
            cyclic = [item_id for item_id in cyclic if item_id in found and (step or item_id != here)]
            if not cyclic:
                continue
            best = min(cyclic, key=lambda item_id: (found[item_id][0].urgency, cyclic.index(item_id)))
            self.show_item(best)
            return found[best][0]
        if self.document_ids[self.document_index] != origin:
            self.open(self.document_ids.index(origin), here)
        return None

