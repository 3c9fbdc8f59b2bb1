"""A yes/no question: `y` or `enter` says yes, `n` or `escape` says no."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Label

from annotator.tui.keymap import CONFIRM_BINDINGS
from annotator.tui.widgets.dialog import Dialog


class ConfirmModal(Dialog[bool]):
    """Ask one question; returns True for yes, False for no. The question is plain text, never markup."""

    BINDINGS = CONFIRM_BINDINGS

    def __init__(self, question: str, *, title: str = "Confirm") -> None:
        super().__init__(id="confirm-dialog")
        self.question = question
        self.heading = title

    def compose(self) -> ComposeResult:
        yield Label(self.heading, id="confirm-title", markup=False)
        yield Label(self.question, id="confirm-question", markup=False)

    def on_mount(self) -> None:
        self.focus()

    def action_confirm(self) -> None:
        """Yes."""
        self.dismiss(True)

    def action_cancel(self) -> None:
        """No."""
        self.dismiss(False)
