"""The edit modal (a form built from each kind's schema) and the help screen, driven from the keyboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

import pytest
from textual.app import App
from textual.binding import Binding
from textual.widgets import DataTable, Input, Label, OptionList, Select

import annotator.tui
from annotator.schemas import ANNOTATION_KINDS, Annotation, Figure, Origin, Qualifier, Quote, QuoteType
from annotator.tui.screens.edit import EditModal, field_specs
from annotator.tui.screens.help import HelpModal

DOCUMENT = (
    '"We left everything behind," Suleiman Abdulqader told reporters on Monday. '
    "Nearly half a million people have fled the fighting, the UN said."
)
QUOTE_TEXT = '"We left everything behind,"'
FIGURE_TEXT = "Nearly half a million people"

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    """Pilot tests run on asyncio, Textual's loop."""
    return "asyncio"


def quote() -> Quote:
    """A quote on the first sentence, as an engine proposed it."""
    start = DOCUMENT.index(QUOTE_TEXT)
    return Quote(
        id="q1", start=start, end=start + len(QUOTE_TEXT), text=QUOTE_TEXT, speaker="Abdulqader",
        cue="told", quote_type="indirect", origin=Origin(engine="rules"),
    )


def figure() -> Figure:
    """A figure on "Nearly half a million people"."""
    start = DOCUMENT.index(FIGURE_TEXT)
    return Figure(id="f1", start=start, end=start + len(FIGURE_TEXT), text=FIGURE_TEXT, value=500000, unit="people")


class Host(App[None]):
    """Pushes one screen on mount and keeps what it returns; styled by the review app's one stylesheet."""

    CSS_PATH = str(Path(annotator.tui.__file__).parent / "app.tcss")

    BINDINGS = [
        Binding("r", "refresh_all", "Refresh"),
        Binding("z", "secret", "Secret zoom", show=False),
    ]

    def __init__(self, screen: Any) -> None:
        super().__init__()
        self.pushed = screen
        self.results: list[Any] = []

    def on_mount(self) -> None:
        self.push_screen(self.pushed, self.results.append)

    def action_refresh_all(self) -> None:
        """Redraw everything."""

    def action_secret(self) -> None:
        """Zoom in."""


async def type_into(pilot: Any, field: Input, text: str) -> None:
    """Clear a focused input and type `text` into it key by key."""
    assert field.has_focus
    field.clear()
    await pilot.press(*text)


def errors_under(modal: EditModal, name: str) -> list[str]:
    """The inline error messages shown under field `name`."""
    return [str(label.render()) for label in modal.query_one(f"#control-{name}").query(".field-error").results(Label)]


async def test_edit_quote_speaker_and_type_from_the_keyboard() -> None:
    original = quote()
    app = Host(EditModal(original, DOCUMENT))
    async with app.run_test() as pilot:
        modal = app.screen
        assert isinstance(modal, EditModal)
        speaker = modal.field("speaker")
        assert speaker.has_focus  # the first field
        await type_into(pilot, speaker, "Suleiman Abdulqader")
        await pilot.press("tab", "tab", "tab", "tab")  # speaker start, speaker end, cue, quote type
        quote_type = modal.field("quote_type")
        assert quote_type.has_focus
        await pilot.press("enter", "up", "enter")  # open the menu, from indirect up to direct, choose
        assert quote_type.value == "direct"
        await pilot.press("ctrl+s")
    [saved] = app.results
    assert isinstance(saved, Quote)
    assert (saved.speaker, saved.quote_type, saved.cue) == ("Suleiman Abdulqader", "direct", "told")
    assert (saved.start, saved.end, saved.text, saved.id, saved.origin) == (
        original.start, original.end, original.text, original.id, original.origin)


async def test_shift_tab_goes_back_and_enter_in_a_field_saves() -> None:
    app = Host(EditModal(quote(), DOCUMENT))
    async with app.run_test() as pilot:
        modal = app.screen
        await pilot.press("tab", "tab", "tab")
        assert modal.field("cue").has_focus
        await pilot.press("shift+tab")
        assert modal.field("speaker_end").has_focus
        await pilot.press("shift+tab", "shift+tab")
        assert modal.field("speaker").has_focus
        await pilot.press("tab", "tab", "tab")
        await type_into(pilot, modal.field("cue"), "said")
        await pilot.press("enter")
    [saved] = app.results
    assert saved.cue == "said"


async def test_empty_optional_input_is_none() -> None:
    app = Host(EditModal(quote(), DOCUMENT))
    async with app.run_test() as pilot:
        modal = app.screen
        modal.field("speaker").clear()
        await pilot.press("tab", "tab", "tab")
        await type_into(pilot, modal.field("cue"), "")
        assert modal.values()["speaker"] is None
        await pilot.press("ctrl+s")
    [saved] = app.results
    assert saved.speaker is None and saved.cue is None


async def test_figure_value_that_is_not_a_number_shows_an_inline_error_then_a_fix_saves() -> None:
    app = Host(EditModal(figure(), DOCUMENT))
    async with app.run_test() as pilot:
        modal = app.screen
        value = modal.field("value")
        assert value.has_focus and value.value == "500000"
        # A number input refuses letters but lets a half-typed number such as "5e" through.
        await type_into(pilot, value, "5ex")
        assert value.value == "5e"
        await pilot.press("tab")
        await type_into(pilot, modal.field("unit"), "families")
        await pilot.press("ctrl+s")
        assert app.results == [] and app.screen is modal
        [message] = errors_under(modal, "value")
        assert "valid number" in message
        assert errors_under(modal, "unit") == []
        assert value.has_focus  # the first bad field
        # The value is the number the span writes: the rule `qa` applies is the form's too.
        await type_into(pilot, value, "480000")
        await pilot.press("ctrl+s")
        assert app.results == [] and errors_under(modal, "value") == [
            "value 480,000 is not the number in the span (500,000)"]
        await type_into(pilot, value, "500000")
        await pilot.press("ctrl+s")
    [saved] = app.results
    assert isinstance(saved, Figure)
    assert (saved.value, saved.unit, saved.qualifier) == (500000.0, "families", "exact")


