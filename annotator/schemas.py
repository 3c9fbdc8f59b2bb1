"""Annotation kinds as Pydantic models.

One class per kind. The same classes are the response models an LLM fills, the rows the store
writes and the records export prints. A new kind is one more subclass of `Annotation` (it
registers itself by its `kind` literal) plus one prompt file.

Validators that need the document read it from the validation context:
`Quote.model_validate(data, context={"document": text})`. What a reviewer saves is also held to
the rules for reviewed values (`context={"document": text, "reviewed": True}`): no placeholder in
any field, and a figure's value is the number its span writes (`figure_value_problem`, which `qa`
applies to stored items too).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, ClassVar, Literal

from annotator.canonical import GOLD_STATUSES, STATUSES, document_id, to_json  # noqa: F401 - re-exported
from annotator.numbers import VALUE_TOLERANCE, same_value  # noqa: F401 - re-exported
from annotator.numbers import figure_values  # the number reader the rules engine finds figures with
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, create_model, model_validator

Status = Literal["proposed", "accepted", "edited", "rejected", "added", "flagged"]

QuoteType = Literal["direct", "indirect", "mixed"]
Qualifier = Literal["exact", "approximately", "at least", "at most", "range"]
Polarity = Literal["favor", "against", "neutral"]

ANNOTATION_KINDS: dict[str, type[Annotation]] = {}
"""Every annotation kind by its name, filled as the subclasses are defined."""
_KIND_FIELDS: dict[type, tuple[str, ...]] = {}


class Document(BaseModel):
    """A stored article: its text, where it came from and a title for lists."""

    id: str
    source: str
    title: str | None = None
    text: str
    external_id: str | None = None
    previous_id: str | None = None

    @classmethod
    def from_text(cls, text: str, source: str, title: str | None = None, external_id: str | None = None) -> Document:
        """A document whose id is the hash of `text`."""
        return cls(id=document_id(text), source=source, title=title, text=text, external_id=external_id)


def _document(info: ValidationInfo) -> str | None:
    """The document text passed in the validation context, if any."""
    context = info.context
    if isinstance(context, dict):
        document = context.get("document")
        if isinstance(document, str):
            return document
    return None


def _reviewed(info: ValidationInfo) -> bool:
    """Whether the values are a reviewer's, held to the rules for reviewed values."""
    return isinstance(info.context, dict) and bool(info.context.get("reviewed"))


PLACEHOLDERS = frozenset({"?", "??", "???", "-", "--", "—", "…", "...", "n/a", "na", "none", "null", "unknown", "tbd",
                          "todo", "xxx", "placeholder"})
"""Values that stand in for one nobody gave: never a label."""


def is_placeholder(value: Any) -> bool:
    """Whether a field's value is a stand-in ("?", "unknown", "tbd", …) rather than a real value."""
    return isinstance(value, str) and value.strip().casefold() in PLACEHOLDERS


def _number(value: float) -> str:
    return f"{value:,.10g}" if value != int(value) else f"{int(value):,}"


def figure_value_problem(text: str, value: Any, tolerance: float = VALUE_TOLERANCE) -> tuple[str, str] | None:
    """(severity, message) when a figure's `value` is not the number its span `text` writes, else None.

    The one rule for a figure's value: the edit form refuses an "error", `qa` reports both. The value
    is the number as written ("falling by 7,000" is 7000: direction belongs to the subject); a range
    gives its lower bound. A span with no readable number is a warning (the value cannot be checked),
    and an error when its value is 0, the stand-in for "no number given".
    """
    read = figure_values(text)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        said = f" (the span says {_number(read[0])})" if read else ""
        return "error", f"value {value!r} is not a number{said}"
    if not read:
        if value == 0:
            return "error", "value 0 with no number in the span is a placeholder: give the number meant"
        return "warning", "no number readable in the span"
    if any(same_value(value, number, tolerance) for number in read):
        return None
    said = " or ".join(_number(number) for number in read)
    return "error", f"value {_number(value)} is not the number in the span ({said})"


