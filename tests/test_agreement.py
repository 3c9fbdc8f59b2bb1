"""Agreement between reviewers (and engines): κ and α against the literature and an independent
implementation, span F1 and fields on a store that three reviewers reviewed, and `annotator agree`."""

from __future__ import annotations

import json
import math

import krippendorff
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from annotator.agreement import (
    agreement,
    cohen_kappa,
    krippendorff_alpha,
    percent_agreement,
)
from annotator.cli import app
from annotator.errors import AnnotatorError
from annotator.schemas import Document, Figure, Origin, Quote
from annotator.store import manual_id

runner = CliRunner()

# --------------------------------------------------------------------------- coefficients


def _table(counts: dict[tuple[str, str], int]) -> list[tuple[str, str]]:
    """Paired ratings from a contingency table."""
    return [pair for pair, count in counts.items() for _ in range(count)]


def test_kappa_matches_textbook_examples() -> None:
    # Wikipedia, "Cohen's kappa", worked example: 50 proposals, yes/yes 20, yes/no 5, no/yes 10, no/no 15.
    assert cohen_kappa(_table({("y", "y"): 20, ("y", "n"): 5, ("n", "y"): 10, ("n", "n"): 15})) == pytest.approx(0.4)
    # Its two tables with the same agreement (60%) and different kappas: 0.1304 and 0.2593.
    assert cohen_kappa(_table({("y", "y"): 45, ("y", "n"): 15, ("n", "y"): 25, ("n", "n"): 15})) == pytest.approx(
        0.1304, abs=1e-4)
    assert cohen_kappa(_table({("y", "y"): 25, ("y", "n"): 35, ("n", "y"): 5, ("n", "n"): 35})) == pytest.approx(
        0.2593, abs=1e-4)


def test_kappa_edge_cases() -> None:
    assert cohen_kappa([]) is None
    assert cohen_kappa([("a", "a")] * 5) is None  # one category: chance alone agrees
    assert cohen_kappa([("a", "a"), ("b", "b"), ("c", "c")]) == 1.0
    assert cohen_kappa([("a", "b"), ("b", "a")]) == pytest.approx(-1.0)


# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", the reliability data of section C:
# 4 observers, 12 units, missing values as None. Published: nominal 0.743, interval 0.849.
RELIABILITY_DATA = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _units(data: list[list[float | None]]) -> list[list[float]]:
    return [[row[u] for row in data if row[u] is not None] for u in range(len(data[0]))]


def test_alpha_matches_krippendorffs_worked_example() -> None:
    units = _units(RELIABILITY_DATA)
    assert round(krippendorff_alpha(units, "nominal"), 3) == 0.743
    assert round(krippendorff_alpha(units, "interval"), 3) == 0.849


def test_alpha_edge_cases() -> None:
    assert krippendorff_alpha([[1, 1], [1, 1, 1]]) is None  # one category only: no variation to agree on
    assert krippendorff_alpha([[1, 2], [1, 2]], "interval") == pytest.approx(-0.5)  # systematic disagreement
    assert krippendorff_alpha([[1, 1], [2, 2], [3, 3]]) == 1.0  # all agree
    assert krippendorff_alpha([[1, 1], [2, 2], [3, 3]], "interval") == 1.0
    assert krippendorff_alpha([[1], [2], [3]]) is None  # nothing pairable (a missing value in every unit)
    assert krippendorff_alpha([]) is None
    # A unit with one value says nothing: dropping it changes nothing.
    assert krippendorff_alpha([[1, 2], [2, 2], [5]]) == krippendorff_alpha([[1, 2], [2, 2]])
    with pytest.raises(ValueError):
        krippendorff_alpha([[1, 2]], "ordinal")


def test_percent_agreement() -> None:
    assert percent_agreement([["a", "a", "a"], ["a", "b"]]) == pytest.approx(6 / 8)
    assert percent_agreement([["a"]]) is None


