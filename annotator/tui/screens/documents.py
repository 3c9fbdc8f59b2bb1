"""The document list: every document with its proposal counts and how much is reviewed; filter and search.

The list shows a window of `PAGE` rows around the cursor and reads the next window when the cursor
reaches an edge, so that it opens and searches as fast on an archive of 100,000 documents as on two.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Static

from annotator.review import clip_words
from annotator.store import DocumentSummary, Store
from annotator.tui.keymap import DOCUMENTS_BINDINGS
from annotator.tui.widgets.inputs import SteadyInput

PAGE = 200
"""Rows held in the table at once: more than any terminal shows."""
COUNTS = ("proposals", "added", "reviewed", "failures")
"""The columns after the title and the source."""
NOTE_WIDTH = 16
"""Characters of a document's note the list shows (its `note` column, after the source)."""


class DocumentsModal(ModalScreen["int | None"]):
    """Pick a document to review; returns its index in the review order, or None. Opens on `current`."""

    BINDINGS = DOCUMENTS_BINDINGS

    def __init__(
        self, store: Store, document_ids: list[str], current: int = 0, whole_store: bool = False,
        reviewer: str | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.reviewer = reviewer  # several reviewers per document: counts of this reviewer's own decisions
        self.document_ids = document_ids
        self.whole_store = whole_store  # the list is every document in the order added: ask the store for it whole
        self.current = current
        self._order: dict[str, int] | None = None
        self.query_text = ""
        self.unfinished_only = False
        self.first_row = 0
        self.total = 0
        self.rows: list[DocumentSummary] = []

    def compose(self) -> ComposeResult:
        yield SteadyInput(placeholder="search title or source", id="documents-search")
        yield Static(id="documents-count")
        yield DataTable(id="documents-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("title", "source", "note", *COUNTS)
        self._refresh(at=self.current)
        table.focus()

    def index_of(self, document_id: str) -> int:
        """The document's place in the review order."""
        if self._order is None:
            self._order = {document_id: index for index, document_id in enumerate(self.document_ids)}
        return self._order[document_id]

    def _filters(self) -> dict:
        return {
            "document_ids": None if self.whole_store else self.document_ids,
            "search": self.query_text,
            "unfinished": self.unfinished_only,
            "reviewer": self.reviewer,
        }

    def _refresh(self, at: int = 0) -> None:
        """Count what passes the filters and show the window of rows around row `at` of that list."""
        self.total = self.store.count_documents(**self._filters())
        self._show(at)

    def _show(self, at: int) -> None:
        """Fill the table with the rows around row `at` of the filtered list, the cursor on `at`."""
        at = max(0, min(at, self.total - 1))
        self.first_row = max(0, min(at - PAGE // 2, self.total - PAGE))
        self.rows = self.store.document_summaries(offset=self.first_row, limit=PAGE, **self._filters())
        table = self.query_one(DataTable)
        with table.prevent(DataTable.RowHighlighted):  # filling it is not the reviewer moving
            self._fill(table, at)
        shown = f"{self.first_row + 1:,}–{self.first_row + len(self.rows):,} of " if self.total > len(self.rows) else ""
        self.query_one("#documents-count", Static).update(f"documents {shown}{self.total:,}")

    def _fill(self, table: DataTable, at: int) -> None:
        table.clear()
        # The counts keep their columns; the title and the source's file name share what is left.
        room = max(self.size.width - sum(len(name) + 2 for name in COUNTS) - NOTE_WIDTH - 8, 24)
        for summary in self.rows:
            source = summary.source.rsplit("/", 1)[-1]
            source = source if len(source) <= room // 3 else "…" + source[-(room // 3 - 1):]
            # A document marked done says so before its title.
            title = ("✓ " if summary.done else "") + (summary.title or "–")
            table.add_row(
                clip_words(title, room - len(source)), source, clip_words(summary.note or "", NOTE_WIDTH),
                str(summary.proposals), str(summary.added), f"{summary.percent_reviewed:.0f}%",
                str(summary.failures or ""), key=summary.id,
            )
        if self.rows:
            table.move_cursor(row=at - self.first_row, animate=False)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """At the edge of the window, read the next rows (or the previous ones)."""
        row = event.cursor_row
        if (row <= 0 and self.first_row > 0) or (row >= len(self.rows) - 1 and self.first_row + len(self.rows) < self.total):
            self._show(self.first_row + row)

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter as the reviewer types."""
        self.query_text = event.value
        self._refresh()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Open the one match, or go to the table to pick among several."""
        if self.total == 1:
            self.dismiss(self.index_of(self.rows[0].id))
            return
        self.query_one(DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Open the chosen document."""
        self.dismiss(self.index_of(str(event.row_key.value)))

    def action_search(self) -> None:
        """Focus the search box."""
        self.query_one(Input).focus()

    def action_unfinished(self) -> None:
        """Show only documents with unreviewed proposals, or every document again."""
        self.unfinished_only = not self.unfinished_only
        self._refresh()

    def action_close(self) -> None:
        """Back to the review without changing document."""
        self.dismiss(None)
