"""The `rules` engine's figures on news it was not written against: units against or after the
number, currencies, counted nouns, shared units, ranges, fractions, signs, scales, scores, names,
durations and ages; and the canonical unit (`numbers.canonical_unit`) that figures and `qa` share.

Every passage here is written for these tests, in the styles of wire copy, broadsheets, tabloids,
and US and UK papers; none comes from the seed articles.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from annotator.numbers import canonical_unit, figure_values
from annotator.propose.rules import RulesEngine
from annotator.qa import _unit_key, subject_key
from annotator.schemas import Figure


def figures(text: str) -> list[tuple[str, float, str | None, str]]:
    """(text, value, unit, qualifier) of every figure the rules propose in `text`."""
    return [
        (a.text, a.value, a.unit, a.qualifier) for a in RulesEngine().propose(text) if isinstance(a, Figure)
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Units written against the number, and decimals kept.
        ("The phone ships with a 512GB drive.", [("512GB", 512, "gigabyte", "exact")]),
        ("Its 5.8GHz radio beats rivals, the firm said in a release.", [("5.8GHz", 5.8, "gigahertz", "exact")]),
        ("Engineers fitted a 37m hull to the ferry.", [("37m", 37, "metre", "exact")]),
        ("The mast is 12m tall.", [("12m", 12, "metre", "exact")]),
        ("A 2.5kg parcel arrived.", [("2.5kg", 2.5, "kilogram", "exact")]),
        # ... and right after it.
        ("Forecasters warned of an 80 mph wind on Tuesday.", [("80 mph", 80, "mile per hour", "exact")]),
        ("The convoy drove 45 kilometres north.", [("45 kilometres", 45, "kilometre", "exact")]),
        ("Police said the car hit 120 km/h on the A1.", [("120 km/h", 120, "kilometre per hour", "exact")]),
    ],
)
def test_units_against_or_after_the_number(text, expected) -> None:
    assert figures(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("KUALA LUMPUR (Reuters) - Petronas set aside RM45 million for the plant.",
         [("RM45 million", 45e6, "MYR", "exact")]),
        ("The club paid $US40 million ($A58 million) for the site.",
         [("$US40 million", 40e6, "USD", "exact"), ("$A58 million", 58e6, "AUD", "exact")]),
        ("Brussels earmarked EUR50m for the scheme.", [("EUR50m", 50e6, "EUR", "exact")]),
        ("The fine of 9.5 million yuan was upheld.", [("9.5 million yuan", 9.5e6, "CNY", "exact")]),
        ("Tokyo approved ¥300 billion in spending.", [("¥300 billion", 300e9, "JPY", "exact")]),
        ("The deal, worth $2.7b, closed on Friday.", [("$2.7b", 2.7e9, "USD", "exact")]),
        ("Germany pledged 200 million euros.", [("200 million euros", 200e6, "EUR", "exact")]),
        ("Delhi's budget rose to ₹4,500 crore.", [("₹4,500", 4500, "INR", "exact")]),
        ("The bill reached 5 thousand million pounds sterling.",
         [("5 thousand million pounds sterling", 5e9, "GBP", "exact")]),
    ],
)
def test_currencies(text, expected) -> None:
    assert figures(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The counted noun after one or two modifiers, in the singular: the head noun is the unit.
        ("The firm has built 400 charging stations across Ohio.",
         [("400 charging stations", 400, "station", "exact")]),
        ("Rovers named 14 first-team players in the squad.",
         [("14 first-team players", 14, "player", "exact")]),
        ("The council bought 30 new electric buses.", [("30 new electric buses", 30, "bus", "exact")]),
        # A unit stated once for several numbers.
        ("Apple shipped 3.9 million units, up from 2.4 million a year earlier.",
         [("3.9 million units", 3.9e6, "unit", "exact"), ("2.4 million", 2.4e6, "unit", "exact")]),
        ("Sales hit $4bn, compared with 3.1bn in 2022.",
         [("$4bn", 4e9, "USD", "exact"), ("3.1bn", 3.1e9, "USD", "exact")]),
        # A range whose unit follows its second number.
        ("The rods grew from 13.5 to 14.0 mm over the trial.", [("from 13.5 to 14.0 mm", 13.5, "millimetre", "range")]),
        ("Chargers rated 5-10W sold out.", [("5-10W", 5, "watt", "range")]),
        ("Temperatures of 30-35C are forecast.", [("30-35C", 30, "degree Celsius", "range")]),
    ],
)
def test_counted_nouns_shared_units_and_ranges(text, expected) -> None:
    assert [(t, v, u, q) for t, v, u, q in figures(text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A quarter of voters backed the plan, the poll found.", [("A quarter", 25, "%", "exact")]),
        ("Two-thirds of residents oppose the mast.", [("Two-thirds", pytest.approx(200 / 3), "%", "approximately")]),
        ("Stir in 3/4 of a cup of sugar.", [("3/4 of a cup", 0.75, "cup", "exact")]),
        ("The index closed -4.5% lower.", [("-4.5%", -4.5, "%", "exact")]),
        ("Overnight it fell to minus 12 degrees in Oslo.", [("minus 12 degrees", -12, "degree", "exact")]),
        ("The bill came to 5 thousand million dollars.", [("5 thousand million dollars", 5e9, "USD", "exact")]),
        ("The virus made 1.5e6 copies an hour.", [("1.5e6 copies", 1.5e6, "copy", "exact")]),
        ("The Yankees are playing .500 ball.", [(".500", 0.5, None, "exact")]),
    ],
)
def test_fractions_signs_scales_and_notation(text, expected) -> None:
    assert figures(text) == expected


def test_a_change_and_a_level_are_two_figures_not_a_range() -> None:
    assert figures("Shares in the group rose 4% to $18.20 in New York.") == [
        ("4%", 4, "%", "exact"),
        ("$18.20", 18.2, "USD", "exact"),
    ]
    assert figures("Unemployment fell 0.2% to 4.1% in May.") == [("0.2%", 0.2, "%", "exact"), ("4.1%", 4.1, "%", "exact")]
    assert figures("Oil climbed by $2 to $85 a barrel.") == [("$2", 2, "USD", "exact"), ("$85", 85, "USD", "exact")]
    # "from … to …" and a bare "X to Y" stay ranges.
    assert figures("Turnout rose from 61% to 64%.") == [("from 61% to 64%", 61, "%", "range")]
    assert figures("They sent 2,000 to 3,000 soldiers.") == [("2,000 to 3,000 soldiers", 2000, "soldier", "range")]


@pytest.mark.parametrize(
    "text",
    [
        "The derby ended 1-1 at Anfield.",
        "United drew 2-2 with Chelsea, then won 3-1 at home.",
        "The Lakers beat the Suns 110-104.",
        "He wore the No. 23 jersey for a decade.",
        "The shop, at 1420 Elm Street, Springfield, IL 62704, was closed.",
        "The last train leaves at 11.30pm and the first at 5.15am.",
        "Doors open at 7:30 p.m. on Friday.",
        "The storm hit in the 1990s and again on 12/05.",
        "She finished 3rd in the heats of her 9th race.",
    ],
)
def test_not_figures(text) -> None:
    assert figures(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A category 3 storm battered the coast.", [("category 3", 3, "category", "exact")]),
        ("Forecasters upgraded it to a Category 4 hurricane.", [("Category 4", 4, "category", "exact")]),
    ],
)
def test_categories_are_figures(text, expected) -> None:
    assert figures(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Durations are figures, counted in their unit.
        ("Firefighters arrived in 30 minutes.", [("30 minutes", 30, "minute", "exact")]),
        ("The strike has lasted 200 days.", [("200 days", 200, "day", "exact")]),
        ("Both sides agreed a 30-day truce.", [("30-day", 30, "day", "exact")]),
        ("He was jailed for three years.", [("three years", 3, "year", "exact")]),
        # Ages are figures, in years of age.
        ("The 52-year-old coach resigned on Monday.", [("52-year-old coach", 52, "year of age", "exact")]),
        ("Maria Lopez, 45, said she would stay.", [("45", 45, "year of age", "exact")]),
        ("A man aged 30 was arrested.", [("aged 30", 30, "year of age", "exact")]),
        ("Volunteers aged between 18 and 25 joined.", [("aged between 18 and 25", 18, "year of age", "range")]),
    ],
)
def test_durations_and_ages_are_figures(text, expected) -> None:
    assert figures(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The talks collapsed two years ago.",
        "Prices rose in the past 24 hours and over the next three months.",
        "The plant opened in 2009 and closed on March 3.",
        "It was the ninth year of the war and the third straight day of rain.",
        "Flight 17 left from Terminal 5 near the M25.",
    ],
)
def test_points_in_time_ordinals_and_names_are_not_figures(text) -> None:
    assert figures(text) == []


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("km", "kilometre"), ("kilometres", "kilometre"), ("kilometers", "kilometre"), ("mph", "mile per hour"),
        ("GB", "gigabyte"), ("%", "%"), ("per cent", "%"), ("$", "USD"), ("dollars", "USD"), ("€", "EUR"),
        ("euros", "EUR"), ("¥", "JPY"), ("yuan", "CNY"), ("RM", "MYR"), ("$A", "AUD"), ("people", "person"),
        ("civilians", "civilian"), ("families", "family"), ("Syrians", "Syrian"), ("police", "police"),
        ("charging stations", "charging station"), ("buses", "bus"), ("houses", "house"), ("year of age", "year of age"), ("minutes", "minute"),
        (None, None), ("  ", None),
    ],
)
def test_canonical_unit(written, canonical) -> None:
    assert canonical_unit(written) == canonical


def test_qa_compares_figures_on_the_canonical_unit() -> None:
    assert _unit_key("people") == _unit_key("person") == "person"
    assert _unit_key("km") == _unit_key("kilometres") and _unit_key("$") == _unit_key("USD")
    assert _unit_key("people") != _unit_key("civilians")
    # The unit's word goes from the subject in either number.
    assert subject_key("people forced to flee", "person") == subject_key("people forced to flee", "people")
    assert subject_key("people forced to flee", "person") == "forced to flee"


def test_values_are_read_back_from_the_span() -> None:
    # The schemas and qa read a figure's value from its span with the same reader.
    for span, value in [("-4.5%", -4.5), ("$US40 million", 4e7), ("5 thousand million", 5e9), (".500", 0.5),
                        ("512GB", 512), ("RM45 million", 4.5e7), ("1.5e6 copies", 1.5e6)]:
        assert figure_values(span) == [value]


def test_the_vocabulary_loads_lazily() -> None:
    # Importing the core (as `annotator stats` does) neither imports quantulum3 nor reads its units.
    code = (
        "import sys, annotator.numbers, annotator.schemas, annotator.qa;"
        "print('quantulum3' in sys.modules, annotator.numbers.unit_vocabulary.cache_info().currsize)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "0"]
