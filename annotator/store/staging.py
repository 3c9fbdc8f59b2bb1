"""A bulk import kept out of sight until it is complete, then published in one transaction that only copies.

A long import must never hold the write lock for long: a reviewer's decision in another process
waits for it (30 s at most, then `database is locked`). So an import first writes what it will
store into this connection's temporary tables, which take no lock on the store at all, in
transactions of bounded size; it checks the staged rows against the store with plain reads; and
only then copies them into the store with a few `INSERT … SELECT` statements in one transaction.
Readers see all of the import or none of it, an import killed halfway leaves nothing (temporary
tables die with their connection), and the write lock is held only for the copy, which is SQLite
work without a Python step per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from annotator.store import SPAN_TEXT_FROM_DOCUMENT, _edited, now

if TYPE_CHECKING:
    from annotator.schemas import Annotation, Document
    from annotator.store import Store

BATCH_ROWS = 5000
"""Rows staged per transaction: small enough that no transaction grows big, large enough to be quick."""

_TABLES = """
CREATE TEMP TABLE import_documents (
    line INTEGER NOT NULL, id TEXT PRIMARY KEY, source TEXT NOT NULL, title TEXT, text TEXT NOT NULL,
    external_id TEXT, previous_id TEXT
);
CREATE INDEX temp.import_documents_source ON import_documents(source, line);
-- Every item the file names, with the label it will have: to check ids across documents, and to
-- compare a document that comes twice in one file with what its first line left. Kept in document
-- order: a line's items go to one place, not each to a random one (twice as fast as keyed by item).
CREATE TEMP TABLE import_items (
    item_id TEXT NOT NULL, document_id TEXT NOT NULL, line INTEGER NOT NULL, kind TEXT NOT NULL,
    status TEXT NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL,
    fields TEXT NOT NULL, proposal INTEGER NOT NULL,
    PRIMARY KEY (document_id, item_id)
) WITHOUT ROWID;
CREATE TEMP TABLE import_proposals (
    seq INTEGER PRIMARY KEY, id TEXT NOT NULL, document_id TEXT NOT NULL, kind TEXT NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL, fields TEXT NOT NULL, origin TEXT NOT NULL
);
CREATE TEMP TABLE import_decisions (
    seq INTEGER PRIMARY KEY, item_id TEXT NOT NULL, proposal_id TEXT, document_id TEXT NOT NULL,
    kind TEXT NOT NULL, action TEXT NOT NULL, start INTEGER, "end" INTEGER, text TEXT, fields TEXT, origin TEXT,
    annotator TEXT NOT NULL
);
"""
_DROP = "DROP TABLE IF EXISTS temp.{}"
_NAMES = ("import_documents", "import_items", "import_proposals", "import_decisions")
_SETTINGS = ("temp_store", "temp.secure_delete")
"""The connection's settings that staging changes, and puts back when it is done."""


@dataclass(frozen=True)
class StagedItem:
    """An item as a staged import leaves it: what a later line of the same file compares against."""

    id: str
    kind: str
    status: str
    start: int
    end: int
    text: str
    fields_json: str
    proposal: bool


@dataclass(frozen=True)
class Conflict:
    """An id the import cannot take: it belongs to another document (in the store, or earlier in the file)."""

    line: int
    item_id: str
    where: str
    """`the store` or `line N`."""


@dataclass(frozen=True)
class Published:
    """What the copy into the store added."""

    documents: int
    proposals: int
    decisions: int


