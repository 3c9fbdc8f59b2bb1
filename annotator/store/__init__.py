"""The gold store: the only module that speaks SQL.

`open_db()` is the one way in: it opens (or creates) the SQLite file, sets WAL, a busy timeout,
foreign keys and full sync, and applies pending migrations. Decisions are an append-only event
log; the label of an item is derived from its latest event that has not been undone.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from annotator.errors import AnnotatorError
from annotator.canonical import canonical_key, to_json
from annotator.store import migrations

if TYPE_CHECKING:
    from sqlite_utils import Database

    from annotator.schemas import Annotation, Document

DEFAULT_DB = "labels.db"
PAGE_SIZE = 16384
"""Bytes per database page of a new store."""
SPAN_TEXT_FROM_DOCUMENT = 100_000
"""In documents up to this many characters, a proposal's text is not stored twice: it is read from the
document (`items.text` null). Longer ones keep it, so that reading it never walks a long text."""
DECISION_PATIENCE = 600.0
"""Seconds a reviewer's decision waits in all for a store that a bulk command holds, before it fails."""
T = TypeVar("T")
ACTIONS = ("accept", "edit", "reject", "add", "undo", "flag")
"""What a decision event can be; a redo is the undone event recorded again (its `redoes` names the undo)."""
MANUAL_ORIGIN = {"engine": "manual", "model": None, "prompt": None}
"""The provenance of an item a reviewer added by hand."""
CLAIM_MINUTES = 60.0
"""How long a reviewer's claim on a document lives without a decision on it, unless `annotator assign` says."""
ROLES = ("review", "adjudicate")
"""In what role a decision is taken: a reviewer's own label, or an adjudicator settling what reviewers disagree on."""
STATUS_OF_ACTION = {"accept": "accepted", "edit": "edited", "reject": "rejected", "add": "added"}


def now() -> str:
    """The current UTC time as an ISO 8601 string with microseconds."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def default_db_path() -> str:
    """The db setting (`ANNOTATOR_DB`, the config file), else `labels.db` in the current directory."""
    from annotator.config import load_settings

    return os.fspath(load_settings().db)


@dataclass(frozen=True)
class StoredAnnotation:
    """An item as it stands now: its span and fields after any edit, and its derived status."""

    id: str
    document_id: str
    kind: str
    start: int
    end: int
    text: str
    status: str
    fields_json: str
    origin_json: str
    proposal_id: str | None
    annotator: str | None

    def fields(self) -> dict[str, Any]:
        """The kind's own fields."""
        return json.loads(self.fields_json)

    def origin(self) -> dict[str, Any]:
        """The provenance of the proposal (or of the manual add)."""
        return json.loads(self.origin_json)



@dataclass(frozen=True)
class DocumentSummary:
    """A line of the document list: what a document is and how far its review has got."""

    id: str
    title: str | None
    source: str
    proposals: int
    reviewed: int
    added: int
    failures: int = 0
    """What the engine failed to do on it (requests without an answer, proposals it could not place)."""
    note: str | None = None
    """The reviewer's note on the document in effect (`Store.record_document_note`), if any."""
    done: bool = False
    """A reviewer marked the document done."""

    @property
    def percent_reviewed(self) -> float:
        """Share of the proposals with a decision, in percent (100 for a document with none)."""
        return 100.0 * self.reviewed / self.proposals if self.proposals else 100.0


def proposal_id(document_id: str, annotation: Annotation, origin_json: str) -> str:
    """A stable id: the same proposal from the same engine and prompt gets the same id anywhere.

    Hashed from canonical JSON with sorted keys (`canonical_key`): an origin whose keys come in
    another order is the same origin.
    """
    key = canonical_key([document_id, annotation.kind, annotation.start, annotation.end, annotation.fields(),
                         json.loads(origin_json)])
    return "p_" + hashlib.sha256(key.encode()).hexdigest()[:20]


def legacy_proposal_id(document_id: str, annotation: Annotation, origin_json: str) -> str:
    """The id a store made before ids were hashed from canonical JSON gave the same proposal."""
    key = "\x1f".join(
        [document_id, annotation.kind, str(annotation.start), str(annotation.end), to_json(annotation.fields()), origin_json]
    )
    return "p_" + hashlib.sha256(key.encode()).hexdigest()[:20]


def stored_span_text(document: str, start: int, end: int, text: str) -> str | None:
    """What `items.text` holds for a proposal: null where the document gives the same words cheaply."""
    return None if len(document) <= SPAN_TEXT_FROM_DOCUMENT and document[start:end] == text else text


def manual_id() -> str:
    """A fresh id for an annotation a reviewer added by hand."""
    return "m_" + uuid.uuid4().hex[:20]


def _edited(annotation: Annotation | None) -> list[Any]:
    """The decision columns for an edited or added annotation: span, text, fields, origin."""
    if annotation is None:
        return [None] * 5
    origin = annotation.origin.model_dump(mode="json") if annotation.origin else MANUAL_ORIGIN
    return [annotation.start, annotation.end, annotation.text, to_json(annotation.fields()), to_json(origin)]


# Items as they stand (`{state}` is `i`), or as one reviewer's own decisions make them (`{state}` is their
# `reviews` row `r`, joined by `_REVIEWER_JOIN`): proposals (span and fields those of the latest edit in effect, whatever verdict
# followed it) and items added by hand that stand; the `items` row holds each item's status and the
# decisions behind it. Rows come ordered by document (in the order documents were added), then span.
_ITEM_COLUMNS = "id, document_id, kind, start, \"end\", text, status, fields, origin, proposal_id, annotator"
# The same item as one contract JSON object, built by SQLite: export is mostly this query. It must
# write exactly what `annotator.contract.Item.record()` encodes (tests/test_contract.py holds it so).
_RECORD_COLUMNS = """document_id,
    '{"id":' || json_quote(id) || ',"kind":' || json_quote(kind) || ',"start":' || start || ',"end":' || "end"
    || ',"text":' || json_quote(text) || ',"status":"' || status || '",'
    || CASE WHEN fields = '{}' THEN '' ELSE substr(fields, 2, length(fields) - 2) || ',' END
    || '"origin":' || origin || '}'"""
_ITEMS_SQL = """
SELECT {columns} FROM (
    SELECT i.id AS id, doc.id AS document_id, i.kind AS kind,
           coalesce(c.start, i.start) AS start, coalesce(c."end", i."end") AS "end",
           coalesce(c.text, i.text, substr(doc.text, i.start + 1, i."end" - i.start)) AS text,
           coalesce({state}.status, 'proposed') AS status,
           coalesce(c.fields, i.fields) AS fields, coalesce(o.json, c.origin) AS origin,
           CASE WHEN i.proposal THEN i.id END AS proposal_id, a.name AS annotator, i.doc AS document_order
    FROM items i
    JOIN documents doc ON doc.n = i.doc
    LEFT JOIN origins o ON o.n = i.origin
    {reviewer_join}
    LEFT JOIN decisions d ON d.id = {state}.decision
    LEFT JOIN annotators a ON a.n = d.annotator
    LEFT JOIN decisions c ON c.id = {state}.content
    WHERE (i.proposal = 1 OR {state}.status IN ('added', 'flagged')) AND {item_filter}
) items
WHERE {outer_filter}
ORDER BY document_order, start, "end", kind, id
"""
_REVIEWER_JOIN = ("LEFT JOIN reviews r ON r.item = i.n AND r.role = 'review' "
                  "AND r.annotator = (SELECT n FROM annotators WHERE name = :reviewer)")
# A document row as `_document()` reads it, with its previous version's id.
_DOCUMENT_SQL = (
    "SELECT d.id, d.source, d.title, d.text, d.external_id, p.id FROM documents d LEFT JOIN documents p ON p.n = d.previous"
)
# The tables that number what many rows would repeat, each with the column it numbers.
_NUMBERED = {"annotators": "name", "sessions": "id", "origins": "json"}
# Every document's number and id, read from an index that holds no text: a pass over all documents
# that does not need their texts must not read them.
_EVERY_DOCUMENT = "documents d INDEXED BY documents_listing"
# A claim whose reviewer has decided every proposal of its document: that reviewer is one of the document's.
_COMPLETED = ("NOT EXISTS (SELECT 1 FROM items p WHERE p.doc = {claim}.doc AND p.proposal = 1 AND NOT EXISTS ("
              "SELECT 1 FROM reviews r WHERE r.item = p.n AND r.role = 'review' AND r.annotator = {claim}.annotator "
              "AND r.status IS NOT NULL))")
