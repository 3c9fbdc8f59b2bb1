"""Schema migrations, applied in order by `open_db()`.

Each migration is a plain function, listed in `MIGRATIONS`; `sqlite_utils.Migrations` records in
the database which ones it has had, so a new migration is one more function at the end of this
file. sqlite-utils is imported only when something is pending: opening an up-to-date database
(every command but the first) stays quick.
"""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

MIGRATION_SET = "annotator"


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
            kind TEXT NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('accept', 'edit', 'reject', 'add', 'undo')),
            -- The annotation as it stands after an edit or add (null for the other actions).
            start INTEGER,
            "end" INTEGER,
            text TEXT,
            fields TEXT,                      -- the kind's own fields, canonical JSON
            origin TEXT,                      -- an added item's provenance, canonical JSON
            undoes INTEGER REFERENCES decisions(id),
            annotator TEXT NOT NULL,
            session TEXT NOT NULL,
            created_at TEXT NOT NULL,
            CHECK ((action = 'undo') = (undoes IS NOT NULL)),
            CHECK ((action IN ('edit', 'add')) = (fields IS NOT NULL AND text IS NOT NULL))
        );
        CREATE INDEX decisions_item ON decisions(item_id, id);
        CREATE INDEX decisions_document ON decisions(document_id);
        CREATE UNIQUE INDEX decisions_undoes ON decisions(undoes);

        -- The log is append-only: a correction is a new event, never an edit of an old one.
        CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
        BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
        CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
        BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;

        -- item_state indexes the log: for each item, the decision that currently stands (its
        -- latest event not undone). Triggers keep it in step inside the transaction that appends
        -- the event, so it never holds anything the log does not; `Store.derived_item_state()`
        -- recomputes it from the log alone, and the tests compare the two.
        CREATE TABLE item_state (
            item_id TEXT PRIMARY KEY,
            decision_id INTEGER NOT NULL REFERENCES decisions(id),
            action TEXT NOT NULL,
            kind TEXT NOT NULL,
            document_id TEXT NOT NULL,
            proposal INTEGER NOT NULL          -- 1 for a proposal, 0 for an item added by hand
        );
        CREATE INDEX item_state_document ON item_state(document_id);
        CREATE INDEX item_state_counts ON item_state(kind, action, proposal);
        CREATE INDEX proposals_kind ON proposals(kind);

        CREATE TRIGGER decisions_take_effect AFTER INSERT ON decisions WHEN NEW.action != 'undo'
        BEGIN
            INSERT OR REPLACE INTO item_state (item_id, decision_id, action, kind, document_id, proposal)
            VALUES (NEW.item_id, NEW.id, NEW.action, NEW.kind, NEW.document_id, NEW.proposal_id IS NOT NULL);
        END;
        CREATE TRIGGER decisions_undo_takes_effect AFTER INSERT ON decisions WHEN NEW.action = 'undo'
        BEGIN
            DELETE FROM item_state WHERE item_id = NEW.item_id;
            INSERT INTO item_state (item_id, decision_id, action, kind, document_id, proposal)
            SELECT d.item_id, d.id, d.action, d.kind, d.document_id, d.proposal_id IS NOT NULL
            FROM decisions d
            WHERE d.id = (
                SELECT max(e.id) FROM decisions e
                WHERE e.item_id = NEW.item_id AND e.action != 'undo'
                  AND NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = e.id)
            );
        END;
        """
    )


def m002_proposal_provenance(db: Database) -> None:
    """Grounding of each proposal, failed proposals with their reasons, and the response cache."""
    db.executescript(
        """
        ALTER TABLE proposals ADD COLUMN grounding_score REAL;
        ALTER TABLE proposals ADD COLUMN grounding_method TEXT;
        ALTER TABLE proposals ADD COLUMN claimed_text TEXT;   -- the model's words, when not verbatim
        ALTER TABLE runs ADD COLUMN latency_ms REAL;
        ALTER TABLE runs ADD COLUMN documents INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE runs ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;

        -- A proposal that could not be stored as a span (ungrounded), or a request that failed.
        CREATE TABLE proposal_failures (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES runs(id),
            document_id TEXT NOT NULL REFERENCES documents(id),
            kind TEXT,
            reason TEXT NOT NULL,
            claimed TEXT,                     -- what the engine proposed, JSON, when there was an answer
            created_at TEXT NOT NULL
        );
        CREATE INDEX proposal_failures_document ON proposal_failures(document_id);

        -- An engine's finished answer for one document, so that a re-run costs nothing.
        CREATE TABLE responses (
            key TEXT PRIMARY KEY,             -- sha256 of engine, model, prompt hash, document, parameters
            engine TEXT NOT NULL,
            model TEXT,
            prompt_hash TEXT NOT NULL,
            document_id TEXT NOT NULL,
            response TEXT NOT NULL,
            tokens_in INTEGER NOT NULL DEFAULT 0,
            tokens_out INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
        """
    )


def m003_eval_runs(db: Database) -> None:
    """Eval runs: an engine and prompt set scored against the gold, with every example's outcome."""
    db.executescript(
        """
        CREATE TABLE eval_runs (
            id INTEGER PRIMARY KEY,
            engine TEXT NOT NULL,
            model TEXT,
            prompt_name TEXT,
            prompt_hash TEXT,
            params TEXT NOT NULL DEFAULT '{}',
            gold TEXT NOT NULL,               -- 'store', or the path of the gold file scored against
            gold_hash TEXT NOT NULL,          -- what the gold was: a changed gold explains a changed score
            documents INTEGER NOT NULL,
            repeat INTEGER NOT NULL DEFAULT 1,
            metrics TEXT NOT NULL,            -- {name: value}, canonical JSON; the mean over repeats
            counts TEXT NOT NULL,             -- {kind: {tp, fp, fn, rejected_again}}
            spread TEXT,                      -- {name: {mean, stdev, min, max}} when repeat > 1
            passed INTEGER,                   -- 1 or 0 when gates were given, null otherwise
            failures INTEGER NOT NULL DEFAULT 0,  -- requests or proposals that failed: they scored as nothing
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL
        );
        CREATE INDEX eval_runs_engine ON eval_runs(engine, model, gold);

        -- One row per gold item and per proposal of each repetition: matched (tp), missed (fn) or
        -- proposed without a gold item (fp). No foreign key to documents: a gold file's documents
        -- need not be in the store.
        CREATE TABLE eval_examples (
            eval_run_id INTEGER NOT NULL REFERENCES eval_runs(id),
            repetition INTEGER NOT NULL,
            document_id TEXT NOT NULL,
            kind TEXT NOT NULL,
            outcome TEXT NOT NULL CHECK (outcome IN ('tp', 'fn', 'fp')),
            gold_id TEXT,
            gold_start INTEGER,
            gold_end INTEGER,
            pred_start INTEGER,
            pred_end INTEGER,
            overlap REAL,                     -- share of the gold span the proposal covers
            text TEXT NOT NULL,               -- the gold item's text, or the proposal's for a fp
            checks TEXT NOT NULL DEFAULT '{}' -- field comparisons of a tp, {"speaker": true, ...}; rejected_again for a fp
        );
        CREATE INDEX eval_examples_run ON eval_examples(eval_run_id, repetition);
        """
    )


# The status an item stands at, from the decision in effect (`verdict`) and the latest edit or add in
# effect (`content`, may be null): rejected; added (no proposal); edited while an edit is in effect;
# accepted. An accept confirms the item as it stands, so an edited item accepted stays edited, with
# its edited values.
_STATUS = """CASE
    WHEN {verdict}.action = 'reject' THEN 'rejected'
    WHEN {verdict}.proposal_id IS NULL THEN 'added'
    WHEN {content} IS NOT NULL THEN 'edited'
    ELSE 'accepted' END"""
# The latest edit or add of an item that is still in effect (not undone).
_CONTENT = """(SELECT max(e.id) FROM decisions e WHERE e.item_id = {item} AND e.action IN ('edit', 'add')
    AND NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = e.id))"""


def m004_item_content_and_redo(db: Database) -> None:
    """What an item stands at is its latest edit (or add) in effect, whatever verdict follows; redo.

    `item_state` gains `content_id` (the decision whose span and fields stand, null for the proposal
    as proposed) and `status`, both kept by the triggers; `decisions` gains `redoes`: a redo is the
    undone decision recorded again, naming the undo it takes back.
    """
    verdict_status = _STATUS.format(verdict="NEW", content="content.id")
    db.executescript(
        f"""
        ALTER TABLE item_state ADD COLUMN content_id INTEGER REFERENCES decisions(id);
        ALTER TABLE item_state ADD COLUMN status TEXT;
        ALTER TABLE decisions ADD COLUMN redoes INTEGER REFERENCES decisions(id);
        CREATE UNIQUE INDEX decisions_redoes ON decisions(redoes);
        CREATE INDEX decisions_annotator ON decisions(annotator, id);
        DROP INDEX item_state_counts;
        CREATE INDEX item_state_counts ON item_state(kind, status, proposal);

        DROP TRIGGER decisions_take_effect;
        CREATE TRIGGER decisions_take_effect AFTER INSERT ON decisions WHEN NEW.action != 'undo'
        BEGIN
            INSERT OR REPLACE INTO item_state (item_id, decision_id, action, kind, document_id, proposal, content_id, status)
            SELECT NEW.item_id, NEW.id, NEW.action, NEW.kind, NEW.document_id, NEW.proposal_id IS NOT NULL,
                   content.id, {verdict_status}
            FROM (SELECT CASE WHEN NEW.action IN ('edit', 'add') THEN NEW.id
                              ELSE (SELECT content_id FROM item_state WHERE item_id = NEW.item_id) END AS id) content;
        END;

        DROP TRIGGER decisions_undo_takes_effect;
        CREATE TRIGGER decisions_undo_takes_effect AFTER INSERT ON decisions WHEN NEW.action = 'undo'
        BEGIN
            DELETE FROM item_state WHERE item_id = NEW.item_id;
            INSERT INTO item_state (item_id, decision_id, action, kind, document_id, proposal, content_id, status)
            SELECT d.item_id, d.id, d.action, d.kind, d.document_id, d.proposal_id IS NOT NULL,
                   content.id, {_STATUS.format(verdict="d", content="content.id")}
            FROM decisions d, (SELECT {_CONTENT.format(item="NEW.item_id")} AS id) content
            WHERE d.id = (
                SELECT max(e.id) FROM decisions e
                WHERE e.item_id = NEW.item_id AND e.action != 'undo'
                  AND NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = e.id)
            );
        END;

        UPDATE item_state SET content_id = {_CONTENT.format(item="item_state.item_id")};
        UPDATE item_state SET status = (
            SELECT {_STATUS.format(verdict="d", content="item_state.content_id")}
            FROM decisions d WHERE d.id = item_state.decision_id
        );
        """
    )


def m005_run_owner(db: Database) -> None:
    """Which process runs a proposal run, so that a run whose process died can be told from a live one."""
    db.executescript(
        """
        ALTER TABLE runs ADD COLUMN pid INTEGER;      -- the process running it
        ALTER TABLE runs ADD COLUMN host TEXT;        -- the machine it runs on (WAL: always this one)
        ALTER TABLE runs ADD COLUMN process TEXT;     -- when that process started, so a reused pid is not taken for it
        CREATE INDEX runs_unfinished ON runs(id) WHERE finished_at IS NULL;
        """
    )


# What an item stands at, kept on its `items` row by the triggers below: the decision in effect
# (`decision`), its latest edit or add in effect (`content`, null for a proposal as proposed), and
# the status they derive (null for a proposal nobody has decided on, and for an item added by hand
# whose add was undone). `flagged` (marked for discussion) is neither gold nor rejected. An accept confirms the item as it stands: an edited item accepted stays
# edited, with its edited values.
_ITEM_STATUS = """CASE
    WHEN {verdict}.action = 'reject' THEN 'rejected'
    WHEN {verdict}.action = 'flag' THEN 'flagged'
    WHEN NOT {item}.proposal THEN 'added'
    WHEN {content} IS NOT NULL THEN 'edited'
    ELSE 'accepted' END"""
_IN_EFFECT = "NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = e.id)"
# The label an item is counted under in `tallies`: a proposal's status (`proposed` while undecided),
# `added` (or `flagged`) for an item added by hand that stands; null (not counted) for one withdrawn
# (its add undone, or rejected).
_TALLY_STATUS = ("CASE WHEN {row}.proposal THEN coalesce({row}.status, 'proposed') "
                 "WHEN {row}.status IN ('added', 'flagged') THEN {row}.status END")
_TRIGGERS = f"""
CREATE TRIGGER items_counted AFTER INSERT ON items WHEN NEW.proposal = 1 OR NEW.status IS NOT NULL
BEGIN
    INSERT INTO tallies (kind, status, count) VALUES (NEW.kind, {_TALLY_STATUS.format(row="NEW")}, 1)
    ON CONFLICT DO UPDATE SET count = count + 1;
END;
CREATE TRIGGER items_recounted AFTER UPDATE OF status ON items WHEN OLD.status IS NOT NEW.status
BEGIN
    UPDATE tallies SET count = count - 1 WHERE kind = OLD.kind AND status = {_TALLY_STATUS.format(row="OLD")};
    INSERT INTO tallies (kind, status, count) SELECT NEW.kind, {_TALLY_STATUS.format(row="NEW")}, 1
    WHERE {_TALLY_STATUS.format(row="NEW")} IS NOT NULL ON CONFLICT DO UPDATE SET count = count + 1;
END;

CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;
CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
BEGIN SELECT RAISE(ABORT, 'decisions are append-only'); END;

CREATE TRIGGER decisions_take_effect AFTER INSERT ON decisions WHEN NEW.action != 'undo'
BEGIN
    UPDATE items SET
        decision = NEW.id,
        content = CASE WHEN NEW.action IN ('edit', 'add') THEN NEW.id ELSE content END,
        status = {_ITEM_STATUS.format(verdict="NEW", item="items",
                                      content="CASE WHEN NEW.action IN ('edit', 'add') THEN NEW.id ELSE content END")}
    WHERE n = NEW.item;
END;

CREATE TRIGGER decisions_undo_takes_effect AFTER INSERT ON decisions WHEN NEW.action = 'undo'
BEGIN
    UPDATE items SET
        decision = (SELECT max(e.id) FROM decisions e WHERE e.item = NEW.item AND e.action != 'undo' AND {_IN_EFFECT}),
        content = (SELECT max(e.id) FROM decisions e WHERE e.item = NEW.item AND e.action IN ('edit', 'add')
                   AND {_IN_EFFECT})
    WHERE n = NEW.item;
    UPDATE items SET status = (
        SELECT {_ITEM_STATUS.format(verdict="d", item="items", content="items.content")}
        FROM decisions d WHERE d.id = items.decision
    ) WHERE n = NEW.item;
END;
"""


SPAN_TEXT_FROM_DOCUMENT = 100_000
"""`annotator.store.SPAN_TEXT_FROM_DOCUMENT` when this migration was written: what it stays, whatever that becomes."""


def m006_store_each_id_once(db: Database) -> None:
    """Keys by number: a document's 71-character id, an item's id, an origin and a reviewer's name are stored once.

    `documents` gains an integer key `n` (its old rowid: the order documents were added). `items`
    holds every item, proposal or added by hand, once: its id, document, kind, the proposal as
    proposed (null for an added item) and what it stands at now (see `_ITEM_STATUS`), replacing
    `proposals` and `item_state`. Decisions name their item, reviewer and session by number; an
    origin is stored once in `origins`. A proposal's own creation time is its run's (or, for an
    import, its decisions').
    """
    db.executescript(
        f"""
        CREATE TABLE new_documents (
            n INTEGER PRIMARY KEY,            -- the order documents were added in
            id TEXT NOT NULL UNIQUE,          -- 'sha256:' + hex digest of the UTF-8 text
            source TEXT NOT NULL,
            title TEXT,
            text TEXT NOT NULL,
            added_at TEXT NOT NULL,
            external_id TEXT,                 -- the id a JSONL record gave, if any
            previous INTEGER REFERENCES new_documents(n)  -- the earlier text of the same source
        );
        INSERT INTO new_documents (n, id, source, title, text, added_at, external_id, previous)
        SELECT d.rowid, d.id, d.source, d.title, d.text, d.added_at, d.external_id,
               (SELECT p.rowid FROM documents p WHERE p.id = d.previous_id)
        FROM documents d ORDER BY d.rowid;

        CREATE TABLE origins (
            n INTEGER PRIMARY KEY,
            json TEXT NOT NULL UNIQUE          -- {{"engine", "model", "prompt"}}, canonical JSON
        );
        INSERT INTO origins (json) SELECT DISTINCT origin FROM proposals ORDER BY origin;

        CREATE TABLE annotators (n INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
        INSERT INTO annotators (name) SELECT DISTINCT annotator FROM decisions ORDER BY annotator;
        CREATE TABLE sessions (n INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
        INSERT INTO sessions (id) SELECT session FROM decisions GROUP BY session ORDER BY min(id);

        CREATE TABLE items (
            n INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,          -- a proposal id, or the id of an item added by hand
            doc INTEGER NOT NULL REFERENCES new_documents(n),
            kind TEXT NOT NULL,
            proposal INTEGER NOT NULL,        -- 1 for a proposal, 0 for an item added by hand
            -- The proposal as proposed (null for an item added by hand):
            run_id INTEGER REFERENCES runs(id),
            start INTEGER,
            "end" INTEGER,
            text TEXT,
            fields TEXT,                      -- the kind's own fields, canonical JSON
            origin INTEGER REFERENCES origins(n),
            grounding_score REAL,
            grounding_method TEXT,
            claimed_text TEXT,                -- the model's words, when not verbatim
            -- What it stands at, kept by the triggers on decisions:
            decision INTEGER,                 -- the decision in effect
            content INTEGER,                  -- the latest edit or add in effect
            status TEXT                       -- accepted, edited, rejected, added; null: undecided
        );
        -- A proposal's text is read from its document when that is short (`stored_span_text`).
        CREATE TEMP TABLE lengths AS SELECT rowid AS n, length(text) AS chars FROM documents;
        INSERT INTO items (id, doc, kind, proposal, run_id, start, "end", text, fields, origin, grounding_score,
                           grounding_method, claimed_text, decision, content, status)
        SELECT p.id, d.rowid, p.kind, 1, p.run_id, p.start, p."end",
               CASE WHEN lengths.chars <= {SPAN_TEXT_FROM_DOCUMENT}
                    AND p.text = substr(d.text, p.start + 1, p."end" - p.start) THEN NULL ELSE p.text END,
               p.fields, o.n, p.grounding_score, p.grounding_method, p.claimed_text, s.decision_id, s.content_id,
               s.status
        FROM proposals p JOIN documents d ON d.id = p.document_id JOIN origins o ON o.json = p.origin
        JOIN temp.lengths lengths ON lengths.n = d.rowid
        LEFT JOIN item_state s ON s.item_id = p.id
        ORDER BY d.rowid, p.start, p.rowid;
        DROP TABLE temp.lengths;
        INSERT INTO items (id, doc, kind, proposal, decision, content, status)
        SELECT a.item_id, d.rowid, a.kind, 0, s.decision_id, s.content_id, s.status
        FROM (SELECT item_id, min(id) AS first, document_id, kind FROM decisions WHERE action = 'add'
              AND proposal_id IS NULL GROUP BY item_id) a
        JOIN documents d ON d.id = a.document_id LEFT JOIN item_state s ON s.item_id = a.item_id
        ORDER BY a.first;
        -- How many items stand at each kind and status (`_TALLY_STATUS`), kept by triggers: counts
        -- without a scan of the items.
        CREATE TABLE tallies (
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (kind, status)
        ) WITHOUT ROWID;
        INSERT INTO tallies (kind, status, count)
        SELECT kind, {_TALLY_STATUS.format(row="items")}, count(*) FROM items
        WHERE {_TALLY_STATUS.format(row="items")} IS NOT NULL GROUP BY 1, 2;
        -- A document's items, with what tells whether it has proposals and decisions, without reading them.
        CREATE INDEX items_document ON items(doc, proposal, status);
        CREATE INDEX items_run ON items(run_id) WHERE run_id IS NOT NULL;
        -- The proposals nobody has decided on yet, by document: where the review goes next.
        CREATE INDEX items_open ON items(doc, kind) WHERE proposal = 1 AND status IS NULL;

        CREATE TABLE new_decisions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            item INTEGER NOT NULL REFERENCES items(n),
            action TEXT NOT NULL CHECK (action IN ('accept', 'edit', 'reject', 'add', 'undo', 'flag')),
            -- The annotation as it stands after an edit or add (null for the other actions).
            start INTEGER,
            "end" INTEGER,
            text TEXT,
            fields TEXT,                      -- the kind's own fields, canonical JSON
            origin TEXT,                      -- an added item's provenance, canonical JSON
            undoes INTEGER REFERENCES new_decisions(id),
            redoes INTEGER REFERENCES new_decisions(id),  -- a redo: the undone decision recorded again
            note TEXT,                        -- a flag's comment
            batch TEXT,                       -- decisions taken as one step (undo and redo take it whole)
            annotator INTEGER NOT NULL REFERENCES annotators(n),
            session INTEGER NOT NULL REFERENCES sessions(n),
            created_at TEXT NOT NULL,
            CHECK ((action = 'undo') = (undoes IS NOT NULL)),
            CHECK ((action IN ('edit', 'add')) = (fields IS NOT NULL AND text IS NOT NULL))
        );
        INSERT INTO new_decisions (id, item, action, start, "end", text, fields, origin, undoes, redoes, annotator,
                                   session, created_at)
        SELECT d.id, i.n, d.action, d.start, d."end", d.text, d.fields, d.origin, d.undoes, d.redoes, a.n, s.n,
               d.created_at
        FROM decisions d JOIN items i ON i.id = d.item_id JOIN annotators a ON a.name = d.annotator
        JOIN sessions s ON s.id = d.session ORDER BY d.id;

        CREATE TABLE new_proposal_failures (
            id INTEGER PRIMARY KEY,
            run_id INTEGER REFERENCES runs(id),
            doc INTEGER NOT NULL REFERENCES new_documents(n),
            kind TEXT,
            reason TEXT NOT NULL,
            claimed TEXT,                     -- what the engine proposed, JSON, when there was an answer
            created_at TEXT NOT NULL
        );
        INSERT INTO new_proposal_failures (id, run_id, doc, kind, reason, claimed, created_at)
        SELECT f.id, f.run_id, d.rowid, f.kind, f.reason, f.claimed, f.created_at
        FROM proposal_failures f JOIN documents d ON d.id = f.document_id ORDER BY f.id;

        -- Dropping a table checks each row's references first: through an index, not a scan per row.
        CREATE INDEX documents_previous ON documents(previous_id);
        DROP TABLE item_state;
        DROP TABLE decisions;
        DROP TABLE proposal_failures;
        DROP TABLE proposals;
        DROP TABLE documents;
        ALTER TABLE new_documents RENAME TO documents;
        ALTER TABLE new_decisions RENAME TO decisions;
        ALTER TABLE new_proposal_failures RENAME TO proposal_failures;
        CREATE INDEX documents_source ON documents(source);
        -- The document ids in order, and the document list's titles and sources, read from here, never the texts.
        CREATE INDEX documents_listing ON documents(n, id, title, source);
        CREATE INDEX decisions_item ON decisions(item, id);
        CREATE UNIQUE INDEX decisions_undoes ON decisions(undoes) WHERE undoes IS NOT NULL;
        CREATE UNIQUE INDEX decisions_redoes ON decisions(redoes) WHERE redoes IS NOT NULL;
        CREATE INDEX decisions_annotator ON decisions(annotator, id);
        CREATE INDEX proposal_failures_document ON proposal_failures(doc);
        {_TRIGGERS}
        """
    )


def m007_document_notes(db: Database) -> None:
    """A reviewer's notes on a document and marks that it is done, flags found by document, batches by value.

    `document_notes` is an append-only log like `decisions`: each row is a document's note (and its
    done mark) as a reviewer left it; the latest row of a document is the one in effect. Nothing is
    rebuilt: one new table and three partial or small indexes.
    """
    db.executescript(
        """
        CREATE TABLE document_notes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            doc INTEGER NOT NULL REFERENCES documents(n),
            note TEXT NOT NULL,               -- '' when the reviewer left no words
            done INTEGER NOT NULL CHECK (done IN (0, 1)),  -- the reviewer marked the document done
            annotator INTEGER NOT NULL REFERENCES annotators(n),
            session INTEGER NOT NULL REFERENCES sessions(n),
            created_at TEXT NOT NULL
        );
        -- A document's latest note: one step down this index, for each row of a page of the document list.
        CREATE INDEX document_notes_document ON document_notes(doc, id);
        CREATE TRIGGER document_notes_no_update BEFORE UPDATE ON document_notes
        BEGIN SELECT RAISE(ABORT, 'document notes are append-only'); END;
        CREATE TRIGGER document_notes_no_delete BEFORE DELETE ON document_notes
        BEGIN SELECT RAISE(ABORT, 'document notes are append-only'); END;
        -- Flagged items by document: what keeps a document out of the gold, found without a scan.
        CREATE INDEX items_flagged ON items(doc) WHERE status = 'flagged';
        -- The decisions taken as one step: undo and redo take them whole.
        CREATE INDEX decisions_batch ON decisions(batch) WHERE batch IS NOT NULL;
        """
    )


# What one reviewer's own decisions make of an item (`reviews`), kept like `items`' state but from that
# reviewer's decisions in one role alone. The status is `_ITEM_STATUS`'s.
_REVIEW_IN_EFFECT = ("e.item = NEW.item AND e.role = reviews.role AND e.annotator = reviews.annotator AND "
                     "NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = e.id)")
_REVIEW_OF_UNDONE = "item = NEW.item AND (role, annotator) = (SELECT role, annotator FROM decisions WHERE id = NEW.undoes)"
_REVIEW_CONTENT = ("CASE WHEN NEW.action IN ('edit', 'add') THEN NEW.id ELSE (SELECT r.content FROM reviews r "
                   "WHERE r.item = NEW.item AND r.role = NEW.role AND r.annotator = NEW.annotator) END")
_REVIEW_TRIGGERS = f"""
CREATE TRIGGER decisions_take_effect_for_reviewer AFTER INSERT ON decisions WHEN NEW.action != 'undo'
BEGIN
    INSERT INTO reviews (item, role, annotator, decision, content, status)
    SELECT NEW.item, NEW.role, NEW.annotator, NEW.id, {_REVIEW_CONTENT},
           {_ITEM_STATUS.format(verdict="NEW", item="items", content=_REVIEW_CONTENT)}
    FROM items WHERE n = NEW.item
    ON CONFLICT DO UPDATE SET decision = excluded.decision, content = excluded.content, status = excluded.status;
END;

CREATE TRIGGER decisions_undo_takes_effect_for_reviewer AFTER INSERT ON decisions WHEN NEW.action = 'undo'
BEGIN
    UPDATE reviews SET
        decision = (SELECT max(e.id) FROM decisions e WHERE {_REVIEW_IN_EFFECT} AND e.action != 'undo'),
        content = (SELECT max(e.id) FROM decisions e WHERE {_REVIEW_IN_EFFECT} AND e.action IN ('edit', 'add'))
    WHERE {_REVIEW_OF_UNDONE};
    UPDATE reviews SET status = (
        SELECT {_ITEM_STATUS.format(verdict="d", item="i", content="reviews.content")}
        FROM decisions d, items i WHERE d.id = reviews.decision AND i.n = reviews.item
    ) WHERE {_REVIEW_OF_UNDONE};
END;
"""


def m008_teams(db: Database) -> None:
    """Several reviewers per document: settings, each reviewer's own state of each item, claims, adjudication.

    - `settings` holds the store's own settings (`overlap`: how many reviewers each document needs).
    - A decision has a `role`: `review`, or `adjudicate` (an adjudicator settling what reviewers
      disagree on).
    - `reviews` holds what each reviewer's own decisions (in one role) make of each item, kept by
      triggers as `items` is; `items` still holds the latest decision of anyone (what a store with one
      reviewer per document calls the label). Filled here from the log.
    - `claims`: which reviewer is taking which document until when.
    Nothing is rebuilt.
    """
    in_effect = "NOT EXISTS (SELECT 1 FROM decisions u WHERE u.undoes = e.id)"
    db.executescript(
        f"""
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
        ALTER TABLE decisions ADD COLUMN role TEXT NOT NULL DEFAULT 'review' CHECK (role IN ('review', 'adjudicate'));
        CREATE TABLE reviews (
            item INTEGER NOT NULL REFERENCES items(n),
            role TEXT NOT NULL,               -- review, adjudicate
            annotator INTEGER NOT NULL REFERENCES annotators(n),
            decision INTEGER,                 -- this reviewer's decision in effect
            content INTEGER,                  -- this reviewer's latest edit or add in effect
            status TEXT,                      -- as items.status, from this reviewer's decisions alone
            PRIMARY KEY (item, role, annotator)
        ) WITHOUT ROWID;
        INSERT INTO reviews (item, role, annotator, decision, content, status)
        SELECT v.item, 'review', v.annotator, v.decision, v.content,
               {_ITEM_STATUS.format(verdict="d", item="i", content="v.content")}
        FROM (SELECT e.item, e.annotator, max(e.id) FILTER (WHERE e.action != 'undo' AND {in_effect}) AS decision,
                     max(e.id) FILTER (WHERE e.action IN ('edit', 'add') AND {in_effect}) AS content
              FROM decisions e GROUP BY e.item, e.annotator) v
        JOIN decisions d ON d.id = v.decision JOIN items i ON i.n = v.item;
        -- A reviewer's documents: their labels, read without a scan.
        CREATE INDEX reviews_annotator ON reviews(annotator, item);
        CREATE TABLE claims (
            doc INTEGER NOT NULL REFERENCES documents(n),
            annotator INTEGER NOT NULL REFERENCES annotators(n),
            claimed_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,         -- renewed while the reviewer works on the document
            PRIMARY KEY (doc, annotator)
        ) WITHOUT ROWID;
        CREATE INDEX claims_annotator ON claims(annotator, doc);
        {_REVIEW_TRIGGERS}
        """
    )


MIGRATIONS = [m001_initial, m002_proposal_provenance, m003_eval_runs, m004_item_content_and_redo, m005_run_owner,
              m006_store_each_id_once, m007_document_notes, m008_teams]

REBUILDS = {"m006_store_each_id_once"}
"""Migrations that rebuild the tables: the file is compacted after them."""


def pending(conn: sqlite3.Connection) -> list[str]:
    """Names of the migrations this database has not had yet."""
    names = [migration.__name__ for migration in MIGRATIONS]
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = '_sqlite_migrations'").fetchone():
        return names
    applied = {row[0] for row in conn.execute(
        "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", [MIGRATION_SET]
    )}
    return [name for name in names if name not in applied]


def apply(db: Database) -> None:
    """Apply every pending migration, each in its own transaction."""
    from sqlite_utils import Migrations

    migrations = Migrations(MIGRATION_SET)
    for migration in MIGRATIONS:
        migrations()(migration)
    migrations.apply(db)
