"""The review screen: the article with its highlights, the current item's card, and the keys that decide."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual import events
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.reactive import Reactive
from textual.widget import Widget
from textual.screen import Screen
from textual.widgets import Static

from annotator.errors import AnnotatorError
from annotator.names import same_name
from annotator.review import Change, Reversal, ReviewQueue, annotation_of, clip_words, draft_annotation, word_diff
from annotator.schemas import Annotation
from annotator.speakers import (
    SpeakerChoice,
    document_names,
    following_quotes,
    mention_for,
    previous_speaker,
    quotes_of,
    source_names,
    source_of,
    speaker_candidates,
    with_speaker,
)
from annotator.store import StoredAnnotation
from annotator.tui.keymap import HINT_ORDER, REVIEW_BINDINGS
from annotator.tui.messages import ProposalsArrived
from annotator.tui.screens.confirm import ConfirmModal
from annotator.tui.screens.speaker import SpeakerPickerModal
from annotator.tui.screens.speaker_quotes import SpeakerQuotesModal
from annotator.tui.widgets.article import ArticleView, Highlight
from annotator.tui.widgets.dialog import Dialog
from annotator.tui.widgets.hints import HintBar

ABSENT = "–"
"""How the screen shows a value that is not there (never `None`)."""


def highlight(item: StoredAnnotation) -> Highlight:
    """The article's view of an item."""
    return Highlight(item.id, item.start, item.end, item.kind, item.status)


def shown(value: object) -> str:
    """A value as the screen writes it (markup-escaped): `–` when absent."""
    return ABSENT if value is None or value == "" else escape(str(value))


def change_line(change: Change) -> str:
    """One change an edit made (markup): the span's words that went and came, or a field's before → after."""
    if change.field != "span":
        return f"[yellow]changed[/] {change.field.replace('_', ' ')}: {shown(change.before)} → {shown(change.after)}"
    styles = {"=": "dim", "-": "red strike", "+": "green"}
    words = " ".join(f"[{styles[op]}]{escape(text)}[/]" for op, text in word_diff(str(change.before), str(change.after)))
    return f"[yellow]changed[/] span: {words}"


