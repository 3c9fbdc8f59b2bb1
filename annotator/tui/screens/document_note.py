"""A note on the document under review, and whether it is done: `enter` or `ctrl+s` saves."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Footer, Input, Label

from annotator.tui.keymap import NOTE_BINDINGS
from annotator.tui.widgets.inputs import SteadyInput

MAX_NOTE = 500
"""Characters a document note may hold."""


class DocumentNoteModal(ModalScreen["tuple[str, bool] | None"]):
    """Edit the document's note and its done mark; returns (note, done), or None to leave them as they were."""

    BINDINGS = NOTE_BINDINGS

    def __init__(self, title: str, note: str = "", done: bool = False) -> None:
        super().__init__()
        self.heading = title
        self.note = note
        self.done = done

    def compose(self) -> ComposeResult:
        with Vertical(id="note-dialog"):
            yield Label(self.heading, id="note-title", markup=False)
            yield SteadyInput(self.note, placeholder="a note on this document", max_length=MAX_NOTE, id="note-text")
            yield Checkbox("done: this document's review is finished", self.done, id="note-done")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Save."""
        event.stop()
        self.action_save()

    def action_toggle_done(self) -> None:
        """Mark the document done, or not done."""
        box = self.query_one(Checkbox)
        box.value = not box.value

    def action_save(self) -> None:
        """Save the note and the done mark."""
        self.dismiss((self.query_one(Input).value.strip(), self.query_one(Checkbox).value))

    def action_cancel(self) -> None:
        """Leave the note as it was."""
        self.dismiss(None)