reliability = st.integers(2, 4).flatmap(lambda raters: st.integers(1, 12).flatmap(
    lambda units: st.lists(st.lists(st.one_of(st.none(), st.integers(1, 4)), min_size=units, max_size=units),
                           min_size=raters, max_size=raters)))


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # the package's 0/0
@given(reliability, st.sampled_from(["nominal", "interval"]))
def test_alpha_matches_the_krippendorff_package(data: list[list[int | None]], metric: str) -> None:
    ours = krippendorff_alpha(_units(data), metric)
    matrix = [[math.nan if value is None else value for value in row] for row in data]
    try:
        theirs = krippendorff.alpha(reliability_data=matrix, level_of_measurement=metric)
    except ValueError:  # one value only, or no unit with two values: undefined
        assert ours is None
        return
    if ours is None:  # no variation among the pairable values: the package divides 0 by 0
        assert math.isnan(theirs) or theirs == pytest.approx(1.0)
    else:
        assert ours == pytest.approx(theirs, abs=1e-9)


# --------------------------------------------------------------------------- a store with three reviewers

TEXT = ('"We will stay," said Ahmed Sheikho. "The town is empty," said Lina Haddad. "Nobody came back," said '
        'Omar Novak. "Help is late," a voice said. "We are tired," a resident said. Nearly 400,000 people fled.')
RULES = Origin(engine="rules", prompt="rules@test")


def _quote(words: str, speaker: str | None, start_offset: int = 0, origin: Origin | None = RULES) -> Quote:
    start = TEXT.index(words) + start_offset
    end = TEXT.index(words) + len(words)
    return Quote(start=start, end=end, text=TEXT[start:end], speaker=speaker, quote_type="direct", origin=origin)


def _figure(value: float) -> Figure:
    start = TEXT.index("400,000 people")
    return Figure(start=start, end=start + 14, text="400,000 people", value=value, unit="people",
                  qualifier="approximately", origin=RULES)


@pytest.fixture
def reviewed(store):
    """TEXT with four proposed quotes and a figure, reviewed by alice, bob and carol (overlap 3).

    Quotes kept: alice Q1 Q2 Q5; bob Q1 Q2 (another speaker) Q3 Q5; carol Q1 (cut short) and Q4 (added).
    The figure: alice and carol keep 400,000, bob corrects it to 500,000.
    """
    document = Document.from_text(TEXT, "a.txt", "A")
    store.add_documents([document])
    store.set_settings({"overlap": "3"})
    q1, q2, q3, q5 = (_quote("We will stay", "Ahmed Sheikho"), _quote("The town is empty", "Lina Haddad"),
                      _quote("Nobody came back", "Omar Novak"), _quote("Help is late", None))
    ids = store.add_proposals(document.id, [q1, q2, q3, q5, _figure(400000)])
    p1, p2, p3, p5, f1 = ids
    for item in (p1, p2, p5, f1):
        store.record_decision(item, "accept", "alice")
    store.record_decision(p3, "reject", "alice")
    for item in (p1, p3, p5):
        store.record_decision(item, "accept", "bob")
    store.record_decision(p2, "edit", "bob", _quote("The town is empty", "Omar Novak"))
    store.record_decision(f1, "edit", "bob", _figure(500000))
    store.record_decision(p1, "edit", "carol", _quote("We will stay", "Ahmed Sheikho", start_offset=3))
    for item in (p2, p3, p5):
        store.record_decision(item, "reject", "carol")
    store.record_decision(f1, "accept", "carol")
    store.record_decision(manual_id(), "add", "carol", _quote("We are tired", "a resident", origin=None), document.id)
    return store


def test_span_f1_exact_f1_and_found_by_all(reviewed) -> None:
    result = agreement(reviewed).to_dict()
    assert result["annotators"] == ["alice", "bob", "carol"]
    quote = result["kinds"]["quote"]
    # alice|bob: Q1 Q2 Q5 matched, 3 + 4 items; alice|carol: Q1 (cut short: not exact), 3 + 2; bob|carol: Q1, 4 + 2.
    assert quote["span"]["f1"] == {"alice|bob": round(6 / 7, 4), "alice|carol": 0.4, "bob|carol": round(2 / 6, 4)}
    assert quote["span"]["exact_f1"] == {"alice|bob": round(6 / 7, 4), "alice|carol": 0.0, "bob|carol": 0.0}
    # Units: Q1 (all three), Q2 (alice, bob), Q3 (bob), Q4 (carol), Q5 (alice, bob): one of five found by all.
    assert quote["span"]["units"] == 5
    assert quote["span"]["found_by_all"] == 0.2
    assert quote["documents"] == 1


