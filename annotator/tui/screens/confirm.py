"""A yes/no question: `y` or `enter` says yes, `n` or `escape` says no."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Label

from annotator.tui.keymap import CONFIRM_BINDINGS
from annotator.tui.widgets.dialog import Dialog


class ConfirmModal(Dialog[bool]):
    """Ask one question; returns True for yes, False for no. The question is plain text, never markup.

    The review screen keeps one, asked again for each question (`ask`): closing it then lays out no screen.
    """

    BINDINGS = CONFIRM_BINDINGS
    KEPT = True

    def __init__(self, question: str = "", *, title: str = "Confirm") -> None:
        super().__init__(id="confirm-dialog")
        self.question = question
        self.heading = title

    def compose(self) -> ComposeResult:
        yield Label(self.heading, id="confirm-title", markup=False)
        yield Label(self.question, id="confirm-question", markup=False)

    def ask(self, question: str, *, title: str = "Confirm") -> ConfirmModal:
        """Put this question and title in the box (before it is opened); returns the box."""
        self.question, self.heading = question, title
        self.query_one("#confirm-title", Label).update(title)
        self.query_one("#confirm-question", Label).update(question)
        return self

    def action_confirm(self) -> None:
        """Yes."""
        self.dismiss(True)

    def action_cancel(self) -> None:
        """No."""
        self.dismiss(False)
