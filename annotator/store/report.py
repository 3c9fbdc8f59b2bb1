"""What `annotator report` and `annotator agree` read from the store: proposals by origin, reviewers'
labels of them, the items reviewers added, and how long each decision took.

Every function takes a Store and answers with plain rows; origins come as their canonical JSON.
Only the review role counts (an adjudicator's decisions are not a reviewer's labels).
"""

from __future__ import annotations

import json
import sqlite3
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
    from annotator.store import Store as Opened

    def run() -> T:
        connection = sqlite3.connect(f"file:{store.path}?mode=ro", uri=True, check_same_thread=False)
        try:
            return read(Opened(connection, store.path))
        finally:
            connection.close()

    executor = ThreadPoolExecutor(1)
    try:
        return executor.submit(run)
    finally:
        executor.shutdown(wait=False)


def decision_events(store: Store) -> list[tuple[int, int, str, str | None, int, int]]:
    """(annotator number, session number, created at, batch, item number, whether it decides: accept, edit, reject
    or flag, not a redo) of every event in the review role, by annotator, oldest first (read along an index)."""
    return store.conn.execute(
        "SELECT annotator, session, created_at, batch, item, "
        "action IN ('accept', 'edit', 'reject', 'flag') AND redoes IS NULL "
        "FROM decisions INDEXED BY decisions_annotator WHERE role = 'review' ORDER BY annotator, id"
    ).fetchall()


def proposal_keys(store: Store) -> dict[int, tuple[int, str]]:
    """Every proposal's (origin number, kind) by its item number."""
    return {n: (origin, kind) for n, origin, kind in store.conn.execute(
        "SELECT n, origin, kind FROM items WHERE proposal = 1")}


def annotator_numbers(store: Store) -> dict[int, str]:
    """Every reviewer's name by the number the other tables keep it under."""
    return dict(store.conn.execute("SELECT n, name FROM annotators"))


def origin_numbers(store: Store) -> dict[int, str]:
    """Every origin (canonical JSON) by the number the other tables keep it under."""
    return dict(store.conn.execute("SELECT n, json FROM origins"))


def document_numbers(store: Store) -> dict[str, int]:
    """Every document's number by its id (read from an index, never the texts)."""
    return dict(store.conn.execute("SELECT id, n FROM documents INDEXED BY documents_listing"))


def documents_with_proposals(store: Store) -> set[int]:
    """The numbers of the documents that have a proposal."""
    return {row[0] for row in store.conn.execute("SELECT DISTINCT doc FROM items WHERE proposal = 1")}


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


def unchanged_labels(store: Store, fields: dict[str, Sequence[str]]) -> Iterator[tuple[Any, ...]]:
    """(document number, kind, start, end, annotator numbers joined by commas, then the values of the kind's
    `fields`) of every proposal of those kinds that reviewers accepted unchanged (review role), with those
    reviewers: one row per proposal, not per label."""
    return store.conn.execute(
        f"SELECT i.doc, i.kind, i.start, i.\"end\", a.who{_extracted('i.fields', fields)} FROM (SELECT item, "
        "group_concat(annotator) AS who FROM reviews WHERE role = 'review' AND status = 'accepted' GROUP BY item) a "
        f"JOIN items i ON i.n = a.item WHERE i.kind IN ({', '.join('?' * len(fields))})",
        list(fields),
    )


def other_labels(store: Store, fields: dict[str, Sequence[str]]) -> Iterator[tuple[Any, ...]]:
    """(document number, kind, annotator number, status, start, end, then the values of the kind's `fields`) of
    every other reviewer label of those kinds in effect (review role): proposals edited, and items added by
    hand (whatever their status: in a document without proposals, they say who labelled it). Span and fields
    are those of the reviewer's own latest edit or add in effect (as `Store.review_rows`, without the texts)."""
    return store.conn.execute(
        "SELECT i.doc, i.kind, r.annotator, r.status, c.start, c.\"end\""
        f"{_extracted('c.fields', fields)} FROM reviews r JOIN items i ON i.n = r.item "
        "JOIN decisions c ON c.id = r.content WHERE r.role = 'review' "
        f"AND (r.status = 'edited' OR i.proposal = 0) AND i.kind IN ({', '.join('?' * len(fields))})",
        list(fields),
    )


def proposals_as_proposed(store: Store, fields: dict[str, Sequence[str]]) -> Iterator[tuple[Any, ...]]:
    """(document number, kind, origin number, start, end, then the values of the kind's `fields`) of every proposal
    of those kinds as proposed."""
    return store.conn.execute(
        f"SELECT i.doc, i.kind, i.origin, i.start, i.\"end\"{_extracted('i.fields', fields)} FROM items i "
        f"WHERE i.proposal = 1 AND i.kind IN ({', '.join('?' * len(fields))})",
        list(fields),
    )