def test_fields_on_matched_items_with_missing_values(reviewed) -> None:
    speaker = agreement(reviewed, kinds=["quote"]).to_dict()["kinds"]["quote"]["fields"]["speaker"]
    # Units found by two or more: Q1 [S, S, S], Q2 [Lina Haddad, Omar Novak], Q5 [None, None] (dropped, counted).
    assert (speaker["used"], speaker["total"]) == (2, 3)
    # α: n = 5 pairable values; within Q2: 2/(2−1); every pair: 25 − (9 + 1 + 1) = 14; α = 1 − 4·2/14.
    assert speaker["alpha"] == round(1 - 4 * 2 / 14, 4)
    assert speaker["agreement"] == 0.75  # 6 of 8 ordered pairs agree
    # alice|bob matched Q1, Q2 and Q5; Q5 has no speaker: p_o = 1/2, p_e = 1/4, κ = 1/3.
    assert speaker["kappa"]["alice|bob"] == round(1 / 3, 4)
    assert (speaker["kappa_used"]["alice|bob"], speaker["kappa_total"]["alice|bob"]) == (2, 3)
    assert speaker["kappa"]["alice|carol"] is None  # one pair, one category: undefined, not hidden
    assert speaker["kappa_used"]["alice|carol"] == 1
    quote_type = agreement(reviewed).to_dict()["kinds"]["quote"]["fields"]["quote_type"]
    assert quote_type["alpha"] is None and quote_type["agreement"] == 1.0  # all "direct"


def test_figure_value_is_interval(reviewed) -> None:
    value = agreement(reviewed).to_dict()["kinds"]["figure"]["fields"]["value"]
    assert value["metric"] == "interval"
    # One unit [400000, 500000, 400000]: with a single unit the disagreement within is all there is.
    assert value["alpha"] == 0.0
    assert value["kappa"]["alice|carol"] is None and value["kappa"]["alice|bob"] == 0.0
    assert (value["used"], value["total"]) == (1, 1)


def test_engines_are_raters_with_their_proposals_as_proposed(reviewed) -> None:
    result = agreement(reviewed, annotators=["alice", "carol"], engines=True).to_dict()
    engine = "rules/-@rules@test"
    assert result["annotators"] == ["alice", "carol", engine]
    quote = result["kinds"]["quote"]
    # The run proposed Q1 Q2 Q3 Q5: alice kept three of them (3 + 4 items), carol Q1 cut short and her own Q4.
    assert quote["span"]["f1"][f"alice|{engine}"] == round(6 / 7, 4)
    assert quote["span"]["f1"][f"carol|{engine}"] == round(2 / 6, 4)
    assert quote["span"]["exact_f1"][f"carol|{engine}"] == 0.0
    assert "alice|bob" not in quote["span"]["f1"]
    assert quote["fields"]["speaker"]["kappa_total"][f"alice|{engine}"] == 3


def test_needs_two_raters_and_known_names(store, reviewed) -> None:
    with pytest.raises(AnnotatorError, match="no reviewer named 'dave'"):
        agreement(reviewed, annotators=["alice", "dave"])
    with pytest.raises(AnnotatorError, match="two raters"):
        agreement(reviewed, annotators=["alice"])
    only = agreement(reviewed, annotators=["alice", "bob"]).to_dict()
    assert list(only["kinds"]["quote"]["span"]["f1"]) == ["alice|bob"]