# A decision as `undo()` and `redo()` name it: its item's id, document and kind, and its action.
_EVENT_COLUMNS = "i.id, doc.id, i.kind, d.action FROM decisions d JOIN items i ON i.n = d.item JOIN documents doc ON doc.n = i.doc"


class Store:
    """The gold store over one SQLite file. Get one from `open_db()`."""

    def __init__(self, conn: sqlite3.Connection, path: str):
        self.conn = conn
        self.path = path
        self.session = uuid.uuid4().hex[:12]
        self._db: Database | None = None
        self._numbers: dict[tuple[str, str], int] = {}

    @property
    def db(self) -> Database:
        """The connection as a sqlite-utils `Database` (for migrations and introspection)."""
        if self._db is None:
            from sqlite_utils import Database

            self._db = Database(self.conn)
        return self._db

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One write transaction, taken with the write lock up front so two writers queue, never deadlock."""
        if self.conn.in_transaction:
            savepoint = f"s{uuid.uuid4().hex}"
            self.conn.execute(f"SAVEPOINT {savepoint}")
            try:
                yield
            except BaseException:
                self._numbers.clear()  # a name or origin numbered inside may be gone
                if self.conn.in_transaction:  # an error may already have ended the transaction
                    self.conn.execute(f"ROLLBACK TO {savepoint}")
                    self.conn.execute(f"RELEASE {savepoint}")
                raise
            self.conn.execute(f"RELEASE {savepoint}")
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._numbers.clear()
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @contextmanager
    def machine_writes(self) -> Iterator[None]:
        """Commit without waiting for the disk (`synchronous=NORMAL`) inside this block.

        For what an engine writes (proposals, failures, cached answers), which a re-run can make
        again: WAL with NORMAL survives a crash of the process, only not a power cut. A reviewer's
        decisions are always committed with FULL sync.
        """
        self.conn.execute("PRAGMA synchronous = NORMAL")
        try:
            yield
        finally:
            self.conn.execute("PRAGMA synchronous = FULL")

    # ---------------------------------------------------------------- documents

    def add_documents(self, documents: Iterable[Document]) -> list[bool]:
        """Store documents in one transaction; for each, whether it was new (False: same text already stored)."""
        added_at = now()
        created: list[bool] = []
        with self.transaction():
            for document in documents:
                if self.conn.execute("SELECT 1 FROM documents WHERE id = ?", [document.id]).fetchone():
                    created.append(False)
                    continue
                previous = self.conn.execute(
                    "SELECT n FROM documents WHERE source = ? ORDER BY n DESC LIMIT 1", [document.source]
                ).fetchone()
                self.conn.execute(
                    "INSERT INTO documents (id, source, title, text, added_at, external_id, previous) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        document.id,
                        document.source,
                        document.title,
                        document.text,
                        added_at,
                        document.external_id,
                        previous[0] if previous else None,
                    ],
                )
                created.append(True)
        return created

    def document(self, document_id: str) -> Document | None:
        """The document with this id, or None."""
        row = self.conn.execute(f"{_DOCUMENT_SQL} WHERE d.id = ?", [document_id]).fetchone()
        return _document(row) if row else None

    def document_ids(self) -> list[str]:
        """Every document's id, in the order they were added."""
        return [row[0] for row in self.conn.execute("SELECT id FROM documents INDEXED BY documents_listing ORDER BY n")]

    def documents(self) -> Iterator[Document]:
        """Every document, in the order they were added."""
        for row in self.conn.execute(f"{_DOCUMENT_SQL} ORDER BY d.n"):
            yield _document(row)

    def _number(self, table: str, value: str) -> int:
        """The number a reviewer's name (`annotators`), a session id (`sessions`) or an origin's canonical JSON
        (`origins`) is stored under; stored on first use."""
        key = (table, value)
        if key not in self._numbers:
            column = _NUMBERED[table]
            self.conn.execute(f"INSERT OR IGNORE INTO {table} ({column}) VALUES (?)", [value])
            self._numbers[key] = self.conn.execute(f"SELECT n FROM {table} WHERE {column} = ?", [value]).fetchone()[0]
        return self._numbers[key]

    # --------------------------------------------------------------------- runs

    def start_run(
        self,
        engine: str,
        model: str | None = None,
        prompt_name: str | None = None,
        prompt_hash: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> int:
        """Record the start of a proposal run, and the process running it; return its id."""
        pid = os.getpid()
        with self.transaction():
            cursor = self.conn.execute(
                "INSERT INTO runs (engine, model, prompt_name, prompt_hash, params, started_at, pid, host, process) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [engine, model, prompt_name, prompt_hash, to_json(params or {}), now(), pid, socket.gethostname(),
                 _process_started(pid)],
            )
        return int(cursor.lastrowid or 0)

    def close_abandoned_runs(self) -> list[int]:
        """Mark interrupted every unfinished run whose process has ended (killed, crashed); return their ids.

        A run is left alone while its process lives: same host, the pid exists and (where `/proc`
        tells) started when the run's process did, so a reused pid is not mistaken for it. SQLite's
        WAL works on one machine only, so a run from another host cannot be checked and is left
        alone too. A run recorded before processes were (no pid) is taken for dead after a day.
        """
        host = socket.gethostname()
        day_ago = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat(timespec="microseconds")
        dead = [
            (run_id, pid)
            for run_id, pid, run_host, process, started_at in self.conn.execute(
                "SELECT id, pid, host, process, started_at FROM runs WHERE finished_at IS NULL"
            )
            if (started_at < day_ago if pid is None else run_host == host and not _process_alive(pid, process))
        ]
        if not dead:
            return []
        with self.transaction():
            for run_id, pid in dead:
                ended = f"process {pid} ended" if pid is not None else "its process ended"
                # What it stored before it died; a killed run never got to count.
                self.conn.execute(
                    "UPDATE runs SET finished_at = :at, error = :error, "
                    "documents = (SELECT count(*) FROM (SELECT doc FROM items WHERE run_id = :id "
                    "UNION SELECT doc FROM proposal_failures WHERE run_id = :id)), "
                    "failures = (SELECT count(*) FROM proposal_failures WHERE run_id = :id) "
                    "WHERE id = :id AND finished_at IS NULL",
                    {"at": now(), "error": f"interrupted: {ended} before the run finished (killed or crashed)",
                     "id": run_id},
                )
        return [run_id for run_id, _ in dead]

    def run_counts(self) -> dict[str, int]:
        """Runs by state: `running` (unfinished), `interrupted`, `failed` (ended on an error) and `finished`."""
        counts = {"running": 0, "interrupted": 0, "failed": 0, "finished": 0}
        for state, count in self.conn.execute(
            "SELECT CASE WHEN finished_at IS NULL THEN 'running' WHEN error LIKE 'interrupted%' THEN 'interrupted' "
            "WHEN error IS NOT NULL THEN 'failed' ELSE 'finished' END, count(*) FROM runs GROUP BY 1"
        ):
            counts[state] = count
        return counts

    def finish_run(
        self,
        run_id: int,
        tokens_in: int = 0,
        tokens_out: int = 0,
        cost: float = 0.0,
        error: str | None = None,
        documents: int = 0,
        failures: int = 0,
        latency_ms: float | None = None,
    ) -> None:
        """Record the end of a run: documents done, failures, tokens, cost, mean latency and any error."""
        with self.transaction():
            self.conn.execute(
                "UPDATE runs SET finished_at = ?, tokens_in = ?, tokens_out = ?, cost = ?, error = ?, documents = ?, "
                "failures = ?, latency_ms = ? WHERE id = ?",
                [now(), tokens_in, tokens_out, cost, error, documents, failures, latency_ms, run_id],
            )

    def run(self, run_id: int) -> dict[str, Any]:
        """One run's record."""
        cursor = self.conn.execute("SELECT * FROM runs WHERE id = ?", [run_id])
        row = cursor.fetchone()
        if row is None:
            raise AnnotatorError(f"no run {run_id}")
        return dict(zip([c[0] for c in cursor.description], row))

    def record_failures(self, run_id: int | None, document_id: str, failures: Sequence[tuple[str | None, str, Any]]) -> None:
        """Store proposals that failed (kind, reason, what was proposed) for a document."""
        created_at = now()
        with self.transaction():
            doc = self._document_number(document_id)
            self.conn.executemany(
                "INSERT INTO proposal_failures (run_id, doc, kind, reason, claimed, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [[run_id, doc, kind, reason, None if claimed is None else to_json(claimed), created_at]
                 for kind, reason, claimed in failures],
            )

    def failures(self, document_id: str | None = None) -> list[dict[str, Any]]:
        """Failed proposals, oldest first, for one document or all."""
        cursor = self.conn.execute(
            "SELECT f.run_id, d.id AS document_id, f.kind, f.reason, f.claimed FROM proposal_failures f "
            "JOIN documents d ON d.n = f.doc WHERE ? IS NULL OR d.id = ? ORDER BY f.id",
            [document_id, document_id],
        )
        return [dict(zip([c[0] for c in cursor.description], row)) for row in cursor]

    def cached_response(self, key: str) -> tuple[str, int, int] | None:
        """A stored engine answer (response JSON, tokens in, tokens out), or None."""
        row = self.conn.execute("SELECT response, tokens_in, tokens_out FROM responses WHERE key = ?", [key]).fetchone()
        return (row[0], row[1], row[2]) if row else None

    def cache_response(
        self, key: str, engine: str, model: str | None, prompt_hash: str, document_id: str, response: str,
        tokens_in: int = 0, tokens_out: int = 0,
    ) -> None:
        """Keep an engine's answer for a document so that the same request is never made twice."""
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO responses (key, engine, model, prompt_hash, document_id, response, tokens_in, "
                "tokens_out, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [key, engine, model, prompt_hash, document_id, response, tokens_in, tokens_out, now()],
            )

    # ---------------------------------------------------------------- proposals

    def add_proposals(
        self,
        document_id: str,
        annotations: Sequence[Annotation],
        run_id: int | None = None,
        groundings: Sequence[tuple[float, str, str | None]] | None = None,
    ) -> list[str]:
        """Store proposals for a document; return their ids (a proposal already stored is kept once).

        `groundings`, one per annotation, is how each span was found: score, method and, when the
        engine's words were not verbatim, those words.
        """
        origins = [to_json(a.origin.model_dump(mode="json")) if a.origin else "{}" for a in annotations]
        ids = self.proposal_ids(document_id, list(zip(annotations, origins)))
        with self.transaction():
            row = self.conn.execute("SELECT n, text FROM documents WHERE id = ?", [document_id]).fetchone()
            if row is None:
                raise AnnotatorError(f"no document {document_id!r} in the store")
            doc, text = row
            rows = []
            for index, (annotation, origin, item_id) in enumerate(zip(annotations, origins, ids)):
                score, method, claimed = groundings[index] if groundings is not None else (None, None, None)
                rows.append(
                    [item_id, doc, annotation.kind, run_id, annotation.start, annotation.end,
                     stored_span_text(text, annotation.start, annotation.end, annotation.text),
                     to_json(annotation.fields()), self._number("origins", origin), score, method, claimed]
                )
            self.conn.executemany(
                "INSERT OR IGNORE INTO items (id, doc, kind, proposal, run_id, start, \"end\", text, fields, origin, "
                "grounding_score, grounding_method, claimed_text) VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return ids

    def _document_number(self, document_id: str) -> int:
        """The number a stored document is keyed by in the other tables."""
        row = self.conn.execute("SELECT n FROM documents WHERE id = ?", [document_id]).fetchone()
        if row is None:
            raise AnnotatorError(f"no document {document_id!r} in the store")
        return int(row[0])

    def proposal_id(self, document_id: str, annotation: Annotation, origin_json: str) -> str:
        """The id of this proposal: the one it is stored under already (a store made before ids were
        canonical keeps its ids), else `proposal_id()`."""
        return self.proposal_ids(document_id, [(annotation, origin_json)])[0]

    def proposal_ids(self, document_id: str, proposals: Sequence[tuple[Annotation, str]]) -> list[str]:
        """`proposal_id` of each (annotation, origin JSON) of one document (its own `id` if it has one),
        with one look at the document's stored ids for those an older store holds."""
        stored: set[str] | None = None
        ids = []
        for annotation, origin_json in proposals:
            if annotation.id:
                ids.append(annotation.id)
                continue
            if stored is None:
                stored = {row[0] for row in self.conn.execute(
                    "SELECT i.id FROM items i JOIN documents d ON d.n = i.doc WHERE d.id = ? AND i.proposal = 1",
                    [document_id],
                )}
            legacy = legacy_proposal_id(document_id, annotation, origin_json)
            ids.append(legacy if legacy in stored else proposal_id(document_id, annotation, origin_json))
        return ids

    def proposal_rows(self, ids: Sequence[str]) -> Iterator[dict[str, Any]]:
        """Proposals as first proposed (before any edit), with how their spans were grounded."""
        cursor = self.conn.execute(
            "SELECT i.id, i.kind, i.start, i.\"end\", coalesce(i.text, substr(d.text, i.start + 1, i.\"end\" - i.start)) "
            "AS text, i.fields, o.json AS origin, i.grounding_score, i.grounding_method, i.claimed_text FROM items i "
            "JOIN origins o ON o.n = i.origin JOIN documents d ON d.n = i.doc "
            f"WHERE i.proposal = 1 AND i.id IN ({', '.join('?' * len(ids))})",
            list(ids),
        )
        names = [c[0] for c in cursor.description]
        for row in cursor:
            yield dict(zip(names, row))

    def document_summaries(
        self,
        document_ids: Sequence[str] | None = None,
        search: str = "",
        unfinished: bool = False,
        offset: int = 0,
        limit: int = -1,
        reviewer: str | None = None,
    ) -> list[DocumentSummary]:
        """Documents with their proposal and review counts, without their text: a page of the document list.

        Every document in the order added, or those of `document_ids` in that order; only those whose
        title or source holds `search` (any case), with `unfinished` only those with a proposal nobody
        has decided on; `limit` of them from `offset` (-1: all). A page counts only its own documents.
        With `reviewer`, counted from that reviewer's own decisions (several reviewers per document).
        """
        listed, params = self._listing(document_ids, search, unfinished, reviewer)
        status = self._status_of(reviewer)
        rows = self.conn.execute(
            "SELECT d.id, d.title, d.source, "
            "(SELECT count(*) FROM items i WHERE i.doc = d.n AND i.proposal = 1), "
            f"(SELECT count(*) FROM items i WHERE i.doc = d.n AND i.proposal = 1 AND {status} IS NOT NULL), "
            f"(SELECT count(*) FROM items i WHERE i.doc = d.n AND i.proposal = 0 AND {status} = 'added'), "
            "(SELECT count(*) FROM proposal_failures f WHERE f.doc = d.n), "
            # The note in effect: one step down `document_notes_document` for each row of the page.
            "(SELECT n.note FROM document_notes n WHERE n.doc = d.n ORDER BY n.id DESC LIMIT 1), "
            "coalesce((SELECT n.done FROM document_notes n WHERE n.doc = d.n ORDER BY n.id DESC LIMIT 1), 0) "
            f"FROM ({listed} LIMIT ? OFFSET ?) page JOIN documents d ON d.n = page.n ORDER BY page.rank",
            [*params, limit, offset],
        )
        return [DocumentSummary(*row[:7], note=row[7] or None, done=bool(row[8])) for row in rows]

    def count_documents(
        self, document_ids: Sequence[str] | None = None, search: str = "", unfinished: bool = False,
        reviewer: str | None = None,
    ) -> int:
        """How many documents `document_summaries` lists with these filters, in all."""
        listed, params = self._listing(document_ids, search, unfinished, reviewer)
        return int(self.conn.execute(f"SELECT count(*) FROM ({listed})", params).fetchone()[0])

    def _status_of(self, reviewer: str | None) -> str:
        """SQL for the status of item `i`: as it stands, or as `reviewer`'s own decisions make it."""
        if reviewer is None:
            return "i.status"
        row = self.conn.execute("SELECT n FROM annotators WHERE name = ?", [reviewer]).fetchone()
        return (f"(SELECT r.status FROM reviews r WHERE r.item = i.n AND r.role = 'review' "
                f"AND r.annotator = {int(row[0]) if row else -1})")

    def _listing(
        self, document_ids: Sequence[str] | None, search: str, unfinished: bool, reviewer: str | None = None
    ) -> tuple[str, list[Any]]:
        """The query of the documents listed (`n`, and `rank`, their place in the list) and its parameters.

        Titles and sources are read from the index `documents_listing`, in the order added: a page or
        a search never reads the texts.
        """
        source, rank = "documents d INDEXED BY documents_listing", "d.n"
        params: list[Any] = []
        if document_ids is not None:
            source, rank = "json_each(?) j JOIN documents d ON d.id = j.value", "j.key"
            params.append(json.dumps(list(document_ids)))
        where = ["1"]
        if search:
            pattern = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(d.title LIKE ? ESCAPE '\\' OR d.source LIKE ? ESCAPE '\\')")
            params += [pattern, pattern]
        if unfinished:
            where.append(f"EXISTS (SELECT 1 FROM items i WHERE i.doc = d.n AND i.proposal = 1 "
                         f"AND {self._status_of(reviewer)} IS NULL)")
        return f"SELECT d.n AS n, {rank} AS rank FROM {source} WHERE {' AND '.join(where)} ORDER BY {rank}", params

    def documents_without_proposals(self, document_ids: Sequence[str] | None = None) -> list[str]:
        """Those of `document_ids` (None: every document, in the order added) that have no proposal yet."""
        without = "NOT EXISTS (SELECT 1 FROM items i WHERE i.doc = d.n AND i.proposal = 1)"
        if document_ids is None:
            return [row[0] for row in self.conn.execute(f"SELECT d.id FROM {_EVERY_DOCUMENT} WHERE {without} ORDER BY d.n")]
        return [document_id for document_id in document_ids
                if self.conn.execute(f"SELECT 1 FROM documents d WHERE d.id = ? AND {without}", [document_id]).fetchone()]

    def document_count(self) -> int:
        """How many documents the store holds."""
        return int(self.conn.execute("SELECT count(*) FROM documents").fetchone()[0])

    # ---------------------------------------------------------------- decisions

    def record_decision(
        self,
        item_id: str,
        action: str,
        annotator: str,
        annotation: Annotation | None = None,
        document_id: str | None = None,
        role: str = "review",
    ) -> int:
        """Append one decision (accept, edit, reject or add) and commit it at once; return its id.

        `edit` and `add` carry the whole annotation as it stands after the decision. For `add`,
        `item_id` is a new id (see `manual_id()`) and `document_id` names the document. `role` is
        `adjudicate` for an adjudicator's decision (`ROLES`).
        """
        if action not in STATUS_OF_ACTION:
            raise AnnotatorError(f"unknown decision {action!r} (expected one of: {', '.join(STATUS_OF_ACTION)})")
        if (action in ("edit", "add")) != (annotation is not None):
            raise AnnotatorError(f"a {action!r} decision {'needs' if action in ('edit', 'add') else 'takes no'} annotation")
        return self._patiently(lambda: self._append_decision(item_id, action, annotator, annotation, document_id,
                                                             role=role))

    def _patiently(self, write: Callable[[], T]) -> T:
        """Run a reviewer's write, waiting as long as a bulk command holds the store (`DECISION_PATIENCE`).

        Each try waits SQLite's busy timeout; a long import's final copy can outlast one, and a
        reviewer's decision must never fail because a bulk command runs.
        """
        deadline = time.monotonic() + DECISION_PATIENCE
        while True:
            try:
                return write()
            except sqlite3.OperationalError as error:
                if ("locked" not in str(error) and "busy" not in str(error)) or time.monotonic() > deadline:
                    raise

    def _append_decision(
        self, item_id: str, action: str, annotator: str, annotation: Annotation | None, document_id: str | None,
        note: str | None = None, batch: str | None = None, role: str = "review", renew: bool = True,
    ) -> int:
        """Append one decision; with `renew`, the reviewer's live claim on its document lives on."""
        if role not in ROLES:
            raise AnnotatorError(f"unknown role {role!r} (expected one of: {', '.join(ROLES)})")
        with self.transaction():
            item = self.conn.execute(
                "SELECT i.n, i.proposal, d.id FROM items i JOIN documents d ON d.n = i.doc WHERE i.id = ?", [item_id]
            ).fetchone()
            if action == "add":
                if (item and item[1]) or document_id is None or annotation is None:
                    raise AnnotatorError("an added annotation needs a new item id and its document id")
                if item is None:
                    number = self.conn.execute(
                        "INSERT INTO items (id, doc, kind, proposal) VALUES (?, ?, ?, 0)",
                        [item_id, self._document_number(document_id), annotation.kind],
                    ).lastrowid
                elif item[2] != document_id:
                    raise AnnotatorError(f"{item_id!r} was added to another document")
                else:
                    number = item[0]
            elif item is None:
                raise AnnotatorError(f"no proposal or added item with id {item_id!r}")
            else:
                number = item[0]
                if not item[1] and action == "accept" and role == "review":
                    raise AnnotatorError(f"{item_id!r} was added by hand: it is gold already")
                if not item[1] and action == "edit":
                    # An added item stays "added" when corrected: no model proposed it.
                    action = "add"
            cursor = self.conn.execute(
                "INSERT INTO decisions (item, action, start, \"end\", text, fields, origin, note, batch, role, annotator, "
                "session, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [number, action, *_edited(annotation), note, batch, role, self._number("annotators", annotator),
                 self._number("sessions", self.session), now()],
            )
            if renew:
                self._renew_claims(annotator, [item_id])
        return int(cursor.lastrowid or 0)

    def _renew_claims(self, annotator: str, item_ids: Sequence[str]) -> None:
        """A reviewer's live claims on the documents of these items live on while they work on them."""
        self.conn.execute(
            "UPDATE claims SET expires_at = :until WHERE annotator = :who AND expires_at > :at "
            "AND doc IN (SELECT doc FROM items WHERE id IN (SELECT value FROM json_each(:items)))",
            {"until": _later(self.claim_minutes()), "who": self._number("annotators", annotator), "at": now(),
             "items": json.dumps(list(item_ids))},
        )

    def undo(self, annotator: str | None = None, role: str | None = None) -> dict[str, Any] | None:
        """Undo the latest decision still in effect (by `annotator`, if given) with an undo event.

        Returns the decision undone (`id`, `item_id`, `document_id`, `kind`, `action`, and `count`, the
        decisions undone), or None when there is nothing left to undo. Undo is unlimited: each call walks
        one step further back, across documents and sessions. A decision taken in a batch
        (`record_decisions`) is one step with its batch: every decision of it still in effect is undone.
        With `role`, only decisions taken in that role (an adjudicator's undo leaves their own reviews be).
        """
        return self._patiently(lambda: self._undo(annotator, role))

    def _undo(self, annotator: str | None, role: str | None = None) -> dict[str, Any] | None:
        with self.transaction():
            row = self.conn.execute(
                f"SELECT d.id, {_EVENT_COLUMNS} WHERE d.action != 'undo' "
                "AND (:name IS NULL OR d.annotator = (SELECT n FROM annotators WHERE name = :name)) "
                "AND (:role IS NULL OR d.role = :role) "
                "AND NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = d.id) "
                "ORDER BY d.id DESC LIMIT 1",
                {"name": annotator, "role": role},
            ).fetchone()
            if row is None:
                return None
            # A decision taken in a batch (`record_decisions`) is undone with the rest of its batch still in
            # effect, newest first, each undo carrying the batch too.
            count = self.conn.execute(
                "INSERT INTO decisions (item, action, undoes, batch, role, annotator, session, created_at) "
                "SELECT d.item, 'undo', d.id, d.batch, d.role, :who, :session, :at FROM decisions d "
                "WHERE d.id = :id OR (d.batch IS NOT NULL AND d.batch = (SELECT batch FROM decisions WHERE id = :id) "
                "AND d.action != 'undo' AND NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = d.id)) "
                "ORDER BY d.id DESC",
                {"who": self._number("annotators", annotator or "unknown"),
                 "session": self._number("sessions", self.session), "at": now(), "id": row[0]},
            ).rowcount
        return {**dict(zip(("id", "item_id", "document_id", "kind", "action"), row)), "count": count}

    def redo(self, annotator: str, role: str | None = None) -> dict[str, Any] | None:
        """Take back `annotator`'s latest undo that is still undone: its decision is recorded again.

        The new event is a copy of the undone decision (action, span, fields) naming the undo it takes
        back in `redoes`. Only undos made since the annotator's last new decision can be redone, latest
        first, as in an editor. An undone batch comes back whole. Returns the decision redone (as `undo()`
        does, `count` the decisions redone), or None. With `role`, only undos of decisions taken in that role.
        """
        return self._patiently(lambda: self._redo(annotator, role))

    def _redo(self, annotator: str, role: str | None = None) -> dict[str, Any] | None:
        with self.transaction():
            row = self.conn.execute(
                f"SELECT u.id, d.id, {_EVENT_COLUMNS} JOIN decisions u ON u.undoes = d.id "
                "WHERE u.action = 'undo' AND u.annotator = :who AND (:role IS NULL OR u.role = :role) AND u.id > coalesce(("
                "    SELECT max(f.id) FROM decisions f WHERE f.annotator = :who AND f.action != 'undo' AND f.redoes IS NULL"
                "    AND (:role IS NULL OR f.role = :role)"
                "), 0) AND NOT EXISTS (SELECT 1 FROM decisions r WHERE r.redoes = u.id) "
                "ORDER BY u.id DESC LIMIT 1",
                {"who": self._number("annotators", annotator), "role": role},
            ).fetchone()
            if row is None:
                return None
            # The undo of a batch's decision brings back every decision of the batch still undone, oldest first.
            cursor = self.conn.execute(
                "INSERT INTO decisions (item, action, start, \"end\", text, fields, origin, note, batch, role, redoes, "
                "annotator, session, created_at) SELECT d.item, d.action, d.start, d.\"end\", d.text, d.fields, "
                "d.origin, d.note, d.batch, d.role, u.id, :who, :session, :at FROM decisions u "
                "JOIN decisions d ON d.id = u.undoes "
                "WHERE u.id = :undo OR (d.batch IS NOT NULL AND u.batch = (SELECT batch FROM decisions WHERE id = :done) "
                "AND u.action = 'undo' AND NOT EXISTS (SELECT 1 FROM decisions r WHERE r.redoes = u.id)) "
                "ORDER BY d.id",
                {"who": self._number("annotators", annotator), "session": self._number("sessions", self.session),
                 "at": now(), "undo": row[0], "done": row[1]},
            )
        return {"id": int(cursor.lastrowid or 0), **dict(zip(("item_id", "document_id", "kind", "action"), row[2:])),
                "count": cursor.rowcount}

    def item_document(self, item_id: str) -> str | None:
        """The document a proposal or added item belongs to, or None if the id is unknown."""
        row = self.conn.execute(
            "SELECT d.id FROM items i JOIN documents d ON d.n = i.doc WHERE i.id = ?", [item_id]
        ).fetchone()
        return row[0] if row else None

    def review_counts(self) -> tuple[int, int]:
        """(reviewed, total) proposals in the whole store."""
        reviewed, total = self.conn.execute(
            "SELECT coalesce(sum(count) FILTER (WHERE status != 'proposed'), 0), coalesce(sum(count), 0) "
            "FROM tallies WHERE status != 'added'"
        ).fetchone()
        return reviewed, total

    def reviewed_document_ids(self) -> set[str]:
        """Documents with at least one decision in effect."""
        return {row[0] for row in self.conn.execute(
            f"SELECT d.id FROM {_EVERY_DOCUMENT} WHERE EXISTS (SELECT 1 FROM items i WHERE i.doc = d.n AND i.status IS NOT NULL)"
        )}

    def derived_item_state(self) -> dict[str, tuple[int, int | None]]:
        """For each item, the decision in effect and its latest edit or add in effect, from the log alone.

        The same pairs as `item_state()`'s: the tests compare the two.
        """
        in_effect = "NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = e.id)"
        rows = self.conn.execute(
            f"SELECT i.id, v.decision_id, (SELECT max(e.id) FROM decisions e WHERE e.item = v.item "
            f"AND e.action IN ('edit', 'add') AND {in_effect}) FROM (SELECT e.item, max(e.id) AS decision_id "
            f"FROM decisions e WHERE e.action != 'undo' AND {in_effect} GROUP BY e.item) v JOIN items i ON i.n = v.item"
        )
        return {item_id: (decision_id, content_id) for item_id, decision_id, content_id in rows}

    def item_state(self) -> dict[str, tuple[int, int | None]]:
        """For each item with a decision in effect, that decision and its latest edit or add in effect, as the
        triggers keep them."""
        rows = self.conn.execute("SELECT id, decision, content FROM items WHERE decision IS NOT NULL")
        return {item_id: (decision_id, content_id) for item_id, decision_id, content_id in rows}

    def decisions(self, item_id: str) -> list[dict[str, Any]]:
        """Every event recorded for an item, oldest first."""
        cursor = self.conn.execute(
            "SELECT e.id, e.action, e.start, e.\"end\", e.text, e.fields, e.undoes, e.redoes, a.name AS annotator, "
            "s.id AS session, e.created_at FROM decisions e JOIN items i ON i.n = e.item "
            "JOIN annotators a ON a.n = e.annotator JOIN sessions s ON s.n = e.session WHERE i.id = ? ORDER BY e.id",
            [item_id],
        )
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor]

    # ------------------------------------------------------------------ reading

    def annotations(
        self,
        document_id: str | None = None,
        statuses: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
        item_id: str | None = None,
        reviewer: str | None = None,
    ) -> Iterator[StoredAnnotation]:
        """Items as they stand now (only `item_id`, if given), by document (in the order added), then span.

        With `reviewer`, as that reviewer's own decisions make them (several reviewers per document):
        the proposals, and the items that reviewer added; another reviewer's decisions do not show.
        """
        for row in self._items(_ITEM_COLUMNS, document_id, statuses, kinds, item_id, reviewer):
            yield StoredAnnotation(
                id=row[0], document_id=row[1], kind=row[2], start=row[3], end=row[4], text=row[5],
                status=row[6], fields_json=row[7], origin_json=row[8],
                proposal_id=row[9], annotator=row[10],
            )

    def annotation(self, item_id: str, reviewer: str | None = None) -> StoredAnnotation | None:
        """One item as it stands now (for `reviewer`, if given), or None (unknown, or an added item withdrawn)."""
        return next(self.annotations(item_id=item_id, reviewer=reviewer), None)

    def annotation_records(
        self, statuses: Sequence[str] | None = None, kinds: Sequence[str] | None = None
    ) -> Iterator[tuple[str, str]]:
        """(document id, the item as contract JSON) for every item, in `annotations()` order."""
        return self._items(_RECORD_COLUMNS, None, statuses, kinds)

    def _items(
        self,
        columns: str,
        document_id: str | None,
        statuses: Sequence[str] | None,
        kinds: Sequence[str] | None,
        item_id: str | None = None,
        reviewer: str | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        where = ["1"]
        params: dict[str, Any] = {"document_id": document_id, "item_id": item_id, "reviewer": reviewer}
        if statuses is not None:
            where.append(f"status IN ({', '.join(f':s{i}' for i in range(len(statuses)))})")
            params.update({f"s{i}": status for i, status in enumerate(statuses)})
        if kinds is not None:
            where.append(f"kind IN ({', '.join(f':k{i}' for i in range(len(kinds)))})")
            params.update({f"k{i}": kind for i, kind in enumerate(kinds)})
        # Three forms, so that one document's items, or one item, are found through the indexes.
        item_filter = "1"
        if item_id is not None:
            item_filter = "i.id = :item_id"
        elif document_id is not None:
            item_filter = "i.doc = (SELECT n FROM documents WHERE id = :document_id)"
        sql = _ITEMS_SQL.format(columns=columns, item_filter=item_filter, outer_filter=" AND ".join(where),
                                state="i" if reviewer is None else "r",
                                reviewer_join="" if reviewer is None else _REVIEWER_JOIN)
        return self.conn.execute(sql, params)

    def undecided_counts(self) -> dict[str, int]:
        """For each document under review (some of its items decided, some not), how many proposals are undecided."""
        return dict(self.conn.execute(
            "SELECT d.id, o.undecided FROM (SELECT doc, count(*) AS undecided FROM items INDEXED BY items_open "
            "WHERE proposal = 1 AND status IS NULL GROUP BY doc) o JOIN documents d ON d.n = o.doc "
            "WHERE EXISTS (SELECT 1 FROM items r WHERE r.doc = o.doc AND r.status IS NOT NULL)"
        ))

    def next_undecided_document(self, after: str, kinds: Sequence[str] | None = None) -> str | None:
        """The first document added after `after` (else from the first, up to `after` itself) with a proposal
        nobody has decided on, of one of `kinds` if given; None if there is none."""
        kind_filter = f"AND i.kind IN ({', '.join('?' * len(kinds))})" if kinds else ""
        n = self._document_number(after)
        for side in (">", "<="):
            row = self.conn.execute(
                f"SELECT d.id FROM items i INDEXED BY items_open JOIN documents d ON d.n = i.doc "
                f"WHERE i.proposal = 1 AND i.status IS NULL "
                f"AND i.doc {side} ? {kind_filter} ORDER BY i.doc LIMIT 1",
                [n, *(kinds or ())],
            ).fetchone()
            if row is not None:
                return row[0]
        return None

    def fully_reviewed_document_ids(self) -> list[str]:
        """Documents with a decision on every proposal (and at least one decision), none flagged, in the order added.

        Only these have complete gold: a proposal nobody has decided on yet is neither gold nor a
        negative, nor is a flagged item (marked for discussion), so a document still under review is
        left out of an evaluation.
        """
        # Nothing undecided or flagged first: those looks are partial indexes', the other reads a few items at most.
        return [row[0] for row in self.conn.execute(
            f"SELECT d.id FROM {_EVERY_DOCUMENT} "
            "WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.doc = d.n AND i.proposal = 1 AND i.status IS NULL) "
            "AND NOT EXISTS (SELECT 1 FROM items f INDEXED BY items_flagged WHERE f.doc = d.n AND f.status = 'flagged') "
            "AND EXISTS (SELECT 1 FROM items i WHERE i.doc = d.n AND i.status IS NOT NULL) ORDER BY d.n"
        )]

    # -------------------------------------------------------------- evaluation

    _EVAL_RUN_COLUMNS = (
        "engine", "model", "prompt_name", "prompt_hash", "params", "gold", "gold_hash", "documents", "repeat",
        "metrics", "counts", "spread", "passed", "failures", "started_at", "finished_at",
    )
    _EVAL_EXAMPLE_COLUMNS = (
        "repetition", "document_id", "kind", "outcome", "gold_id", "gold_start", "gold_end", "pred_start", "pred_end",
        "overlap", "text", "checks",
    )

    def record_eval(self, run: dict[str, Any], examples: Iterable[Sequence[Any]]) -> int:
        """Store an eval run and its examples in one transaction; return the run's id.

        `run` has the `eval_runs` columns (JSON columns as Python values); each example is a row
        in the order of `_EVAL_EXAMPLE_COLUMNS`, its `checks` a dict.
        """
        json_columns = {"params", "metrics", "counts", "spread"}
        values = [to_json(run[c]) if c in json_columns and run.get(c) is not None else run.get(c)
                  for c in self._EVAL_RUN_COLUMNS]
        with self.transaction():
            cursor = self.conn.execute(
                f"INSERT INTO eval_runs ({', '.join(self._EVAL_RUN_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(self._EVAL_RUN_COLUMNS))})",
                values,
            )
            run_id = int(cursor.lastrowid or 0)
            self.conn.executemany(
                f"INSERT INTO eval_examples (eval_run_id, {', '.join(self._EVAL_EXAMPLE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * (len(self._EVAL_EXAMPLE_COLUMNS) + 1))})",
                ([run_id, *row[:-1], to_json(row[-1])] for row in examples),
            )
        return run_id

    def eval_run(self, run_id: int) -> dict[str, Any] | None:
        """One eval run with its JSON columns decoded, and its examples; None if there is no such run."""
        cursor = self.conn.execute(f"SELECT id, {', '.join(self._EVAL_RUN_COLUMNS)} FROM eval_runs WHERE id = ?", [run_id])
        row = cursor.fetchone()
        if row is None:
            return None
        run = dict(zip([c[0] for c in cursor.description], row))
        for column in ("params", "metrics", "counts", "spread"):
            run[column] = json.loads(run[column]) if run[column] is not None else None
        names = self._EVAL_EXAMPLE_COLUMNS
        run["examples"] = [
            {**dict(zip(names, example[:-1])), "checks": json.loads(example[-1])}
            for example in self.conn.execute(
                f"SELECT {', '.join(names)} FROM eval_examples WHERE eval_run_id = ? ORDER BY rowid", [run_id]
            )
        ]
        return run

    def last_eval_run_id(self, engine: str, model: str | None, gold: str) -> int | None:
        """The latest eval run of this engine and model against this gold that did not fail its gates."""
        row = self.conn.execute(
            "SELECT max(id) FROM eval_runs WHERE engine = ? AND model IS ? AND gold = ? AND passed IS NOT 0",
            [engine, model, gold],
        ).fetchone()
        return row[0]

    def stats(self) -> dict[str, Any]:
        """Counts of documents, proposals and decisions, items by status and kind, percent reviewed."""
        one = lambda sql: self.conn.execute(sql).fetchone()[0]  # noqa: E731
        by_status_kind = {
            (status, kind): count for kind, status, count in self.conn.execute(
                "SELECT kind, status, count FROM tallies WHERE count > 0"
            )
        }
        proposals = sum(n for (status, _), n in by_status_kind.items() if status != "added")
        unreviewed = sum(n for (status, _), n in by_status_kind.items() if status == "proposed")
        return {
            "documents": one("SELECT count(*) FROM documents"),
            "runs": one("SELECT count(*) FROM runs"),
            "proposals": proposals,
            "decisions": one("SELECT count(*) FROM decisions"),
            "by_status_kind": by_status_kind,
            "percent_reviewed": 100.0 * (proposals - unreviewed) / proposals if proposals else 0.0,
        }

    def gold_speakers(self, limit: int = 200, reviewer: str | None = None) -> list[str]:
        """The speakers of gold quotes (accepted, edited, added), the most recently decided first, at most `limit`;
        with `reviewer`, of that reviewer's own labels (several reviewers per document: no one sees another's).

        Read from the decisions, newest first, not from every item: reviewers' decisions are few beside
        an archive's proposals, so the speaker picker asks this on each opening.
        """
        if reviewer is not None:
            return [row[0] for row in self.conn.execute(
                "SELECT json_extract(coalesce(c.fields, i.fields), '$.speaker') AS speaker FROM reviews r "
                "JOIN items i ON i.n = r.item LEFT JOIN decisions c ON c.id = r.content "
                "WHERE r.annotator = (SELECT n FROM annotators WHERE name = ?) AND r.role = 'review' "
                "AND i.kind = 'quote' AND r.status IN ('accepted', 'edited', 'added') AND speaker IS NOT NULL "
                "GROUP BY speaker ORDER BY max(r.decision) DESC LIMIT ?",
                [reviewer, limit],
            )]
        return [row[0] for row in self.conn.execute(
            # CROSS JOIN keeps the decisions outermost: the items are looked up by key, never scanned.
            "SELECT json_extract(coalesce(c.fields, i.fields), '$.speaker') AS speaker "
            "FROM decisions d CROSS JOIN items i ON i.n = d.item LEFT JOIN decisions c ON c.id = i.content "
            "WHERE i.decision = d.id AND i.kind = 'quote' AND i.status IN ('accepted', 'edited', 'added') "
            "AND speaker IS NOT NULL GROUP BY speaker ORDER BY max(d.id) DESC LIMIT ?",
            [limit],
        )]

    # ------------------------------------------------------- batches, flags, document notes

    def record_decisions(self, item_ids: Sequence[str], action: str, annotator: str) -> str:
        """Append `action` (accept or reject) on each item in one transaction, as one batch; return the batch.

        Undo and redo take a batch as one step (`undo()`, `redo()`).
        """
        if action not in ("accept", "reject"):
            raise AnnotatorError(f"a batch records accept or reject decisions, not {action!r}")
        return self.record_batch([(item_id, action, None) for item_id in item_ids], annotator)

    def record_batch(
        self, decisions: Sequence[tuple[str, str, Annotation | None]], annotator: str, role: str = "review"
    ) -> str:
        """Append these decisions (item id, action, the annotation an edit or add carries) in one transaction,
        as one batch; return the batch. Undo and redo take a batch as one step."""
        batch = "b_" + uuid.uuid4().hex[:20]

        def write() -> str:
            with self.transaction():
                for item_id, action, annotation in decisions:
                    document_id = self.item_document(item_id) if action == "add" else None
                    self._append_decision(item_id, action, annotator, annotation, document_id, batch=batch, role=role,
                                          renew=False)
                self._renew_claims(annotator, [item_id for item_id, _, _ in decisions])
            return batch

        return self._patiently(write)

    def flag(self, item_id: str, annotator: str, note: str = "") -> int:
        """Flag an item for discussion with a short comment (its `note`); return the decision's id.

        A flagged item is neither gold nor rejected, and its document's gold is incomplete until the flag
        is undone or followed by another decision.
        """
        return self._patiently(lambda: self._append_decision(item_id, "flag", annotator, None, None,
                                                             note=note.strip() or None))

    def flag_note(self, item_id: str, reviewer: str | None = None) -> str | None:
        """The comment of the flag in effect on an item (`reviewer`'s own, if given; None: not flagged, or
        flagged without one)."""
        if reviewer is None:
            sql = "SELECT d.note FROM items i JOIN decisions d ON d.id = i.decision WHERE i.id = ? AND d.action = 'flag'"
        else:
            sql = (f"SELECT d.note FROM items i {_REVIEWER_JOIN} JOIN decisions d ON d.id = r.decision "
                   "WHERE i.id = :item AND d.action = 'flag'")
        row = self.conn.execute(sql, {"item": item_id, "reviewer": reviewer} if reviewer is not None else [item_id]
                                ).fetchone()
        return row[0] if row else None

    def flagged_document_ids(self) -> list[str]:
        """Documents with a flagged item, in the order added (the partial index `items_flagged`)."""
        return [row[0] for row in self.conn.execute(
            "SELECT d.id FROM (SELECT DISTINCT doc FROM items INDEXED BY items_flagged WHERE status = 'flagged') f "
            "JOIN documents d ON d.n = f.doc ORDER BY d.n"
        )]

    def record_document_note(self, document_id: str, annotator: str, note: str, done: bool) -> int:
        """Leave a note on a document and say whether it is done; the latest one is in effect. Returns its id."""

        def write() -> int:
            with self.transaction():
                cursor = self.conn.execute(
                    "INSERT INTO document_notes (doc, note, done, annotator, session, created_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [self._document_number(document_id), note.strip(), int(done),
                     self._number("annotators", annotator), self._number("sessions", self.session), now()],
                )
            return int(cursor.lastrowid or 0)

        return self._patiently(write)

    def document_note(self, document_id: str) -> dict[str, Any] | None:
        """The note in effect on a document (`note`, `done`, `annotator`, `created_at`), or None."""
        cursor = self.conn.execute(
            "SELECT n.note, n.done, a.name AS annotator, n.created_at FROM document_notes n "
            "JOIN annotators a ON a.n = n.annotator WHERE n.doc = (SELECT n FROM documents WHERE id = ?) "
            "ORDER BY n.id DESC LIMIT 1",
            [document_id],
        )
        row = cursor.fetchone()
        if row is None:
            return None
        return {"note": row[0], "done": bool(row[1]), "annotator": row[2], "created_at": row[3]}

    # ------------------------------------------------- several reviewers per document

    def setting(self, key: str, default: str | None = None) -> str | None:
        """A setting stored in the store (`settings`), or `default`."""
        row = self.conn.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return row[0] if row else default

    def set_settings(self, values: dict[str, str | None]) -> None:
        """Store these settings in one transaction (None removes one)."""
        with self.transaction():
            for key, value in values.items():
                if value is None:
                    self.conn.execute("DELETE FROM settings WHERE key = ?", [key])
                else:
                    self.conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) "
                                      "ON CONFLICT DO UPDATE SET value = excluded.value", [key, value])

    def overlap(self) -> int:
        """How many reviewers each document needs (the `overlap` setting; 1 unless `annotator assign` set it)."""
        return int(self.setting("overlap") or 1)

    def claim_minutes(self) -> float:
        """How long a claim on a document lives without a decision on it (the `claim_minutes` setting; 60)."""
        return float(self.setting("claim_minutes") or CLAIM_MINUTES)

    def claim_documents(self, annotator: str, count: int, minutes: float | None = None) -> list[str]:
        """The documents `annotator` reviews now, in the order added: their claims still live, then new claims.

        A document takes a reviewer while it has fewer than `overlap()` of them, a reviewer being one whose
        claim is live or who has decided every proposal of it (`reviewer_documents`). New claims, up to
        `count` in all, go to documents this reviewer has not taken yet; each lives `minutes` and is
        renewed by every decision on the document. Claimed in one write transaction: two reviewers
        starting at once queue, and never take a document beyond the overlap.
        """
        def write() -> list[str]:
            with self.transaction():
                who = self._number("annotators", annotator)
                at, until = now(), _later(self.claim_minutes() if minutes is None else minutes)
                self.conn.execute("UPDATE claims SET expires_at = ? WHERE annotator = ? AND expires_at > ? "
                                  f"AND NOT {_COMPLETED.format(claim='claims')}", [until, who, at])
                mine = [row[0] for row in self.conn.execute(
                    "SELECT doc FROM claims WHERE annotator = ? AND expires_at > ? ORDER BY doc", [who, at])]
                wanted = count - len(mine)
                if wanted > 0:
                    taken = f"(c.expires_at > :at OR {_COMPLETED.format(claim='c')})"
                    new = [row[0] for row in self.conn.execute(
                        f"SELECT d.n FROM {_EVERY_DOCUMENT} WHERE EXISTS (SELECT 1 FROM items i WHERE i.doc = d.n) "
                        f"AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.doc = d.n AND c.annotator = :who AND {taken}) "
                        f"AND (SELECT count(*) FROM claims c WHERE c.doc = d.n AND {taken}) < :overlap "
                        "ORDER BY d.n LIMIT :wanted",
                        {"at": at, "who": who, "overlap": self.overlap(), "wanted": wanted},
                    )]
                    self.conn.executemany(
                        "INSERT INTO claims (doc, annotator, claimed_at, expires_at) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT DO UPDATE SET claimed_at = excluded.claimed_at, expires_at = excluded.expires_at",
                        [(n, who, at, until) for n in new],
                    )
                    mine = sorted(mine + new)
                return [row[0] for row in self.conn.execute(
                    f"SELECT id FROM documents WHERE n IN ({', '.join('?' * len(mine))}) ORDER BY n", mine)]

        return self._patiently(write)

    def reviewer_counts(self, reviewer: str, document_ids: Sequence[str]) -> tuple[int, int]:
        """(decided by `reviewer`, total) proposals of these documents."""
        decided, total = self.conn.execute(
            "SELECT count(r.status), count(*) FROM items i LEFT JOIN reviews r ON r.item = i.n AND r.role = 'review' "
            "AND r.annotator = (SELECT n FROM annotators WHERE name = ?) "
            f"WHERE i.proposal = 1 AND i.doc IN (SELECT n FROM documents WHERE id IN ({', '.join('?' * len(document_ids))}))",
            [reviewer, *document_ids],
        ).fetchone()
        return decided, total

    def claim_reviewed(self, annotator: str) -> int:
        """Give `annotator` a claim (already expired) on every document they have decided on without one, so
        that labels made before the overlap was set, or imported, count towards it. Returns how many."""
        with self.transaction():
            return self.conn.execute(
                "INSERT INTO claims (doc, annotator, claimed_at, expires_at) "
                "SELECT DISTINCT i.doc, r.annotator, :at, :at FROM reviews r JOIN items i ON i.n = r.item "
                "WHERE r.annotator = (SELECT n FROM annotators WHERE name = :name) AND r.role = 'review' "
                "AND r.status IS NOT NULL ON CONFLICT DO NOTHING",
                {"at": now(), "name": annotator},
            ).rowcount

    def annotator_names(self) -> list[str]:
        """Everyone who has decided anything as a reviewer, by name."""
        return [row[0] for row in self.conn.execute(
            "SELECT name FROM annotators a WHERE EXISTS (SELECT 1 FROM reviews r WHERE r.annotator = a.n "
            "AND r.role = 'review') ORDER BY name")]

    def reviewer_documents(self, numbered: tuple[int, int] | None = None) -> dict[str, list[str]]:
        """For each document some reviewer has decided every proposal of (in the review role), those reviewers
        by name; in the order documents were added. Only the documents numbered `numbered` (first, last), if
        given."""
        first, last = numbered or (None, None)
        result: dict[str, list[str]] = {}
        for document_id, name in self.conn.execute(
            "SELECT d.id, a.name FROM (SELECT i.doc, r.annotator, count(*) AS decided FROM items i "
            "CROSS JOIN reviews r ON r.item = i.n WHERE i.doc BETWEEN coalesce(?, i.doc) AND coalesce(?, i.doc) "
            "AND r.role = 'review' AND r.status IS NOT NULL AND i.proposal = 1 "
            "GROUP BY i.doc, r.annotator) v JOIN documents d ON d.n = v.doc JOIN annotators a ON a.n = v.annotator "
            "WHERE v.decided = (SELECT count(*) FROM items p WHERE p.doc = v.doc AND p.proposal = 1) "
            "ORDER BY d.n, a.name",
            (first, last),
        ):
            result.setdefault(document_id, []).append(name)
        return result

    def review_rows(self, document_ids: Sequence[str] | None = None) -> Iterator[tuple[Any, ...]]:
        """Every reviewer's and adjudicator's label in effect, by document in the order added:
        (document id, item id, kind, proposal (0/1), role, annotator, status, start, end, text, fields, origin,
        decided_at).

        Span, text and fields are the reviewer's own latest edit or add in effect, else the proposal's (for an
        item added by hand, its latest edit or add in effect).
        """
        only = ""
        if document_ids is not None:
            only = f"AND i.doc IN (SELECT n FROM documents WHERE id IN ({', '.join('?' * len(document_ids))}))"
        return self.conn.execute(
            "SELECT doc.id, i.id, i.kind, i.proposal, r.role, a.name, r.status, coalesce(c.start, i.start, x.start), "
            "coalesce(c.\"end\", i.\"end\", x.\"end\"), "
            "coalesce(c.text, i.text, substr(doc.text, i.start + 1, i.\"end\" - i.start), x.text), "
            "coalesce(c.fields, i.fields, x.fields), coalesce(o.json, c.origin, x.origin), d.created_at "
            "FROM reviews r JOIN items i ON i.n = r.item JOIN documents doc ON doc.n = i.doc "
            "JOIN annotators a ON a.n = r.annotator JOIN decisions d ON d.id = r.decision "
            "LEFT JOIN decisions c ON c.id = r.content LEFT JOIN origins o ON o.n = i.origin "
            # An item added by hand that this reviewer did not add or edit (an adjudicator's reject): as it stands.
            "LEFT JOIN decisions x ON x.id = i.content "
            f"WHERE r.status IS NOT NULL {only} ORDER BY i.doc, i.n, r.role, a.name",
            list(document_ids or ()),
        )

    def grounding(self, document_id: str) -> dict[str, tuple[float | None, str | None]]:
        """How each proposal of a document was grounded: item id → (score, method)."""
        return {row[0]: (row[1], row[2]) for row in self.conn.execute(
            "SELECT i.id, i.grounding_score, i.grounding_method FROM items i "
            "WHERE i.doc = (SELECT n FROM documents WHERE id = ?) AND i.proposal = 1",
            [document_id],
        )}


