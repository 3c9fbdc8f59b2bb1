"""How good each engine run is as an annotator: what reviewers made of its proposals, from the decision log.

One row per engine, model, prompt (its hash) and kind, for every origin that proposed that kind. The
same report over two prompt hashes shows which prompt saves reviewers work.

Counted per reviewer label: each reviewer's decision in effect on a proposal is one observation. With
three reviewers per document a proposal is counted three times among `accepted`, `edited` and
`rejected`, while `proposed` counts it once; rates are shares of the labels. An adjudicator's
decisions are not a reviewer's labels and are left out.

- `proposed`: the run's proposals; `decisions`: the reviewer labels of them (a proposal nobody has
  decided on yet has none); `accepted` (unchanged), `edited`, `rejected`, `flagged` split them.
- `missed`: items reviewers added (each reviewer's own item counted) of the kind, in documents the run
  proposed on, that match none of the run's proposals of that kind there (`matching.overlaps`, eval's
  rule): a reviewer who rejects a proposal and adds a corrected one counts it rejected, not missed.
- `field_correction`: for each field of the kind, the share of the labels that kept the proposal
  (accepted or edited) whose value differs from the proposal's (compared as stored, exactly).
- `span_changed`: the share of those labels whose span differs from the proposal's.
- `median_seconds`: the median time a reviewer took over a decision on the run's proposals: the time
  since that reviewer's previous event in the same session, ignoring gaps of
  `BREAK_SECONDS` (5 minutes) or more (breaks) and the first decision of a session (no previous
  event); a batch accept or reject shares its time evenly among its decisions. None when no decision
  is timed.
"""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from annotator.collector import collector_paused
from annotator.contract import Item
from annotator.matching import overlaps
from annotator.store import report as queries

if TYPE_CHECKING:
    from annotator.store import Store


@dataclass
class EngineRow:
    """What reviewers made of one engine run's proposals of one kind."""

    engine: str
    model: str | None
    prompt: str | None
    kind: str
    proposed: int = 0
    decisions: int = 0
    accepted: int = 0
    edited: int = 0
    rejected: int = 0
    flagged: int = 0
    missed: int = 0
    field_correction: dict[str, float | None] = field(default_factory=dict)
    span_changed: float | None = None
    median_seconds: float | None = None
    timed: int = 0
    """Decisions whose time is known (those `median_seconds` is the median of)."""

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON."""
        return asdict(self)


def _kind_fields(kind: str) -> tuple[str, ...]:
    from annotator.schemas import ANNOTATION_KINDS

    model = ANNOTATION_KINDS.get(kind)
    return model.kind_fields() if model is not None else ()


BREAK_SECONDS = 300.0
"""A gap between two of a reviewer's events this long or longer is a break, not time spent on the later decision."""


def engine_report(store: Store) -> list[EngineRow]:
    """One row per origin and kind (see the module's doc), ordered by engine, model, prompt and kind."""
    with collector_paused():
        return _engine_report(store)


def _engine_report(store: Store) -> list[EngineRow]:
    events = queries.beside(store, queries.decision_events)  # the longest read, side by side with the others
    origins = queries.origin_numbers(store)
    rows: dict[tuple[int, str], EngineRow] = {}
    for origin, kind, count in sorted(queries.proposal_counts(store)):
        found = json.loads(origins[origin]) or {}
        rows[(origin, kind)] = EngineRow(found.get("engine") or "-", found.get("model"), found.get("prompt"), kind,
                                         proposed=count)
    for origin, kind, status, labels in queries.label_counts(store):
        row = rows[(origin, kind)]
        row.decisions += labels
        if status in ("accepted", "edited", "rejected", "flagged"):
            setattr(row, status, getattr(row, status) + labels)
    fields = {kind: _kind_fields(kind) for kind in {kind for _, kind in rows}}
    changed = {(origin, kind): counts for origin, kind, *counts in queries.corrections(store, fields)}
    for key, row in rows.items():
        kept = row.accepted + row.edited
        span, *values = changed.get(key, [0] * (len(fields[row.kind]) + 1))
        row.field_correction = {name: _share(count or 0, kept) for name, count in zip(fields[row.kind], values)}
        row.span_changed = _share(span or 0, kept)
    for key, count in _missed(store).items():
        if key in rows:
            rows[key].missed = count
    of_item = queries.proposal_keys(store)
    seconds: dict[tuple[int, str], list[float]] = defaultdict(list)
    for item, spent in _decision_seconds(events.result()):
        key = of_item.get(item)
        if key is not None:
            seconds[key].append(spent)
    for key, spent in seconds.items():
        rows[key].median_seconds = round(statistics.median(spent), 3)
        rows[key].timed = len(spent)
    return sorted(rows.values(), key=lambda row: (row.engine, row.model or "", row.prompt or "", row.kind))


def _decision_seconds(events: Sequence[tuple[int, int, str, str | None, int, int]]) -> Iterator[tuple[int, float]]:
    """(item number, seconds) of each timed decision among `events` (`store.report.decision_events`).

    A decision took the time since the same reviewer's previous event (any, undo included) in the same
    session, unless that is `BREAK_SECONDS` or more; the first of a session is not timed. The decisions of a
    batch (`Store.record_decisions`, taken at once) share the time before the batch's first one evenly.
    """
    parse = datetime.fromisoformat
    previous: tuple[int, int] | None = None
    previous_at = 0.0
    batch: str | None = None
    batch_items: list[int] = []
    batch_gap: float | None = None
    for annotator, session, created_at, event_batch, item, decides in events:
        at = parse(created_at).timestamp()
        gap = at - previous_at if (annotator, session) == previous else None
        if gap is not None and gap >= BREAK_SECONDS:
            gap = None
        previous, previous_at = (annotator, session), at
        if batch is not None and event_batch != batch:
            if batch_gap is not None:
                for batched in batch_items:
                    yield batched, batch_gap / len(batch_items)
            batch, batch_items = None, []
        if event_batch is not None and decides:
            if batch is None:
                batch, batch_gap = event_batch, gap
            batch_items.append(item)
        elif decides and gap is not None:
            yield item, gap
    if batch is not None and batch_gap is not None:
        for batched in batch_items:
            yield batched, batch_gap / len(batch_items)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _missed(store: Store) -> dict[tuple[int, str], int]:
    """Per (origin number, kind): items reviewers added that the origin did not propose, in documents it proposed on."""
    added = queries.added_items(store)
    if not added:
        return {}
    proposals: dict[int, dict[int, list[Item]]] = defaultdict(lambda: defaultdict(list))
    for document, origin, kind, start, end in queries.proposal_spans(store, sorted({row[0] for row in added})):
        proposals[document][origin].append(Item(kind, start, end, "", {}))
    missed: dict[tuple[int, str], int] = defaultdict(int)
    for document, kind, start, end in added:
        item = Item(kind, start, end, "", {})
        for origin, theirs in proposals.get(document, {}).items():
            if not any(proposal.kind == kind and overlaps(proposal, item) for proposal in theirs):
                missed[(origin, kind)] += 1
    return missed


def report_dict(rows: Sequence[EngineRow]) -> dict[str, Any]:
    """`{"rows": [...]}`, the JSON of `annotator report --json`."""
    return {"rows": [row.to_dict() for row in rows]}
