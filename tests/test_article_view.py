"""ArticleView: wrapping offsets, styles per kind, status and overlap, scrolling, clicks and partial refreshes."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len, split_graphemes
from rich.style import Style
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from annotator.tui.widgets.article import ArticleView, Highlight, _wrap_paragraph, display_text, wrap_offsets

SIZE = (80, 24)


class Host(App[None]):
    """One ArticleView filling the screen, fed the way the review screen feeds it (before it has a size)."""

    def __init__(self, text: str, highlights: Sequence[Highlight] = (), current: str | None = None) -> None:
        super().__init__()
        self.text, self.highlights, self.current = text, highlights, current
        self.clicked: list[str] = []

    def compose(self) -> ComposeResult:
        yield ArticleView()

    def on_mount(self) -> None:
        self.query_one(ArticleView).set_document(self.text, self.highlights, self.current)

    def on_article_view_highlight_clicked(self, event: ArticleView.HighlightClicked) -> None:
        self.clicked.append(event.item_id)


def run(app: Host, check: Callable[[Pilot, ArticleView], Awaitable[None]], size: tuple[int, int] = SIZE) -> None:
    """Run `check` against the app's ArticleView once it is laid out."""

    async def main() -> None:
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await check(pilot, app.query_one(ArticleView))

    asyncio.run(main())


def char_styles(view: ArticleView, line: int) -> dict[int, Style]:
    """The style of each text offset drawn on wrapped line `line` (which must be on screen)."""
    strip = view.render_line(line - view.scroll_offset.y)
    start, end = view.line_spans[line]
    styles: dict[int, Style] = {}
    offset = start
    for segment in strip:
        for _ in segment.text:
            if offset < end:
                styles[offset] = segment.style
            offset += 1
    return styles


def visible_styles(view: ArticleView) -> dict[int, Style]:
    """The style of every text offset on screen."""
    top = view.scroll_offset.y
    styles: dict[int, Style] = {}
    for line in range(top, min(top + view.size.height, len(view.line_spans))):
        styles.update(char_styles(view, line))
    return styles


def shown(styles: dict[int, Style], start: int, end: int) -> list[int]:
    """The offsets in [start, end) that are drawn (not dropped break spaces); never none."""
    offsets = [offset for offset in range(start, end) if offset in styles]
    assert offsets
    return offsets


def component(view: ArticleView, name: str) -> Style:
    """A component class's own (partial) style."""
    return view.get_component_rich_style(name, partial=True)


def span_of(text: str, words: str) -> tuple[int, int]:
    """Offsets of the first occurrence of `words`."""
    start = text.index(words)
    return start, start + len(words)


TEXT = (
    "The army said on Tuesday that nearly half a million people had fled the province, "
    "while the monitor reported 3,000 deaths since April.\n\n"
    "\"We will not leave,\" said Abu Ahmed, a resident of the town.\n"
    "Officials rejected the claim."
)


def highlight(item_id: str, words: str, kind: str, status: str = "proposed", text: str = TEXT) -> Highlight:
    """A highlight over the first occurrence of `words`."""
    return Highlight(item_id, *span_of(text, words), kind=kind, status=status)


# ---------------------------------------------------------------------- wrapping (pure)

