"""The document list: every document with its proposal counts and how much is reviewed; filter and search."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input

from annotator.store import DocumentSummary, Store
from annotator.tui.keymap import DOCUMENTS_BINDINGS


class DocumentsModal(ModalScreen["int | None"]):
    """Pick a document to review; returns its index in the review order, or None."""

    BINDINGS = DOCUMENTS_BINDINGS

    def __init__(self, store: Store, document_ids: list[str]) -> None:
        super().__init__()
        self.order = {document_id: index for index, document_id in enumerate(document_ids)}
        self.summaries = [s for s in store.document_summaries() if s.id in self.order]
        self.query_text = ""
        self.unfinished_only = False

    def compose(self) -> ComposeResult:
        yield Input(placeholder="search title or source", id="documents-search")
        yield DataTable(id="documents-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("title", "source", "proposals", "added", "reviewed", "failures")
        self._fill()
        table.focus()

    def visible(self) -> list[DocumentSummary]:
        """The summaries that pass the search and the unfinished filter."""
        needle = self.query_text.lower()
        return [
            s for s in self.summaries
            if (not needle or needle in (s.title or "").lower() or needle in s.source.lower())
            and (not self.unfinished_only or s.reviewed < s.proposals)
        ]

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for summary in self.visible():
            table.add_row(
                (summary.title or "")[:60], summary.source[-40:], str(summary.proposals), str(summary.added),
                f"{summary.percent_reviewed:.0f}%", str(summary.failures or ""), key=summary.id,
            )

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the reviewer types."""
        self.query_text = event.value
        self._fill()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Back to the table."""
        self.query_one(DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the chosen document."""
        self.dismiss(self.order[str(event.row_key.value)])

    def action_search(self) -> None:
        """Focus the search box."""
        self.query_one(Input).focus()

    def action_unfinished(self) -> None:
        """Show only documents with unreviewed proposals, or every document again."""
        self.unfinished_only = not self.unfinished_only
        self._fill()

    def action_close(self) -> None:
        """Back to the review without changing document."""
        self.dismiss(None)
