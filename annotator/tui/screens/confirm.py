"""A yes/no question: `y` or `enter` says yes, `n` or `escape` says no."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Label

from annotator.tui.keymap import CONFIRM_BINDINGS


class ConfirmModal(ModalScreen[bool]):
    """Ask one question; returns True for yes, False for no. The question is plain text, never markup."""

    BINDINGS = CONFIRM_BINDINGS

    def __init__(self, question: str, *, title: str = "Confirm") -> None:
        super().__init__()
        self.question = question
        self.heading = title

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-dialog"):
            yield Label(self.heading, id="confirm-title", markup=False)
            yield Label(self.question, id="confirm-question", markup=False)
        yield Footer()

    def action_confirm(self) -> None:
        """Yes."""
        self.dismiss(True)

    def action_cancel(self) -> None:
        """No."""
        self.dismiss(False)
