"""`annotator qa`: span, speaker, figure and name checks, events and disagreeing figures, the command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from annotator import qa
from annotator.cli import app
from annotator.numbers import figure_values
from annotator.schemas import Document, Figure, Origin, Quote, Stance

runner = CliRunner()
LLM = Origin(engine="llm", model="gpt-4o-mini", prompt="figures@abc123")
BELFAST = "000_abf700d5805d1a6d.txt"
AL_JAZEERA = "001_51e6285c5e7f3f86.txt"

TEXT = (
    "Ahmed Sheikho, a local activist, said the convoy was stuck. “We cannot move,” Sheikho told Al Jazeera.\n\n"
    "According to the UN, some 400,000 people have fled, half of whom are children. Mr Assad praised the army."
)
UNRELATED = [
    "LONDON (Reuters) - British inflation fell to 3.9% in November, official data showed on Wednesday. "
    "Paul Dales, chief UK economist at Capital Economics, said the Bank of England would cut rates by May. "
    "Around 1.2 million households will see their deals expire, according to trade body UK Finance.",
    "KYIV, Ukraine (AP) - Russian forces launched a barrage of missiles at Ukraine overnight, killing 12 people, "
    "officials said. The Ukrainian air force said it shot down 35 of the 42 missiles launched by Russia. "
    "President Volodymyr Zelenskyy wrote on Telegram that Russia must be held accountable.",
    "WASHINGTON (AP) - Dr. Jane Smith, a virologist at Johns Hopkins University, said COVID-19 cases rose by 12% "
    "in the week to Sunday. About 40 people were arrested in Baltimore, police said.",
]


def span_of(text: str, needle: str, nth: int = 0) -> tuple[int, int, str]:
    """(start, end, text) of the nth occurrence of `needle`."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(needle, start + 1)
    return start, start + len(needle), needle


def record(text: str, needle: str, kind: str = "figure", **fields) -> dict:
    """A contract record for the span `needle` of `text`."""
    start, end, words = span_of(text, needle)
    return {"id": f"i_{needle[:8]}", "kind": kind, "start": start, "end": end, "text": words, "status": "accepted",
            **fields}


def findings(text: str, *records: dict, check: str | None = None) -> list[qa.Finding]:
    """The findings for one document of `records`, of one check if given."""
    found = qa.check_document(qa.checked_document("sha256:x", "a.txt", text, records))
    return [finding for finding in found if check is None or finding.check == check]


def seed_text(seeds: Path, name: str) -> str:
    return (seeds / name).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------- the number in a span


@pytest.mark.parametrize(
    ("span", "values"),
    [
        ("nearly half a million people", [500_000]),
        ("some 400,000 people", [400_000]),
        ("2,000", [2000]),
        ("more than 2,000 people", [2000]),
        ("hundreds of civilians", [100]),
        ("tens of thousands of people", [10_000]),
        ("between 300 and 400 people", [300]),
        ("300-400", [300]),
        ("two to three million people", [2_000_000]),
        ("half", [50]),
        ("two-thirds", [pytest.approx(66.667, rel=1e-3)]),
        ("40 per cent", [40]),
        ("$5m", [5_000_000]),
        ("a 5,000-strong force", [5000]),
        ("the convoy", []),
    ],
)
def test_figure_values_reads_the_number_written_in_a_span(span: str, values: list[float]) -> None:
    assert figure_values(span) == values


# ---------------------------------------------------------------------------- per item


def test_span_integrity() -> None:
    good = record(TEXT, "some 400,000 people", value=400_000)
    assert findings(TEXT, good, check="span") == []
    moved = {**good, "start": good["start"] + 1, "end": good["end"] + 1}
    outside = {**good, "start": len(TEXT) - 2, "end": len(TEXT) + 17}
    empty = {**good, "end": good["start"]}
    no_text = {**good, "text": ""}
    messages = [findings(TEXT, item, check="span") for item in (moved, outside, empty, no_text)]
    assert [len(found) for found in messages] == [1, 1, 1, 1]
    assert all(found[0].severity == "error" for found in messages)
    assert "is not what the document holds" in messages[0][0].message
    assert "outside the document" in messages[1][0].message and "is empty" in messages[2][0].message
    assert messages[0][0].start == good["start"] + 1 and messages[0][0].excerpt == "some 400,000 people"


