"""The speaker picker: the document's names nearest the quote first, a type-ahead filter, the mention to point at."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from annotator.speakers import DocumentNames, Span, SpeakerCandidate, SpeakerChoice, filter_candidates, nearest_first
from annotator.tui.keymap import SPEAKER_PICK_BINDINGS
from annotator.tui.widgets.dialog import Dialog
from annotator.tui.widgets.inputs import SteadyInput

CONTEXT = 40
"""Characters shown on each side of a mention in the preview (two lines of the box)."""


def mention_preview(document: str, span: Span, context: int = CONTEXT) -> Text:
    """The mention in its sentence: a line of text either side, the mention emphasised."""
    start, end = span
    before = " ".join(document[max(0, start - context) : start].split("\n")).lstrip()
    after = " ".join(document[end : end + context].split("\n")).rstrip()
    return Text.assemble(("…" if start > context else "", "dim"), before, (document[start:end], "reverse bold"),
                         after, ("…" if end + context < len(document) else "", "dim"))


class SpeakerPickerModal(Dialog["SpeakerChoice | None"]):
    """Pick a quote's speaker from the document's names; returns the name and its mention, or None when cancelled.

    Typing filters the names (the best match on top); `enter` takes the highlighted one, or the typed
    words as a new name when nothing matches; `tab` steps through the highlighted name's mentions.
    """

    BINDINGS = SPEAKER_PICK_BINDINGS
    KEPT = True  # the review screen holds one, shown for each quote (`open`)

    def __init__(self) -> None:
        super().__init__(id="speaker-dialog")
        self.names = DocumentNames("")
        self.candidates: list[SpeakerCandidate] = []
        self.quote: Span = (0, 0)
        self.current: str | None = None
        self.on_mention: Callable[[Span | None], None] | None = None
        self.shown: list[SpeakerCandidate] = []
        self.mention_index = 0

    def open(
        self,
        names: DocumentNames,
        candidates: Sequence[SpeakerCandidate],
        quote: Span,
        current: str | None = None,
        on_mention: Callable[[Span | None], None] | None = None,
    ) -> None:
        """Offer these names for the quote at `quote` (its speaker now `current`); `on_mention` marks a mention in the article."""
        self.names, self.candidates, self.quote, self.current = names, list(candidates), quote, current
        self.on_mention = on_mention
        self.shown = list(candidates)
        words = " ".join(names.text[quote[0] : quote[1]].split())
        words = words if len(words) <= 44 else words[:43] + "…"
        self.query_one("#speaker-title", Label).update(Text.assemble("Speaker of ", ("“" + words + "”", "italic")), layout=False)
        field = self.query_one(Input)
        with field.prevent(Input.Changed):  # the names are filled once, here
            field.value = ""
        self._fill()

    def compose(self) -> ComposeResult:
        yield Label(id="speaker-title")
        yield SteadyInput(placeholder="type a name to filter · enter takes the top one", id="speaker-filter", compact=True)
        yield OptionList(id="speaker-list", compact=True)
        yield Static(id="speaker-mention")

    def on_mount(self) -> None:
        self.query_one(OptionList).can_focus = False  # the typing stays in the filter

    def opened(self) -> None:
        """The typing goes to the filter."""
        self.query_one(Input).focus()

    @property
    def highlighted(self) -> SpeakerCandidate | None:
        """The name `enter` would take."""
        index = self.query_one(OptionList).highlighted
        return self.shown[index] if index is not None and index < len(self.shown) else None

    @property
    def mention(self) -> Span | None:
        """The highlighted name's mention that `enter` would point at."""
        candidate = self.highlighted
        if candidate is None or not candidate.mentions:
            return None
        return candidate.mentions[self.mention_index % len(candidate.mentions)]

    def _fill(self) -> None:
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options([Option(self._prompt(candidate)) for candidate in self.shown])
        with options.prevent(OptionList.OptionHighlighted):  # previewed here, once
            options.highlighted = 0 if self.shown else None
        self.mention_index = 0
        self._preview()

    def _prompt(self, candidate: SpeakerCandidate) -> Text:
        count = len(candidate.mentions)
        where = f"{count} mention{'s' if count != 1 else ''}" if count else "not named here"
        about = " · ".join(part for part in (candidate.kind, where) if part)
        if candidate.origin == "store":
            about += " · used elsewhere"
        current = "  (now)" if self.current and candidate.name == self.current else ""
        return Text.assemble((candidate.name, "bold"), (current, "italic"), "  ", (about, "dim"))

    def _preview(self) -> None:
        """Show the mention `enter` would point at, in its sentence, and mark it in the article."""
        preview = self.query_one("#speaker-mention", Static)
        candidate, mention = self.highlighted, self.mention
        typed = self.query_one(Input).value.strip()
        if candidate is None:
            preview.update(Text.assemble("No name matches: ", ("enter", "bold"), f" sets “{typed}” as a new name")
                           if typed else Text("No names found in this document: type one.", style="dim"), layout=False)
        elif mention is None:
            preview.update(Text("The text never names them outside quotes: no mention.", style="dim"), layout=False)
        else:
            count = len(candidate.mentions)
            step = Text.assemble((f"mention {self.mention_index % count + 1}/{count}", "bold"),
                                 (" · tab for the next" if count > 1 else "", "dim"), "\n")
            preview.update(step + mention_preview(self.names.text, mention), layout=False)  # a box of fixed height
        if self.on_mention is not None:
            self.on_mention(mention)

    def on_input_changed(self, event: Input.Changed) -> None:
        """Filter the names as the reviewer types."""
        event.stop()
        self.shown = filter_candidates(self.candidates, event.value)
        self._fill()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """A name highlighted (also by the mouse): its nearest mention first."""
        event.stop()
        self.mention_index = 0
        self._preview()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click on a name takes it."""
        event.stop()
        self.action_choose()

    def action_move(self, delta: int) -> None:
        """Highlight the next or previous name."""
        options = self.query_one(OptionList)
        if delta > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_mention(self, delta: int) -> None:
        """Step through the highlighted name's mentions, nearest the quote first."""
        candidate = self.highlighted
        if candidate is not None and len(candidate.mentions) > 1:
            self.mention_index = (self.mention_index + delta) % len(candidate.mentions)
            self._preview()

    def action_choose(self) -> None:
        """Take the highlighted name and mention; with no name matching, the typed words as a new name."""
        candidate = self.highlighted
        if candidate is None:
            self.action_typed()
        else:
            self.dismiss(SpeakerChoice(candidate.name, self.mention))

    def action_typed(self) -> None:
        """Take the typed words as the name, pointing at its mention nearest the quote if the text has one."""
        typed = " ".join(self.query_one(Input).value.split())
        if not typed:
            self.app.bell()
            return
        mentions = nearest_first(self.names.mentions(typed), self.quote)
        self.dismiss(SpeakerChoice(typed, mentions[0] if mentions else None))

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)