WILD = st.text(
    st.one_of(
        st.sampled_from(list("ab  \n\t\r日本😀—’é") + ["\u0301", "\u200d", "\ufe0f", "❤"]),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=300,
)
WORDY = st.lists(
    st.sampled_from(list("abcdefg     \n") + ["日", "本", "😀", "’", "—", "supercalifragilistic"]), max_size=120
).map("".join)


def check_wrap_invariant(text: str, width: int) -> list[tuple[int, int]]:
    """Assert the documented invariant of `wrap_offsets` and return its lines."""
    lines = wrap_offsets(text, width)
    display = display_text(text)
    assert lines[0][0] == 0
    assert re.fullmatch(r" *", display[lines[-1][1] :])  # the text may end in break spaces
    newlines = 0
    for index, (start, end) in enumerate(lines):
        assert start <= end
        assert "\n" not in text[start:end]
        shown = display[start:end]
        assert cell_len(shown) <= width or len(split_graphemes(shown)[0]) == 1, (shown, width)
        if index + 1 < len(lines):
            gap = display[end : lines[index + 1][0]]
            assert re.fullmatch(r" *\n?", gap), gap  # only break spaces and at most one newline
            newlines += gap.endswith("\n")
    assert newlines == text.count("\n")
    # Every character outside the break gaps appears exactly once, in order.
    bounds = [*lines, (len(text), len(text))]
    gaps = {i for (_, end), (start, _) in zip(bounds, bounds[1:]) for i in range(end, start)}
    assert "".join(text[start:end] for start, end in lines) == "".join(c for i, c in enumerate(text) if i not in gaps)
    return lines


@settings(max_examples=300, deadline=None)
@given(WILD, st.integers(1, 30))
def test_wrap_keeps_every_character_once_in_order(text: str, width: int) -> None:
    check_wrap_invariant(text, width)


@settings(max_examples=300, deadline=None)
@given(WORDY, st.integers(1, 30))
def test_wrap_breaks_only_where_the_next_word_does_not_fit(text: str, width: int) -> None:
    lines = check_wrap_invariant(text, width)
    display = display_text(text)
    for (start, end), (next_start, _) in zip(lines, lines[1:]):
        gap = display[end:next_start]
        if gap and "\n" not in gap:  # a soft break: the next word would have overflowed this line
            word_end = min(i for i in (display.find(" ", next_start), display.find("\n", next_start), len(display))
                           if i != -1)
            assert cell_len(display[start:word_end]) > width


@settings(max_examples=200, deadline=None)
@given(st.text(st.sampled_from(list("abc  ")), max_size=200), st.integers(1, 20))
def test_single_cell_fast_path_matches_the_grapheme_path(text: str, width: int) -> None:
    fast: list[tuple[int, int]] = []
    slow: list[tuple[int, int]] = []
    _wrap_paragraph(text, 0, len(text), width, fast)
    _wrap_paragraph(text, 0, len(text), width, slow, list(range(len(text) + 1)), list(range(len(text) + 1)))
    assert fast == slow


def wrapped(text: str, width: int) -> list[str]:
    """The wrapped lines' text."""
    return [text[start:end] for start, end in wrap_offsets(text, width)]


def test_wrap_examples() -> None:
    assert wrap_offsets("", 10) == [(0, 0)]
    assert wrap_offsets("a\n\nb", 10) == [(0, 1), (2, 2), (3, 4)]  # blank line kept
    assert wrapped("  indented words here", 11) == ["  indented", "words here"]
    assert wrapped("one two three   ", 7) == ["one two", "three"]  # break spaces are dropped
    assert wrapped("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    assert wrapped("go abcdefghij", 4) == ["go", "abcd", "efgh", "ij"]
    assert wrapped("日本語の", 5) == ["日本", "語の"]  # wide characters: 2 cells each
    assert wrapped("a\tb", 10) == ["a\tb"]  # a tab is drawn as one space


# ---------------------------------------------------------------------- styles


def test_highlights_are_styled_by_kind_status_and_innermost_wins() -> None:
    highlights = [
        highlight("q1", "The army said on Tuesday that nearly half a million people had fled the province", "quote"),
        highlight("f1", "nearly half a million people", "figure", "accepted"),
        highlight("f2", "3,000 deaths", "figure", "rejected"),
        highlight("s1", "We will not leave", "stance"),
        highlight("x1", "Officials", "claim"),
    ]

    async def check(pilot: Pilot, view: ArticleView) -> None:
        styles = visible_styles(view)
        quote, figure = component(view, "article--quote"), component(view, "article--figure")
        for offset in shown(styles, *span_of(TEXT, "The army said")):
            assert styles[offset].bgcolor == quote.bgcolor and not styles[offset].bold
        for offset in shown(styles, *span_of(TEXT, "nearly half a million people")):  # inside the quote: the figure wins
            assert styles[offset].bgcolor == figure.bgcolor and styles[offset].bold
        for offset in shown(styles, *span_of(TEXT, "3,000 deaths")):
            assert styles[offset].bgcolor == figure.bgcolor and styles[offset].strike and styles[offset].dim
        for offset in shown(styles, *span_of(TEXT, "We will not leave")):
            assert styles[offset].bgcolor == component(view, "article--stance").bgcolor
        for offset in shown(styles, *span_of(TEXT, "Officials")):
            assert styles[offset].bgcolor == component(view, "article--other").bgcolor
        for offset in shown(styles, *span_of(TEXT, "while the monitor")):
            assert styles[offset] == view.rich_style
        assert component(view, "article--quote").bgcolor != figure.bgcolor

    run(Host(TEXT, highlights), check)


def test_current_item_is_emphasised_over_its_whole_span() -> None:
    highlights = [
        highlight("q1", "The army said on Tuesday that nearly half a million people had fled the province", "quote"),
        highlight("f1", "nearly half a million people", "figure"),
    ]

    async def check(pilot: Pilot, view: ArticleView) -> None:
        styles = visible_styles(view)
        start, end = highlights[0].start, highlights[0].end
        assert all(styles[offset].reverse for offset in shown(styles, start, end))
        assert not any(styles[offset].reverse for offset in styles if not start <= offset < end)
        view.set_current("f1")
        styles = visible_styles(view)
        assert {offset for offset in styles if styles[offset].reverse} == set(shown(styles, highlights[1].start, highlights[1].end))

    run(Host(TEXT, highlights, current="q1"), check)


def test_selection_styles_exactly_the_selected_characters() -> None:
    async def check(pilot: Pilot, view: ArticleView) -> None:
        selection = component(view, "article--selection")
        start, end = 70, 150  # crosses a wrapped line and the paragraph break
        view.set_selection(start, end)
        styles = visible_styles(view)
        selected = {offset for offset, style in styles.items() if style.bgcolor == selection.bgcolor and style.underline}
        assert selected == {offset for offset in range(start, end) if offset in styles}
        assert view.line_of_offset(start) != view.line_of_offset(end - 1)
        view.set_selection(5)  # a one-character caret
        styles = visible_styles(view)
        assert {offset for offset, style in styles.items() if style.bgcolor == selection.bgcolor} == {5}
        view.set_selection(None)
        assert not any(style.bgcolor == selection.bgcolor for style in visible_styles(view).values())

    run(Host(TEXT), check)


def test_speaker_mark_underlines_the_mention() -> None:
    async def check(pilot: Pilot, view: ArticleView) -> None:
        start, end = span_of(TEXT, "Abu Ahmed")
        view.set_speaker_mark(start, end)
        styles = visible_styles(view)
        assert {offset for offset, style in styles.items() if style.underline} == set(shown(styles, start, end))
        view.set_speaker_mark(None, None)
        assert not any(style.underline for style in visible_styles(view).values())

    run(Host(TEXT, [highlight("s1", "We will not leave", "stance")]), check)


def test_update_highlight_restyles_only_that_item() -> None:
    paragraphs = [f"Paragraph {i} says that {i * 100} people were counted by the monitor." for i in range(12)]
    text = "\n".join(paragraphs)
    highlights = [highlight(f"f{i}", f"{i * 100} people", "figure", text=text) for i in range(12)]

    async def check(pilot: Pilot, view: ArticleView) -> None:
        before = {y: view.render_line(y) for y in range(view.size.height)}
        refreshed: list[tuple[int, int]] = []
        original = view.refresh_lines
        view.refresh_lines = lambda y, count=1: (refreshed.append((y, count)), original(y, count))[1]  # type: ignore[method-assign]
        changed = Highlight("f5", highlights[5].start, highlights[5].end, "figure", "rejected")
        view.update_highlight(changed)
        line = view.line_of_offset(changed.start)
        assert refreshed == [(line, 1)]
        after = {y: view.render_line(y) for y in range(view.size.height)}
        assert [y for y in before if after[y] is not before[y]] == [line]  # other lines come from the cache
        styles = char_styles(view, line)
        assert all(styles[offset].strike for offset in range(changed.start, changed.end))
        assert not any(style.strike for offset, style in styles.items() if not changed.start <= offset < changed.end)

    run(Host(text, highlights), check)


def test_set_current_refreshes_only_the_old_and_new_lines() -> None:
    text = "\n".join(f"Line {i} has {i} figures in it." for i in range(15))
    highlights = [highlight(f"f{i}", f"{i} figures", "figure", text=text) for i in range(15)]

    async def check(pilot: Pilot, view: ArticleView) -> None:
        refreshed: list[int] = []
        original = view.refresh_lines
        view.refresh_lines = lambda y, count=1: (refreshed.extend(range(y, y + count)), original(y, count))[1]  # type: ignore[method-assign]
        top = view.scroll_offset.y
        view.set_current("f6")
        assert view.scroll_offset.y == top  # already in view: no scroll
        assert sorted(refreshed) == [3, 6]

    run(Host(text, highlights, current="f3"), check)


# ---------------------------------------------------------------------- scrolling


def long_article(paragraphs: int = 300) -> str:
    """Paragraphs of varied lengths, several screens long."""
    return "\n\n".join(f"Paragraph {i}: " + " ".join(["the convoy moved north"] * (1 + i % 7)) for i in range(paragraphs))


def test_set_current_scrolls_a_far_item_into_view_and_renders_only_visible_lines() -> None:
    text = long_article()
    far = Highlight("far", *span_of(text, "Paragraph 290:"), kind="quote", status="proposed")
    near = Highlight("near", *span_of(text, "Paragraph 1:"), kind="figure", status="proposed")

    async def check(pilot: Pilot, view: ArticleView) -> None:
        assert view.scroll_offset.y == 0
        view.set_current("far")
        await pilot.pause()
        line = view.line_of_offset(far.start)
        top = view.scroll_offset.y
        assert top > 0 and top <= line < top + view.size.height
        styles = char_styles(view, line)
        assert all(styles[offset].reverse for offset in shown(styles, far.start, far.end))
        assert len(view._strips) <= 3 * view.size.height  # only what was on screen was rendered
        view.set_current("near")
        await pilot.pause()
        assert view.scroll_offset.y <= view.line_of_offset(near.start) < view.scroll_offset.y + view.size.height

    run(Host(text, [far, near]), check)


def test_opening_a_document_reveals_its_current_item() -> None:
    text = long_article()
    far = Highlight("far", *span_of(text, "Paragraph 250:"), kind="stance", status="accepted")

    async def check(pilot: Pilot, view: ArticleView) -> None:
        line = view.line_of_offset(far.start)
        assert view.scroll_offset.y <= line < view.scroll_offset.y + view.size.height
        view.set_document("A short one.", [], None)
        await pilot.pause()
        assert view.scroll_offset.y == 0 and view.line_spans == ((0, 12),)

    run(Host(text, [far], current="far"), check)


def test_selection_far_away_is_scrolled_into_view() -> None:
    text = long_article()

    async def check(pilot: Pilot, view: ArticleView) -> None:
        start = text.index("Paragraph 200:")
        view.set_selection(start, start + 9)
        await pilot.pause()
        assert view.scroll_offset.y <= view.line_of_offset(start) < view.scroll_offset.y + view.size.height

    run(Host(text), check)


def test_resize_rewraps_to_the_new_width() -> None:
    text = long_article(20)

    async def check(pilot: Pilot, view: ArticleView) -> None:
        width = view.size.width - view.scrollbar_size_vertical
        assert list(view.line_spans) == wrap_offsets(text, width)
        await pilot.resize_terminal(50, 20)
        await pilot.pause()
        narrow = view.size.width - view.scrollbar_size_vertical
        assert narrow < width and list(view.line_spans) == wrap_offsets(text, narrow)
        assert all(strip.cell_length == view.size.width for strip in map(view.render_line, range(view.size.height)))

    run(Host(text), check)


# ---------------------------------------------------------------------- mouse and offsets


def test_clicking_a_highlight_posts_its_id_innermost_first() -> None:
    highlights = [
        highlight("q1", "The army said on Tuesday that nearly half a million people had fled the province", "quote"),
        highlight("f1", "nearly half a million people", "figure"),
    ]

    async def check(pilot: Pilot, view: ArticleView) -> None:
        app = pilot.app
        assert isinstance(app, Host)
        await pilot.click(ArticleView, offset=(5, 0))  # "army"
        start = TEXT.index("half")
        line = view.line_of_offset(start)
        await pilot.click(ArticleView, offset=(cell_len(TEXT[view.line_spans[line][0] : start]), line))
        await pilot.click(ArticleView, offset=(30, view.line_of_offset(TEXT.index("Officials"))))  # plain text
        await pilot.pause()
        assert app.clicked == ["q1", "f1"]

    run(Host(TEXT, highlights), check)


def test_offset_at_and_line_of_offset_round_trip_with_wide_characters() -> None:
    text = "Plain words then 日本語の名前 and an emoji 😀 here.\n\nSecond paragraph " + "word " * 40

    async def check(pilot: Pilot, view: ArticleView) -> None:
        for y, (start, end) in enumerate(view.line_spans):
            for offset in range(start, end):
                x = cell_len(text[start:offset])
                assert view.line_of_offset(offset) == y
                assert view.offset_at(x, y) == offset
                if cell_len(text[offset]) == 2:
                    assert view.offset_at(x + 1, y) == offset  # either cell of a wide character
            assert view.offset_at(cell_len(text[start:end]) + 1, y) is None  # past the end of the line
        assert view.offset_at(0, len(view.line_spans)) is None

    run(Host(text), check)


def test_offset_at_counts_the_scroll() -> None:
    text = long_article()

    async def check(pilot: Pilot, view: ArticleView) -> None:
        view.scroll_to(y=40, animate=False)
        await pilot.pause()
        assert view.offset_at(0, 0) == view.line_spans[40][0]

    run(Host(text), check)
