"""A speaker's quotes in the document: pick one to go to it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from annotator.store import StoredAnnotation
from annotator.tui.keymap import SPEAKER_QUOTES_BINDINGS
from annotator.tui.widgets.dialog import Dialog


class SpeakerQuotesModal(Dialog["str | None"]):
    """The quotes attributed to one name, in text order, on the current one; returns the chosen item's id, or None.

    The review screen keeps one in a layer of its own, filled for each name (`show`): a pushed screen was
    composited whole over the review on its first frame (~20 ms), a kept box draws only its own cells.
    """

    BINDINGS = SPEAKER_QUOTES_BINDINGS
    KEPT = True

    def __init__(self) -> None:
        super().__init__(id="speaker-quotes-dialog")
        self.speaker = ""
        self.quotes: list[StoredAnnotation] = []
        self.current: str | None = None

    def compose(self) -> ComposeResult:
        yield Label(id="speaker-quotes-title")
        yield OptionList(id="speaker-quotes-list", compact=True)

    def show(self, name: str, quotes: Sequence[StoredAnnotation], current: str | None = None) -> SpeakerQuotesModal:
        """List these quotes of `name` (before the box is opened), the current one highlighted; returns the box."""
        self.speaker, self.quotes, self.current = name, list(quotes), current
        count = len(self.quotes)
        self.query_one("#speaker-quotes-title", Label).update(
            Text.assemble((name, "bold"), f": {count} quote{'s' if count != 1 else ''} in this document"))
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(self._prompt(quote), id=quote.id) for quote in self.quotes])
        ids = [quote.id for quote in self.quotes]
        options.highlighted = ids.index(current) if current in ids else 0
        return self

    def opened(self) -> None:
        """The arrows and enter go to the list."""
        self.query_one(OptionList).focus()

    def _prompt(self, quote: StoredAnnotation) -> Text:
        words = " ".join(quote.text.split())
        words = words if len(words) <= 80 else words[:79] + "…"
        mark = "▶ " if quote.id == self.current else "  "
        return Text.assemble(mark, (f"{quote.status:<9}", "dim"), " ", ("“" + words + "”", "italic"))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click (or enter in the list) goes to that quote."""
        event.stop()
        self.dismiss(event.option.id)

    def action_choose(self) -> None:
        """Go to the highlighted quote."""
        options = self.query_one(OptionList)
        if options.highlighted is None:
            self.dismiss(None)
        else:
            self.dismiss(self.quotes[options.highlighted].id)

    def action_cancel(self) -> None:
        """Back to the review, where it was."""
        self.dismiss(None)
