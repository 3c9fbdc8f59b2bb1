"""The review queue: which document and item a reviewer is on, and the decisions they make.

The terminal UI is a view of this: every key that decides something calls one method here, and
each decision is committed to the store before the method returns.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from annotator.errors import AnnotatorError
from annotator.schemas import Annotation, Document, Origin, annotation_class
from annotator.store import STATUS_OF_ACTION, Store, StoredAnnotation, manual_id

STATUS_FILTERS = ("all", "unreviewed", "gold", "rejected")
_FILTER_STATUSES = {
    "all": None,
    "unreviewed": ("proposed",),
    "gold": ("accepted", "edited", "added"),
    "rejected": ("rejected",),
}


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

    def __init__(self, store: Store, document_ids: Sequence[str], annotator: str) -> None:
        if not document_ids:
            raise AnnotatorError("no documents to review")
        self.store = store
        self.document_ids = list(document_ids)
        self.annotator = annotator
        self.kinds: tuple[str, ...] | None = None
        self.status_filter = "all"
        self.document_index = 0
        self.document: Document | None = None
        self.all_items: list[StoredAnnotation] = []
        self.items: list[StoredAnnotation] = []
        self.position = 0
        self._overall: list[int] | None = None  # [reviewed, total] proposals in the store, kept in step

    # ---------------------------------------------------------------- navigation

    def open(self, index: int, item_id: str | None = None) -> None:
        """Show the document at `index`, on `item_id` if given, else on its first item."""
        index = max(0, min(index, len(self.document_ids) - 1))
        self.document_index = index
        self.document = self.store.document(self.document_ids[index])
        self.position = 0
        self._read_items(item_id)
        self._overall = None  # counted again, so that other reviewers' decisions show up

    def reload(self, item_id: str | None = None) -> None:
        """Read the current document's items again (after new proposals or an undo)."""
        self._read_items(item_id or (self.current.id if self.current else None))

    def _read_items(self, keep: str | None) -> None:
        self.all_items = list(self.store.annotations(document_id=self.document_ids[self.document_index]))
        self._filter(keep)

    def _filter(self, keep: str | None = None) -> None:
        statuses = _FILTER_STATUSES[self.status_filter]
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

    def move_document(self, delta: int) -> None:
        """Next or previous document."""
        self.open(self.document_index + delta)

    def next_unreviewed(self) -> bool:
        """Go to the next proposed item, later in this document or in the next ones (wrapping); False if none."""
        for position in range(self.position + 1, len(self.items)):
            if self.items[position].status == "proposed":
                self.position = position
                return True
        count = len(self.document_ids)
        for step in range(1, count + 1):
            index = (self.document_index + step) % count
            found = next(self.store.annotations(self.document_ids[index], statuses=["proposed"], kinds=self.kinds), None)
            if found is not None:
                if self.status_filter not in ("all", "unreviewed"):
                    self.status_filter = "all"
                self.open(index, found.id)
                return True
        return False

    def set_kind_filter(self, kinds: Sequence[str] | None) -> None:
        """Show only these kinds (None: every kind)."""
        self.kinds = tuple(kinds) if kinds else None
        self._filter(self.current.id if self.current else None)

    def cycle_status_filter(self) -> str:
        """all → unreviewed → gold → rejected → all; returns the new filter."""
        self.status_filter = STATUS_FILTERS[(STATUS_FILTERS.index(self.status_filter) + 1) % len(STATUS_FILTERS)]
        self._filter(self.current.id if self.current else None)
        return self.status_filter

    # ----------------------------------------------------------------- decisions

    def _decided(self, item: StoredAnnotation, action: str, annotation: Annotation | None = None) -> StoredAnnotation:
        """Record a decision on `item` and return the item as it now stands, without a re-read."""
        self.store.record_decision(item.id, action, self.annotator, annotation, document_id=item.document_id)
        if self._overall is not None and item.proposal_id is not None and item.status == "proposed":
            self._overall[0] += 1
        if annotation is not None:
            fields = json.dumps(annotation.fields(), ensure_ascii=False, separators=(",", ":"))
            item = replace(item, start=annotation.start, end=annotation.end, text=annotation.text, fields_json=fields)
        status = "added" if item.proposal_id is None and action != "reject" else STATUS_OF_ACTION[action]
        updated = replace(item, status=status, annotator=self.annotator)
        self.all_items = [updated if i.id == item.id else i for i in self.all_items]
        self.items = [updated if i.id == item.id else i for i in self.items]
        return updated

    def accept(self) -> StoredAnnotation | None:
        """Accept the current item (an item added by hand is gold already) and move to the next."""
        item = self.current
        if item is None:
            return None
        if item.proposal_id is not None:
            item = self._decided(item, "accept")
        self.move(1)
        return item

    def reject(self) -> StoredAnnotation | None:
        """Reject the current item and move to the next."""
        item = self.current
        if item is None:
            return None
        item = self._decided(item, "reject")
        if item.proposal_id is None:  # a withdrawn manual item is no longer listed
            self.reload()
        else:
            self.move(1)
        return item

    def edit(self, annotation: Annotation) -> StoredAnnotation | None:
        """Record the current item as corrected (span or fields): one decision, accepting it as changed."""
        item = self.current
        if item is None:
            return None
        if self._same(item, annotation):
            return self.accept()
        return self._decided(item, "edit", annotation)

    def add(self, annotation: Annotation) -> StoredAnnotation:
        """Add an annotation the engine missed, and make it the current item."""
        if self.document is None:
            raise AnnotatorError("no document is open")
        annotation = annotation.model_copy(update={"origin": annotation.origin or Origin(engine="manual")})
        item_id = manual_id()
        self.store.record_decision(item_id, "add", self.annotator, annotation, document_id=self.document.id)
        self.reload(item_id)
        return self.current  # type: ignore[return-value]

    def undo(self) -> dict[str, Any] | None:
        """Undo this reviewer's latest decision, wherever it was, and show that item again."""
        undone = self.store.undo(self.annotator)
        if undone is None:
            return None
        index = self.document_ids.index(undone["document_id"]) if undone["document_id"] in self.document_ids else None
        if index is None:
            self.document_ids.append(undone["document_id"])
            index = len(self.document_ids) - 1
        self.open(index, undone["item_id"])
        return undone

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
        """(reviewed, total) items of the current document, every kind and status."""
        reviewed = sum(1 for item in self.all_items if item.status != "proposed")
        return reviewed, len(self.all_items)

    def proposals_arrived(self, document_id: str) -> bool:
        """New proposals were stored for a document: re-read it if it is open (True), recount the total."""
        self._overall = None
        if self.document is not None and document_id == self.document.id:
            self.reload()
            return True
        return False

    def overall_progress(self) -> tuple[int, int]:
        """(reviewed, total) proposals in the whole store: counted when a document opens, then kept in step."""
        if self._overall is None:
            self._overall = list(self.store.review_counts())
        return self._overall[0], self._overall[1]
