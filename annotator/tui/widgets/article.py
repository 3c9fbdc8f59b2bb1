"""The article with its annotations highlighted: a line-API widget that renders only what is visible.

A 20,000-word article with 500 highlights re-rendered as one `Static` costs ~220 ms per update;
here the text is wrapped once per (text, width) into a list of (start, end) offsets, each visible
line is rendered on demand from that list and a small interval index of the highlights, and the
rendered lines are cached, so changing the current item re-renders only the lines it touches.

Overlap rule: where highlights overlap, the innermost one (the shortest; on a tie the one that
starts later) gives the characters it covers their kind and status style, so a figure inside a
quote stays visible and the quote shows around it. The current item's emphasis is drawn over its
whole span whatever it contains, then the selection, then the speaker mark.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from rich.cells import get_character_cell_size, split_graphemes
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

KIND_CLASSES = {"quote": "article--quote", "figure": "article--figure", "stance": "article--stance"}
STATUS_CLASSES = {
    "accepted": "article--accepted",
    "edited": "article--accepted",
    "added": "article--accepted",
    "rejected": "article--rejected",
}

# Control characters would corrupt the terminal; each is shown as one space so offsets stay 1:1.
_CONTROLS_AS_SPACES = str.maketrans({c: " " for c in [*range(32), *range(127, 160)] if c != 10})
# Characters one cell wide on their own, and never part of a wider grapheme: a paragraph made only
# of these wraps by plain index arithmetic. Includes the curly quotes and dashes news text is full of.
_SINGLE_CELL = frozenset(
    character
    for first, last in [(0x20, 0x7E), (0xA0, 0x2FF), (0x370, 0x482), (0x2010, 0x2027), (0x2030, 0x205E),
                        (0x20A0, 0x20C0), (0x2100, 0x214F)]
    for character in map(chr, range(first, last + 1))
    if character != "\xad" and get_character_cell_size(character) == 1
)
_SINGLE_CELL_OR_NEWLINE = _SINGLE_CELL | {"\n"}


def display_text(text: str) -> str:
    """The text as drawn: control characters other than newline become spaces (same offsets)."""
    return text.translate(_CONTROLS_AS_SPACES)


def wrap_offsets(text: str, width: int) -> list[tuple[int, int]]:
    """Word-wrap `text` to `width` cells; return each line as (start, end) code-point offsets.

    Every "\\n" ends a line (blank lines stay); a line breaks at the last space that lets it fit,
    and a word wider than the line is cut at a grapheme boundary. The invariant: the gap between
    one line's end and the next line's start is spaces (or control characters) followed by at
    most one "\\n", and it holds a "\\n" exactly where the text has one (after the last line only
    break spaces may follow); so joining the line slices and the gaps gives back the text, and no
    line is wider than `width` unless it is a single grapheme. Spaces at a paragraph's start are kept (indentation); spaces at a soft break
    are dropped into the gap. O(len(text)).
    """
    display = display_text(text)
    width = max(1, width)
    lines: list[tuple[int, int]] = []
    all_single = _SINGLE_CELL_OR_NEWLINE.issuperset(display)
    start = 0
    while True:
        newline = display.find("\n", start)
        end = len(display) if newline == -1 else newline
        if all_single or _SINGLE_CELL.issuperset(display[start:end]):
            _wrap_paragraph(display, start, end, width, lines)
        else:
            spans, _ = split_graphemes(display[start:end])
            bounds = [start + first for first, _, _ in spans] + [end]
            cum = [0, *accumulate(cells for _, _, cells in spans)]
            _wrap_paragraph(display, start, end, width, lines, bounds, cum)
        if newline == -1:
            return lines
        start = newline + 1


def _wrap_paragraph(
    display: str, start: int, end: int, width: int, lines: list[tuple[int, int]],
    bounds: list[int] | None = None, cum: list[int] | None = None,
) -> None:
    """Greedy-wrap display[start:end] (no newline in it) onto `lines`.

    Works on units: graphemes at `bounds` whose widths add up in `cum`, or, when both are None,
    single characters one cell wide each.
    """
    if bounds is None:
        count = end - start

        def at(unit: int) -> int:
            return start + unit

        def is_space(unit: int) -> bool:
            return display[start + unit] == " "
    else:
        count = len(bounds) - 1
        at = bounds.__getitem__

        def is_space(unit: int) -> bool:
            return display[bounds[unit]:bounds[unit + 1]] == " "

    first = 0
    while True:
        # The furthest unit such that units [first, last) fit in the width.
        last = min(first + width, count) if cum is None else bisect_right(cum, cum[first] + width, first) - 1
        if last >= count:
            lines.append((at(first), end))
            return
        space = last  # the unit just past the fitting part may itself be the space to break at
        while space > first and not is_space(space):
            space -= 1
        content_end = space
        while content_end > first and is_space(content_end - 1):
            content_end -= 1
        if is_space(space) and content_end > first:
            lines.append((at(first), at(content_end)))
            first = space + 1
            while first < count and is_space(first):
                first += 1
            if first >= count:
                return
        else:
            last = max(last, first + 1)
            lines.append((at(first), at(last)))
            first = last


@dataclass(frozen=True)
class Highlight:
    """One annotation as the article shows it: a span of the text, its kind and its review status."""

    item_id: str
    start: int  # code-point offsets into the text
    end: int
    kind: str  # "quote" | "figure" | "stance" | any other kind name
    status: str  # "proposed" | "accepted" | "edited" | "rejected" | "added"


PLACE_WIDTH = 2
"""Cells at the right of each line for the place mark (`ArticleView._place_cell`): a space, then the mark."""


class ArticleView(ScrollView):
    """The article, word-wrapped, with every highlight styled by kind and status; renders only visible lines."""

    ALLOW_SELECT = False  # a click picks a highlight rather than starting a text selection

    COMPONENT_CLASSES = {
        "article--quote", "article--figure", "article--stance", "article--other",
        "article--accepted", "article--rejected", "article--current", "article--selection",
        "article--speaker", "article--place",
    }

    DEFAULT_CSS = """
    ArticleView {
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-size-vertical: 0;
    }
    ArticleView > .article--place { color: $scrollbar; }
    ArticleView > .article--quote { background: $primary-muted; }
    ArticleView > .article--figure { background: $warning-muted; }
    ArticleView > .article--stance { background: $success-muted; }
    ArticleView > .article--other { background: $secondary-muted; }
    ArticleView > .article--accepted { text-style: bold; }
    ArticleView > .article--rejected { text-style: dim strike; }
    ArticleView > .article--current { text-style: bold reverse; }
    ArticleView > .article--selection { background: $accent; text-style: underline; }
    ArticleView > .article--speaker { text-style: underline; }
    """

    class HighlightClicked(Message):
        """The user clicked a highlighted span (the innermost highlight under the pointer)."""

        def __init__(self, item_id: str) -> None:
            super().__init__()
            self.item_id = item_id

    def __init__(
        self,
        text: str = "",
        highlights: Sequence[Highlight] = (),
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's own keyword
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._text = text
        self._display = display_text(text)
        self._lines: list[tuple[int, int]] = []
        self._line_starts: list[int] = []
        self._wrap_width = 0
        self._by_id: dict[str, Highlight] = {}
        self._spans: list[tuple[int, int, str]] = []  # clamped, non-empty, sorted by (start, -end)
        self._span_starts: list[int] = []
        self._span_max_ends: list[int] = []  # running maximum of ends: the interval index
        self._current: str | None = None
        self._selection: tuple[int, int] | None = None
        self._speaker: tuple[int, int] | None = None
        self._pending_reveal: tuple[int, int, bool] | None = None
        self._strips: LRUCache[int, list[Strip | None]] = LRUCache(4096)
        """Per wrapped line: its text, and the text with the place mark's cell off and on (built when first drawn)."""
        self._styles: dict[tuple[str | None, str | None, bool, bool, bool], Style] = {}
        self._place_cells: tuple[Strip, Strip] | None = None
        self._blank_rows: dict[tuple[int, bool], Strip] = {}
        """The rows below the end of a short article, by width and place mark."""
        """The place mark's cell off and on, in the article's style."""
        self._index_highlights(highlights)

    # ------------------------------------------------------------------ public API

    @property
    def text(self) -> str:
        """The article's text."""
        return self._text

    @property
    def line_spans(self) -> Sequence[tuple[int, int]]:
        """The wrapped lines as (start, end) offsets; empty until the widget has a width."""
        return tuple(self._lines)

    def set_document(self, text: str, highlights: Sequence[Highlight], current: str | None = None) -> None:
        """Show a new text (re-wrapped) with its highlights; emphasise and reveal `current`, else go to the top."""
        self._text = text
        self._display = display_text(text)
        self._selection = self._speaker = None
        self._current = current
        self._index_highlights(highlights)
        self._wrap_width = 0  # force a re-wrap
        self._pending_reveal = None
        self._rewrap(keep_position=False)
        highlight = self._by_id.get(current) if current is not None else None
        if highlight is not None:
            self._reveal(highlight.start, highlight.end, center=True)
        elif self._lines:
            self.scroll_to(y=0, animate=False, force=True)

    def set_highlights(self, highlights: Sequence[Highlight]) -> None:
        """Replace every highlight: restyle all lines without re-wrapping."""
        self._index_highlights(highlights)
        self._strips.clear()
        self.refresh()

    def replace_highlights(self, highlights: Sequence[Highlight]) -> None:
        """The same text with these highlights (after an undo, a batch, a filter): re-render only the lines of
        the highlights that came, went or changed."""
        new = {h.item_id: h for h in highlights}
        old = self._by_id
        changed = [(old.get(item_id), new.get(item_id)) for item_id in old.keys() | new.keys()
                   if old.get(item_id) != new.get(item_id)]
        if not changed:
            return
        self._index_highlights(new.values())
        self._invalidate(*(_span(h) for pair in changed for h in pair))

    def update_highlight(self, highlight: Highlight) -> None:
        """One item changed status or span (or is new): re-render only the lines it covered or covers."""
        old = self._by_id.get(highlight.item_id)
        self._by_id[highlight.item_id] = highlight
        self._index_highlights(self._by_id.values())
        self._invalidate(_span(old), _span(highlight))

    def set_current(self, item_id: str | None) -> None:
        """Emphasise one item (None: none) and scroll it into view; re-render only the old and new lines."""
        old = self._by_id.get(self._current) if self._current is not None else None
        self._current = item_id
        new = self._by_id.get(item_id) if item_id is not None else None
        self._invalidate(_span(old), _span(new))
        if new is not None:
            self._reveal(new.start, new.end, center=True)

    def set_selection(self, start: int | None, end: int | None = None) -> None:
        """Show the keyboard selection [start, end) (one character when `end` is None; None clears it).

        Re-renders the lines the old and new selections touch and scrolls the edge that moved into view.
        """
        old = self._selection
        if start is None:
            self._selection = None
        else:
            size = len(self._text)
            start = max(0, min(start, size))
            end = start + 1 if end is None else end
            self._selection = (start, max(start, min(end, size)))
        self._invalidate(old, self._selection)
        if self._selection is not None:
            new_start, new_end = self._selection
            moved = new_end - 1 if old is not None and old[0] == new_start else new_start
            self._reveal(max(new_start, moved), max(new_start, moved) + 1, center=False)

    def set_speaker_mark(self, start: int | None, end: int | None) -> None:
        """Underline the current quote's speaker mention (None clears it)."""
        old = self._speaker
        self._speaker = None if start is None or end is None or end <= start else (start, end)
        self._invalidate(old, self._speaker)

    def offset_at(self, x: int, y: int) -> int | None:
        """The text offset drawn at content coordinates (x, y), scroll included; None past a line's end."""
        line = self.scroll_offset.y + y
        if x < 0 or y < 0 or line >= len(self._lines):
            return None
        start, end = self._lines[line]
        spans, _ = split_graphemes(self._display[start:end])
        cell = 0
        for first, _, cells in spans:
            if cell <= x < cell + cells:
                return start + first
            cell += cells
        return None

    def line_of_offset(self, offset: int) -> int:
        """The wrapped line that shows `offset` (an offset in a dropped break space belongs to the line before)."""
        if not self._lines:
            return 0
        return max(0, bisect_right(self._line_starts, offset) - 1)

    def highlights_at(self, offset: int) -> list[Highlight]:
        """The highlights covering `offset`, innermost first."""
        found = self._overlapping(offset, offset + 1)
        found.sort(key=_inner_first)
        return [self._by_id[item_id] for _, _, item_id in found]

    # ------------------------------------------------------------------ Textual hooks

    def on_resize(self, event: events.Resize) -> None:
        """Re-wrap when the width changes, keeping the first visible line's text at the top."""
        self._rewrap(keep_position=True)

    def notify_style_update(self) -> None:
        """CSS or theme changed: drop every cached style and line, if the styles the lines are drawn with changed.

        A box opening over the article takes the focus from it, which restyles it: its lines look the same,
        and drawing every visible one again cost the box's frame several milliseconds.
        """
        super().notify_style_update()
        try:
            drawn: tuple | None = (self.rich_style, *(self.get_component_rich_style(name, partial=True)
                                                      for name in sorted(self.COMPONENT_CLASSES)))
        except KeyError:  # the component styles are not read yet (while mounting)
            drawn = None
        if drawn is None or drawn != getattr(self, "_drawn_with", None):
            self._drawn_with = drawn
            self._styles.clear()
            self._place_cells = None
            self._blank_rows.clear()
            self._strips.clear()
            self.refresh()

    def _on_focus(self, event: events.Focus) -> None:
        """Focused again (a box closed): Textual's own handler, without restyling and repainting the article."""
        self._focus_changed(event, True)

    def _on_blur(self, event: events.Blur) -> None:
        """A box opening takes the focus: the article looks the same, so nothing of it is drawn again."""
        self._focus_changed(event, False)

    def _focus_changed(self, event: events.Focus | events.Blur, focused: bool) -> None:
        # No rule styles the article by focus (app.tcss, Textual's defaults): Widget's own handlers would apply
        # the stylesheet to it again and repaint every visible line, ~3 ms of a box's frame.
        event.prevent_default()
        self.set_reactive(ScrollView.has_focus, focused)
        if self.parent is not None:
            self.parent.post_message(events.DescendantFocus(self) if focused else events.DescendantBlur(self))

    def on_click(self, event: events.Click) -> None:
        """Post HighlightClicked for the innermost highlight under the pointer."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        text_offset = self.offset_at(offset.x, offset.y)
        if text_offset is None:
            return
        found = self.highlights_at(text_offset)
        if found:
            self.post_message(self.HighlightClicked(found[0].item_id))

    def render_line(self, y: int) -> Strip:
        """The strip for content row `y`: a cached wrapped line with the place mark's cell, built on a miss."""
        line = self.scroll_offset.y + y
        marked = self._marked(y)
        if line >= len(self._lines):  # below the end of a short article
            key = (self.size.width, marked)
            if key not in self._blank_rows:
                self._blank_rows[key] = Strip.join([Strip.blank(self.size.width - PLACE_WIDTH, self.rich_style),
                                                    self._place_cell(marked)])
            return self._blank_rows[key]
        drawn = self._strips.get(line)
        if drawn is None:
            drawn = self._strips[line] = [self._render_wrapped_line(line), None, None]
        strip = drawn[1 + marked]
        if strip is None:
            strip = drawn[1 + marked] = Strip.join([drawn[0], self._place_cell(marked)])
        return strip

    def _marked(self, y: int) -> bool:
        """Whether row `y` carries the place mark: the rows of the article on screen, as a bar beside the text, the
        share of the article they are (none when it all fits). Textual's own scrollbar is drawn again at every
        layout of the screen, a frame of its own after each box opened or closed; this one only when the article
        scrolls."""
        shown, total, top = self.size.height, len(self._lines), self.scroll_offset.y
        if total <= shown or shown <= 0:
            return False
        first = top * shown // total
        return first <= y < max(first + 1, -(-(top + shown) * shown // total))

    def _place_cell(self, marked: bool) -> Strip:
        """The place mark's cell, off or on, in the article's style."""
        if self._place_cells is None:
            style = self.rich_style + self.get_component_rich_style("article--place", partial=True)
            self._place_cells = (Strip([Segment(" " * PLACE_WIDTH, style)]),
                                 Strip([Segment(" " * (PLACE_WIDTH - 1) + "▐", style)]))
        return self._place_cells[marked]

    # ------------------------------------------------------------------ internals

    def _index_highlights(self, highlights: Iterable[Highlight]) -> None:
        """Rebuild the interval index: spans sorted by start plus a running maximum of ends."""
        size = len(self._text)
        self._by_id = {h.item_id: h for h in highlights}
        spans = []
        for h in self._by_id.values():
            start, end = max(0, min(h.start, size)), max(0, min(h.end, size))
            if end > start:
                spans.append((start, end, h.item_id))
        spans.sort(key=lambda span: (span[0], -span[1], span[2]))
        self._spans = spans
        self._span_starts = [start for start, _, _ in spans]
        self._span_max_ends = list(accumulate((end for _, end, _ in spans), max))

    def _overlapping(self, start: int, end: int) -> list[tuple[int, int, str]]:
        """Spans that overlap [start, end): two bisections, then a filter over the few candidates."""
        high = bisect_left(self._span_starts, end)
        low = bisect_right(self._span_max_ends, start)
        return [span for span in self._spans[low:high] if span[1] > start]

    def _rewrap(self, *, keep_position: bool) -> None:
        """Wrap to the current content width if it changed; a no-op before the widget has a size."""
        width = self.size.width - PLACE_WIDTH
        if width <= 0 or width == self._wrap_width:
            return
        top = self._lines[self.scroll_offset.y][0] if keep_position and self.scroll_offset.y < len(self._lines) else 0
        self._wrap_width = width
        self._lines = wrap_offsets(self._text, width)
        self._line_starts = [start for start, _ in self._lines]
        self._strips.clear()
        self.virtual_size = Size(width, len(self._lines))
        self.refresh()
        if self._pending_reveal is not None:
            start, end, center = self._pending_reveal
            self._pending_reveal = None
            self._reveal(start, end, center=center)
        elif keep_position:
            self.scroll_to(y=self.line_of_offset(top), animate=False, force=True)

    def _invalidate(self, *spans: tuple[int, int] | None) -> None:
        """Forget the cached lines that show any of `spans` and repaint those on screen, each once."""
        if not self._lines:
            return
        lines: set[int] = set()
        for span in spans:
            if span is not None:
                start, end = span
                lines.update(range(self.line_of_offset(start), self.line_of_offset(max(start, end - 1)) + 1))
        for line in lines:
            self._strips.discard(line)
        top = self.scroll_offset.y
        on_screen = sorted(line for line in lines if top <= line < top + self.size.height)
        run_start = 0
        for index, line in enumerate(on_screen):  # one refresh per run of adjacent lines
            if index + 1 == len(on_screen) or on_screen[index + 1] != line + 1:
                self.refresh_lines(on_screen[run_start], line - on_screen[run_start] + 1)
                run_start = index + 1

    def _reveal(self, start: int, end: int, *, center: bool) -> None:
        """Scroll so [start, end) is in view: centred-ish when `center`, else by the least distance."""
        height = self.scrollable_content_region.height
        if not self._lines or height <= 0:
            self._pending_reveal = (start, end, center)
            return
        first = self.line_of_offset(start)
        last = self.line_of_offset(max(start, end - 1))
        top = round(self.scroll_target_y)
        margin = min(2, height // 4)
        if center:
            fits = last - first + 1 <= height - 2 * margin
            if top + margin <= first and (last if fits else first) < top + height - margin:
                return  # already in view: keep the page still while stepping through nearby items
            target = first - (height - (last - first + 1)) // 2 if fits else first - margin
        elif first < top + margin:
            target = first - margin
        elif first >= top + height - margin:
            target = first - height + margin + 1
        else:
            return
        self.scroll_to(y=max(0, target), animate=False, force=True)

    def _style(self, kind: str | None, status: str | None, current: bool, selected: bool, speaker: bool) -> Style:
        """The composed style of one run of characters (cached until the CSS changes)."""
        key = (kind, status, current, selected, speaker)
        style = self._styles.get(key)
        if style is None:
            style = self.rich_style
            get = self.get_component_rich_style
            for name in (kind, status, "article--current" if current else None,
                         "article--selection" if selected else None, "article--speaker" if speaker else None):
                if name is not None:
                    style += get(name, partial=True)
            self._styles[key] = style
        return style

    def _render_wrapped_line(self, line: int) -> Strip:
        """Build the strip of one wrapped line from the highlights, current item, selection and speaker mark."""
        start, end = self._lines[line]
        display = self._display
        spans = self._overlapping(start, end) if end > start else []
        marks: list[tuple[int, int]] = [m for m in (self._selection, self._speaker) if m is not None]
        current = self._by_id.get(self._current) if self._current is not None else None
        cuts = {start, end}
        for span_start, span_end, _ in spans:
            cuts.add(max(span_start, start))
            cuts.add(min(span_end, end))
        for mark_start, mark_end in marks:
            if mark_start < end and mark_end > start:
                cuts.add(max(mark_start, start))
                cuts.add(min(mark_end, end))
        ordered = sorted(cuts)
        segments = []
        for left, right in zip(ordered, ordered[1:]):
            inner = min((s for s in spans if s[0] <= left and s[1] >= right), key=_inner_first, default=None)
            kind = status = None
            is_current = False
            if inner is not None:
                highlight = self._by_id[inner[2]]
                kind = KIND_CLASSES.get(highlight.kind, "article--other")
                status = STATUS_CLASSES.get(highlight.status)
            if current is not None:
                is_current = current.start <= left and current.end >= right and current.end > current.start
            selected = self._selection is not None and self._selection[0] <= left and self._selection[1] >= right
            speaker = self._speaker is not None and self._speaker[0] <= left and self._speaker[1] >= right
            segments.append(Segment(display[left:right], self._style(kind, status, is_current, selected, speaker)))
        return Strip(segments).adjust_cell_length(self.size.width - PLACE_WIDTH, self.rich_style)


def _span(highlight: Highlight | None) -> tuple[int, int] | None:
    """A highlight's (start, end), or None."""
    return None if highlight is None else (highlight.start, highlight.end)


def _inner_first(span: tuple[int, int, str]) -> tuple[int, int]:
    """Sort key: shorter spans first, then the later start (the overlap rule's innermost)."""
    return (span[1] - span[0], -span[0])