def test_speaker_mention() -> None:
    start, end, _ = span_of(TEXT, "Sheikho", 1)
    good = record(TEXT, "We cannot move", "quote", speaker="Ahmed Sheikho", speaker_start=start, speaker_end=end)
    unattributed = {**good, "speaker": None, "speaker_start": None, "speaker_end": None}
    assert findings(TEXT, good) == [] and findings(TEXT, unattributed) == []
    half = {**good, "speaker_end": None}
    outside = {**good, "speaker_start": len(TEXT) - 1, "speaker_end": len(TEXT) + 5}
    blank_at = TEXT.index("\n\n")
    blank = {**good, "speaker_start": blank_at, "speaker_end": blank_at + 2}
    for bad, words in ((half, "both must be set"), (outside, "not a span inside"), (blank, "is blank")):
        [finding] = findings(TEXT, bad)
        assert (finding.severity, finding.check) == ("error", "speaker-mention") and words in finding.message


def test_an_invented_speaker_is_a_warning() -> None:
    quote = record(TEXT, "We cannot move", "quote", speaker="Vladimir Putin")
    [finding] = findings(TEXT, quote)
    assert (finding.severity, finding.check) == ("warning", "speaker-name") and "Vladimir Putin" in finding.message
    # Titles, case, al- prefixes and apostrophe forms do not make a real speaker look invented.
    for speaker in ("President Bashar al-Assad", "AHMED SHEIKHO", "Al Jazeera", "the UN"):
        assert findings(TEXT, {**quote, "speaker": speaker}) == [], speaker
    text = "Hay’et Tahrir al-Sham said it withdrew."
    assert findings(text, record(text, "it withdrew", "quote", speaker="Hay'et Tahrir al-Sham")) == []


@pytest.mark.parametrize(
    ("needle", "value", "unit"),
    [("some 400,000 people", 400_000, "people"), ("some 400,000 people", 402_000, "people"), ("half", 50, "%")],
)
def test_a_figure_value_that_matches_its_span_passes(needle: str, value: float, unit: str) -> None:
    assert findings(TEXT, record(TEXT, needle, value=value, unit=unit)) == []


def test_a_figure_value_that_does_not_match_its_span_is_an_error() -> None:
    [finding] = findings(TEXT, record(TEXT, "some 400,000 people", value=500_000, unit="people"))
    assert (finding.severity, finding.check) == ("error", "figure-value")
    assert "500,000" in finding.message and "400,000" in finding.message
    [finding] = findings(TEXT, record(TEXT, "half", value=0.5, unit="%"))
    assert finding.severity == "error"


def test_a_figure_span_without_a_number_is_a_warning() -> None:
    [finding] = findings(TEXT, record(TEXT, "the army", value=3, unit="troops"))
    assert (finding.severity, finding.check, finding.message) == ("warning", "figure-value",
                                                                   "no number readable in the span")


def test_rejected_items_get_only_the_integrity_checks() -> None:
    wrong_value = {**record(TEXT, "some 400,000 people", value=1, unit="people"), "status": "rejected"}
    invented = {**record(TEXT, "We cannot move", "quote", speaker="Vladimir Putin"), "status": "rejected"}
    assert findings(TEXT, wrong_value, invented) == []
    moved = {**wrong_value, "start": wrong_value["start"] + 1, "end": wrong_value["end"] + 1}
    assert [f.check for f in findings(TEXT, moved)] == ["span"]


# ---------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Sheikho", "Ahmed Sheikho"),
        ("Assad", "Bashar Assad"),
        ("Assad", "Bashar al-Assad"),
        ("Opposition activists", "opposition activists"),
        ("Hay’et Tahrir al-Sham", "Hay'et Tahrir al-Sham"),
        ("the Syrian Observatory", "Syrian Observatory"),
        ("Jose Lopez", "José López"),
    ],
)
def test_one_source_written_two_ways(a: str, b: str) -> None:
    assert qa.same_source(a, b) and qa.same_source(b, a)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("opposition activists", "militant group and opposition activists"),
        ("activists", "local activists and a war monitor"),
        ("Russia", "Russia and Turkey"),
        ("Ahmed Sheikho", "Ahmed Husseinat"),
        ("Syrian government", "Syrian state TV"),
    ],
)
def test_different_sources(a: str, b: str) -> None:
    assert not qa.same_source(a, b) and not qa.same_source(b, a)


_NAMES = st.text(st.characters(categories=("Lu", "Ll", "Lt", "Zs")) | st.sampled_from("'’-"), min_size=1).filter(
    str.strip
)


