"""Annotation models: field rules and offsets checked against the document."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from annotator.schemas import ANNOTATION_KINDS, Figure, Quote, Stance, document_id, parse_annotation

DOC = "“We will stay,” Ahmed Sheikho told reporters. Nearly 400,000 people fled."


def test_kinds_register_themselves() -> None:
    assert ANNOTATION_KINDS == {"quote": Quote, "figure": Figure, "stance": Stance}
    assert Quote.kind_fields() == ("speaker", "speaker_start", "speaker_end", "cue", "quote_type")
    assert Figure.kind_fields() == ("value", "unit", "qualifier", "subject", "attributed_to")


def test_valid_quote_against_document() -> None:
    quote = parse_annotation(
        {"kind": "quote", "start": 1, "end": 13, "text": "We will stay", "speaker": "Ahmed Sheikho",
         "speaker_start": 16, "speaker_end": 29, "cue": "told", "quote_type": "direct"},
        document=DOC,
    )
    assert isinstance(quote, Quote)
    assert DOC[quote.speaker_start : quote.speaker_end] == "Ahmed Sheikho"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start": 13, "end": 1}, "must be greater than start"),
        ({"start": -1}, "negative"),
        ({"end": 200, "start": 188, "text": "x" * 12}, "past the end"),
        ({"text": "We will sta!"}, "is not what the document holds"),
        ({"text": "We will"}, "characters but the span"),
        ({"quote_type": "paraphrase"}, "quote_type"),
        ({"speaker_start": 16}, "both be set"),
        ({"speaker_start": 16, "speaker_end": 500}, "past the end"),
    ],
)
def test_bad_quotes_are_refused(change: dict, message: str) -> None:
    data = {"kind": "quote", "start": 1, "end": 13, "text": "We will stay", **change}
    with pytest.raises(ValidationError, match=message):
        parse_annotation(data, document=DOC)


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_figure_value_must_be_finite(value: float) -> None:
    with pytest.raises(ValidationError, match="finite"):
        Figure(start=0, end=1, text="N", value=value)


def test_enums_are_checked() -> None:
    with pytest.raises(ValidationError, match="qualifier"):
        Figure(start=0, end=1, text="N", value=1, qualifier="roughly")
    with pytest.raises(ValidationError, match="polarity"):
        Stance(start=0, end=1, text="N", holder="a", target="b", polarity="positive")
    with pytest.raises(ValueError, match="unknown kind 'event'"):
        parse_annotation({"kind": "event", "start": 0, "end": 1, "text": "x"})


def test_document_id_is_sha256_of_utf8() -> None:
    assert document_id("é") == "sha256:" + __import__("hashlib").sha256("é".encode()).hexdigest()


@given(st.text(min_size=1, max_size=200), st.data())
def test_any_slice_of_any_document_validates(document: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(document) - 1))
    end = data.draw(st.integers(start + 1, len(document)))
    quote = parse_annotation({"kind": "quote", "start": start, "end": end, "text": document[start:end]}, document)
    assert document[quote.start : quote.end] == quote.text


@given(st.text(min_size=1, max_size=100), st.integers(-5, 120), st.integers(-5, 120))
def test_offsets_that_do_not_fit_are_always_refused(document: str, start: int, end: int) -> None:
    text = document[max(start, 0) : max(end, 0)] or "x"
    fits = 0 <= start < end <= len(document) and document[start:end] == text
    try:
        parse_annotation({"kind": "figure", "start": start, "end": end, "text": text, "value": 1}, document)
    except ValidationError:
        assert not fits
    else:
        assert fits