class ReviewScreen(Screen[None]):
    """Review one document's proposals, item by item, from the keyboard."""

    BINDINGS = REVIEW_BINDINGS
    # A short terminal (80×24) gets a tighter sidebar (app.tcss) and a card that says less about each field.
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """The focused widget, as the screen's own, but a focus change does not repaint the whole screen (~10 ms at
    120×36 for each box opened or closed): the widgets that gain or lose focus restyle and repaint themselves."""

    def __init__(self, queue: ReviewQueue, engine_status: str = "") -> None:
        super().__init__()
        self.queue = queue
        self.notice = ""
        self.engine_status = engine_status
        self.document_failures: list[dict[str, str]] = []
        self.shown_document: str | None = None
        """The id of the document the article shows (a decision that went on to another one redraws it whole)."""
        self.dialog: Dialog | None = None
        """The box open over the review (a picker, a question), if any: while it is, the review's keys do nothing."""
        self._focus_before_dialog: Widget | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="review"):
            yield ArticleView(id="article")
            with Vertical(id="sidebar"):
                with VerticalScroll(id="card-box", can_focus=False):
                    yield Static(id="card")
                yield Static(id="progress")
                yield Static(self.engine_status, id="engine")
        yield HintBar(HINT_ORDER)
        yield Container(id="dialogs", classes="dialog-layer")
        with Container(id="picker-layer", classes="dialog-layer"):
            yield SpeakerPickerModal()
        with Container(id="confirm-layer", classes="dialog-layer"):
            yield ConfirmModal()
        with Container(id="quotes-layer", classes="dialog-layer"):
            yield SpeakerQuotesModal()

    def on_mount(self) -> None:
        self.show_document()

    def open_dialog(self, dialog: Dialog, answered: Callable[[Any], None]) -> None:
        """Show a box over the review (one at a time); `answered` gets what it is dismissed with."""
        if self.dialog is not None:
            self.close_dialog(self.dialog)
        dialog.answered = answered
        self.dialog = dialog
        self._focus_before_dialog = self.focused
        if dialog.KEPT:
            # Shown by its own style, not a class: a class would restyle every widget inside the box (~3 ms).
            dialog.styles.visibility = "visible"
            dialog.opened()
        else:
            self.query_one("#dialogs").mount(dialog)
        self.refresh_bindings()

    def close_dialog(self, dialog: Dialog) -> None:
        """Take a box away and give the keys back to the review."""
        if self.dialog is dialog:
            self.dialog = None
        if dialog.KEPT:
            dialog.styles.visibility = "hidden"
        else:
            dialog.remove()
        before = self._focus_before_dialog
        self.set_focus(before if before is not None and before.is_attached else None)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """No review key acts while a box is open over the review (its own keys do)."""
        return self.dialog is None

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
        highlights = [highlight(i) for i in queue.items]
        if queue.document is not None and queue.document.id == self.shown_document and self.article.text == text:
            # The same article (an undo, a batch, a filter): only the highlights that changed are drawn again.
            self.article.replace_highlights(highlights)
        else:
            self.article.set_document(text, highlights, current.id if current else None)
        self.shown_document = queue.document.id if queue.document else None
        self.show_current()

    def show_current(self) -> None:
        """Emphasise the current item and redraw the card: the cheap update after a decision."""
        current = self.queue.current
        self.article.set_current(current.id if current else None)
        speaker = current.fields() if current is not None and current.kind == "quote" else {}
        self.article.set_speaker_mark(speaker.get("speaker_start"), speaker.get("speaker_end"))
        # The other boxes have fixed heights (app.tcss): new text repaints them without a new layout. The
        # card grows in its scrolling box (a scrollbar says there is more): laid out again only when its
        # height changes, which saves ~40 ms a key.
        card = self.query_one("#card", Static)
        card.update(self.card(current), layout=False)
        width = card.content_region.width
        if not width or card.get_content_height(card.container_size, self.size, width) != card.content_region.height:
            card.refresh(layout=True)
        self.query_one("#card-box", VerticalScroll).scroll_home(animate=False)
        self.query_one("#progress", Static).update(self.progress(), layout=False)

    def on_resize(self, event: events.Resize) -> None:
        """The card and the title are cut to the sidebar's width: cut them again once it has its new width."""
        self.call_after_refresh(self.show_current)

    def _width(self, selector: str, fallback: int = 40) -> int:
        """The width of a sidebar box's text (before the first layout: `fallback`)."""
        return self.query_one(selector).content_region.width or fallback

    def card(self, item: StoredAnnotation | None) -> Text:
        """The current item's fields, its status and where it came from."""
        failed = self.failures_line()
        if item is None:
            add, next_document = escape(self.key_of("add")), escape(self.key_of("next_document"))
            empty = f"[dim]No items here.[/]\n\n[b]{add}[/] add a missed annotation · [b]{next_document}[/] next document"
            return Text.from_markup(f"{failed}\n\n{empty}" if failed else empty)
        width = self._width("#card")
        short = self.has_class("-short")
        # A short screen shows the item's words in three lines: the article shows them whole.
        words = clip_words(item.text, width * (3 if short else 6) - 2)
        lines = [f"[b]{item.kind}[/]  [reverse] {item.status} [/]", f"[i]{escape(words)}[/]"]
        if not short:
            lines.append("")
        for name, value in item.fields().items():
            if name in ("speaker_start", "speaker_end"):
                continue
            lines.append(f"[b]{name.replace('_', ' ')}[/]: {shown(value)}")
        origin = item.origin()
        source = f"[dim]engine[/] {shown(origin.get('engine'))}"
        if origin.get("model"):
            source += f" [dim]model[/] {shown(origin.get('model'))}"
        if item.proposal_id is not None:
            row = next(self.queue.store.proposal_rows([item.id]), None)
            if row is not None and row["grounding_method"]:
                source += f" [dim]grounding[/] {escape(row['grounding_method'])} {row['grounding_score']:.2f}"
        lines += ([] if short else [""]) + [source]
        lines += [change_line(change) for change in self.queue.changes(item)]
        if item.annotator:
            lines.append(f"[dim]by[/] {escape(item.annotator)}")
        if item.status == "flagged":
            lines.append(f"[yellow]flag[/]: {shown(self.queue.flag_note(item))}")
        for attention in self.queue.attention().get(item.id, []):
            if attention.reason == "qa":
                style = "red" if attention.urgency == 0 else "yellow"
                lines.append(f"[{style}]{escape(attention.line(max(width - 2, 20)))}[/]")
        if failed:
            lines += ["", failed]
        return Text.from_markup("\n".join(lines))

    def key_of(self, action: str) -> str:
        """The key that runs `action` here, as the footer shows it (the user's keymap applied)."""
        for _key, binding in self._bindings:
            if binding.action == action:
                return self.app.get_key_display(binding)
        return action

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
        title = escape(clip_words((document.title or document.source) if document else "", self._width("#progress")))
        position = f"{queue.position + 1}/{len(queue.items)}" if queue.items else "0/0"
        kinds = ",".join(queue.kinds) if queue.kinds else "all kinds"
        lines = [
            f"[b]{title}[/]",
            f"document {queue.document_index + 1}/{len(queue.document_ids)} · item {position}",
            f"reviewed {reviewed}/{total} in this document",
            "reviewed {}/{} in the store ({:.0f}%)".format(*overall, 100 * overall[0] / max(overall[1], 1)),
            f"showing {kinds} · {queue.status_filter}",
        ]
        # The document's note shares the title's line (a short screen has no line to spare): done is a ✓ before it.
        note = queue.document_note()
        if note is not None and (note["note"] or note["done"]):
            name = clip_words((document.title or document.source) if document else "", self._width("#progress") // 2)
            mark = "[green]✓[/] " if note["done"] else ""
            room = max(self._width("#progress") - len(name) - 9, 8)
            said = f" [dim]note[/] {escape(clip_words(note['note'], room))}" if note["note"] else ""
            lines[0] = f"{mark}[b]{escape(name)}[/]{said}"
        if self.notice:
            lines.append(f"[yellow]{escape(self.notice)}[/]")
        return Text.from_markup("\n".join(lines))

    def _after_decision(self, item: StoredAnnotation | None, notice: str = "") -> None:
        """Draw a decision: the item's highlight and the card; the whole article when the review went on to another document."""
        self.notice = notice
        if self.queue.document is not None and self.queue.document.id != self.shown_document:
            self.show_document()
            return
        if item is not None:
            self.article.update_highlight(highlight(item))
        self.show_current()

    def _went_on(self, item: StoredAnnotation | None, notice: str = "") -> None:
        """Draw a decision after which the review went on to the next undecided item (`ReviewQueue.advance`)."""
        current = self.queue.current
        if not notice and item is not None and (current is None or current.status != "proposed"):
            notice = "every item is reviewed"
        self._after_decision(item, notice)

    # ------------------------------------------------------------------ actions

    def action_accept(self) -> None:
        """Accept the current item and go on to the next undecided one (in the next document after the last)."""
        self._went_on(self.queue.accept())

    def action_reject(self) -> None:
        """Reject the current item and go on to the next undecided one."""
        item = self.queue.reject()
        if item is not None and item.proposal_id is None:
            self.show_document()
        else:
            self._went_on(item)

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
        self.show_document()
        # The toast follows the redrawn article: mounting it in the same frame lays the screen out (~5 ms of the key).
        self.call_after_refresh(self.notify, self.notice, title=verb.capitalize() if reversal else None, timeout=4)

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
            DocumentsModal(queue.store, queue.document_ids, queue.document_index, whole_store=queue.whole_store,
                           reviewer=queue.reviewer), chosen
        )

    def action_scroll_card(self) -> None:
        """Scroll the card to what does not fit (on a small terminal), and back to its top at its end."""
        box = self.query_one("#card-box", VerticalScroll)
        if box.scroll_y >= box.max_scroll_y:
            box.scroll_home(animate=False)
        else:
            box.scroll_page_down(animate=False)

    def action_help(self) -> None:
        """Show every key."""
        from annotator.tui.screens.help import HelpModal

        self.app.push_screen(HelpModal())

    def action_quit(self) -> None:
        """Leave the review; every decision is already in the store."""
        self.app.exit()

    def action_edit(self) -> None:
        """Correct the current item's fields in a form; saving records one edit decision and goes on, as accept does."""
        from annotator.tui.screens.edit import EditModal

        item = self.queue.current
        if item is None or self.queue.document is None:
            return

        def saved(annotation: Annotation | None) -> None:
            if annotation is not None:
                self._fixed(item, self._decide(lambda: self.queue.edit(annotation)))

        self.app.push_screen(EditModal(annotation_of(item), self.queue.document.text), saved)

    def _decide(self, decision: Callable[[], StoredAnnotation | None]) -> StoredAnnotation | None:
        """Make a decision that the core may refuse (a value that breaks a rule): say why, change nothing.

        Returns the item as decided, or None when refused. Draws nothing: the caller does, once.
        """
        try:
            return decision()
        except AnnotatorError as error:
            self.notify(str(error), title="Not saved", severity="error", timeout=8)
            return None

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
            # The item stays current (a span is often fixed before its fields), unless the span was kept: an accept.
            decided = self._decide(lambda: self.queue.edit(annotation))
            if decided is not None:
                self._after_decision(decided)

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

    # ------------------------------------------------------------------ speakers

    def _current_quote(self) -> StoredAnnotation | None:
        """The current item if it is a quote; else None, and the reviewer is told why nothing happened."""
        item = self.queue.current
        if item is None or self.queue.document is None:
            return None
        if item.kind != "quote":
            self.notify("speakers are set on quotes: this item is a " + item.kind, timeout=4)
            return None
        return item

    def action_speaker_pick(self) -> None:
        """Pick the quote's speaker from the document's names, nearest first; taking one records one edit."""
        item = self._current_quote()
        if item is None or self.queue.document is None:
            return
        names = document_names(self.queue.document.text)
        quote = (item.start, item.end)
        candidates = speaker_candidates(
            names, quote, source_names(self.queue.all_items), self.queue.store.gold_speakers(reviewer=self.queue.reviewer)
        )

        def chosen(choice: SpeakerChoice | None) -> None:
            if choice is None:
                self.show_current()  # the article marks the quote's own mention again
            else:
                self._set_speaker(item, choice.name, choice.mention)

        def mark(span: tuple[int, int] | None) -> None:
            self.article.set_speaker_mark(*(span or (None, None)))

        picker = self.query_one(SpeakerPickerModal)
        picker.open(names, candidates, quote, item.fields().get("speaker"), mark)
        self.open_dialog(picker, chosen)

    def action_speaker_previous(self) -> None:
        """Give the quote the speaker of the previous quote that names one ("he said" runs on): one edit."""
        item = self._current_quote()
        if item is None or self.queue.document is None:
            return
        previous = previous_speaker(self.queue.all_items, item)
        if previous is None:
            self.notify("no earlier quote in this document names a speaker", timeout=4)
            return
        name = previous.fields()["speaker"]
        fields = item.fields()
        mention = mention_for(document_names(self.queue.document.text), name, (item.start, item.end),
                              (fields.get("speaker_start"), fields.get("speaker_end")))
        start, end = mention["speaker_start"], mention["speaker_end"]
        self._set_speaker(item, name, (start, end) if start is not None and end is not None else None)

    def _set_speaker(self, item: StoredAnnotation, name: str, mention: tuple[int, int] | None) -> None:
        """Record the quote with this speaker and mention (one edit, validated as the form's save is), and go on."""
        annotation = with_speaker(annotation_of(item), name, mention)
        self._fixed(item, self._decide(lambda: self.queue.edit(annotation)))

    def _fixed(self, before: StoredAnnotation, after: StoredAnnotation | None) -> None:
        """A fix that completes the item's decision (the picker, the previous speaker, the form) was stored: when it
        changed a quote's speaker, ask whether the following quotes that should share it get it too; then go on to
        the next undecided item, as accept does. A refused fix (None) stays, for the reviewer to correct."""
        if after is None:
            return
        following = self._following(before, after)
        if not following:
            self._go_on(after)
            return
        name = after.fields()["speaker"]
        self._after_decision(after)  # the card shows the fix while the question is asked
        count = len(following)
        question = f"Apply {name} to {count} following quote{'s' if count != 1 else ''}?"

        def answered(yes: bool | None) -> None:
            self._go_on(after, self._apply_speaker(name, following) if yes else "")

        self.open_dialog(self.query_one(ConfirmModal).ask(question, title="Same speaker"), answered)

    def _following(self, before: StoredAnnotation, after: StoredAnnotation) -> list[StoredAnnotation]:
        """The following quotes to offer a quote's new speaker to ([] when the speaker did not change)."""
        if after.kind != "quote" or self.queue.document is None:
            return []
        name = after.fields().get("speaker")
        if not name or same_name(name, before.fields().get("speaker")):
            return []
        return following_quotes(self.queue.document.text, self.queue.all_items, after)

    def _go_on(self, item: StoredAnnotation, notice: str = "") -> None:
        """After a fix of `item`: go on to the next undecided item (unless the queue already went on) and draw."""
        current = self.queue.current
        if current is not None and current.id == item.id:
            self.queue.advance()
        self._went_on(item, notice)

    def _apply_speaker(self, name: str, quotes: list[StoredAnnotation]) -> str:
        """Give each quote this speaker, its mention kept where it fits, else the name's nearest: one edit each.

        Returns what was done, for the reviewer; the caller redraws the card.
        """
        if self.queue.document is None:
            return ""
        names = document_names(self.queue.document.text)
        shown = {item.id for item in self.queue.items}
        applied = 0
        for quote in quotes:
            fields = quote.fields()
            mention = mention_for(names, name, (quote.start, quote.end), (fields.get("speaker_start"), fields.get("speaker_end")))
            try:
                updated = self.queue.edit(annotation_of(quote).model_copy(update={"speaker": name, **mention}), item=quote)
            except AnnotatorError as error:
                self.notify(str(error), title="Not saved", severity="error", timeout=8)
                continue
            if updated is not None:
                applied += 1
                if updated.id in shown:
                    self.article.update_highlight(highlight(updated))
        return f"{name} applied to {applied} following quote{'s' if applied != 1 else ''}"

    def action_speaker_quotes(self) -> None:
        """List the document's quotes of the current item's speaker (or holder, or source); enter goes to one."""
        item = self.queue.current
        name = source_of(item) if item is not None else None
        if item is None or name is None:
            self.notify("this item names no speaker", timeout=4)
            return
        quotes = quotes_of(self.queue.all_items, name)
        if not quotes:
            self.notify(f"no quote of {name} in this document", timeout=4)
            return

        def chosen(item_id: str | None) -> None:
            if item_id is not None:
                self._go_to(item_id)

        self.open_dialog(self.query_one(SpeakerQuotesModal).show(name, quotes, item.id), chosen)

    def action_speaker_quote(self, delta: int) -> None:
        """Go to the next (`1`) or previous (`-1`) quote of the current item's speaker in the document."""
        item = self.queue.current
        name = source_of(item) if item is not None else None
        if item is None or name is None:
            self.notify("this item names no speaker", timeout=4)
            return
        here = (item.start, item.end)
        quotes = [q for q in quotes_of(self.queue.all_items, name) if q.id != item.id]
        later = [q for q in quotes if ((q.start, q.end) > here if delta > 0 else (q.start, q.end) < here)]
        if not later:
            self.notify(f"no {'later' if delta > 0 else 'earlier'} quote of {name}", timeout=3)
            return
        self._go_to((later[0] if delta > 0 else later[-1]).id)

    def _go_to(self, item_id: str) -> None:
        """Make an item of this document current, redrawing the article only if a filter had to be cleared."""
        filters = (self.queue.kinds, self.queue.status_filter)
        if not self.queue.show_item(item_id):
            return
        if filters != (self.queue.kinds, self.queue.status_filter):
            self.notice = "filters cleared to show that quote"
            self.show_document()
        else:
            self.show_current()

    # ------------------------------------------------- batches, flags, notes, attention

    def action_accept_rest(self) -> None:
        """Accept every undecided item of this document, after saying how many of each kind: one undo step."""
        rest = self.queue.undecided()
        if not rest:
            self.notify("nothing undecided in this document", timeout=3)
            return
        kinds: dict[str, int] = {}
        for item in rest:
            kinds[item.kind] = kinds.get(item.kind, 0) + 1
        plural = {"quote": "quotes", "figure": "figures", "stance": "stances"}
        each = ", ".join(f"{count} {kind if count == 1 else plural.get(kind, kind + 's')}" for kind, count in kinds.items())
        count = len(rest)
        question = f"Accept {count} undecided item{'s' if count != 1 else ''} ({each})?"

        def answered(yes: bool | None) -> None:
            if yes:
                accepted = self.queue.accept_rest()
                self.notice = f"accepted {accepted} item{'s' if accepted != 1 else ''}"
                self.show_document()

        self.open_dialog(self.query_one(ConfirmModal).ask(question, title="Accept the rest"), answered)

    def action_flag(self) -> None:
        """Flag the current item for discussion with a short comment: neither gold nor rejected."""
        from annotator.tui.screens.flag import FlagModal

        item = self.queue.current
        if item is None:
            return

        def flagged(note: str | None) -> None:
            if note is not None:
                self._went_on(self.queue.flag(note))

        self.open_dialog(FlagModal(f"{item.kind}: {clip_words(item.text, 60)}"), flagged)

    def action_document_note(self) -> None:
        """Leave a note on this document, and mark it done (or not)."""
        from annotator.tui.screens.document_note import DocumentNoteModal

        document = self.queue.document
        if document is None:
            return
        note = self.queue.document_note() or {"note": "", "done": False}

        def saved(result: tuple[str, bool] | None) -> None:
            if result is not None:
                self.queue.set_document_note(*result)
                self.notice = "document marked done" if result[1] else "note saved"
                self.query_one("#progress", Static).update(self.progress(), layout=False)

        title = f"Note on {clip_words(document.title or document.source, 50)}"
        self.app.push_screen(DocumentNoteModal(title, note["note"], note["done"]), saved)

    def action_next_attention(self) -> None:
        """Go to the next item that needs a human most: flags and qa errors first, here then in the next documents."""
        before = self.queue.document_index
        found = self.queue.next_attention()
        self.notice = found.line(60) if found else "nothing needs attention here or in the next documents"
        if self.queue.document_index != before:
            self.show_document()
        else:
            self.show_current()

