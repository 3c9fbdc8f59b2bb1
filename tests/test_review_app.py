"""The review UI through Pilot: every key path, asserted against the rows in the store."""

from __future__ import annotations

from pathlib import Path


from annotator.ingest import read_paths
from annotator.propose import RulesProposer
from annotator.store import open_db
from annotator.tui.app import ReviewApp, create_app
from annotator.tui.screens.review import ReviewScreen
from annotator.tui.widgets.article import ArticleView

SIZE = (120, 36)


def statuses(path: Path) -> dict[str, str]:
    with open_db(path) as store:
        return {item.id: item.status for item in store.annotations()}


def screen(app: ReviewApp) -> ReviewScreen:
    assert isinstance(app.screen, ReviewScreen)
    return app.screen


async def test_accept_with_a_and_enter_advances_and_commits(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SIZE) as pilot:
        first = app.queue.current
        await pilot.press("a")
        second = app.queue.current
        assert second is not None and second.id != first.id
        await pilot.press("enter")
        rows = statuses(path)  # committed the moment they were made, read by another connection
        assert rows[first.id] == "accepted" and rows[second.id] == "accepted"
        # The card moved on to the third item, not yet decided, and says so.
        third = app.queue.current
        assert third.id not in (first.id, second.id) and third.status == "proposed"
        assert "proposed" in str(screen(app).query_one("#card").render()).splitlines()[0]
    with open_db(path) as store:
        assert {d["annotator"] for d in store.decisions(first.id)} == {"tester"}


async def test_reject_next_previous_and_documents(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SIZE) as pilot:
        first = app.queue.current
        await pilot.press("x")
        assert statuses(path)[first.id] == "rejected"
        await pilot.press("k")
        assert app.queue.current.id == first.id
        await pilot.press("j", "j")
        assert app.queue.position == 2
        await pilot.press("J")
        assert app.queue.document_index == 1 and app.queue.document.id == ids[1]
        await pilot.press("K")
        assert app.queue.document_index == 0


async def test_edit_records_one_decision_with_the_change(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SIZE) as pilot:
        app.queue.set_kind_filter(["quote"])
        screen(app).show_document()
        item = app.queue.current
        await pilot.press("e")
        await pilot.pause()
        field = app.screen.query("Input").first()
        field.value = "Corrected Speaker"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
    with open_db(path) as store:
        [decision] = store.decisions(item.id)
        [stored] = [a for a in store.annotations() if a.id == item.id]
    assert decision["action"] == "edit" and stored.status == "edited"
    assert stored.fields()["speaker"] == "Corrected Speaker"


async def test_undo_walks_back_across_documents(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SIZE) as pilot:
        first = app.queue.current
        await pilot.press("a", "J", "a")
        assert app.queue.document_index == 1
        await pilot.press("u")
        await pilot.press("u")
        assert app.queue.document_index == 0 and app.queue.current.id == first.id
        assert set(statuses(path).values()) == {"proposed"}


