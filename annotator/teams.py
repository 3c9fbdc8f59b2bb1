"""Several reviewers per document: each one's labels, the gold they agree on, and what is left to adjudicate.

With an overlap above 1 (`annotator assign --overlap N`, `Store.overlap()`), each reviewer's decisions
are theirs alone (`Store.review_rows`). The reviewers of a document are those who decided every one of
its proposals. Their labels are grouped into units: a proposal, or the items they added that match
(same kind, spans matched one to one as `eval` matches them, `MATCH` of the span). A unit is settled
when an adjudicator decided it, or when every reviewer of the document labelled it and all agree:
all rejected it, or all kept it with spans that match and the same fields (`eval`'s field rule). The
agreed label is the span most reviewers chose (ties: the first reviewer's by name), `accepted` when
every reviewer accepted the proposal unchanged, else `edited` (`added` for items added by hand).

A document's gold is complete when it has `overlap` reviewers and every unit is settled; until then
export, the training formats and eval leave it out, and say how many.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from annotator.canonical import GOLD_STATUSES
from annotator.contract import ContractDocument, Item, status_filter
from annotator.matching import field_checks, match, overlaps

if TYPE_CHECKING:
    from annotator.schemas import Annotation, Document
    from annotator.store import Store


@dataclass(frozen=True)
class Label:
    """One reviewer's (or adjudicator's) label of an item: the item as their decisions make it."""

    item: Item
    proposal: bool
    role: str
    annotator: str
    decided_at: str


@dataclass
class Unit:
    """One thing a document's reviewers labelled: a proposal, or the items they added that match."""

    kind: str
    proposal: Item | None
    """The proposal as proposed (None for items added by hand)."""
    votes: dict[str, Label] = field(default_factory=dict)
    """Each reviewer's label, by name (a reviewer missing here did not add the item)."""
    adjudication: Label | None = None
    reviewers: Sequence[str] = ()
    """The document's reviewers: those whose labels count."""

    @functools.cached_property
    def agreed(self) -> Item | None:
        """The label every reviewer agrees on, or None (worked out once: ask it once the votes are in)."""
        return agreed_label(self.votes.values(), self.reviewers)

    @property
    def settled(self) -> Item | None:
        """The unit's label: the adjudicator's, else the one the reviewers agree on; None while disputed."""
        if self.adjudication is not None:
            return self.adjudication.item
        return self.agreed

    @property
    def representative(self) -> Item:
        """The unit as one item: the proposal, else the first reviewer's added item."""
        if self.proposal is not None:
            return self.proposal
        return next(iter(self.votes.values())).item


def agreed_label(votes: Sequence[Label] | Any, reviewers: Sequence[str]) -> Item | None:
    """The label `reviewers` all agree on (from their `votes`), or None (one missing, flagged, or different)."""
    votes = [vote for vote in votes if vote.annotator in reviewers]
    if not votes or len(votes) < len(reviewers):
        return None
    statuses = {vote.item.status for vote in votes}
    if statuses == {"rejected"} or statuses == {"accepted"}:  # accepted unchanged: each has the proposal's values
        return votes[0].item
    if not statuses <= set(GOLD_STATUSES):
        return None
    spans = Counter((vote.item.start, vote.item.end) for vote in votes)
    chosen = max(votes, key=lambda vote: spans[(vote.item.start, vote.item.end)]).item  # first of the most chosen
    for vote in votes:
        if not overlaps(chosen, vote.item) or not all(field_checks(chosen, vote.item).values()):
            return None
    if "added" in statuses:
        return replace(chosen, status="added")
    return replace(chosen, status="accepted" if statuses == {"accepted"} else "edited")


@dataclass
class DocumentReview:
    """A document's labels by reviewer, grouped into units, and what they make of its gold."""

    document_id: str
    reviewers: list[str]
    """Those who decided every proposal of it, by name."""
    units: list[Unit]
    overlap: int

    @property
    def disputed(self) -> list[Unit]:
        """Units the reviewers do not (yet) agree on and no adjudicator settled."""
        return [unit for unit in self.units if unit.settled is None]

    @property
    def complete(self) -> bool:
        """Enough reviewers have reviewed it and every unit is settled: its gold is complete."""
        return len(self.reviewers) >= self.overlap and not self.disputed

    def items(self) -> list[Item]:
        """Its items as the store calls them now: each settled unit's label; a proposal not settled as proposed."""
        items = []
        for unit in self.units:
            settled = unit.settled
            if settled is not None:
                items.append(settled)
            elif unit.proposal is not None:
                items.append(unit.proposal)
        return sorted(items, key=lambda item: (item.start, item.end, item.kind, item.id or ""))


