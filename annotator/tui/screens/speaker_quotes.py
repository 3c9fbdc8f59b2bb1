"""A speaker's quotes in the document: pick one to go to it."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option

from annotator.store import StoredAnnotation
from annotator.tui.keymap import SPEAKER_QUOTES_BINDINGS


class SpeakerQuotesModal(ModalScreen["str | None"]):
    """The quotes attributed to one name, in text order, on the current one; returns the chosen item's id, or None."""

    BINDINGS = SPEAKER_QUOTES_BINDINGS

    def __init__(self, name: str, quotes: Sequence[StoredAnnotation], current: str | None = None) -> None:
        super().__init__()
        self.speaker = name
        self.quotes = list(quotes)
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="speaker-quotes-dialog"):
            count = len(self.quotes)
            yield Label(Text.assemble((self.speaker, "bold"), f": {count} quote{'s' if count != 1 else ''} in this document"),
                        id="speaker-quotes-title")
            yield OptionList(*[Option(self._prompt(quote), id=quote.id) for quote in self.quotes], id="speaker-quotes-list")
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        ids = [quote.id for quote in self.quotes]
        options.highlighted = ids.index(self.current) if self.current in ids else 0
        options.focus()

    def _prompt(self, quote: StoredAnnotation) -> Text:
        words = " ".join(quote.text.split())
        words = words if len(words) <= 110 else words[:109] + "…"
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