@given(st.text())
def test_normalising_a_name_is_idempotent(name: str) -> None:
    once = qa.normalise_name(name)
    assert qa.normalise_name(once) == once


@given(_NAMES)
def test_a_name_is_the_same_source_in_any_case(name: str) -> None:
    assert qa.same_source(name, name.upper()) and qa.same_source(name, name.lower())
    assert qa.same_source(name, name.swapcase()) and qa.same_source(f"The {name}", name)


def test_canonical_names_within_a_document() -> None:
    quote = record(TEXT, "We cannot move", "quote", speaker="Sheikho")
    stance = record(TEXT, "Mr Assad praised the army", "stance", holder="Ahmed Sheikho", target="the army",
                    polarity="favor")
    other = {**record(TEXT, "said the convoy was stuck", "quote", speaker="Ahmed Sheikho"), "id": "i_other"}
    figure = record(TEXT, "some 400,000 people", value=400_000, attributed_to="UN")
    [finding] = findings(TEXT, quote, stance, other, figure, check="canonical-name")  # the pair, once
    assert finding.severity == "error" and finding.item_id == quote["id"]
    assert [(form.name, form.items) for form in finding.forms] == [
        ("Sheikho", [quote["id"]]), ("Ahmed Sheikho", [stance["id"], "i_other"])
    ]
    compound = {**other, "speaker": "militant group and opposition activists"}
    part = {**quote, "speaker": "opposition activists"}
    assert findings(TEXT, part, compound, check="canonical-name") == []
    rejected = {**quote, "status": "rejected"}
    assert findings(TEXT, rejected, stance, check="canonical-name") == []


# ---------------------------------------------------------------------------- across documents


def test_the_seed_articles_are_one_event_and_unrelated_articles_are_not(seeds: Path) -> None:
    texts = [seed_text(seeds, BELFAST), seed_text(seeds, AL_JAZEERA), *UNRELATED]
    documents = [qa.checked_document(f"d{i}", f"s{i}", text, []) for i, text in enumerate(texts)]
    [event] = qa.group_events(documents)
    assert event.document_ids == ["d0", "d1"]
    assert {"idlib", "khan", "sheikhoun", "assad"} <= set(event.shared_names)
    names = [qa.distinctive_names(text) for text in texts]
    assert qa.name_overlap(names[0], names[1]) > 0.2 > qa.EVENT_THRESHOLD
    for i in range(len(texts)):
        for j in range(max(i + 1, 2), len(texts)):
            assert qa.name_overlap(names[i], names[j]) < 0.1, (i, j)
    assert qa.group_events(documents[2:]) == []


def _seed_figures(seeds: Path) -> tuple[list[Document], list[Figure], list[Figure]]:
    belfast, al_jazeera = (
        Document.from_text(seed_text(seeds, name), f"seeds/{name}") for name in (BELFAST, AL_JAZEERA)
    )

    def figure(document: Document, needle: str, value: float, subject: str, by: str | None = None) -> Figure:
        start, end, words = span_of(document.text, needle)
        return Figure(start=start, end=end, text=words, value=value, unit="people", qualifier="approximately",
                      subject=subject, attributed_to=by, origin=LLM)

    first = [
        figure(belfast, "nearly half a million people", 500_000, "people forced to flee"),
        figure(belfast, "about a million people", 1_000_000, "population of Khan Sheikhoun",
               "Syrian Observatory for Human Rights"),
        figure(belfast, "more than 2,000 people", 2000, "people killed"),
    ]
    second = [
        figure(al_jazeera, "some 400,000 people", 400_000, "people forced to leave their homes", "United Nations"),
        figure(al_jazeera, "three million people", 3_000_000, "population of Idlib"),
    ]
    return [belfast, al_jazeera], first, second


def populate_seeds(store, seeds: Path) -> None:
    """Both seeds with gold figures: the pair that disagrees and figures that must not be paired."""
    documents, first, second = _seed_figures(seeds)
    store.add_documents(documents)
    for document, figures in zip(documents, (first, second)):
        for item_id in store.add_proposals(document.id, figures):
            store.record_decision(item_id, "accept", "ann")