def reviewers_of(proposals: Sequence[Item], labels: Sequence[Label]) -> list[str]:
    """Who reviewed a document: those with a label on every proposal of it (with none, anyone with a label)."""
    everyone = sorted({label.annotator for label in labels if label.role == "review"})
    wanted = {item.id for item in proposals}
    return [name for name in everyone
            if wanted <= {label.item.id for label in labels if label.annotator == name and label.role == "review"}]


def document_review(document_id: str, proposals: Sequence[Item], labels: Sequence[Label], overlap: int) -> DocumentReview:
    """Group a document's labels into units (see the module's doc)."""
    reviewers = reviewers_of(proposals, labels)
    units: dict[str, Unit] = {item.id or "": Unit(item.kind, item, reviewers=reviewers) for item in proposals}
    added: dict[str, list[Unit]] = {}
    by_item: dict[str, Unit] = dict(units)
    adjudications = []
    for label in sorted(labels, key=lambda label: (label.role, label.annotator, label.item.start, label.item.id or "")):
        if label.role == "adjudicate":
            adjudications.append(label)
        elif label.proposal:
            unit = units.get(label.item.id or "")
            if unit is not None:
                unit.votes[label.annotator] = label
    # Added items, reviewer by reviewer: each matched one to one to the units of its kind that reviewer has
    # no item in yet; an item left unmatched opens a unit of its own.
    # An item its own reviewer added and then rejected is none of theirs.
    added_labels = [label for label in labels
                    if label.role == "review" and not label.proposal and label.item.status != "rejected"]
    for reviewer in sorted({label.annotator for label in added_labels}):
        mine = [label for label in added_labels if label.annotator == reviewer]
        for kind in sorted({label.item.kind for label in mine}):
            theirs = [label for label in mine if label.item.kind == kind]
            open_units = [unit for unit in added.get(kind, []) if reviewer not in unit.votes]
            pairs = match([unit.representative for unit in open_units], [label.item for label in theirs])
            paired = set()
            for i, j, _ in pairs:
                if overlaps(open_units[i].representative, theirs[j].item):
                    open_units[i].votes[reviewer] = theirs[j]
                    by_item[theirs[j].item.id or ""] = open_units[i]
                    paired.add(j)
            for j, label in enumerate(theirs):
                if j not in paired:
                    unit = Unit(kind, None, {reviewer: label}, reviewers=reviewers)
                    added.setdefault(kind, []).append(unit)
                    by_item[label.item.id or ""] = unit
    for label in sorted(adjudications, key=lambda label: label.decided_at):
        unit = by_item.get(label.item.id or "")
        if unit is not None:
            unit.adjudication = label
    every = list(units.values()) + [unit for kind in sorted(added) for unit in added[kind]]
    return DocumentReview(document_id, list(reviewers), every, overlap)


def _parsed(text: str, cache: dict[str, Any]) -> Any:
    """`json.loads(text)`, once per text in `cache` (the same fields and origins come again and again)."""
    parsed = cache.get(text)
    if parsed is None:
        parsed = cache[text] = json.loads(text)
    return parsed


def label_of(row: Sequence[Any], cache: dict[str, Any]) -> Label:
    """A `Store.review_rows` row as a Label (fields and origins parsed once per text in `cache`)."""
    (_, item_id, kind, proposal, role, annotator, status, start, end, text, fields, origin, decided_at) = row
    return Label(Item(kind, start, end, text, _parsed(fields, cache), item_id, status, _parsed(origin, cache)),
                 bool(proposal), role, annotator, decided_at)


