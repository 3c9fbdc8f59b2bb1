"""Review at the speed of reading: accept the rest (one batch, one undo), flag, the document note, what needs attention.

Pilot tests assert the decisions and notes the store holds; the store's rules (a batch undone and
redone whole, a flag keeping a document out of the gold, a flagged line imported) are tested on it.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from annotator.contract import ContractDocument, Item, left_out_of_gold, status_filter, store_lines
from annotator.errors import AnnotatorError
from annotator.export import import_contract
from annotator.review import ReviewQueue, attention_of
from annotator.schemas import Document
from annotator.store import open_db
from annotator.tui.app import create_app
from annotator.tui.screens.confirm import ConfirmModal
from annotator.tui.screens.document_note import DocumentNoteModal
from annotator.tui.screens.documents import DocumentsModal
from annotator.tui.screens.flag import FlagModal
from annotator.tui.screens.review import ReviewScreen

SIZE = (120, 36)


def statuses(path: Path, document_id: str) -> Counter[str]:
    with open_db(path) as store:
        return Counter(item.status for item in store.annotations(document_id=document_id))


def actions(path: Path) -> list[tuple[str, str | None, str | None]]:
    """(action, note, batch) of every decision, oldest first."""
    with open_db(path) as store:
        return list(store.conn.execute("SELECT action, note, batch FROM decisions ORDER BY id"))


def flag_first(path: Path, document_id: str, note: str = "why") -> str:
    with open_db(path) as store:
        item = next(store.annotations(document_id=document_id))
        store.flag(item.id, "tester", note)
        return item.id


# ------------------------------------------------------------------------------- store


def test_a_batch_is_one_transaction_and_undo_and_redo_take_it_whole(seeded) -> None:
    path, (first, second) = seeded
    with open_db(path) as store:
        ids = [item.id for item in store.annotations(document_id=first)][:5]
        store.record_decision(ids[0], "reject", "tester")
        batch = store.record_decisions(ids[1:], "accept", "tester")
        rows = store.conn.execute("SELECT batch FROM decisions WHERE action = 'accept'").fetchall()
        assert {row[0] for row in rows} == {batch} and len(rows) == 4
        undone = store.undo("tester")
        assert undone["count"] == 4 and undone["action"] == "accept"
        assert [store.annotation(i).status for i in ids] == ["rejected"] + ["proposed"] * 4
        redone = store.redo("tester")
        assert redone["count"] == 4
        assert [store.annotation(i).status for i in ids] == ["rejected"] + ["accepted"] * 4
        assert store.undo("tester")["count"] == 4  # the redone batch is one step again
        assert store.redo("tester")["count"] == 4
        assert store.undo("tester")["count"] == 4
        assert store.undo("tester")["count"] == 1 and store.annotation(ids[0]).status == "proposed"
        assert store.undo("tester") is None
        assert store.item_state() == store.derived_item_state()
        with pytest.raises(AnnotatorError):
            store.record_decisions(ids, "edit", "tester")


def test_a_batch_that_fails_stores_nothing(seeded) -> None:
    path, (first, _) = seeded
    with open_db(path) as store:
        ids = [item.id for item in store.annotations(document_id=first)][:3]
        with pytest.raises(AnnotatorError):
            store.record_decisions([*ids, "no-such-item"], "accept", "tester")
        assert store.conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 0


def test_a_flagged_item_is_not_gold_and_keeps_its_document_out_of_the_gold(seeded) -> None:
    path, (first, second) = seeded
    with open_db(path) as store:
        for document_id in (first, second):
            store.record_decisions([i.id for i in store.annotations(document_id=document_id)], "accept", "tester")
        assert store.fully_reviewed_document_ids() == [first, second]
        item = next(store.annotations(document_id=first))
        store.flag(item.id, "tester", "  is this a quote?  ")
        assert store.annotation(item.id).status == "flagged"
        assert store.flag_note(item.id) == "is this a quote?"
        assert store.fully_reviewed_document_ids() == [second]
        assert store.flagged_document_ids() == [first]
        assert left_out_of_gold(store, "gold") == 1
        gold = [json.loads(line)["doc_id"] for line in store_lines(store, "gold")]
        assert gold == [second]
        flagged = [json.loads(line) for line in store_lines(store, "flagged")]
        assert [[a["status"] for a in line["annotations"]] for line in flagged] == [["flagged"]]
        assert store.stats()["by_status_kind"][("flagged", item.kind)] == 1
        plan = store.conn.execute(
            "EXPLAIN QUERY PLAN SELECT 1 FROM items f INDEXED BY items_flagged WHERE f.doc = 1 AND f.status = 'flagged'"
        ).fetchall()
        assert "items_flagged" in str(plan)
        store.undo("tester")
        assert store.fully_reviewed_document_ids() == [first, second]


def test_a_file_with_a_flagged_item_is_not_fully_reviewed() -> None:
    document = Document.from_text("He said “no” today.", "a.txt")
    quote = Item("quote", 8, 12, "“no”", {"speaker": None}, status="accepted")
    assert ContractDocument(document, [quote], reviewed=True).fully_reviewed
    flagged = Item("quote", 8, 12, "“no”", {"speaker": None}, status="flagged")
    assert not ContractDocument(document, [flagged], reviewed=True).fully_reviewed
    assert not ContractDocument(document, [flagged]).fully_reviewed
    assert ContractDocument(document, [flagged]).partial
    assert status_filter("flagged") == ("flagged",)


def test_importing_a_flagged_line_records_a_flag(seeded, tmp_path: Path) -> None:
    path, (first, _) = seeded
    with open_db(path) as store:
        item_id = flag_first(path, first)
        exported = tmp_path / "all.jsonl"
        exported.write_text("\n".join(store_lines(store, "all")) + "\n", encoding="utf-8")
    with open_db(tmp_path / "other.db") as other:
        import_contract(other, exported, "importer")
        assert other.annotation(item_id).status == "flagged"
        assert [d["action"] for d in other.decisions(item_id)] == ["flag"]
        assert first not in other.fully_reviewed_document_ids()


def test_document_notes_are_a_log_and_the_list_reads_the_latest(seeded) -> None:
    path, (first, second) = seeded
    with open_db(path) as store:
        store.record_document_note(first, "tester", "check the figures", False)
        store.record_document_note(first, "tester", "figures checked", True)
        assert store.document_note(first)["note"] == "figures checked" and store.document_note(first)["done"]
        assert store.document_note(second) is None
        summaries = store.document_summaries(limit=1, offset=0)
        assert (summaries[0].note, summaries[0].done) == ("figures checked", True)
        assert (store.document_summaries(limit=1, offset=1)[0].note, store.document_summaries()[1].done) == (None, False)
        assert store.conn.execute("SELECT count(*) FROM document_notes").fetchone()[0] == 2
        with pytest.raises(Exception, match="append-only"):
            store.conn.execute("DELETE FROM document_notes")


def test_attention_finds_flags_fuzzy_spans_unresolved_speakers_and_disagreeing_engines(seeded) -> None:
    path, (first, _) = seeded
    with open_db(path) as store:
        queue = ReviewQueue(store, [first], "tester")
        queue.open(0)
        items = queue.all_items
        quote = next(i for i in items if i.kind == "quote")
        from dataclasses import replace

        other = replace(quote, id="other", proposal_id="other", origin_json='{"engine":"llm"}',
                        fields_json=json.dumps({**quote.fields(), "speaker": "he"}))
        found = attention_of(queue.document, [*items, other], {quote.id: (0.8, "fuzzy")})
        reasons = {a.reason for a in found[quote.id]}
        assert {"grounding", "disagreement"} <= reasons
        assert "speaker" in {a.reason for a in found["other"]}
        flagged = replace(quote, status="flagged")
        assert attention_of(queue.document, [flagged], {})[quote.id][0].urgency == 0


# ------------------------------------------------------------------------------- keys


async def test_A_accepts_the_rest_after_saying_how_many_of_each_kind_and_u_takes_it_back(seeded) -> None:
    path, (first, second) = seeded
    before = statuses(path, first)
    app = create_app(path, [first, second], "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("x")  # one rejected by hand first
        await pilot.press("A")
        assert isinstance(app.screen.dialog, ConfirmModal)  # a box over the review, not a screen of its own
        rest = sum(before.values()) - 1
        question = app.screen.dialog.question
        assert question.startswith(f"Accept {rest} undecided items (") and "quotes" in question
        await pilot.press("y")
        assert isinstance(app.screen, ReviewScreen) and app.screen.dialog is None
        assert statuses(path, first) == Counter({"accepted": rest, "rejected": 1})
        assert len({batch for action, _, batch in actions(path) if action == "accept"}) == 1
        await pilot.press("u")
        screen = app.screen
        assert screen.notice == f"undid accept of {rest} items"
        assert statuses(path, first) == Counter({"proposed": rest, "rejected": 1})
        await pilot.press("U")
        assert statuses(path, first) == Counter({"accepted": rest, "rejected": 1})
        await pilot.press("u", "u")
        assert statuses(path, first) == before
        await pilot.press("A", "n")  # no: nothing stored
    assert statuses(path, first) == before


async def test_flag_with_a_comment_shows_it_and_tab_passes_flagged_items(seeded) -> None:
    path, (first, second) = seeded
    app = create_app(path, [first], "tester")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        item = screen.queue.current
        await pilot.press("exclamation_mark")
        assert isinstance(screen.dialog, FlagModal)
        await pilot.press(*"ask ed", "enter")
        assert screen.dialog is None
        await pilot.press("k")
        assert screen.queue.current.id == item.id
        assert "flag: ask ed" in screen.card(screen.queue.current).plain
        # tab goes to the next undecided item: never back to the flagged one
        await pilot.press("A", "y", "j", "tab")
        assert screen.notice == "every item is reviewed" and screen.queue.current.id != item.id
        await pilot.press("f", "f", "f", "f")
        assert screen.queue.status_filter == "flagged" and [i.id for i in screen.queue.items] == [item.id]
        await pilot.press("exclamation_mark", "enter")  # an empty comment is allowed
    assert [(a, n) for a, n, _ in actions(path) if a == "flag"] == [("flag", "ask ed"), ("flag", None)]
    with open_db(path) as store:
        assert store.annotation(item.id).status == "flagged"
        assert first not in store.fully_reviewed_document_ids()


async def test_N_leaves_a_note_and_marks_the_document_done_shown_in_the_list(seeded) -> None:
    path, (first, second) = seeded
    app = create_app(path, [first, second], "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("N")
        assert isinstance(app.screen, DocumentNoteModal)
        await pilot.press(*"figures differ", "ctrl+d", "enter")
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        assert "done" in screen.progress().plain and "figures differ" in screen.progress().plain
        await pilot.press("d")
        assert isinstance(app.screen, DocumentsModal)
        table = app.screen.query_one("DataTable")
        row = table.get_row_at(0)
        assert row[0].startswith("✓ ") and row[2] == "figures differ"
        await pilot.press("escape", "N", "escape")  # escape keeps the note
    with open_db(path) as store:
        assert store.document_note(first) == {**store.document_note(first), "note": "figures differ", "done": True}
        assert store.conn.execute("SELECT count(*) FROM document_notes").fetchone()[0] == 1


async def test_g_goes_to_flags_and_qa_errors_first(seeded) -> None:
    path, (first, second) = seeded
    with open_db(path) as store:
        items = list(store.annotations(document_id=first))
        target = items[len(items) // 2]
        store.flag(target.id, "tester", "look")
    app = create_app(path, [first, second], "tester")
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await pilot.press("g")
        assert screen.queue.current.id == target.id
        assert screen.notice.startswith("flag")
        await pilot.press("g")  # then the rest: another item, in this document or the next
        assert screen.queue.current.id != target.id
        assert screen.queue.attention().get(screen.queue.current.id)