async def test_tab_goes_to_the_next_unreviewed_item(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a")
        app.queue.move(-1)
        await pilot.press("tab")
        assert app.queue.current.status == "proposed" and app.queue.position == 1


async def test_kind_and_status_filters(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("2")
        assert {i.kind for i in app.queue.items} == {"figure"}
        await pilot.press("1")
        assert {i.kind for i in app.queue.items} == {"quote"}
        await pilot.press("4")
        assert len({i.kind for i in app.queue.items}) > 1
        await pilot.press("a", "f")
        assert app.queue.status_filter == "unreviewed" and all(i.status == "proposed" for i in app.queue.items)


async def test_add_a_missed_annotation_by_keyboard(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SIZE) as pilot:
        text = app.queue.document.text
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("slash")
        await pilot.press(*"Hayat")
        app.screen.query_one("#span-find").value = "Hayat Tahrir al-Sham"
        await pilot.press("enter")  # find the typed words
        await pilot.press("w")  # extend the end by one word
        await pilot.press("t")  # quote -> figure -> stance
        await pilot.press("t")
        await pilot.press("enter")  # confirm the span; the edit form opens
        await pilot.pause()
        form = app.screen
        inputs = list(form.query("Input"))
        # Nothing is made up for the reviewer: holder, target and polarity start empty and are required.
        assert [i.value for i in inputs] == ["", ""] and form.field("polarity").is_blank()
        inputs[0].value = "Hayat Tahrir al-Sham"
        inputs[1].value = "the redeployment"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and "Field required" in str(form.query_one("#control-polarity").query(".field-error").first().render())
        form.field("polarity").value = "against"
        await pilot.press("ctrl+s")
        await pilot.pause()
    with open_db(path) as store:
        [added] = list(store.annotations(statuses=["added"]))
    start = text.index("Hayat Tahrir al-Sham")
    assert added.kind == "stance" and added.start == start and text[added.start : added.end] == added.text
    assert added.text.startswith("Hayat Tahrir al-Sham") and len(added.text) > len("Hayat Tahrir al-Sham")
    assert added.fields()["holder"] == "Hayat Tahrir al-Sham" and added.fields()["polarity"] == "against"


async def test_adjust_the_current_span_by_word_and_character(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SIZE) as pilot:
        item = app.queue.current
        text = app.queue.document.text
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("b")  # end back by a word
        await pilot.press("l")  # and forward one character
        await pilot.press("enter")
        await pilot.pause()
    with open_db(path) as store:
        [stored] = [a for a in store.annotations() if a.id == item.id]
    assert stored.status == "edited" and stored.start == item.start and stored.end < item.end
    assert stored.text == text[stored.start : stored.end]


async def test_clicking_a_highlight_selects_it(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SIZE) as pilot:
        article = app.screen.query_one(ArticleView)
        target = app.queue.items[2]
        line = article.line_of_offset(target.start)
        article.scroll_to(y=max(0, line - 2), animate=False)
        await pilot.pause()
        for x in range(0, article.size.width):
            offset = article.offset_at(x, line - int(article.scroll_offset.y))
            if offset is not None and target.start <= offset < target.end:
                await pilot.click(ArticleView, offset=(x + 1, line - int(article.scroll_offset.y)))
                break
        await pilot.pause()
        assert app.queue.current.id == target.id


async def test_keys_can_be_rebound(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester", keymap={"accept": "y"})
    async with app.run_test(size=SIZE) as pilot:
        first = app.queue.current
        await pilot.press("a")
        assert statuses(path)[first.id] == "proposed"
        await pilot.press("y")
        assert statuses(path)[first.id] == "accepted"


async def test_proposals_arrive_from_the_background_engine(tmp_path: Path, seeds: Path) -> None:
    path = tmp_path / "labels.db"
    documents = read_paths([seeds]).documents
    with open_db(path) as store:
        store.add_documents(documents)
    ids = [d.id for d in documents]
    app = create_app(path, ids, "tester", engine=RulesProposer(), pending=ids)
    async with app.run_test(size=SIZE) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.queue.items and app.queue.current is not None
        assert "done" in str(app.screen.query_one("#engine").render())
        with open_db(path) as store:
            total = len(list(store.proposal_rows([i.id for i in store.annotations()])))
        assert total > len(app.queue.items)  # both documents' proposals, counted in the overall progress
        assert f"reviewed 0/{total} in the store" in str(app.screen.query_one("#progress").render())


async def test_help_and_quit(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert type(app.screen).__name__ == "HelpModal"
        await pilot.press("escape")
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running
    assert app.return_code == 0


async def test_document_list_filters_searches_and_opens(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("a", "a")  # two decisions in the first document
        await pilot.press("d")
        await pilot.pause()
        table = app.screen.query_one("#documents-table")
        assert table.row_count == 2
        assert [str(table.get_row_at(0)[-2]), str(table.get_row_at(1)[-2])] == ["12%", "0%"]  # 2 of 17
        await pilot.press("slash", *"syria")
        assert table.row_count == 1  # only the second article's title has "Syria"
        await pilot.press("enter")  # the one match opens at once
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen) and app.queue.document.id == ids[1]
        await pilot.press("d")  # the list opens on the current document
        await pilot.pause()
        assert app.screen.query_one("#documents-table").cursor_row == 1
        await pilot.press("slash", *"seeds", "enter")  # several matches: enter goes to the table to pick
        await pilot.pause()
        assert app.screen.query_one("#documents-table").has_focus


def test_snapshot_review_screen(seeded, snap_compare) -> None:
    path, ids = seeded

    async def run_before(pilot) -> None:
        await pilot.press("a", "x", "j")  # one accepted, one rejected, the current item emphasised
        await pilot.pause()

    assert snap_compare(create_app(path, ids, "tester"), terminal_size=SIZE, run_before=run_before)


async def test_proposals_that_arrive_while_a_modal_is_open_are_shown(tmp_path: Path) -> None:
    """Worker news goes through the App to the review screen: a form or list on top loses none of it."""
    from scripted_server import ScriptedServer, reply_for

    from annotator.propose.llm import LLMEngine
    from annotator.schemas import Document

    text = "“We stay,” the mayor said on Monday."
    document = Document.from_text(text, "mayor.txt")
    path = tmp_path / "labels.db"
    with open_db(path) as store:
        store.add_documents([document])
    answer = {"items": [{"text": "We stay", "speaker": "the mayor", "cue": "said", "quote_type": "direct"}]}
    with ScriptedServer(lambda request: reply_for(request, answer), latency=0.5) as server:
        engine = LLMEngine("scripted-model", base_url=server.base_url, api_key="sk-test", kinds=["quote"],
                           backoff=(0.01, 0.02), timeout=5.0)
        app = create_app(path, [document.id], "tester", engine=engine, pending=[document.id])
        async with app.run_test(size=SIZE) as pilot:
            assert app.queue.current is None
            await pilot.press("question_mark")  # help is on top while the answer arrives
            for _ in range(100):
                await pilot.pause(0.05)
                if "done" in str(screen_below(app).query_one("#engine").render()):
                    break
            assert app.screen is not screen_below(app)
            await pilot.press("escape")
            await pilot.pause()
            assert app.queue.current is not None and app.queue.current.text == "We stay"
            assert "We stay" in str(screen(app).query_one("#card").render())


def screen_below(app: ReviewApp) -> ReviewScreen:
    """The review screen, whatever is on top of it."""
    return app.review_screen


async def test_the_last_decision_of_a_document_goes_on_to_the_next_one_and_a_box_holds_the_review_keys(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SIZE) as pilot:
        queue = app.queue
        queue.position = len(queue.items) - 1  # the last item first: the earlier ones are still undecided
        screen(app).show_current()
        last = queue.current
        await pilot.press("a")
        assert queue.document_index == 0 and queue.position == 0  # back to the first undecided item here
        for _ in range(len(queue.items) - 2):
            await pilot.press("a")
        before = statuses(path)
        assert list(before.values()).count("proposed") > 0 and before[last.id] == "accepted"
        await pilot.press("a")  # the document's last undecided item: on to the next document's first, as tab goes
        assert queue.document_index == 1 and queue.current.status == "proposed"
        assert screen(app).article.text == queue.document.text  # the article shows the document the card is on
        decided = statuses(path)
        assert all(decided[item.id] == "accepted" for item in queue.store.annotations(document_id=ids[0]))
        # While a box is open over the review, the review's keys decide nothing.
        await pilot.press("A")
        assert screen(app).dialog is not None
        await pilot.press("a", "x", "j", "tab")
        assert statuses(path) == decided and screen(app).dialog is not None
        await pilot.press("n")
        assert screen(app).dialog is None and statuses(path) == decided


async def test_a_missed_quote_is_its_words_and_three_enters(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SIZE) as pilot:
        words = "The victories that were achieved"
        assert words in app.queue.document.text
        await pilot.press("n", *words, "enter", "enter")  # the find field has the focus: no "/" first
        await pilot.pause()
        form = app.screen
        assert type(form).__name__ == "EditModal" and form.annotation.text == words
        form.field("speaker").value = "Syrian state TV"
        await pilot.press("enter")
        await pilot.pause()
        added = app.queue.current
        assert added.status == "added" and added.text == words  # it stays current, for its speaker keys
    with open_db(path) as store:
        [stored] = [a for a in store.annotations() if a.id == added.id]
    assert stored.status == "added" and stored.fields()["speaker"] == "Syrian state TV"
