"""The gold store: migrations, the append-only decision log and labels derived from it."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annotator.errors import AnnotatorError
from annotator.schemas import Document, Figure, Origin, Quote
from annotator.store import open_db

TEXT = "“We will stay,” Ahmed Sheikho said. Nearly 400,000 people fled."
RULES = Origin(engine="rules", prompt="rules@test")


def _quote(**change) -> Quote:
    fields = {"speaker": "Ahmed Sheikho", "cue": "said", **change}
    return Quote(start=1, end=13, text="We will stay", origin=RULES, **fields)


@pytest.fixture
def doc(store) -> Document:
    document = Document.from_text(TEXT, "a.txt", "A")
    store.add_documents([document])
    return document


def test_migrations_build_the_schema_on_a_blank_db(tmp_path: Path) -> None:
    with open_db(tmp_path / "blank.db") as store:
        db = store.db
        assert db["documents"].columns_dict == {
            "n": int, "id": str, "source": str, "title": str, "text": str, "added_at": str, "external_id": str,
            "previous": int,
        }
        assert db["runs"].columns_dict == {
            "id": int, "engine": str, "model": str, "prompt_name": str, "prompt_hash": str, "params": str,
            "started_at": str, "finished_at": str, "tokens_in": int, "tokens_out": int, "cost": float, "error": str,
            "latency_ms": float, "documents": int, "failures": int, "pid": int, "host": str, "process": str,
        }
        assert db["items"].columns_dict == {
            "n": int, "id": str, "doc": int, "kind": str, "proposal": int, "run_id": int, "start": int, "end": int,
            "text": str, "fields": str, "origin": int, "grounding_score": float, "grounding_method": str,
            "claimed_text": str, "decision": int, "content": int, "status": str,
        }
        assert db["origins"].columns_dict == {"n": int, "json": str}
        assert db["annotators"].columns_dict == {"n": int, "name": str}
        assert db["sessions"].columns_dict == {"n": int, "id": str}
        assert db["proposal_failures"].columns_dict == {
            "id": int, "run_id": int, "doc": int, "kind": str, "reason": str, "claimed": str, "created_at": str,
        }
        assert db["responses"].columns_dict == {
            "key": str, "engine": str, "model": str, "prompt_hash": str, "document_id": str, "response": str,
            "tokens_in": int, "tokens_out": int, "created_at": str,
        }
        assert db["decisions"].columns_dict == {
            "id": int, "item": int, "action": str, "start": int, "end": int, "text": str, "fields": str, "origin": str,
            "undoes": int, "redoes": int, "note": str, "batch": str, "annotator": int, "session": int,
            "created_at": str, "role": str,
        }
        assert not {"proposals", "item_state"} & set(db.table_names())
        assert db["reviews"].columns_dict == {
            "item": int, "role": str, "annotator": int, "decision": int, "content": int, "status": str,
        }
        assert db["claims"].columns_dict == {"doc": int, "annotator": int, "claimed_at": str, "expires_at": str}
        assert db["settings"].columns_dict == {"key": str, "value": str}
        assert db["document_notes"].columns_dict == {
            "id": int, "doc": int, "note": str, "done": int, "annotator": int, "session": int, "created_at": str,
        }
        assert db["eval_runs"].columns_dict == {
            "id": int, "engine": str, "model": str, "prompt_name": str, "prompt_hash": str, "params": str,
            "gold": str, "gold_hash": str, "documents": int, "repeat": int, "metrics": str, "counts": str,
            "spread": str, "passed": int, "failures": int, "started_at": str, "finished_at": str,
        }
        assert db["eval_examples"].columns_dict == {
            "eval_run_id": int, "repetition": int, "document_id": str, "kind": str, "outcome": str, "gold_id": str,
            "gold_start": int, "gold_end": int, "pred_start": int, "pred_end": int, "overlap": float, "text": str,
            "checks": str,
        }
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
        assert store.conn.execute("PRAGMA page_size").fetchone()[0] == 16384
    # Opening again applies nothing twice.
    with open_db(tmp_path / "blank.db") as store:
        assert [m["name"] for m in store.db["_sqlite_migrations"].rows] == [
            "m001_initial", "m002_proposal_provenance", "m003_eval_runs", "m004_item_content_and_redo",
            "m005_run_owner", "m006_store_each_id_once", "m007_document_notes", "m008_teams"]


def test_documents_dedup_by_content_and_link_new_versions(store) -> None:
    first = Document.from_text("one", "a.txt")
    assert store.add_documents([first, first]) == [True, False]
    changed = Document.from_text("one, changed", "a.txt")
    assert store.add_documents([changed]) == [True]
    assert store.document(changed.id).previous_id == first.id
    assert [d.id for d in store.documents()] == [first.id, changed.id]


def test_proposals_are_stored_once_with_stable_ids(store, doc) -> None:
    ids = store.add_proposals(doc.id, [_quote()])
    assert store.add_proposals(doc.id, [_quote()]) == ids
    assert store.conn.execute("SELECT count(*) FROM items WHERE proposal = 1").fetchone()[0] == 1
    [item] = store.annotations()
    assert (item.status, item.text, item.fields()["speaker"]) == ("proposed", "We will stay", "Ahmed Sheikho")
    assert item.origin() == {"engine": "rules", "model": None, "prompt": "rules@test"}


def test_latest_decision_wins_and_undo_walks_back(store, doc) -> None:
    [item_id] = store.add_proposals(doc.id, [_quote()])
    store.record_decision(item_id, "accept", "ann")
    store.record_decision(item_id, "edit", "ann", _quote(speaker="Sheikho family"))
    [item] = store.annotations()
    assert (item.status, item.fields()["speaker"]) == ("edited", "Sheikho family")
    store.record_decision(item_id, "reject", "ann")
    assert [a.status for a in store.annotations()] == ["rejected"]

    undone = store.undo()
    assert undone is not None and (undone["item_id"], undone["action"], undone["document_id"]) == (item_id, "reject", doc.id)
    [item] = store.annotations()
    assert (item.status, item.fields()["speaker"]) == ("edited", "Sheikho family")
    store.undo()
    assert [a.status for a in store.annotations()] == ["accepted"]
    store.undo()
    assert [a.status for a in store.annotations()] == ["proposed"]
    assert store.undo() is None
    # Undo is an event: every decision is still in the log.
    assert [d["action"] for d in store.decisions(item_id)] == ["accept", "edit", "reject", "undo", "undo", "undo"]


def test_undo_reaches_across_documents_and_sessions(tmp_path: Path) -> None:
    path = tmp_path / "labels.db"
    with open_db(path) as store:
        docs = [Document.from_text(f"Doc {i} said “yes”.", f"{i}.txt") for i in range(2)]
        store.add_documents(docs)
        ids = [store.add_proposals(d.id, [Quote(start=12, end=15, text="yes")])[0] for d in docs]
        store.record_decision(ids[0], "accept", "ann")
        store.record_decision(ids[1], "reject", "ann")
    with open_db(path) as store:  # a later session
        store.undo("ann")
        store.undo("ann")
        assert [a.status for a in store.annotations()] == ["proposed", "proposed"]


def test_undo_only_takes_back_the_annotators_own_decisions(store, doc) -> None:
    [item_id] = store.add_proposals(doc.id, [_quote()])
    store.record_decision(item_id, "accept", "alice")
    assert store.undo("bob") is None
    assert [a.status for a in store.annotations()] == ["accepted"]


def test_added_items_are_gold_and_can_be_corrected_or_undone(store, doc) -> None:
    figure = Figure(start=36, end=57, text=TEXT[36:57], value=400000, qualifier="approximately", unit="people")
    store.record_decision("m_1", "add", "ann", figure, document_id=doc.id)
    [item] = store.annotations()
    assert (item.id, item.status, item.fields()["value"]) == ("m_1", "added", 400000)
    assert item.origin()["engine"] == "manual"
    store.record_decision("m_1", "edit", "ann", figure.model_copy(update={"unit": "civilians"}))
    [item] = store.annotations()
    assert (item.status, item.fields()["unit"]) == ("added", "civilians")
    with pytest.raises(AnnotatorError, match="gold already"):
        store.record_decision("m_1", "accept", "ann")
    store.undo()
    store.undo()
    assert list(store.annotations()) == []


def test_decisions_cannot_be_changed_or_deleted(store, doc) -> None:
    [item_id] = store.add_proposals(doc.id, [_quote()])
    store.record_decision(item_id, "accept", "ann")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("UPDATE decisions SET action = 'reject'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("DELETE FROM decisions")
    assert [a.status for a in store.annotations()] == ["accepted"]


def test_unknown_items_and_actions_are_refused(store, doc) -> None:
    with pytest.raises(AnnotatorError, match="no proposal or added item"):
        store.record_decision("p_nope", "accept", "ann")
    with pytest.raises(AnnotatorError, match="unknown decision"):
        store.record_decision("p_nope", "approve", "ann")
    with pytest.raises(AnnotatorError, match="needs"):
        store.record_decision("p_nope", "edit", "ann")
    assert store.db["decisions"].count == 0


def test_a_failed_transaction_stores_nothing(store, doc) -> None:
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.add_proposals(doc.id, [_quote()])
            raise RuntimeError("crash")
    assert store.conn.execute("SELECT count(*) FROM items WHERE proposal = 1").fetchone()[0] == 0


def test_document_summaries_count_what_is_reviewed(store, doc) -> None:
    other = Document.from_text("No news.", "b.txt")
    store.add_documents([other])
    ids = store.add_proposals(doc.id, [_quote(), Figure(start=36, end=57, text=TEXT[36:57], value=4e5)])
    store.record_decision(ids[0], "accept", "ann")
    store.record_decision("m_x", "add", "ann", _quote(), document_id=doc.id)
    first, second = store.document_summaries()
    assert (first.id, first.proposals, first.reviewed, first.added, first.percent_reviewed) == (doc.id, 2, 1, 1, 50.0)
    assert (second.id, second.proposals, second.title) == (other.id, 0, None)


def test_stats_count_by_status_and_kind(store, doc) -> None:
    ids = store.add_proposals(doc.id, [_quote(), Figure(start=36, end=57, text=TEXT[36:57], value=4e5)])
    store.record_decision(ids[0], "reject", "ann")
    figures = store.stats()
    assert figures["documents"] == 1 and figures["proposals"] == 2 and figures["decisions"] == 1
    assert figures["by_status_kind"] == {("rejected", "quote"): 1, ("proposed", "figure"): 1}
    assert figures["percent_reviewed"] == 50.0


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "labels.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(AnnotatorError, match="labels.db: not an annotator database"):
        open_db(bad)
    assert bad.read_bytes() == b"this is not sqlite" * 100


WRITER = """
import sys
from annotator.store import open_db
store = open_db(sys.argv[1])
ids = sys.argv[3].split(",")
for item_id in ids:
    store.record_decision(item_id, "accept", sys.argv[2])
