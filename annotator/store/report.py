"""What `annotator report` and `annotator agree` read from the store: proposals by origin, reviewers'
labels of them, the items reviewers added, and how long each decision took.

Every function takes a Store and answers with plain rows; origins come as their canonical JSON.
Only the review role counts (an adjudicator's decisions are not a reviewer's labels).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from annotator.store import Store

T = TypeVar("T")

def origin_kinds(store: Store) -> dict[str, list[str]]:
    """Each origin of a proposal (canonical JSON) with the kinds it has proposed anywhere."""
    found: dict[str, list[str]] = {}
    for origin, kind in store.conn.execute(
        "SELECT o.json, k.kind FROM (SELECT DISTINCT origin, kind FROM items WHERE proposal = 1) k "
        "JOIN origins o ON o.n = k.origin ORDER BY o.json, k.kind"
    ):
        found.setdefault(origin, []).append(kind)
    return found


def proposal_counts(store: Store) -> list[tuple[int, str, int]]:
    """(origin number, kind, proposals) of every origin and kind proposed."""
    return store.conn.execute("SELECT origin, kind, count(*) FROM items WHERE proposal = 1 GROUP BY origin, kind").fetchall()


def label_counts(store: Store) -> Iterator[tuple[int, str, str, int]]:
    """(origin number, kind, status, reviewer labels) of the proposals, one label per reviewer and proposal (the
    reviewer's decision in effect), grouped by item first so that each proposal is looked up once."""
    return store.conn.execute(
        "SELECT i.origin, i.kind, g.status, sum(g.labels) FROM (SELECT item, status, count(*) AS labels FROM reviews "
        "WHERE role = 'review' AND status IS NOT NULL GROUP BY item, status) g JOIN items i ON i.n = g.item "
        "WHERE i.proposal = 1 GROUP BY i.origin, i.kind, g.status"
    )


def corrections(store: Store, fields: dict[str, Sequence[str]]) -> Iterator[tuple[Any, ...]]:
    """(origin number, kind, labels whose span differs from the proposal's, then for each of the kind's `fields`
    the labels whose value differs) over the reviewer labels with an edit in effect that keeps the proposal
    (status `edited`), counted by SQLite: values compared as stored."""
    width = max((len(names) for names in fields.values()), default=0)
    changed = "".join(
        f", sum(CASE i.kind {' '.join(_differs(kind, names[k]) for kind, names in fields.items() if k < len(names))} "
        "ELSE 0 END)" for k in range(width))
    return store.conn.execute(
        f"SELECT i.origin, i.kind, sum(i.start != e.start OR i.\"end\" != e.\"end\"){changed} FROM reviews r "
        "JOIN items i ON i.n = r.item JOIN decisions e ON e.id = r.content "
        "WHERE r.role = 'review' AND r.status = 'edited' AND i.proposal = 1 GROUP BY i.origin, i.kind"
    )


def _differs(kind: str, name: str) -> str:
    """SQL: a CASE branch saying whether field `name` of a `kind` proposal differs in its edit `e`."""
    if not (kind.isidentifier() and name.isidentifier()):
        raise ValueError(f"not a kind or field name: {kind!r}, {name!r}")
    return f"WHEN '{kind}' THEN json_extract(i.fields, '$.{name}') IS NOT json_extract(e.fields, '$.{name}')"


def added_items(store: Store) -> list[tuple[int, str, int, int]]:
    """(document number, kind, start, end) of every item a reviewer added that stands, one per reviewer's item."""
    return store.conn.execute(
        "SELECT i.doc, i.kind, e.start, e.\"end\" FROM reviews r JOIN items i ON i.n = r.item "
        "JOIN decisions e ON e.id = r.content WHERE r.role = 'review' AND r.status = 'added' AND i.proposal = 0"
    ).fetchall()


def proposal_spans(store: Store, documents: Sequence[int]) -> Iterator[tuple[int, int, str, int, int]]:
    """(document number, origin number, kind, start, end) of every proposal in `documents` (numbers), as proposed."""
    return store.conn.execute(
        "SELECT i.doc, i.origin, i.kind, i.start, i.\"end\" FROM json_each(?) j JOIN items i ON i.doc = j.value "
        "WHERE i.proposal = 1",
        [json.dumps(list(documents))],
    )


def beside(store: Store, read: Callable[[Store], T]) -> Future[T]:
    """Run `read` on a second connection to the store, in a thread, while the caller reads on: SQLite lets go of
    Python's lock while it works, so two long reads take the time of the longer on two cores."""
    from annotator.store import open_read_only

    def run() -> T:
        with open_read_only(store.path) as opened:
            return read(opened)

    executor = ThreadPoolExecutor(1)
    try:
        return executor.submit(run)
    finally:
        executor.shutdown(wait=False)


def decision_events(store: Store) -> list[tuple[int, int, float, str | None, int | None, str | None, int]]:
    """(annotator number, session number, when (seconds since 1970), batch, origin number and kind of the item when
    it is a proposal (else nulls), whether it decides: accept, edit, reject or flag, not a redo) of every event in
    the review role, by annotator, oldest first (read along an index)."""
    return store.conn.execute(
        "SELECT d.annotator, d.session, (julianday(d.created_at) - 2440587.5) * 86400.0, d.batch, "
        "CASE WHEN i.proposal THEN i.origin END, CASE WHEN i.proposal THEN i.kind END, "
        "d.action IN ('accept', 'edit', 'reject', 'flag') AND d.redoes IS NULL "
        "FROM decisions d INDEXED BY decisions_annotator JOIN items i ON i.n = d.item WHERE d.role = 'review' "
        "ORDER BY d.annotator, d.id"
    ).fetchall()


def decisions_logged(store: Store) -> int:
    """How many decisions the log holds, near enough (its last id: an index lookup, not a count)."""
    return store.conn.execute("SELECT coalesce(max(id), 0) FROM decisions").fetchone()[0]


def annotator_numbers(store: Store) -> dict[int, str]:
    """Every reviewer's name by the number the other tables keep it under."""
    return dict(store.conn.execute("SELECT n, name FROM annotators"))


def origin_numbers(store: Store) -> dict[int, str]:
    """Every origin (canonical JSON) by the number the other tables keep it under."""
    return dict(store.conn.execute("SELECT n, json FROM origins"))


def document_numbers(store: Store) -> dict[str, int]:
    """Every document's number by its id (read from an index, never the texts)."""
    return dict(store.conn.execute("SELECT id, n FROM documents INDEXED BY documents_listing"))


def documents_with_proposals(store: Store, documents: tuple[int, int]) -> set[int]:
    """The numbers of the documents numbered `documents` (first, last) that have a proposal."""
    return {row[0] for row in store.conn.execute(
        "SELECT DISTINCT doc FROM items WHERE proposal = 1 AND doc BETWEEN ? AND ?", documents)}


def document_ranges(store: Store, weights: Sequence[float], fewest: int = 1) -> list[tuple[int, int]]:
    """The store's documents as ranges of numbers (first, last) in order, with as many documents each as their
    `weights` share out; fewer ranges, the first weights, when there are fewer than `fewest` documents for each
    (one, possibly empty, at least)."""
    numbers = [row[0] for row in store.conn.execute("SELECT n FROM documents INDEXED BY documents_listing ORDER BY n")]
    if not numbers:
        return [(0, 0)]
    weights = list(weights[:len(numbers) // max(fewest, 1)]) or [1.0]
    total, cuts, taken = sum(weights), [0], 0.0
    for weight in weights:
        taken += weight
        cuts.append(round(len(numbers) * taken / total))
    return [(numbers[cuts[k]], numbers[cuts[k + 1] - 1]) for k in range(len(weights)) if cuts[k + 1] > cuts[k]]


def _extracted(column: str, fields: dict[str, Sequence[str]]) -> str:
    """SQL for the values of each kind's fields (`fields`: kind → names) in a fields JSON `column`, read by SQLite:
    column k holds the k-th field of the row's kind (null past its last)."""
    for name in [name for names in fields.values() for name in names] + list(fields):
        if not name.isidentifier():
            raise ValueError(f"not a kind or field name: {name!r}")
    width = max((len(names) for names in fields.values()), default=0)
    columns = []
    for k in range(width):
        cases = " ".join(f"WHEN '{kind}' THEN json_extract({column}, '$.{names[k]}')"
                         for kind, names in fields.items() if k < len(names))
        columns.append(f", CASE i.kind {cases} END")
    return "".join(columns)


def unchanged_labels(
    store: Store, fields: dict[str, Sequence[str]], documents: tuple[int, int]
) -> Iterator[tuple[Any, ...]]:
    """(document number, kind, start, end, annotator numbers joined by commas, then the values of the kind's
    `fields`) of every proposal of those kinds in the documents numbered `documents` (first, last) that
    reviewers accepted unchanged (review role), with those reviewers: one row per proposal, not per label."""
    return store.conn.execute(
        f"SELECT i.doc, i.kind, i.start, i.\"end\", group_concat(r.annotator){_extracted('i.fields', fields)} "
        "FROM items i CROSS JOIN reviews r ON r.item = i.n AND r.role = 'review' AND r.status = 'accepted' "
        f"WHERE i.doc BETWEEN ? AND ? AND i.proposal = 1 AND i.kind IN ({', '.join('?' * len(fields))}) GROUP BY i.n",
        [*documents, *fields],
    )


def other_labels(
    store: Store, fields: dict[str, Sequence[str]], documents: tuple[int, int]
) -> Iterator[tuple[Any, ...]]:
    """(document number, kind, annotator number, status, start, end, then the values of the kind's `fields`) of
    every other reviewer label of those kinds in effect (review role) in the documents numbered `documents`
    (first, last): proposals edited, and items added by hand (whatever their status: in a document without
    proposals, they say who labelled it). Span and fields are those of the reviewer's own latest edit or add in
    effect (as `Store.review_rows`, without the texts)."""
    return store.conn.execute(
        "SELECT i.doc, i.kind, r.annotator, r.status, c.start, c.\"end\""
        f"{_extracted('c.fields', fields)} FROM items i CROSS JOIN reviews r ON r.item = i.n "
        "CROSS JOIN decisions c ON c.id = r.content WHERE i.doc BETWEEN ? AND ? AND r.role = 'review' "
        f"AND (r.status = 'edited' OR i.proposal = 0) AND i.kind IN ({', '.join('?' * len(fields))})",
        [*documents, *fields],
    )


def proposals_as_proposed(
    store: Store, fields: dict[str, Sequence[str]], documents: tuple[int, int]
) -> Iterator[tuple[Any, ...]]:
    """(document number, kind, origin number, start, end, then the values of the kind's `fields`) of every proposal
    of those kinds as proposed in the documents numbered `documents` (first, last)."""
    return store.conn.execute(
        f"SELECT i.doc, i.kind, i.origin, i.start, i.\"end\"{_extracted('i.fields', fields)} FROM items i "
        f"WHERE i.doc BETWEEN ? AND ? AND i.proposal = 1 AND i.kind IN ({', '.join('?' * len(fields))})",
        [*documents, *fields],
    )