def test_agree_command_json_and_tables(reviewed) -> None:
    path = reviewed.path
    result = runner.invoke(app, ["agree", "--json", "--db", path], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"annotators", "kinds"}
    assert set(data["kinds"]) == {"quote", "figure"}
    quote = data["kinds"]["quote"]
    assert {"f1", "found_by_all"} <= set(quote["span"])
    assert {"alpha", "kappa", "agreement", "used", "total"} <= set(quote["fields"]["speaker"])
    result = runner.invoke(app, ["agree", "--kind", "quote", "--engines", "--db", path], catch_exceptions=False)
    assert result.exit_code == 0
    assert "alice · bob" in result.stdout and "speaker (nominal)" in result.stdout
    assert "figure" not in result.stdout


def test_agree_command_fails_in_one_line(reviewed) -> None:
    result = runner.invoke(app, ["agree", "--annotators", "alice", "--db", reviewed.path])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    result = runner.invoke(app, ["agree", "--kind", "nonsense", "--db", reviewed.path])
    assert result.exit_code != 0


def test_a_rater_with_two_items_on_one_span_is_counted_as_the_long_way_does(reviewed) -> None:
    # alice also adds her own item over Q5, which she and bob accepted unchanged: Q5 is no longer a unit each
    # of them found once, and her second item there is one of her items that bob has no partner for.
    document = reviewed.document_ids()[0]
    reviewed.record_decision(manual_id(), "add", "alice", _quote("Help is late", None, origin=None), document)
    quote = agreement(reviewed, annotators=["alice", "bob"]).to_dict()["kinds"]["quote"]
    # alice: Q1 Q2 Q5 and her Q5; bob: Q1 Q2 Q3 Q5. Matched: Q1, Q2, Q5, all exact.
    assert quote["span"]["pairs"]["alice|bob"] == {"documents": 1, "items": [4, 4], "matched": 3, "exact": 3}
    assert quote["span"]["f1"] == {"alice|bob": 0.75}
    # Units: Q1, Q2, Q5 (both of alice's items there are one unit), Q3.
    assert (quote["span"]["units"], quote["span"]["found_by_all"]) == (4, 0.75)


def test_counting_in_several_processes_gives_the_figures_of_one(store) -> None:
    # Eight documents, each reviewed otherwise by alice, bob and carol (kept, corrected, cut short, rejected, added,
    # two items on one span), then counted in one process and in three side by side (two of them started apart).
    import random

    rng = random.Random(5)
    store.set_settings({"overlap": "3"})
    for number in range(8):
        document = Document.from_text(TEXT + f" Report {number}.", f"d{number}.txt", f"D{number}")
        store.add_documents([document])
        proposals = [_quote("We will stay", "Ahmed Sheikho"), _quote("The town is empty", "Lina Haddad"),
                     _quote("Nobody came back", "Omar Novak"), _quote("Help is late", None), _figure(400000)]
        ids = store.add_proposals(document.id, proposals)
        for name in ("alice", "bob", "carol"):
            for item, proposal in zip(ids, proposals):
                choice = rng.choice(["accept", "accept", "accept", "reject", "edit", "cut"])
                if choice in ("accept", "reject"):
                    store.record_decision(item, choice, name)
                elif proposal.kind == "figure":
                    store.record_decision(item, "edit", name, _figure(rng.choice([400000, 500000])))
                else:
                    words = proposal.text
                    edited = _quote(words, rng.choice(["Ahmed Sheikho", "Omar Novak", None]),
                                    start_offset=3 if choice == "cut" else 0)
                    store.record_decision(item, "edit", name, edited)
            if rng.random() < 0.5:
                store.record_decision(manual_id(), "add", name, _quote("We are tired", "a resident", origin=None),
                                      document.id)
            if rng.random() < 0.3:  # a second item over a proposal's span
                store.record_decision(manual_id(), "add", name, _quote("Help is late", "a voice", origin=None),
                                      document.id)
    for options in ({}, {"engines": True}, {"annotators": ["alice", "carol"]}, {"kinds": ["figure"]}):
        alone = agreement(store, processes=1, **options).to_dict()
        assert agreement(store, processes=3, **options).to_dict() == alone
    assert alone["kinds"]["figure"]["documents"] == 8