def document_reviews(
    store: Store, kinds: Sequence[str] | None = None, document_ids: Sequence[str] | None = None
) -> Iterator[tuple[Document, DocumentReview]]:
    """Every document of the store (or these) in the order added, with its review (one pass over each table).

    With `kinds`, only units of those kinds (a reviewer is still one who decided every proposal of any kind).
    """
    overlap = store.overlap()
    proposals = (store.annotations(reviewer=NOBODY) if document_ids is None else
                 itertools.chain.from_iterable(store.annotations(i, reviewer=NOBODY) for i in document_ids))
    rows = store.review_rows(document_ids)
    documents = store.documents() if document_ids is None else (store.document(i) for i in document_ids)
    pending_proposal = next(proposals, None)
    pending_row = next(rows, None)
    cache: dict[str, Any] = {}
    for document in documents:
        if document is None:
            continue
        mine: list[Item] = []
        while pending_proposal is not None and pending_proposal.document_id == document.id:
            p = pending_proposal
            mine.append(Item(p.kind, p.start, p.end, p.text, _parsed(p.fields_json, cache), p.id, p.status,
                             _parsed(p.origin_json, cache)))
            pending_proposal = next(proposals, None)
        labels: list[Label] = []
        while pending_row is not None and pending_row[0] == document.id:
            labels.append(label_of(pending_row, cache))
            pending_row = next(rows, None)
        if len(cache) > 100_000:
            cache.clear()
        review = document_review(document.id, mine, labels, overlap)
        if kinds is not None:
            review.units = [unit for unit in review.units if unit.kind in kinds]
        yield document, review


NOBODY = ""
"""A reviewer name no one has: `Store.annotations(reviewer=NOBODY)` gives the items as proposed."""


def team_documents(
    store: Store, status: str, kinds: Sequence[str] | None, only: Any, partial: bool
) -> Iterator[ContractDocument]:
    """`contract.documents_from_store` for a store with several reviewers per document (see the module's doc).

    `gold` keeps the documents whose gold is complete (with `partial`, also those with a settled unit, each
    with its settled items only); `all` every document; a status, the documents with an item of it.
    """
    statuses = status_filter(status)
    for document, review in document_reviews(store, kinds):
        if only is not None and document.id not in only:
            continue
        items = review.items()
        if status == "gold" and partial and not review.complete:
            items = [unit.settled for unit in review.units if unit.settled is not None]  # type: ignore[misc]
        labelled = any(item.status != "proposed" for item in items)
        if status == "gold" and not (review.complete or (partial and labelled)):
            continue
        chosen = [item for item in items if statuses is None or item.status in statuses]
        if status not in ("all", "gold") and not chosen:
            continue
        undecided = len(review.disputed) if labelled and not review.complete else 0
        yield ContractDocument(document, chosen, review.complete, undecided)


def left_out(store: Store) -> tuple[int, int]:
    """(documents, disputed units) a gold export leaves out: labelled documents whose gold is not complete."""
    documents = units = 0
    for _, review in document_reviews(store):
        if not review.complete and any(unit.votes or unit.adjudication for unit in review.units):
            documents += 1
            units += len(review.disputed)
    return documents, units


# ------------------------------------------------------------------------------ adjudication


@dataclass(frozen=True)
class Variant:
    """One way reviewers labelled a disputed unit, and who chose it."""

    item: Item | None
    """The label (a rejected one, when they rejected it); None: not an item (they did not add it)."""
    annotators: tuple[str, ...]

    def describe(self) -> str:
        """One line: the verdict, span and fields."""
        if self.item is None:
            return "not an item (not added)"
        if self.item.status == "rejected":
            return "rejected"
        if self.item.status == "flagged":
            return "flagged"
        fields = "  ".join(f"{name}: {'–' if value is None else value}" for name, value in self.item.fields.items()
                           if not name.endswith(("_start", "_end")))  # a mention's offsets: the span says it
        return f"[{self.item.start}–{self.item.end}] {fields}"


def variants(unit: Unit) -> list[Variant]:
    """The unit's distinct labels, the most chosen first (ties: the first reviewer's by name)."""
    groups: dict[Any, list[Label]] = {}
    for name in sorted(unit.votes):
        label = unit.votes[name]
        item = label.item
        key: Any = (item.status,) if item.status in ("rejected", "flagged") else (
            "gold", item.start, item.end, json.dumps(dict(item.fields), sort_keys=True))
        groups.setdefault(key, []).append(label)
    found = [Variant(labels[0].item, tuple(label.annotator for label in labels)) for labels in groups.values()]
    missing = tuple(name for name in unit.reviewers if name not in unit.votes)
    if unit.proposal is None and missing:
        found.append(Variant(None, missing))
    return sorted(found, key=lambda variant: -len(variant.annotators))