"""


def test_two_reviewers_in_two_processes_lose_no_write(tmp_path: Path) -> None:
    path = tmp_path / "labels.db"
    with open_db(path) as store:
        document = Document.from_text(" ".join(f"w{i}" for i in range(400)), "a.txt")
        store.add_documents([document])
        words = document.text.split(" ")
        offsets = [sum(len(w) + 1 for w in words[:i]) for i in range(len(words))]
        ids = store.add_proposals(
            document.id, [Quote(start=o, end=o + len(w), text=w) for o, w in zip(offsets, words)]
        )
    halves = [ids[::2], ids[1::2]]
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, ",".join(half)])
        for name, half in zip(["alice", "bob"], halves)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with open_db(path) as store:
        assert store.db["decisions"].count == 400
        assert {a.status for a in store.annotations()} == {"accepted"}
        assert {a.annotator for a in store.annotations()} == {"alice", "bob"}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["accept", "edit", "reject", "add", "undo", "redo"]), st.integers(0, 4),
                          st.sampled_from(["alice", "bob"])), max_size=40))
def test_item_state_always_equals_the_log(tmp_path: Path, steps) -> None:
    """The trigger-kept index of current decisions never drifts from a derivation of the log alone."""
    import secrets

    with open_db(tmp_path / f"{secrets.token_hex(4)}.db") as store:
        document = Document.from_text(TEXT, "a.txt")
        store.add_documents([document])
        ids = store.add_proposals(document.id, [_quote(speaker=f"S{i}") for i in range(3)])
        ids += ["m_a", "m_b"]
        for action, index, who in steps:
            item_id = ids[index]
            try:
                if action == "undo":
                    store.undo(who)
                elif action == "redo":
                    store.redo(who)
                elif action in ("edit", "add"):
                    store.record_decision(item_id, action, who, _quote(speaker=who), document_id=document.id)
                else:
                    store.record_decision(item_id, action, who)
            except AnnotatorError:
                pass  # e.g. accepting an item never added: refused, and nothing is written
        state = store.item_state()
        assert state == store.derived_item_state()
        recounted = store.conn.execute(
            "SELECT kind, CASE WHEN proposal THEN coalesce(status, 'proposed') WHEN status IN ('added', 'flagged') "
            "THEN status END AS label, count(*) FROM items WHERE label IS NOT NULL GROUP BY 1, 2"
        ).fetchall()
        assert sorted(recounted) == sorted(store.conn.execute("SELECT * FROM tallies WHERE count > 0").fetchall())
        statuses = {a.id: a.status for a in store.annotations()}
        for item_id, (decision_id, content_id) in state.items():
            [action] = store.conn.execute("SELECT action FROM decisions WHERE id = ?", [decision_id]).fetchone()
            if item_id.startswith("p_"):
                # Every edit here names another speaker: an item with an edit in effect stands edited,
                # whatever verdict followed, until it is rejected.
                expected = "rejected" if action == "reject" else "edited" if content_id is not None else "accepted"
                assert statuses[item_id] == expected


def test_a_proposal_s_words_are_read_from_its_document_unless_that_is_long(store, monkeypatch) -> None:
    import annotator.store as store_module

    text = "Émile 👋 said: «Ça ira» — 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 stays."
    document = Document.from_text(text, "u.txt")
    store.add_documents([document])
    start = text.index("Ça ira")
    [short] = store.add_proposals(document.id, [Quote(start=start, end=start + 6, text="Ça ira", origin=RULES)])
    assert store.conn.execute("SELECT text FROM items WHERE id = ?", [short]).fetchone()[0] is None  # not stored twice
    assert store.annotation(short).text == "Ça ira" == next(store.proposal_rows([short]))["text"]
    monkeypatch.setattr(store_module, "SPAN_TEXT_FROM_DOCUMENT", 10)  # the same document now counts as long
    begin = text.index("𝔘")
    [long] = store.add_proposals(document.id, [Quote(start=begin, end=begin + 7, text="𝔘𝔫𝔦𝔠𝔬𝔡𝔢", origin=RULES)])
    assert store.conn.execute("SELECT text FROM items WHERE id = ?", [long]).fetchone()[0] == "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"
    assert store.annotation(long).text == "𝔘𝔫𝔦𝔠𝔬𝔡𝔢"
