"""Edit an annotation's fields in a form built from its kind's schema, validated against the document."""

from __future__ import annotations

import enum
import re
import types
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Select, Static

from annotator.review import speaker_mention_for
from annotator.schemas import Annotation
from annotator.tui.keymap import EDIT_BINDINGS
from annotator.tui.widgets.inputs import SteadyInput

Control = Literal["select", "text", "integer", "number"]
"""The widget a field is edited with: a `Select`, or an `Input` of that type."""


@dataclass(frozen=True)
class FieldSpec:
    """How the form edits one field of a kind: its label, its control, its choices, whether empty means None."""

    name: str
    label: str
    control: Control
    choices: tuple[Any, ...] = ()
    nullable: bool = False
    description: str | None = None


def field_specs(cls: type[Annotation]) -> list[FieldSpec]:
    """One spec per field the kind adds to its span, in declaration order, read from the schema."""
    return [field_spec(name, cls.model_fields[name]) for name in cls.kind_fields()]


def field_spec(name: str, info: FieldInfo) -> FieldSpec:
    """The spec for one field: a `Literal`, enum or bool is a choice, an int or float a number, anything else text."""
    annotation, nullable = _without_none(info.annotation)
    control: Control = "text"
    choices: tuple[Any, ...] = ()
    if get_origin(annotation) is Literal:
        arguments = get_args(annotation)
        control, choices = "select", tuple(a for a in arguments if a is not None)
        nullable = nullable or None in arguments
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        control, choices = "select", tuple(annotation)
    elif annotation is bool:
        control, choices = "select", (True, False)
    elif annotation is int:
        control = "integer"
    elif annotation is float:
        control = "number"
    return FieldSpec(name, name.replace("_", " "), control, choices, nullable, info.description)


def _without_none(annotation: Any) -> tuple[Any, bool]:
    """The annotation with `None` taken out of a union, and whether it was there."""
    if get_origin(annotation) in (Union, types.UnionType):
        arguments = get_args(annotation)
        rest = tuple(a for a in arguments if a is not type(None))
        if len(rest) < len(arguments):
            return (rest[0] if len(rest) == 1 else Union[rest]), True  # noqa: UP007 - built at runtime
    return annotation, False


def _choice_label(choice: Any) -> str:
    """What a choice reads as in a `Select`."""
    if isinstance(choice, enum.Enum):
        return str(choice.value)
    if isinstance(choice, bool):
        return "yes" if choice else "no"
    return str(choice)