def span_problem(start: int, end: int, length: int | None, what: str = "span") -> str | None:
    """What is wrong with `start:end` as a span of a document of `length` characters (None: unknown), or None.

    The one span rule: the schemas raise it, `qa` reports it.
    """
    if start < 0:
        return f"{what} {start}:{end} is outside the document: start {start} is negative"
    if end <= start:
        return f"{what} {start}:{end} is empty: end {end} must be greater than start {start}"
    if length is not None and end > length:
        return f"{what} {start}:{end} is outside the document: end {end} is past the end of the document ({length} characters)"
    return None


def check_span(start: int, end: int, document: str | None, what: str = "span") -> None:
    """Raise ValueError unless `start`/`end` is a non-empty span inside `document`."""
    problem = span_problem(start, end, len(document) if document is not None else None, what)
    if problem is not None:
        raise ValueError(problem)


class Origin(BaseModel):
    """Where a proposal came from: the engine, the model and the prompt that made it."""

    model_config = ConfigDict(extra="allow", frozen=True)

    engine: str
    model: str | None = None
    prompt: str | None = None


class Annotation(BaseModel):
    """A span of a document with a kind; the base of every annotation kind."""

    # Schemas are built on first use, not at import: commands that never validate start faster.
    model_config = ConfigDict(extra="ignore", defer_build=True)

    id: str | None = None
    kind: str
    start: int
    end: int
    text: str = Field(min_length=1)
    status: Status = "proposed"
    origin: Origin | None = None

    BASE_FIELDS: ClassVar[tuple[str, ...]] = ("id", "kind", "start", "end", "text", "status", "origin")

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Register each concrete kind under the default of its `kind` field."""
        super().__pydantic_init_subclass__(**kwargs)
        kind = cls.model_fields["kind"].default
        if isinstance(kind, str):
            ANNOTATION_KINDS.setdefault(kind, cls)

    @classmethod
    def kind_fields(cls) -> tuple[str, ...]:
        """The fields this kind adds to the span, in declaration order."""
        # Asked for every item a store reads or writes: worked out once per class.
        names = _KIND_FIELDS.get(cls)
        if names is None:
            names = _KIND_FIELDS[cls] = tuple(name for name in cls.model_fields if name not in Annotation.BASE_FIELDS)
        return names

    def fields(self) -> dict[str, Any]:
        """The kind's own fields as JSON-ready values."""
        dumped = self.model_dump(mode="json", include=set(self.kind_fields()))
        return {name: dumped[name] for name in self.kind_fields()}

    @model_validator(mode="after")
    def _span_matches_document(self, info: ValidationInfo) -> Annotation:
        document = _document(info)
        check_span(self.start, self.end, document)
        if self.end - self.start != len(self.text):
            raise ValueError(
                f"text has {len(self.text)} characters but the span {self.start}:{self.end} has {self.end - self.start}"
            )
        if document is not None and document[self.start : self.end] != self.text:
            raise ValueError(
                f"text {self.text[:40]!r} is not what the document holds at {self.start}:{self.end} "
                f"({document[self.start : self.end][:40]!r})"
            )
        if _reviewed(info):
            for name in self.kind_fields():
                if is_placeholder(getattr(self, name)):
                    raise ValueError(f"{name} {getattr(self, name)!r} is a placeholder: give the real value")
        return self


class Quote(Annotation):
    """A direct, indirect or mixed quotation and who said it."""

    kind: Literal["quote"] = "quote"
    speaker: str | None = None
    speaker_start: int | None = None
    speaker_end: int | None = None
    cue: str | None = None
    quote_type: QuoteType = "direct"

    @model_validator(mode="after")
    def _speaker_mention_in_document(self, info: ValidationInfo) -> Quote:
        if (self.speaker_start is None) != (self.speaker_end is None):
            raise ValueError("speaker_start and speaker_end must both be set or both be null")
        if self.speaker_start is not None and self.speaker_end is not None:
            check_span(self.speaker_start, self.speaker_end, _document(info), "speaker mention")
        return self


