"""Adjudication: what reviewers disagree on, one unit at a time, their variants side by side."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from annotator.errors import AnnotatorError
from annotator.review import clip_words
from annotator.schemas import Annotation
from annotator.teams import Adjudication, Variant, variants
from annotator.tui.keymap import ADJUDICATE_BINDINGS

CONTEXT = 160
"""Characters of the article shown on each side of the disputed span."""


class AdjudicationScreen(Screen[None]):
    """The disputed units of the store, the most disputed documents first; the majority's variant highlighted."""

    BINDINGS = ADJUDICATE_BINDINGS

    def __init__(self, adjudication: Adjudication) -> None:
        super().__init__()
        self.adjudication = adjudication
        self.shown: list[Variant] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="adjudicate"):
            yield Static(id="adjudicate-title")
            yield Static(id="adjudicate-context")
            yield OptionList(id="adjudicate-variants")
            yield Static(id="adjudicate-status")
        yield Footer()

    def on_mount(self) -> None:
        self.adjudication.open(0)
        if self.adjudication.current is not None and self.adjudication.current.adjudication is not None:
            self.adjudication.next_open()
        self.query_one(OptionList).focus()
        self.draw()

    # ------------------------------------------------------------------ drawing

    def draw(self, status: str = "") -> None:
        """Show the current unit: where it is, the article around it, its variants."""
        adjudication = self.adjudication
        unit = adjudication.current
        title = self.query_one("#adjudicate-title", Static)
        options = self.query_one(OptionList)
        options.clear_options()
        self.shown = []
        if unit is None or adjudication.document is None or adjudication.review is None:
            title.update("Nothing to adjudicate: every item has reviewers who agree, or an adjudicator's decision.")
            self.query_one("#adjudicate-context", Static).update("")
            self.query_one("#adjudicate-status", Static).update(status)
            return
        review, document = adjudication.review, adjudication.document
        settled = "settled" if unit.adjudication is not None else "open"
        title.update(Text.assemble(
            ("Adjudicate", "bold"),
            f"  document {adjudication.document_index + 1}/{len(adjudication.document_ids)}"
            f"  item {adjudication.position + 1}/{len(adjudication.units)} ({unit.kind}, {settled})"
            f"  reviewers: {', '.join(review.reviewers)}  ",
            (clip_words(document.title or document.source, 40), "dim"),
        ))
        span = unit.representative
        text = document.text
        start, end = max(0, span.start - CONTEXT), min(len(text), span.end + CONTEXT)
        context = Text(("…" if start else "") + text[start:end] + ("…" if end < len(text) else ""))
        offset = 1 if start else 0
        context.stylize("bold reverse", span.start - start + offset, span.end - start + offset)
        self.query_one("#adjudicate-context", Static).update(context)
        self.shown = variants(unit)
        chosen = unit.adjudication.item if unit.adjudication is not None else None
        for number, variant in enumerate(self.shown, 1):
            mark = "✓ " if chosen is not None and variant.item is not None and _same(variant.item, chosen) else "  "
            words = "" if variant.item is None or variant.item.status in ("rejected", "flagged") else (
                f"  “{clip_words(' '.join(variant.item.text.split()), 60)}”")
            options.add_option(Option(Text.assemble(
                mark, (f"{number}  ", "bold"), (f"{', '.join(variant.annotators):<18}", "cyan"), " ",
                variant.describe(), (words, "italic"),
            )))
        if chosen is not None and not any(v.item is not None and _same(v.item, chosen) for v in self.shown):
            status = status or f"settled as: {Variant(chosen, ()).describe()}"
        options.highlighted = 0  # the variant most reviewers chose
        self.query_one("#adjudicate-status", Static).update(status)

    # ------------------------------------------------------------------ actions

    def action_pick(self, number: int) -> None:
        """Settle the unit as variant `number` (0: the highlighted one) has it, and go to the next open one."""
        options = self.query_one(OptionList)
        index = (options.highlighted or 0) if number == 0 else number - 1
        if not 0 <= index < len(self.shown):
            return
        self._settle(lambda: self.adjudication.pick(self.shown[index]), f"picked variant {index + 1}")

    def action_reject(self) -> None:
        """Settle the unit as no item."""
        self._settle(self.adjudication.reject, "rejected")

    def action_edit(self) -> None:
        """Settle the unit as the adjudicator writes it, starting from the highlighted variant."""
        from annotator.tui.screens.edit import EditModal

        unit, document = self.adjudication.current, self.adjudication.document
        if unit is None or document is None:
            return
        options = self.query_one(OptionList)
        highlighted = self.shown[options.highlighted or 0] if self.shown else None
        start = highlighted.item if highlighted is not None and highlighted.item is not None else unit.representative
        if start.status in ("rejected", "flagged"):
            start = unit.representative

        def saved(annotation: Annotation | None) -> None:
            if annotation is not None:
                self._settle(lambda: self.adjudication.edit(annotation), "edited")

        self.app.push_screen(EditModal(start.annotation(), document.text), saved)

    def _settle(self, decision, said: str) -> None:
        try:
            decision()
        except AnnotatorError as error:
            self.draw(f"[red]not recorded[/]: {error}")
            return
        unit = self.adjudication.current
        if unit is not None and unit.adjudication is not None:
            self.adjudication.next_open()
        self.draw(said)

    def action_merge(self) -> None:
        """Settle every item of this document that the reviewers agree on, as they agree (one step for undo)."""
        if self.adjudication.review is None:
            return
        count = self.adjudication.merge_agreed()
        self.draw(f"merged {count} agreed items" if count else "no agreed items left to merge here")

    def action_next_open(self) -> None:
        """The next item no one has settled, here or in the next documents."""
        found = self.adjudication.next_open()
        self.draw("" if found else "every disagreement is settled")

    def action_move(self, delta: int) -> None:
        """Next or previous disputed item of this document."""
        self.adjudication.move(delta)
        self.draw()

    def action_document(self, delta: int) -> None:
        """Next or previous document with disagreements."""
        self.adjudication.open(self.adjudication.document_index + delta)
        self.draw()

    def action_undo(self) -> None:
        """Take back the latest adjudication (a merge whole)."""
        event = self.adjudication.undo()
        self.draw("nothing to undo" if event is None else f"undid {event['count']} adjudication(s)")

    def action_quit(self) -> None:
        """Leave; every adjudication is already in the store."""
        self.app.exit()


def _same(a, b) -> bool:
    """Whether two labels say the same: both no item, or the same span and fields."""
    if a.status in ("rejected", "flagged") or b.status in ("rejected", "flagged"):
        return a.status == b.status
    return (a.start, a.end, dict(a.fields)) == (b.start, b.end, dict(b.fields))
