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
from typing import TYPE_CHECKING, Any

from annotator.collector import collector_paused
from annotator.contract import Item
from annotator.elsewhere import Elsewhere, cores
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


def _kind_fields() -> dict[str, tuple[str, ...]]:
    """Each kind's own fields, by kind."""
    from annotator.schemas import ANNOTATION_KINDS

    return {kind: model.kind_fields() for kind, model in ANNOTATION_KINDS.items()}


BREAK_SECONDS = 300.0
"""A gap between two of a reviewer's events this long or longer is a break, not time spent on the later decision."""


TIMED_ELSEWHERE = 100_000
"""Decisions in the log from which their times are worked out in a second process, side by side with the rest of
the report (on a machine with two cores or more): reading them costs more than starting one."""


def engine_report(store: Store, elsewhere: bool | None = None) -> list[EngineRow]:
    """One row per origin and kind (see the module's doc), ordered by engine, model, prompt and kind. The decision
    times are worked out in a second process if `elsewhere` (default: from `TIMED_ELSEWHERE` decisions up)."""
    if elsewhere is None:
        elsewhere = cores() > 1 and queries.decisions_logged(store) >= TIMED_ELSEWHERE
    with collector_paused():
        return _engine_report(store, elsewhere)


def _engine_report(store: Store, elsewhere: bool) -> list[EngineRow]:
    fields = _kind_fields()
    # The longest reads run side by side with the others: the decision times in a process of their own (they
    # keep Python busy), the labels on a connection of their own (SQLite works on them alone).
    timing = Elsewhere(f"{store.path}: timing decisions", _timings_at, str(store.path)) if elsewhere else None
    try:
        labels = queries.beside(store, lambda opened: (list(queries.label_counts(opened)),
                                                       list(queries.corrections(opened, fields))))
        origins = queries.origin_numbers(store)
        rows: dict[tuple[int, str], EngineRow] = {}
        for origin, kind, count in sorted(queries.proposal_counts(store)):
            found = json.loads(origins[origin]) or {}
            rows[(origin, kind)] = EngineRow(found.get("engine") or "-", found.get("model"), found.get("prompt"),
                                             kind, proposed=count)
        for key, count in _missed(store).items():
            if key in rows:
                rows[key].missed = count
        counts, corrections = labels.result()
        for origin, kind, status, labelled in counts:
            row = rows[(origin, kind)]
            row.decisions += labelled
            if status in ("accepted", "edited", "rejected", "flagged"):
                setattr(row, status, getattr(row, status) + labelled)
        changed = {(origin, kind): counts for origin, kind, *counts in corrections}
        for key, row in rows.items():
            kept = row.accepted + row.edited
            names = fields.get(row.kind, ())
            span, *values = changed.get(key, [0] * (len(names) + 1))
            row.field_correction = {name: _share(count or 0, kept) for name, count in zip(names, values)}
            row.span_changed = _share(span or 0, kept)
        timings = timing.result() if timing is not None else _timings(store)
    finally:
        if timing is not None:
            timing.stop()
    for key, (median, timed) in timings.items():
        if key in rows:
            rows[key].median_seconds, rows[key].timed = median, timed
    return sorted(rows.values(), key=lambda row: (row.engine, row.model or "", row.prompt or "", row.kind))


def _timings(store: Store) -> dict[tuple[int, str], tuple[float, int]]:
    """Per (origin number, kind) of the proposals: the median seconds of a decision on them, and how many are timed."""
    seconds: dict[tuple[int, str], list[float]] = defaultdict(list)
    for key, spent in _decision_seconds(queries.decision_events(store)):
        if key[0] is not None:
            seconds[key].append(spent)
    return {key: (round(statistics.median(spent), 3), len(spent)) for key, spent in seconds.items()}


def _timings_at(path: str) -> dict[tuple[int, str], tuple[float, int]]:
    """`_timings` of the store at `path`, opened to read (in a second process)."""
    from annotator.store import open_read_only

    with open_read_only(path) as store, collector_paused():
        return _timings(store)


def _decision_seconds(
    events: Sequence[tuple[int, int, float, str | None, int | None, str | None, int]],
) -> Iterator[tuple[tuple[int | None, str | None], float]]:
    """((origin number, kind) of the item, or nulls, and seconds) of each timed decision among `events`
    (`store.report.decision_events`).

    A decision took the time since the same reviewer's previous event (any, undo included) in the same
    session, unless that is `BREAK_SECONDS` or more; the first of a session is not timed. The decisions of a
    batch (`Store.record_decisions`, taken at once) share the time before the batch's first one evenly.
    """
    previous: tuple[int, int] | None = None
    previous_at = 0.0
    batch: str | None = None
    batch_items: list[tuple[int | None, str | None]] = []
    batch_gap: float | None = None
    for annotator, session, at, event_batch, origin, kind, decides in events:
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
            batch_items.append((origin, kind))
        elif decides and gap is not None:
            yield (origin, kind), gap
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