def _process_started(pid: int) -> str | None:
    """When process `pid` started (boot id and clock ticks since boot), or None where `/proc` cannot say."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return None
    # The command name, in parentheses, may hold spaces: count fields from after it. starttime is field 22.
    fields = stat[stat.rindex(")") + 2 :].split()
    return f"{boot}:{fields[19]}" if len(fields) > 19 else None


def _process_alive(pid: int, started: str | None) -> bool:
    """Whether the process that started at `started` with this pid still runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    if started is None:
        return True
    now_started = _process_started(pid)
    return now_started is None or now_started == started


def _later(minutes: float) -> str:
    """The UTC time `minutes` from now, as `now()` writes times."""
    return (datetime.now(timezone.utc) + timedelta(minutes=minutes)).isoformat(timespec="microseconds")


def _document(row: Sequence[Any]) -> Document:
    from annotator.schemas import Document

    return Document(id=row[0], source=row[1], title=row[2], text=row[3], external_id=row[4], previous_id=row[5])


def _compact(conn: sqlite3.Connection) -> None:
    """Give back the space a migration that rebuilt the tables left empty, at the page size of a new store.

    Needs the file to itself: while another process has it open, it stays as it is (only larger).
    """
    try:
        conn.execute("PRAGMA journal_mode = DELETE")
        conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("VACUUM")
    except sqlite3.OperationalError:
        pass
    finally:
        conn.execute("PRAGMA journal_mode = WAL")


