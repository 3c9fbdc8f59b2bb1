"""The flag comment: a short line saying why an item needs discussion (`enter` flags, `escape` does not)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Input, Label

from annotator.tui.keymap import FLAG_BINDINGS
from annotator.tui.widgets.dialog import Dialog
from annotator.tui.widgets.inputs import SteadyInput

MAX_COMMENT = 200
"""Characters a flag's comment may hold: a short note, not a discussion."""


class FlagModal(Dialog["str | None"]):
    """Ask for a flag's comment; returns it ('' for none: a flag needs no words), or None to not flag."""

    BINDINGS = FLAG_BINDINGS

    def __init__(self, what: str) -> None:
        super().__init__(id="flag-dialog")
        self.what = what

    def compose(self) -> ComposeResult:
        yield Label("Flag for discussion", id="flag-title")
        yield Label(self.what, id="flag-item", markup=False)
        yield SteadyInput(placeholder="why (optional), enter to flag", max_length=MAX_COMMENT,
                    id="flag-comment")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Flag with what was typed."""
        event.stop()
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        """Do not flag."""
        self.dismiss(None)
