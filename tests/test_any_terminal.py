"""The review screen in any terminal: 80×24 keeps the article readable and the card whole; help and the palette speak of this app."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import DataTable, Static

from annotator.review import clip_words, word_diff
from annotator.schemas import Quote, annotation_class
from annotator.store import open_db
from annotator.tui.app import ReviewApp, create_app
from annotator.tui.commands import ScreenActions
from annotator.tui.screens.review import ReviewScreen
from annotator.tui.widgets.article import ArticleView
from annotator.tui.widgets.hints import HintBar

SMALL = (80, 24)
LARGE = (160, 45)


def review(app: ReviewApp) -> ReviewScreen:
    assert isinstance(app.screen, ReviewScreen)
    return app.screen


def shown_text(app: ReviewApp) -> str:
    """What the sidebar says: card, progress and engine boxes."""
    return "\n".join(str(review(app).query_one(f"#{name}", Static).render()) for name in ("card", "progress", "engine"))


def field_names(kind: str) -> list[str]:
    """The fields of a kind as the card names them."""
    base = set(annotation_class("quote").__mro__[1].model_fields)
    return [name.replace("_", " ") for name in annotation_class(kind).model_fields
            if name not in base and name not in ("speaker_start", "speaker_end")]


async def test_at_80x24_the_article_keeps_48_columns_and_the_card_every_field(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        assert review(app).query_one(ArticleView).outer_size.width >= 48
        for filter_key, kind in (("1", "quote"), ("2", "figure")):
            await pilot.press(filter_key)
            await pilot.pause()
            assert app.queue.current is not None and app.queue.current.kind == kind
            card = str(review(app).query_one("#card", Static).render())
            for name in field_names(kind):
                assert f"{name}:" in card, (kind, name)
            box = review(app).query_one("#card-box")
            if box.max_scroll_y > 0:  # more than fits: a scrollbar says so, and `c` reaches the end
                assert box.show_vertical_scrollbar
                for _ in range(10):
                    await pilot.press("c")
                    await pilot.pause()
                    if box.scroll_y >= box.max_scroll_y:
                        break
                assert box.scroll_y == box.max_scroll_y


async def test_the_hint_bar_shows_the_most_important_keys_that_fit(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        bar = review(app).query_one(HintBar)
        assert [key for _, _, key in bar.spans][:6] == ["a", "x", "e", "j", "u", "question_mark"]
        assert bar.spans[-1][1] <= SMALL[0]  # every key shown whole
        line = str(bar.render())
        assert line.startswith(" a Accept  x Reject  e Edit  j Next  u Undo  ? Help ")


async def test_titles_are_cut_after_a_word(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("J")  # the second seed's title is longer than the sidebar
        await pilot.pause()
        title = app.queue.document.title
        first = str(review(app).query_one("#progress", Static).render()).splitlines()[0]
        assert first.endswith("…") and len(first) <= review(app).query_one("#progress").content_region.width
        assert title.startswith(first[:-1]) and title[len(first) - 1] in " ,;:"
    assert clip_words("Rebels withdraw from Idlib", 18) == "Rebels withdraw…"
    assert clip_words("short", 18) == "short"


def test_a_changed_span_is_a_diff_of_words() -> None:
    before = "the army said it took the town on Monday after a week of fighting"
    after = "the army said it took the town on Monday"
    assert word_diff(before, after) == [("=", "… town on Monday"), ("-", "after a week of fighting")]
    assert word_diff("a b c", "a q c") == [("=", "a"), ("-", "b"), ("+", "q"), ("=", "c")]


async def test_an_edited_span_shows_the_words_that_changed_and_nothing_reads_none(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=LARGE) as pilot:
        await pilot.pause()
        item = app.queue.current
        await pilot.press("s", "b", "enter")  # the end one word back: one edit
        await pilot.pause()
        card = review(app).query_one("#card", Static).render()
        [line] = [line for line in str(card).splitlines() if line.startswith("changed span:")]
        removed = item.text.split()[-1]
        assert line.endswith(removed) and item.text not in str(card)  # the words, not both paragraphs
        at = str(card).index(line) + len(line) - len(removed)
        assert any("strike" in str(span.style) and span.start <= at < span.end for span in card.spans)
        seen = 0
        for _document in ids:  # every item of both documents, on the card and in the progress box
            for _ in app.queue.items:
                assert "None" not in shown_text(app), shown_text(app)
                seen += 1
                await pilot.press("j")
            await pilot.press("J")
            await pilot.pause()
        assert seen > 30
        await pilot.press("d")
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        cells = [str(cell) for row in range(table.row_count) for cell in table.get_row_at(row)]
        assert cells and not any("None" in cell for cell in cells)


async def test_an_absent_value_shows_as_a_dash(tmp_path: Path) -> None:
    from annotator.schemas import Document

    document = Document.from_text("“We stay,” someone said on Monday.", "mayor.txt")
    path = tmp_path / "labels.db"
    with open_db(path) as store:
        store.add_documents([document])
        store.add_proposals(document.id, [Quote(start=1, end=8, text="We stay", speaker=None, cue=None)])
    app = create_app(path, [document.id], "tester")
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        card = str(review(app).query_one("#card", Static).render())
        assert "speaker: –" in card and "cue: –" in card and "None" not in card


async def test_help_lists_this_apps_keys_under_the_users_keymap_and_not_textuals(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester", keymap={"accept": "y,enter"})
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[1]): str(table.get_row_at(i)[0]) for i in range(table.row_count)}
        assert rows["Accept"] == "y / ⏎"
        assert rows["Reject"] == "x" and rows["Next unreviewed"] == "tab" and rows["Actions by name"] == "^p"
        keys = set(rows.values())
        assert not {"^q", "shift+tab", "^c / super+c", "↑"} & keys  # Textual's quit, focus, copy and scroll keys
        assert not {"palette", "Quit the app", "Focus Previous", "Scroll Up"} & set(rows)


async def test_the_palette_offers_the_apps_actions_and_runs_them(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        provider = ScreenActions(review(app))
        names = [hit.display for hit in [hit async for hit in provider.discover()]]
        for name in ("Accept", "Reject", "Edit", "Add missed", "Undo", "Redo", "Next unreviewed", "Documents",
                     "Status filter", "Quotes", "Help", "Adjust span"):
            assert name in names
        assert not {"Theme", "Screenshot", "Keys", "Quit the application as soon as possible"} & set(names)
        first = app.queue.current
        await pilot.press("ctrl+p", *"reject")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.3)
        with open_db(path) as store:
            assert store.annotation(first.id).status == "rejected"


async def test_both_counts_count_proposals_only(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        queue = app.queue
        proposals = sum(item.proposal_id is not None for item in queue.all_items)
        text = queue.document.text
        start = text.index("Syrian state TV")
        queue.add(Quote(start=start, end=start + 15, text="Syrian state TV", speaker="Syrian state TV"))
        review(app).show_document()
        assert queue.current.status == "added"
        await pilot.press("a")  # an item added by hand: already a label, counted nowhere
        await pilot.pause()
        assert queue.progress() == (0, proposals) and queue.overall_progress()[0] == 0
        await pilot.press("1")
        queue.position = next(i for i, item in enumerate(queue.items) if item.status == "proposed")
        await pilot.press("a")  # a proposal: counted once in each
        await pilot.pause()
        assert queue.progress() == (1, proposals) and queue.overall_progress()[0] == 1
        progress = str(review(app).query_one("#progress", Static).render())
        assert f"reviewed 1/{proposals} in this document" in progress
        assert f"reviewed 1/{queue.overall_progress()[1]} in the store" in progress


def test_snapshot_review_screen_80x24(seeded, snap_compare) -> None:
    path, ids = seeded

    async def run_before(pilot) -> None:
        await pilot.press("a", "x", "j")
        await pilot.pause()

    assert snap_compare(create_app(path, ids, "tester"), terminal_size=SMALL, run_before=run_before)


def test_snapshot_review_screen_160x45_after_an_edit(seeded, snap_compare) -> None:
    path, ids = seeded

    async def run_before(pilot) -> None:
        await pilot.press("s", "b", "enter")  # a span one word shorter: the card shows the word that went
        await pilot.pause()

    assert snap_compare(create_app(path, ids, "tester"), terminal_size=LARGE, run_before=run_before)


async def test_a_click_on_a_hint_presses_its_key(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        bar = review(app).query_one(HintBar)
        first = app.queue.current
        [(start, _, _)] = [span for span in bar.spans if span[2] == "x"]
        await pilot.click(HintBar, offset=(start + 1, 0))
        await pilot.pause()
        assert app.store.annotation(first.id).status == "rejected"


async def test_the_article_shows_its_place_beside_the_text_and_follows_the_scroll(seeded) -> None:
    path, ids = seeded
    app = create_app(path, ids, "tester")
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        article = review(app).query_one(ArticleView)
        assert article.max_scroll_y > 0  # a seed article is longer than the screen

        def marked() -> list[int]:
            return [y for y in range(article.size.height) if article.render_line(y).text.endswith("▐")]

        article.scroll_to(y=0, animate=False)
        await pilot.pause()
        top = marked()
        assert top and top[0] == 0 and len(top) < article.size.height  # the share shown, at the top
        article.scroll_end(animate=False)
        await pilot.pause()
        end = marked()
        assert end and end[-1] == article.size.height - 1 and end[0] > top[0]
        assert article.scrollbar_size_vertical == 0  # the mark stands for Textual's scrollbar
        # The text keeps its width: the mark has a column of its own, a space apart.
        assert all(article.render_line(y).cell_length == article.size.width for y in range(article.size.height))