def open_read_only(path: str | os.PathLike[str]) -> Store:
    """The store at `path` to read as it is, never migrated nor written: a second reader beside a Store open on it
    (in another thread or process)."""
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    return Store(sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30), os.fspath(path))


def open_db(path: str | os.PathLike[str] | None = None) -> Store:
    """Open the store at `path` (default: `ANNOTATOR_DB`, else `labels.db`), migrating it as needed."""
    path = os.fspath(path) if path is not None else default_db_path()
    parent = Path(path).parent
    if not parent.is_dir():
        raise AnnotatorError(f"{path}: folder {parent} does not exist")
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        conn.execute("PRAGMA busy_timeout = 30000")
        if not conn.execute("PRAGMA page_count").fetchone()[0]:
            # A new file. Articles of a few kilobytes sit several to a page of 8 KiB; at 4 KiB most
            # would take a page of their own, half of it empty.
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        store = Store(conn, path)
        pending = migrations.pending(conn)
        if pending:
            migrations.apply(store.db)
            if migrations.REBUILDS & set(pending) and conn.execute("SELECT 1 FROM documents LIMIT 1").fetchone():
                _compact(conn)
    except sqlite3.DatabaseError as error:
        raise AnnotatorError(f"{path}: not an annotator database ({error})") from None
    try:
        store.close_abandoned_runs()
    except sqlite3.OperationalError:
        pass  # a read-only file, or a long write elsewhere: the next open marks them
    return store
