"""The review screen: the article with its highlights, the current item's card, and the keys that decide."""

from __future__ import annotations

from collections.abc import Callable

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from annotator.errors import AnnotatorError
from annotator.review import Reversal, ReviewQueue, annotation_of, draft_annotation
from annotator.schemas import Annotation
from annotator.store import StoredAnnotation
from annotator.tui.keymap import REVIEW_BINDINGS
from annotator.tui.messages import ProposalsArrived
from annotator.tui.widgets.article import ArticleView, Highlight


def highlight(item: StoredAnnotation) -> Highlight:
    """The article's view of an item."""
    return Highlight(item.id, item.start, item.end, item.kind, item.status)


class ReviewScreen(Screen[None]):
    """Review one document's proposals, item by item, from the keyboard."""

    BINDINGS = REVIEW_BINDINGS

    def __init__(self, queue: ReviewQueue, engine_status: str = "") -> None:
        super().__init__()
        self.queue = queue
        self.notice = ""
        self.engine_status = engine_status
        self.document_failures: list[dict[str, str]] = []

    def compose(self) -> ComposeResult:
        with Horizontal(id="review"):
            yield ArticleView(id="article")
            with Vertical(id="sidebar"):
                yield Static(id="card")
                yield Static(id="progress")
                yield Static(self.engine_status, id="engine")
        yield Footer()

    def on_mount(self) -> None:
        self.show_document()

    @property
    def article(self) -> ArticleView:
        """The article widget."""
        return self.query_one(ArticleView)

    # ------------------------------------------------------------------ drawing

    def show_document(self) -> None:
        """Draw the current document from scratch (a new document, a filter, an undo)."""
        queue = self.queue
        text = queue.document.text if queue.document else ""
        self.document_failures = queue.store.failures(queue.document.id) if queue.document else []
        current = queue.current
        self.article.set_document(text, [highlight(i) for i in queue.items], current.id if current else None)
        self.show_current()

    def show_current(self) -> None:
        """Emphasise the current item and redraw the card: the cheap update after a decision."""
        current = self.queue.current
        self.article.set_current(current.id if current else None)
        speaker = current.fields() if current is not None and current.kind == "quote" else {}
        self.article.set_speaker_mark(speaker.get("speaker_start"), speaker.get("speaker_end"))
        # The sidebar's boxes have fixed heights (app.tcss): new text repaints them without a new layout.
        self.query_one("#card", Static).update(self.card(current), layout=False)
        self.query_one("#progress", Static).update(self.progress(), layout=False)

    def card(self, item: StoredAnnotation | None) -> Text:
        """The current item's fields, its status and where it came from."""
        failed = self.failures_line()
        if item is None:
            empty = "[dim]No items here.[/]\n\n[b]n[/] add a missed annotation · [b]J[/] next document"
            return Text.from_markup(f"{failed}\n\n{empty}" if failed else empty)
        lines = [f"[b]{item.kind}[/]  [reverse] {item.status} [/]", f"[i]{escape(item.text[:300])}[/]", ""]
        for name, value in item.fields().items():
            if name in ("speaker_start", "speaker_end"):
                continue
            lines.append(f"[b]{name.replace('_', ' ')}[/]: {escape(str(value)) if value is not None else '[dim]—[/]'}")
        origin = item.origin()
        lines += ["", f"[dim]engine[/] {escape(str(origin.get('engine') or '—'))}  [dim]model[/] {escape(str(origin.get('model') or '—'))}"]
        if item.proposal_id is not None:
            row = next(self.queue.store.proposal_rows([item.id]), None)
            if row is not None and row["grounding_method"]:
                lines.append(f"[dim]grounding[/] {row['grounding_method']} {row['grounding_score']:.2f}")
        for change in self.queue.changes(item):
            lines.append(f"[yellow]changed[/] {change.field}: {escape(str(change.before))} → {escape(str(change.after))}")
        if item.annotator:
            lines.append(f"[dim]by[/] {escape(item.annotator)}")
        if failed:
            lines += ["", failed]
        return Text.from_markup("\n".join(lines))

    def failures_line(self) -> str:
        """What the engine failed to do on this document (markup), or '' when it failed nowhere here."""
        if not self.document_failures:
            return ""
        last = self.document_failures[-1]
        kind = f" ({escape(last['kind'])})" if last.get("kind") else ""
        return (f"[red]engine: {len(self.document_failures)} failures on this document[/]\n"
                f"[dim]last{kind}:[/] {escape(str(last['reason'])[:160])}")

    def progress(self) -> Text:
        """Where the reviewer is: item, document, filters."""
        queue = self.queue
        reviewed, total = queue.progress()
        overall = queue.overall_progress()
        document = queue.document
        title = escape((document.title or document.source) if document else "")
        position = f"{queue.position + 1}/{len(queue.items)}" if queue.items else "0/0"
        kinds = ",".join(queue.kinds) if queue.kinds else "all kinds"
        lines = [
            f"[b]{title[:60]}[/]",
            f"document {queue.document_index + 1}/{len(queue.document_ids)} · item {position}",
            f"reviewed {reviewed}/{total} in this document",
            "reviewed {}/{} in the store ({:.0f}%)".format(*overall, 100 * overall[0] / max(overall[1], 1)),
            f"showing {kinds} · {queue.status_filter}",
        ]
        if self.notice:
            lines.append(f"[yellow]{escape(self.notice)}[/]")
        return Text.from_markup("\n".join(lines))

    def _after_decision(self, item: StoredAnnotation | None) -> None:
        if item is not None:
            self.article.update_highlight(highlight(item))
        self.notice = ""
        self.show_current()

    # ------------------------------------------------------------------ actions

    def action_accept(self) -> None:
        """Accept the current item and go to the next."""
        self._after_decision(self.queue.accept())

    def action_reject(self) -> None:
        """Reject the current item and go to the next."""
        item = self.queue.reject()
        if item is not None and item.proposal_id is None:
            self.show_document()
        else:
            self._after_decision(item)

    def action_next_item(self) -> None:
        """Next item."""
        self.queue.move(1)
        self.show_current()

    def action_previous_item(self) -> None:
        """Previous item."""
        self.queue.move(-1)
        self.show_current()

    def action_next_document(self) -> None:
        """Next document."""
        self.queue.move_document(1)
        self.show_document()

    def action_previous_document(self) -> None:
        """Previous document."""
        self.queue.move_document(-1)
        self.show_document()

    def action_next_unreviewed(self) -> None:
        """Next item nobody has decided on yet, in any document."""
        before = self.queue.document_index
        if not self.queue.next_unreviewed():
            self.notice = "every item is reviewed"
        if self.queue.document_index != before:
            self.show_document()
        else:
            self.show_current()

    def action_undo(self) -> None:
        """Undo your latest decision, in whatever document it was, and say what was undone."""
        self._reversed(self.queue.undo(), "undid", "nothing to undo")

    def action_redo(self) -> None:
        """Redo your latest undo (until you decide something new), and say what was redone."""
        self._reversed(self.queue.redo(), "redid", "nothing to redo")

    def _reversed(self, reversal: Reversal | None, verb: str, nothing: str) -> None:
        self.notice = reversal.describe(verb) if reversal else nothing
        self.notify(self.notice, title=verb.capitalize() if reversal else None, timeout=4)
        self.show_document()

    def action_filter_kind(self, kind: str) -> None:
        """Show one kind, or every kind for ''."""
        self.queue.set_kind_filter([kind] if kind else None)
        self.show_document()

    def action_cycle_status(self) -> None:
        """Cycle the status filter: all, unreviewed, gold, rejected."""
        self.queue.cycle_status_filter()
        self.show_document()

    def action_documents(self) -> None:
        """Open the document list."""
        from annotator.tui.screens.documents import DocumentsModal

        def chosen(index: int | None) -> None:
            if index is not None:
                self.queue.open(index)
                self.show_document()

        queue = self.queue
        self.app.push_screen(
            DocumentsModal(queue.store, queue.document_ids, queue.document_index, whole_store=queue.whole_store), chosen
        )

    def action_help(self) -> None:
        """Show every key."""
        from annotator.tui.screens.help import HelpModal

        self.app.push_screen(HelpModal())

    def action_quit(self) -> None:
        """Leave the review; every decision is already in the store."""
        self.app.exit()

    def action_edit(self) -> None:
        """Correct the current item's fields in a form; saving records one edit decision."""
        from annotator.tui.screens.edit import EditModal

        item = self.queue.current
        if item is None or self.queue.document is None:
            return

        def saved(annotation: Annotation | None) -> None:
            if annotation is not None:
                self._decide(lambda: self.queue.edit(annotation))

        self.app.push_screen(EditModal(annotation_of(item), self.queue.document.text), saved)

    def _decide(self, decision: Callable[[], StoredAnnotation | None]) -> None:
        """Make a decision that the core may refuse (a value that breaks a rule): say why, change nothing."""
        try:
            item = decision()
        except AnnotatorError as error:
            self.notify(str(error), title="Not saved", severity="error", timeout=8)
            return
        self._after_decision(item)

    def action_adjust_span(self) -> None:
        """Move the current item's boundaries by word or character; confirming records an edit."""
        from annotator.tui.screens.span import SpanModal

        item = self.queue.current
        if item is None or self.queue.document is None:
            return
        document = self.queue.document.text

        def chosen(span: tuple[int, int, str] | None) -> None:
            self.article.set_selection(None)
            if span is None:
                return
            start, end, _ = span
            annotation = annotation_of(item).model_copy(update={"start": start, "end": end, "text": document[start:end]})
            self._decide(lambda: self.queue.edit(annotation))

        self.app.push_screen(SpanModal(self.article, item.start, item.end, item.kind, choose_kind=False), chosen)

    def action_add(self) -> None:
        """Select a span the engine missed, pick its kind and fill in its fields."""
        from annotator.tui.screens.edit import EditModal
        from annotator.tui.screens.span import SpanModal

        if self.queue.document is None:
            return
        document = self.queue.document.text
        current = self.queue.current
        start = current.start if current else 0
        end = min(len(document), start + max(1, document.find(" ", start + 1) - start if " " in document[start:] else 1))
        kind = self.queue.kinds[0] if self.queue.kinds else "quote"

        def added(annotation: Annotation | None) -> None:
            if annotation is None:
                return
            try:
                item = self.queue.add(annotation)
            except AnnotatorError as error:
                self.notify(str(error), title="Not added", severity="error", timeout=8)
                return
            self.show_document()
            self.notice = f"added {item.kind}"
            self.show_current()

        def chosen(span: tuple[int, int, str] | None) -> None:
            self.article.set_selection(None)
            if span is not None:
                draft = draft_annotation(span[2], span[0], span[1], document)
                self.app.push_screen(EditModal(draft, document, title=f"New {span[2]}"), added)

        self.app.push_screen(SpanModal(self.article, start, end, kind, choose_kind=True), chosen)

    # ------------------------------------------------------------------ events

    def on_article_view_highlight_clicked(self, event: ArticleView.HighlightClicked) -> None:
        """A click on a highlight makes it the current item."""
        ids = [item.id for item in self.queue.items]
        if event.item_id in ids:
            self.queue.position = ids.index(event.item_id)
            self.show_current()

    def proposals_arrived(self, event: ProposalsArrived) -> None:
        """New proposals for the open document appear at once; others wait until opened."""
        if self.queue.proposals_arrived(event.document_id):
            self.show_document()
        else:
            self.query_one("#progress", Static).update(self.progress(), layout=False)

    def show_engine_status(self, text: str) -> None:
        """Show what the background engine is doing; it stays until the engine says something new."""
        self.engine_status = text
        self.query_one("#engine", Static).update(text, layout=False)