def test_the_seeds_disagree_on_how_many_people_fled(store, seeds: Path) -> None:
    populate_seeds(store, seeds)
    report = qa.check_documents(qa.documents_from_store(store, "gold"))
    assert report.findings == [] and len(report.events) == 1
    [pair] = report.disagreements
    assert (pair.first.value, pair.first.qualifier, pair.first.subject, pair.first.said_by) == (
        500_000, "approximately", "people forced to flee", "the outlet")
    assert (pair.second.value, pair.second.subject, pair.second.said_by) == (
        400_000, "people forced to leave their homes", "United Nations")
    assert pair.first.text == "nearly half a million people" and pair.second.text == "some 400,000 people"
    assert pair.first.source.endswith(BELFAST) and pair.second.source.endswith(AL_JAZEERA)
    assert pair.subject_similarity >= qa.SUBJECT_THRESHOLD


def test_the_command_draws_a_bounded_number_of_disagreements(store, seeds: Path, monkeypatch) -> None:
    import annotator.cli

    populate_seeds(store, seeds)
    drawn = runner.invoke(app, ["qa", "--db", store.path], catch_exceptions=False).stdout
    assert "disagreeing figures, event 1" in drawn and "more disagreeing figures" not in drawn
    monkeypatch.setattr(annotator.cli, "SHOWN_DISAGREEMENTS", 0)
    capped = runner.invoke(app, ["qa", "--db", store.path], catch_exceptions=False).stdout
    assert "disagreeing figures, event 1" not in capped and "… and 1 more disagreeing figures (--json" in capped


def test_figures_about_different_things_are_not_paired(seeds: Path) -> None:
    documents, first, second = _seed_figures(seeds)
    checked = [qa.checked_document(d.id, d.source, d.text, figures) for d, figures in zip(documents, (first, second))]
    population_a, population_b = (qa.FigureSide(d.id, d.source, None, f.value, f.unit, f.qualifier, f.subject,
                                                f.attributed_to, f.start, f.end, f.text)
                                  for d, f in ((documents[0], first[1]), (documents[1], second[1])))
    assert qa.subject_similarity(population_a, population_b) == 0  # different places
    pairs = qa.disagreeing_figures(checked, qa.group_events(checked))
    assert [(p.first.subject, p.second.subject) for p in pairs] == [
        ("people forced to flee", "people forced to leave their homes")
    ]
    # Unrelated documents are no event, so even alike figures in them are not compared.
    apart = [checked[0], qa.checked_document("u", "u.txt", UNRELATED[0], [])]
    assert qa.disagreeing_figures(apart, qa.group_events(apart)) == []


def test_the_store_and_a_contract_file_give_the_same_report(store, seeds: Path, tmp_path: Path) -> None:
    populate_seeds(store, seeds)
    document = Document.from_text(TEXT, "a.txt")
    store.add_documents([document])
    start, end, words = span_of(TEXT, "some 400,000 people")
    store.add_proposals(document.id, [Figure(start=start, end=end, text=words, value=1, unit="people", origin=LLM)])
    runner.invoke(app, ["export", "--status", "all", "-o", "all.jsonl", "--db", store.path], catch_exceptions=False)
    from_store = runner.invoke(app, ["qa", "--json", "--db", store.path], catch_exceptions=False)
    from_file = runner.invoke(app, ["qa", "--json", "--file", "all.jsonl"], catch_exceptions=False)
    assert from_store.exit_code == from_file.exit_code == 1
    assert json.loads(from_store.stdout) == json.loads(from_file.stdout)
    assert json.loads(from_store.stdout)["summary"] == {"errors": 1, "warnings": 0, "disagreeing_figures": 1,
                                                       "documents": 3}


# ---------------------------------------------------------------------------- the command