class Adjudication:
    """An adjudicator's way through the disputed units of a store, the most disputed documents first."""

    def __init__(self, store: Store, adjudicator: str) -> None:
        self.store = store
        self.adjudicator = adjudicator
        disputed = [(len(review.disputed), document.id) for document, review in document_reviews(store)
                    if review.disputed and len(review.reviewers) >= 2]
        self.document_ids = [document_id for _, document_id in sorted(disputed, key=lambda pair: -pair[0])]
        self.document_index = 0
        self.document: Document | None = None
        self.review: DocumentReview | None = None
        self.units: list[Unit] = []
        self.position = 0

    def open(self, index: int, keep: int | None = None) -> None:
        """Show the document at `index`: its units that were disputed (settled since, or not), on the first."""
        if not self.document_ids:
            return
        self.document_index = max(0, min(index, len(self.document_ids) - 1))
        document_id = self.document_ids[self.document_index]
        self.document, self.review = next(document_reviews(self.store, document_ids=[document_id]))
        self.units = [unit for unit in self.review.units if unit.agreed is None]
        self.position = min(keep if keep is not None else 0, max(len(self.units) - 1, 0))

    @property
    def current(self) -> Unit | None:
        """The unit under adjudication."""
        return self.units[self.position] if self.units else None

    def move(self, delta: int) -> None:
        """Next or previous unit of this document."""
        if self.units:
            self.position = max(0, min(self.position + delta, len(self.units) - 1))

    def next_open(self) -> bool:
        """Go to the next unit nobody has settled, here or in the documents after (wrapping); False if none."""
        for step in range(len(self.document_ids)):
            index = (self.document_index + step) % len(self.document_ids)
            if step:
                self.open(index)
            start = self.position + 1 if step == 0 else 0
            for position in range(start, len(self.units)):
                if self.units[position].adjudication is None:
                    self.position = position
                    return True
        return False

    def _decide(self, item_id: str, action: str, annotation: Annotation | None = None) -> None:
        assert self.document is not None
        self.store.record_decision(item_id, action, self.adjudicator, annotation, document_id=self.document.id,
                                   role="adjudicate")
        self.open(self.document_index, self.position)

    def pick(self, variant: Variant) -> None:
        """Settle the current unit as `variant` has it."""
        unit = self.current
        if unit is None:
            return
        if variant.item is None or variant.item.status in ("rejected", "flagged"):
            self.reject()
        elif unit.proposal is None:
            self._decide(variant.item.id or "", "add", variant.item.annotation())
        elif variant.item.status == "accepted":
            self._decide(unit.proposal.id or "", "accept")
        else:
            self._decide(unit.proposal.id or "", "edit", variant.item.annotation())

    def edit(self, annotation: Annotation) -> None:
        """Settle the current unit as the adjudicator wrote it."""
        unit = self.current
        if unit is not None:
            target = unit.proposal.id if unit.proposal is not None else unit.representative.id
            self._decide(target or "", "edit" if unit.proposal is not None else "add", annotation)

    def reject(self) -> None:
        """Settle the current unit as no item."""
        unit = self.current
        if unit is not None:
            self._decide(unit.representative.id or "", "reject")

    def merge_agreed(self) -> int:
        """Settle every unit of this document the reviewers agree on as they agree, in one step; how many."""
        assert self.review is not None and self.document is not None
        decisions: list[tuple[str, str, Annotation | None]] = []
        for unit in self.review.units:
            agreed = unit.agreed
            if agreed is None or unit.adjudication is not None:
                continue
            if agreed.status == "rejected":
                decisions.append((unit.representative.id or "", "reject", None))
            elif agreed.status == "accepted":
                decisions.append((agreed.id or "", "accept", None))
            else:
                decisions.append((agreed.id or "", "add" if agreed.status == "added" else "edit", agreed.annotation()))
        if decisions:
            self.store.record_batch(decisions, self.adjudicator, role="adjudicate")
            self.open(self.document_index, self.position)
        return len(decisions)

    def undo(self) -> dict[str, Any] | None:
        """Take back the adjudicator's latest adjudication (a merge whole), showing its document."""
        event = self.store.undo(self.adjudicator, role="adjudicate")
        if event is not None and event["document_id"] in self.document_ids:
            self.open(self.document_ids.index(event["document_id"]))
            for position, unit in enumerate(self.units):
                if event["item_id"] in {unit.representative.id, *(vote.item.id for vote in unit.votes.values())}:
                    self.position = position
        return event
