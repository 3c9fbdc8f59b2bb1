"""Schema migrations, applied in order by `open_db()`.

Each migration is a plain function registered under its name; a database records which ones it
has had, so a new migration is one more function at the end of this file.
"""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("annotator")


@migrations()
def m001_initial(db: Database) -> None:
    """Documents, runs, proposals and the append-only decision log."""
    db.executescript(
        """
        CREATE TABLE documents (
            id TEXT PRIMARY KEY,              -- 'sha256:' + hex digest of the UTF-8 text
            source TEXT NOT NULL,
            title TEXT,
            text TEXT NOT NULL,
            added_at TEXT NOT NULL,
            external_id TEXT,                 -- the id a JSONL record gave, if any
            previous_id TEXT REFERENCES documents(id)  -- the earlier text of the same source
        );
        CREATE INDEX documents_source ON documents(source);

        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            engine TEXT NOT NULL,
            model TEXT,
            prompt_name TEXT,
            prompt_hash TEXT,
            params TEXT NOT NULL DEFAULT '{}',
            started_at TEXT NOT NULL,
            finished_at TEXT,
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            cost REAL NOT NULL DEFAULT 0,
            error TEXT
        );

        CREATE TABLE proposals (
            id TEXT PRIMARY KEY,
            run_id INTEGER REFERENCES runs(id),
            document_id TEXT NOT NULL REFERENCES documents(id),
            kind TEXT NOT NULL,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            text TEXT NOT NULL,
            fields TEXT NOT NULL,             -- the kind's own fields, canonical JSON
            origin TEXT NOT NULL,             -- {"engine", "model", "prompt"}, canonical JSON
            created_at TEXT NOT NULL
        );
        CREATE INDEX proposals_document ON proposals(document_id, start);
        CREATE INDEX proposals_run ON proposals(run_id);

        CREATE TABLE decisions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            item_id TEXT NOT NULL,            -- a proposal id, or the id of a manually added item
            proposal_id TEXT REFERENCES proposals(id),
            document_id TEXT NOT NULL REFERENCES documents(id),
            action TEXT NOT NULL CHECK (action IN ('accept', 'edit', 'reject', 'add', 'undo')),
            payload TEXT,                     -- the whole annotation after an edit or add
            undoes INTEGER REFERENCES decisions(id),
            annotator TEXT NOT NULL,
            session TEXT NOT NULL,
            created_at TEXT NOT NULL,
            CHECK ((action = 'undo') = (undoes IS NOT NULL)),
            CHECK ((action IN ('edit', 'add')) = (payload IS NOT NULL))
        );
        CREATE INDEX decisions_item ON decisions(item_id, id);
        CREATE INDEX decisions_document ON decisions(document_id);
        CREATE UNIQUE INDEX decisions_undoes ON decisions(undoes);

        -- The log is append-only: a correction is a new event, never an edit of an old one.
        CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
        BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
        CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
        BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;

        -- The decision that currently stands for each item: its latest event not undone.
        CREATE VIEW item_decisions AS
        SELECT d.* FROM decisions d
        WHERE d.id IN (
            SELECT max(e.id) FROM decisions e
            WHERE e.action != 'undo'
              AND NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = e.id)
            GROUP BY e.item_id
        );
        """
    )