def _shown(value: Any) -> str:
    """A field's value as an `Input` shows it: whole floats without `.0`, None as empty."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def error_message(error: Any) -> str:
    """Pydantic's message for one error, without the "Value error, " that a validator's ValueError gets."""
    return str(error["msg"]).removeprefix("Value error, ")


class EditModal(ModalScreen["Annotation | None"]):
    """Edit one annotation's fields; returns the annotation validated against the document, or None when cancelled.

    The span is shown, not edited: boundaries are moved from the keyboard on the review screen.
    """

    BINDINGS = EDIT_BINDINGS


    def __init__(self, annotation: Annotation, document: str, *, title: str | None = None) -> None:
        super().__init__()
        self.annotation = annotation
        self.document = document
        self.heading = title or f"Edit {annotation.kind}"
        self.specs = field_specs(type(annotation))

    def compose(self) -> ComposeResult:
        with Vertical(id="edit-dialog"):
            yield Label(self.heading, id="edit-title")
            yield Static(self.span_preview(), id="edit-span")
            # Only the fields scroll when the terminal is short: the span and the buttons stay in view.
            with VerticalScroll(id="edit-fields", can_focus=False):
                for spec in self.specs:
                    with Horizontal(classes="edit-row", id=f"row-{spec.name}"):
                        yield Label(spec.label, classes="edit-label")
                        with Vertical(classes="edit-control", id=f"control-{spec.name}"):
                            yield self._control(spec)
            yield Vertical(id="edit-errors")
            with Horizontal(id="edit-buttons"):
                yield Button("Save", variant="primary", id="edit-save")
                yield Button("Cancel", id="edit-cancel")
        yield Footer()

    def on_mount(self) -> None:
        if self.specs:
            self.field(self.specs[0].name).focus()
        else:
            self.query_one("#edit-save", Button).focus()

    def span_preview(self) -> Text:
        """The span's offsets and words, shortened in the middle when long."""
        words = self.annotation.text
        if len(words) > 240:
            words = words[:115] + " … " + words[-115:]
        return Text.assemble((f"{self.annotation.start}:{self.annotation.end}  ", "dim"), (words, "italic"))

    def _control(self, spec: FieldSpec) -> Input | Select[Any]:
        value = getattr(self.annotation, spec.name, None)
        if spec.control == "select":
            current = value if value in spec.choices else Select.NULL
            return Select(
                [(_choice_label(choice), choice) for choice in spec.choices],
                value=current,
                allow_blank=spec.nullable or current is Select.NULL,
                prompt="none" if spec.nullable else "choose",
                id=f"field-{spec.name}",
                tooltip=spec.description,
            )
        return SteadyInput(
            _shown(value),
            placeholder="none" if spec.nullable else "",
            type=spec.control,
            id=f"field-{spec.name}",
            tooltip=spec.description,
        )

    def field(self, name: str) -> Input | Select[Any]:
        """The control that edits field `name`."""
        return self.query_one(f"#field-{name}", (Input, Select))  # type: ignore[arg-type]

    def values(self) -> dict[str, Any]:
        """The form's values by field: empty is None where the schema allows None, and left out otherwise.

        Left out, a field takes the schema's default or fails as required. Numbers stay text here: the
        schema parses them, so its message is the one the reviewer reads.
        """
        values: dict[str, Any] = {}
        for spec in self.specs:
            control = self.field(spec.name)
            if isinstance(control, Select):
                value = None if control.is_blank() else control.value
            else:
                value = control.value.strip() or None
            if value is not None or spec.nullable:
                values[spec.name] = value
        return values

    async def action_save(self) -> None:
        """Validate the form against the document: close with the annotation, or show each error under its field."""
        cls = type(self.annotation)
        data = {name: getattr(self.annotation, name) for name in Annotation.BASE_FIELDS if hasattr(self.annotation, name)}
        data.update(self.values())
        await self.query(".field-error").remove()
        try:
            annotation = cls.model_validate(data, context={"document": self.document, "reviewed": True})
        except ValidationError as error:
            await self._show_errors(error)
            return
        self.dismiss(annotation)

    async def _show_errors(self, error: ValidationError) -> None:
        names = [spec.name for spec in self.specs]
        bad: set[str] = set()
        for problem in error.errors():
            message = error_message(problem)
            location = problem["loc"]
            name = str(location[0]) if location else self._field_named_in(message)
            if name in names:
                bad.add(name)
                await self.query_one(f"#control-{name}").mount(Label(message, classes="field-error"))
            else:
                where = ".".join(str(part) for part in location)
                text = f"{where}: {message}" if where else message
                await self.query_one("#edit-errors").mount(Label(text, classes="field-error"))
        first = next((name for name in names if name in bad), None)
        if first is not None:
            self.field(first).focus()

    def _field_named_in(self, message: str) -> str | None:
        """The first field whose name a whole-model error mentions ("speaker_start and speaker_end must …")."""
        for spec in self.specs:
            if re.search(rf"\b{re.escape(spec.name)}\b", message):
                return spec.name
        return None

    def on_input_changed(self, event: Input.Changed) -> None:
        """A quote's speaker mention follows its speaker as it is typed: kept while it fits the name,
        else moved to the name's mention nearest the quote, or cleared when the text never names them."""
        if event.input.id != "field-speaker" or not {"speaker_start", "speaker_end"} <= {s.name for s in self.specs}:
            return
        original = (getattr(self.annotation, "speaker_start", None), getattr(self.annotation, "speaker_end", None))
        speaker = event.value.strip() or None
        if speaker == getattr(self.annotation, "speaker", None):
            mention = {"speaker_start": original[0], "speaker_end": original[1]}  # as it was: nothing to follow
        else:
            mention = speaker_mention_for(self.document, speaker, self.annotation.start, self.annotation.end, original)
        for name in ("speaker_start", "speaker_end"):
            control = self.field(name)
            if isinstance(control, Input):
                control.value = _shown(mention[name])

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in a field saves, as ctrl+s does."""
        event.stop()
        await self.action_save()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "edit-save":
            await self.action_save()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        """Close without changing anything."""
        self.dismiss(None)