def test_qa_passes_a_clean_store_and_reports_the_disagreement(store, seeds: Path) -> None:
    populate_seeds(store, seeds)
    result = runner.invoke(app, ["qa", "--db", store.path], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "0 errors, 0 warnings, 1 disagreeing figures across 2 documents" in result.stdout
    assert "nearly half a million people" in result.stdout and "United Nations" in result.stdout
    assert "the outlet" in result.stdout
    # The thresholds are options: stricter ones find no pair (subjects 78% alike) or no event (overlap 0.22).
    for option, value in (("--subject-threshold", "80"), ("--event-threshold", "0.3")):
        result = runner.invoke(app, ["qa", "--db", store.path, "--json", option, value], catch_exceptions=False)
        assert json.loads(result.stdout)["disagreements"] == [], option


def test_qa_fails_on_errors_and_shows_them_first(store) -> None:
    document = Document.from_text(TEXT, "news/a.txt")
    store.add_documents([document])
    start, end, words = span_of(TEXT, "some 400,000 people")
    # Without the document to validate against, the schema cannot see that the offsets are off by one.
    moved = Figure(start=start + 1, end=end + 1, text=words, value=400_000, unit="people", origin=LLM)
    vague = Figure(start=TEXT.index("the army"), end=TEXT.index("the army") + 8, text="the army", value=3, origin=LLM)
    ids = store.add_proposals(document.id, [vague, moved])
    result = runner.invoke(app, ["qa", "--db", store.path], catch_exceptions=False)
    assert result.exit_code == 1
    out = result.stdout
    assert "news/a.txt" in out and document.id[:19] in out
    assert out.index("error") < out.index("warning") and ids[1] in out
    assert "1 errors, 1 warnings, 0 disagreeing figures across 1 documents" in out
    # Filters: the bad item is a figure and only proposed.
    for options in (["--kind", "quote"], ["--status", "gold"]):
        result = runner.invoke(app, ["qa", "--db", store.path, *options], catch_exceptions=False)
        assert result.exit_code == 0 and "0 errors" in result.stdout, options


def test_warnings_fail_only_with_strict(store) -> None:
    document = Document.from_text(TEXT, "a.txt")
    store.add_documents([document])
    start, end, words = span_of(TEXT, "We cannot move")
    store.add_proposals(document.id, [Quote(start=start, end=end, text=words, speaker="Vladimir Putin", origin=LLM)])
    assert runner.invoke(app, ["qa", "--db", store.path], catch_exceptions=False).exit_code == 0
    result = runner.invoke(app, ["qa", "--db", store.path, "--strict"], catch_exceptions=False)
    assert result.exit_code == 1 and "0 errors, 1 warnings" in result.stdout


def test_json_output_has_stable_keys(store) -> None:
    document = Document.from_text(TEXT, "a.txt")
    store.add_documents([document])
    start, end, words = span_of(TEXT, "Mr Assad praised the army")
    stance = Stance(start=start, end=end, text=words, holder="Assad", target="the army", polarity="favor", origin=LLM)
    start, end, words = span_of(TEXT, "We cannot move")
    quote = Quote(start=start, end=end, text=words, speaker="Bashar al-Assad", origin=LLM)
    store.add_proposals(document.id, [stance, quote])
    result = runner.invoke(app, ["qa", "--json", "--db", store.path], catch_exceptions=False)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert list(data) == ["summary", "findings", "events", "disagreements"]
    assert data["summary"] == {"errors": 1, "warnings": 0, "disagreeing_figures": 0, "documents": 1}
    [finding] = data["findings"]
    assert list(finding) == ["severity", "check", "document_id", "source", "item_id", "kind", "start", "end",
                             "excerpt", "message", "forms"]
    assert finding["check"] == "canonical-name" and finding["document_id"] == document.id
    assert [form["name"] for form in finding["forms"]] == ["Assad", "Bashar al-Assad"]


def test_a_bad_file_is_one_line_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    line = {"text": "Some 40 people fled.", "source": "a.txt",
            "annotations": [{"kind": "figure", "start": 0, "end": 7, "text": "Some 41", "value": 41}]}
    bad.write_text(json.dumps(line) + "\n", encoding="utf-8")
    for path in (bad, tmp_path / "missing.jsonl"):
        result = runner.invoke(app, ["qa", "--file", str(path)])
        assert result.exit_code == 1
        message = result.stderr.strip()
        assert "\n" not in message and message.startswith(f"error: {path}")
    assert "is not what the document holds" in runner.invoke(app, ["qa", "--file", str(bad)]).stderr
    result = runner.invoke(app, ["qa", "--status", "nonsense"])
    assert result.exit_code == 1 and "unknown status filter" in result.stderr


def test_a_good_file_is_checked_without_a_database(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl"
    text = "Some 40 people fled."
    items = [{"id": "f1", "kind": "figure", "start": 0, "end": 14, "text": "Some 40 people", "value": 44,
              "unit": "people", "status": "accepted"}]
    good.write_text(json.dumps({"text": text, "source": "a.txt", "annotations": items}) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["qa", "--file", str(good), "--json"], catch_exceptions=False)
    assert result.exit_code == 1 and not (tmp_path / "labels.db").exists()
    [finding] = json.loads(result.stdout)["findings"]
    assert (finding["item_id"], finding["check"], finding["start"], finding["end"]) == ("f1", "figure-value", 0, 14)