async def test_an_invalid_combination_is_shown_under_the_field_it_names_and_cleared_once_fixed() -> None:
    app = Host(EditModal(quote(), DOCUMENT))
    async with app.run_test() as pilot:
        modal = app.screen
        await pilot.press("tab")
        await type_into(pilot, modal.field("speaker_start"), "31")
        await pilot.press("tab", "tab")  # leave speaker_end empty
        assert modal.field("cue").has_focus
        await pilot.press("ctrl+s")
        assert app.results == []
        assert errors_under(modal, "speaker_start") == [
            "speaker_start and speaker_end must both be set or both be null"]
        assert "Value error" not in errors_under(modal, "speaker_start")[0]
        assert modal.field("speaker_start").has_focus
        await pilot.press("tab")
        await type_into(pilot, modal.field("speaker_end"), "50")
        await pilot.press("ctrl+s")
        assert not modal.query(".field-error")  # cleared by the successful validation
    [saved] = app.results
    assert (saved.speaker_start, saved.speaker_end) == (31, 50)


async def test_a_figure_past_the_document_is_a_form_error() -> None:
    """An error no field owns (here the span itself) is shown above the buttons."""
    broken = figure().model_copy(update={"end": len(DOCUMENT) + 5})
    app = Host(EditModal(broken, DOCUMENT))
    async with app.run_test() as pilot:
        await pilot.press("ctrl+s")
        [label] = app.screen.query_one("#edit-errors").query(".field-error").results(Label)
        assert "past the end of the document" in str(label.render())
    assert app.results == []


async def test_escape_returns_none() -> None:
    app = Host(EditModal(quote(), DOCUMENT))
    async with app.run_test() as pilot:
        await pilot.press(*"changed", "escape")
    assert app.results == [None]


async def test_select_options_are_the_literal_arguments() -> None:
    app = Host(EditModal(figure(), DOCUMENT))
    async with app.run_test():
        modal = app.screen
        qualifier = modal.field("qualifier")
        assert isinstance(qualifier, Select) and qualifier.value == "exact"
        menu = qualifier.query_one(OptionList)
        prompts = [str(menu.get_option_at_index(i).prompt) for i in range(menu.option_count)]
        assert prompts == list(get_args(Qualifier))
    specs = {spec.name: spec for spec in field_specs(Quote)}
    assert specs["quote_type"].choices == get_args(QuoteType)
    assert (specs["speaker"].control, specs["speaker"].nullable) == ("text", True)
    assert (specs["speaker_start"].control, specs["speaker_start"].label) == ("integer", "speaker start")
    assert (field_specs(Figure)[0].control, field_specs(Figure)[0].nullable) == ("number", False)


@pytest.fixture
def event_kind():
    """A kind defined only here: its form must come from its schema alone."""

    class Event(Annotation):
        """Something that happened, with who did it and how many took part."""

        kind: Literal["event"] = "event"
        actor: str | None = None
        participants: int | None = None
        certainty: Literal["reported", "confirmed"] = "reported"

    try:
        yield Event
    finally:
        ANNOTATION_KINDS.pop("event", None)


async def test_a_new_kind_gets_its_form_for_free(event_kind: type[Annotation]) -> None:
    text = "the UN said"
    start = DOCUMENT.index(text)
    event = event_kind(start=start, end=start + len(text), text=text)
    app = Host(EditModal(event, DOCUMENT))
    async with app.run_test() as pilot:
        modal = app.screen
        labels = [str(label.render()) for label in modal.query(".edit-label").results(Label)]
        assert labels == ["actor", "participants", "certainty"]
        assert modal.field("actor").has_focus
        assert modal.field("participants").type == "integer"
        assert [str(o.prompt) for o in modal.field("certainty").query_one(OptionList)._options] == [
            "reported", "confirmed"]
        await pilot.press(*"UN", "tab", *"12", "tab", "enter", "down", "enter", "ctrl+s")
    [saved] = app.results
    assert isinstance(saved, event_kind)
    assert saved.model_dump(include={"actor", "participants", "certainty", "kind"}) == {
        "kind": "event", "actor": "UN", "participants": 12, "certainty": "confirmed"}


async def test_help_lists_every_binding_including_hidden_ones() -> None:
    app = Host(HelpModal())
    async with app.run_test() as pilot:
        table = app.screen.query_one(DataTable)
        rows = {str(table.get_row_at(i)[0]): str(table.get_row_at(i)[1]) for i in range(table.row_count)}
        assert rows["r"] == "Refresh"
        assert rows["z"] == "Secret zoom"  # show=False
        assert "^q" not in rows and "tab" not in rows  # Textual's own quit and focus keys are not this app's
        await pilot.press("q")
    assert app.results == [None]


@pytest.mark.parametrize("key", ["escape", "question_mark"])
async def test_help_closes_on_escape_and_question_mark(key: str) -> None:
    app = Host(HelpModal())
    async with app.run_test() as pilot:
        await pilot.press(key)
    assert app.results == [None]


def test_snapshot_edit_quote(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await pilot.pause()

    assert snap_compare(Host(EditModal(quote(), DOCUMENT)), terminal_size=(100, 30), run_before=run_before)


def test_snapshot_help(snap_compare) -> None:
    async def run_before(pilot) -> None:
        await pilot.pause()

    assert snap_compare(Host(HelpModal()), terminal_size=(100, 30), run_before=run_before)