class ImportStaging:
    """The rows of one import, held in temporary tables of the store's connection until `publish()`.

    Use it as a context manager (`with ImportStaging(store) as staging:`): the tables are dropped
    on the way out, published or not, and nothing reaches the store unless `publish()` is called.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.conn = store.conn
        self._pending = 0
        self._proposals = 0
        self._decisions = 0

    def __enter__(self) -> ImportStaging:
        if self.conn.in_transaction:
            raise RuntimeError("an import is staged outside any transaction: it publishes in its own")
        self._drop()
        self._settings = {name: self.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in _SETTINGS}
        # On disk, whatever SQLite was built or set to do: in memory, the tables of a large import
        # would hold the whole file (gigabytes). Setting it drops temporary tables: none are ours now.
        self.conn.execute("PRAGMA temp_store = FILE")
        # No one reads a page of a dropped temporary table: it need not be overwritten with zeros.
        self.conn.execute("PRAGMA temp.secure_delete = OFF")
        self.conn.executescript(_TABLES)
        # A staging transaction is small (`BATCH_ROWS`) and need survive no crash (the tables do not):
        # its rollback journal fits in memory, where writing it costs nothing.
        self.conn.execute("PRAGMA temp.journal_mode = MEMORY")
        # A deferred transaction: writing temporary tables takes no lock on the store's file.
        self.conn.execute("BEGIN")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
        self.conn.execute("PRAGMA temp.journal_mode = DELETE")  # dropping the tables touches all their pages
        self._drop()
        for name, value in self._settings.items():
            self.conn.execute(f"PRAGMA {name} = {value}")

    def _drop(self) -> None:
        for name in _NAMES:
            self.conn.execute(_DROP.format(name))

    def _row_written(self) -> None:
        """End the staging transaction every `BATCH_ROWS` rows, so that none grows without bound."""
        self._pending += 1
        if self._pending >= BATCH_ROWS:
            self.conn.execute("COMMIT")
            self.conn.execute("BEGIN")
            self._pending = 0

    # ------------------------------------------------------------------ reads

    def where_is(self, document_id: str) -> str | None:
        """`store` if the store has the document, `staged` if an earlier line of this import brought it, else None."""
        if self.conn.execute("SELECT 1 FROM main.documents WHERE id = ?", [document_id]).fetchone():
            return "store"
        if self.conn.execute("SELECT 1 FROM temp.import_documents WHERE id = ?", [document_id]).fetchone():
            return "staged"
        return None

    def has_items(self, document_id: str) -> bool:
        """Whether an earlier line of this import named items of the document."""
        return bool(self.conn.execute(
            "SELECT 1 FROM temp.import_items WHERE document_id = ? LIMIT 1", [document_id]
        ).fetchone())

    def latest_of_source(self, source: str) -> str | None:
        """The latest document from `source`: staged earlier in this import, else in the store."""
        row = self.conn.execute(
            "SELECT id FROM temp.import_documents WHERE source = ? ORDER BY line DESC LIMIT 1", [source]
        ).fetchone() or self.conn.execute(
            "SELECT id FROM main.documents WHERE source = ? ORDER BY n DESC LIMIT 1", [source]
        ).fetchone()
        return row[0] if row else None

    def added_item_ids(self, document_id: str) -> set[str]:
        """Ids of every item ever added by hand to the document in the store, in effect or not."""
        return {row[0] for row in self.conn.execute(
            "SELECT i.id FROM main.items i JOIN main.documents d ON d.n = i.doc WHERE d.id = ? AND i.proposal = 0",
            [document_id],
        )}

    def staged_items(self, document_id: str) -> dict[str, StagedItem]:
        """The items earlier lines of this import left in the document, by id."""
        return {
            row[0]: StagedItem(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]))
            for row in self.conn.execute(
                "SELECT item_id, kind, status, start, \"end\", text, fields, proposal FROM temp.import_items "
                "WHERE document_id = ?",
                [document_id],
            )
        }

    # ------------------------------------------------------------------ writes

    def add_document(self, line: int, document: Document, previous_id: str | None) -> None:
        """Stage a new document."""
        self.conn.execute(
            "INSERT INTO temp.import_documents (line, id, source, title, text, external_id, previous_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [line, document.id, document.source, document.title, document.text, document.external_id, previous_id],
        )
        self._row_written()

    def add_item(self, line: int, document_id: str, item: StagedItem) -> None:
        """Record the label an item will have once the import is published (a later line may change it)."""
        self.conn.execute(
            "INSERT OR REPLACE INTO temp.import_items (item_id, document_id, line, kind, status, start, \"end\", text, "
            "fields, proposal) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [item.id, document_id, line, item.kind, item.status, item.start, item.end, item.text, item.fields_json,
             int(item.proposal)],
        )
        self._row_written()

    def add_proposal(
        self, item_id: str, document_id: str, annotation: Annotation, origin_json: str, fields_json: str
    ) -> None:
        """Stage a proposal, as `Store.add_proposals` would store it (no run: it was imported)."""
        self.conn.execute(
            "INSERT INTO temp.import_proposals (id, document_id, kind, start, \"end\", text, fields, origin) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [item_id, document_id, annotation.kind, annotation.start, annotation.end, annotation.text,
             fields_json, origin_json],
        )
        self._proposals += 1
        self._row_written()

    def add_decision(
        self, item_id: str, proposal: bool, document_id: str, kind: str, action: str, annotation: Annotation | None,
        annotator: str,
    ) -> None:
        """Stage one decision, with the columns `Store.record_decision` would write."""
        self.conn.execute(
            "INSERT INTO temp.import_decisions (item_id, proposal_id, document_id, kind, action, start, \"end\", text, "
            "fields, origin, annotator) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [item_id, item_id if proposal else None, document_id, kind, action, *_edited(annotation), annotator],
        )
        self._decisions += 1
        self._row_written()

    @property
    def counts(self) -> tuple[int, int]:
        """Proposals and decisions staged so far."""
        return self._proposals, self._decisions

    # ------------------------------------------------------------------ checks and publishing

    def conflict(self) -> Conflict | None:
        """The first id (by line) that belongs to another document, in the store or in this import."""
        found: list[Conflict] = []
        row = self.conn.execute(
            "SELECT i.line, i.item_id FROM temp.import_items i JOIN main.items s ON s.id = i.item_id "
            "JOIN main.documents d ON d.n = s.doc WHERE d.id != i.document_id ORDER BY i.line LIMIT 1"
        ).fetchone()
        if row:
            found.append(Conflict(row[0], row[1], "the store"))
        row = self.conn.execute(
            "SELECT max(line), item_id, min(line) FROM temp.import_items GROUP BY item_id HAVING count(*) > 1 "
            "ORDER BY 1 LIMIT 1"
        ).fetchone()
        if row:
            found.append(Conflict(row[0], row[1], f"line {row[2]}"))
        return min(found, key=lambda conflict: conflict.line) if found else None

    def publish(self) -> Published:
        """Copy the staged rows into the store in one transaction: the only time the import holds the write lock.

        It commits without waiting for the disk, like an engine's writes: a crash loses nothing
        committed, a power cut at worst this import, which importing the file again restores. The
        wait for the disk to take a few hundred megabytes of WAL would otherwise be a reviewer's too.
        """
        self.conn.execute("COMMIT")  # the staging transaction: the copy takes the write lock afresh
        with self.store.machine_writes():
            published = self._copy(now())
        self.conn.execute("BEGIN")  # __exit__ ends it
        return published

    def _copy(self, at: str) -> Published:
        with self.store.transaction():
            documents = self.conn.execute(
                "INSERT OR IGNORE INTO main.documents (id, source, title, text, added_at, external_id) "
                "SELECT id, source, title, text, ?, external_id FROM temp.import_documents ORDER BY line",
                [at],
            ).rowcount
            # Each new document's earlier version by number, once every document of the import has one.
            self.conn.execute(
                "UPDATE main.documents AS d SET previous = (SELECT p.n FROM main.documents p WHERE p.id = s.previous_id) "
                "FROM temp.import_documents s WHERE d.id = s.id AND s.previous_id IS NOT NULL"
            )
            self.conn.execute("INSERT OR IGNORE INTO main.origins (json) SELECT DISTINCT origin FROM temp.import_proposals")
            # A proposal's text is read from its document when that is short (`stored_span_text`).
            self.conn.execute(
                "CREATE TEMP TABLE import_lengths AS SELECT d.n, length(d.text) AS chars FROM main.documents d "
                "WHERE d.id IN (SELECT document_id FROM temp.import_proposals)"
            )
            proposals = self.conn.execute(
                "INSERT OR IGNORE INTO main.items (id, doc, kind, proposal, start, \"end\", text, fields, origin) "
                "SELECT p.id, d.n, p.kind, 1, p.start, p.\"end\", CASE WHEN l.chars <= ? "
                "AND p.text = substr(d.text, p.start + 1, p.\"end\" - p.start) THEN NULL ELSE p.text END, p.fields, o.n "
                "FROM temp.import_proposals p JOIN main.documents d ON d.id = p.document_id "
                "JOIN temp.import_lengths l ON l.n = d.n JOIN main.origins o ON o.json = p.origin ORDER BY p.seq",
                [SPAN_TEXT_FROM_DOCUMENT],
            ).rowcount
            self.conn.execute("DROP TABLE temp.import_lengths")
            self.conn.execute(
                "INSERT OR IGNORE INTO main.items (id, doc, kind, proposal) SELECT x.item_id, d.n, x.kind, 0 "
                "FROM temp.import_decisions x JOIN main.documents d ON d.id = x.document_id "
                "WHERE x.action = 'add' ORDER BY x.seq"
            )
            self.conn.execute(
                "INSERT OR IGNORE INTO main.annotators (name) SELECT DISTINCT annotator FROM temp.import_decisions"
            )
            session = self.store._number("sessions", self.store.session)
            decisions = self.conn.execute(
                "INSERT INTO main.decisions (item, action, start, \"end\", text, fields, origin, annotator, session, "
                "created_at) SELECT i.n, x.action, x.start, x.\"end\", x.text, x.fields, x.origin, a.n, ?, ? "
                "FROM temp.import_decisions x JOIN main.items i ON i.id = x.item_id "
                "JOIN main.annotators a ON a.name = x.annotator ORDER BY x.seq",
                [session, at],
            ).rowcount
        return Published(documents, proposals, decisions)
