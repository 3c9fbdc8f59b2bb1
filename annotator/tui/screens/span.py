"""Select a span of the article from the keyboard: to add a missed annotation or move a span's boundaries."""

from __future__ import annotations

import re

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Static

from annotator.grounding import DocumentIndex
from annotator.schemas import ANNOTATION_KINDS
from annotator.tui.keymap import SPAN_BINDINGS
from annotator.tui.widgets.article import ArticleView
from annotator.tui.widgets.inputs import SteadyInput

_WORD = re.compile(r"\S+")


def word_step(text: str, offset: int, direction: int) -> int:
    """The offset one word boundary from `offset`: the next word's end going right, the previous word's start going left."""
    if direction > 0:
        match = _WORD.search(text, min(offset, len(text)))
        if match and match.end() == offset:
            match = _WORD.search(text, offset + 1)
        return match.end() if match else len(text)
    starts = [m.start() for m in _WORD.finditer(text, 0, max(offset, 0))]
    starts = [s for s in starts if s < offset]
    return starts[-1] if starts else 0


class SpanModal(ModalScreen["tuple[int, int, str] | None"]):
    """Moves a selection over the article below; returns (start, end, kind) or None.

    To add a missed annotation the find field has the focus at once (its words are what the reviewer
    has in front of them): type them, `enter` selects them, `enter` again confirms. Moving a span's
    boundaries starts with the keys; `/` focuses the find field there.
    """

    BINDINGS = SPAN_BINDINGS
    AUTO_FOCUS = ""  # keys move the selection; the find field takes focus on "/" (or at once, to add)

    def __init__(self, article: ArticleView, start: int, end: int, kind: str, *, choose_kind: bool) -> None:
        super().__init__()
        self.article = article
        self.text = article.text
        self.start, self.end = start, max(end, start + 1)
        self.kind = kind
        self.choose_kind = choose_kind
        self.index: DocumentIndex | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="span-panel"):
            yield Static(id="span-status")
            yield SteadyInput(placeholder="type words of the span, enter to find them", id="span-find")
        yield Footer()

    def on_mount(self) -> None:
        self._show()
        if self.choose_kind:
            self.query_one("#span-find", Input).focus()

    def _show(self) -> None:
        self.start = max(0, min(self.start, len(self.text) - 1))
        self.end = max(self.start + 1, min(self.end, len(self.text)))
        self.article.set_selection(self.start, self.end)
        words = self.text[self.start : self.end]
        kind = f"kind [b]{self.kind}[/] (t to change) · " if self.choose_kind else ""
        preview = words if len(words) < 160 else words[:75] + " … " + words[-75:]
        self.query_one("#span-status", Static).update(
            f"{kind}{self.start}:{self.end} [i]{escape(preview)}[/]\n"
            "h/l end by char · b/w end by word · H/L start by char · B/W start by word · / find · enter ok · esc cancel"
        )

    def action_end(self, step: int) -> None:
        """Move the end by characters."""
        self.end += step
        self._show()

    def action_start(self, step: int) -> None:
        """Move the start by characters."""
        self.start += step
        self._show()

    def action_end_word(self, direction: int) -> None:
        """Move the end to the next or previous word boundary."""
        self.end = word_step(self.text, self.end, direction) if direction > 0 else max(
            self.start + 1, _end_of_previous_word(self.text, self.end)
        )
        self._show()

    def action_start_word(self, direction: int) -> None:
        """Move the start to the next or previous word start."""
        if direction > 0:
            match = _WORD.search(self.text, self.start)
            following = _WORD.search(self.text, match.end()) if match else None
            self.start = min(following.start() if following else self.start, self.end - 1)
        else:
            self.start = word_step(self.text, self.start, -1)
        self._show()

    def action_cycle_kind(self) -> None:
        """Next kind for the new annotation."""
        if self.choose_kind:
            kinds = list(ANNOTATION_KINDS)
            self.kind = kinds[(kinds.index(self.kind) + 1) % len(kinds)] if self.kind in kinds else kinds[0]
            self._show()

    def action_find(self) -> None:
        """Type the words of the span and have them located in the article."""
        # Focus after this key is handled, so that the "/" itself is not typed into the field.
        self.call_after_refresh(self.query_one("#span-find", Input).focus)

    def on_input_changed(self, event: Input.Changed) -> None:
        """A "/" as the first character is the find key pressed out of habit (the field has the focus already)."""
        if event.value == "/":
            event.input.value = ""

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Locate typed words (exactly, or near enough) and select them."""
        self.index = self.index or DocumentIndex(self.text)
        found = self.index.ground(event.value, hint=self.start)
        event.input.value = ""
        self.set_focus(None)
        if found.start is None or found.end is None:
            self.notify(f"not found in the article (best match {found.score:.2f})", severity="warning")
            return
        self.start, self.end = found.start, found.end
        self._show()

    def action_confirm(self) -> None:
        """Use the selected span."""
        field = self.query_one("#span-find", Input)
        if field.has_focus:
            self.on_input_submitted(Input.Submitted(field, field.value))
            return
        self.dismiss((self.start, self.end, self.kind))

    def action_cancel(self) -> None:
        """Leave the span as it was; in the find field, leave the field first (the keys then move the selection)."""
        field = self.query_one("#span-find", Input)
        if field.has_focus:
            field.value = ""
            self.set_focus(None)
            return
        self.dismiss(None)


def _end_of_previous_word(text: str, offset: int) -> int:
    ends = [m.end() for m in _WORD.finditer(text, 0, offset) if m.end() < offset]
    return ends[-1] if ends else offset