class Figure(Annotation):
    """A number reported as fact, normalised to a float with its unit and what it counts."""

    kind: Literal["figure"] = "figure"
    value: float = Field(allow_inf_nan=False)
    unit: str | None = None
    qualifier: Qualifier = "exact"
    subject: str | None = None
    attributed_to: str | None = None

    @model_validator(mode="after")
    def _value_is_the_number_written(self, info: ValidationInfo) -> Figure:
        if _reviewed(info):
            problem = figure_value_problem(self.text, self.value)
            if problem is not None and problem[0] == "error":
                raise ValueError(problem[1])
        return self


class Stance(Annotation):
    """A source's position toward a target; the span is the evidence."""

    kind: Literal["stance"] = "stance"
    holder: str = Field(min_length=1)
    target: str = Field(min_length=1)
    polarity: Polarity


def annotation_class(kind: str) -> type[Annotation]:
    """The model class for `kind`, or ValueError naming the known kinds."""
    try:
        return ANNOTATION_KINDS[kind]
    except KeyError:
        known = ", ".join(sorted(ANNOTATION_KINDS))
        raise ValueError(f"unknown kind {kind!r} (known: {known})") from None


def parse_annotation(data: dict[str, Any], document: str | None = None) -> Annotation:
    """Validate a dict as the annotation kind it names, against `document` when given."""
    if not isinstance(data, dict):
        raise ValueError(f"an annotation must be an object, not {type(data).__name__}")
    return annotation_class(str(data.get("kind"))).model_validate(data, context={"document": document})


# What a model is asked for: the span's words and the kind's fields. Offsets are found by grounding.
OFFSET_FIELDS = ("speaker_start", "speaker_end")
_DRAFT_MODELS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {}


class Draft(BaseModel):
    """One annotation as a model proposes it: the exact words of the span and the kind's fields."""

    text: str = Field(min_length=1, description="The exact words of the span, copied verbatim from the document.")


GROUNDING: ContextVar[Callable[[str], bool] | None] = ContextVar("grounding", default=None)
"""While set, a callable that says whether a span's words are found in the document being annotated.

A context variable rather than instructor's `context=`, which would also render the messages as
Jinja templates: a news article must reach the model exactly as written.
"""
_JSON_SCHEMAS: dict[tuple[Any, ...], dict[str, Any]] = {}


class Drafts(BaseModel):
    """A model's answer for one kind: every item it found in the text.

    While `GROUNDING` is set, items whose words are not in the document make the answer fail with
    a message naming them, which instructor sends back to the model as a re-ask. Validating with
    `context={"lenient": True}` skips that check.
    """

    items: list[Draft]

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The JSON schema, built once per class: clients ask for it on every request."""
        key = (cls, args, tuple(sorted(kwargs.items(), key=lambda item: item[0])))
        if key not in _JSON_SCHEMAS:
            _JSON_SCHEMAS[key] = super().model_json_schema(*args, **kwargs)
        return copy.deepcopy(_JSON_SCHEMAS[key])

    @model_validator(mode="after")
    def _items_are_in_the_document(self, info: ValidationInfo) -> Drafts:
        context = info.context if isinstance(info.context, dict) else {}
        found = GROUNDING.get()
        if found is None or context.get("lenient"):
            return self
        missing = [item.text for item in self.items if not found(item.text)]
        if missing:
            listed = "; ".join(repr(text[:80]) for text in missing[:5])
            raise ValueError(
                f"{len(missing)} item(s) are not in the document: {listed}. "
                "Copy every `text` verbatim from the document, or leave the item out."
            )
        return self


def draft_models(kind: str) -> tuple[type[Draft], type[Drafts]]:
    """The item and answer models a model fills for `kind`, made from the kind's own schema."""
    if kind not in _DRAFT_MODELS:
        cls = annotation_class(kind)
        fields: dict[str, Any] = {
            name: (cls.model_fields[name].annotation, cls.model_fields[name])
            for name in cls.kind_fields()
            if name not in OFFSET_FIELDS
        }
        item = create_model(f"{cls.__name__}Draft", __base__=Draft, __doc__=cls.__doc__, **fields)
        answer = create_model(
            f"{cls.__name__}Proposals", __base__=Drafts, __doc__=f"Every {kind} in the text.", items=(list[item], ...)
        )
        _DRAFT_MODELS[kind] = (item, answer)
    return _DRAFT_MODELS[kind]  # type: ignore[return-value]
