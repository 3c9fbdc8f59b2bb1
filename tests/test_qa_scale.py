"""`annotator qa` at scale: it streams the documents and finds events through an index, and reports
what the quadratic implementation before it reported (`qa_reference`, a copy of it)."""

from __future__ import annotations

import importlib.util
import json
import tempfile
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import qa_reference as reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from annotator import qa
from annotator.canonical import document_id
from annotator.cli import app
from annotator.contract import ContractDocument
from annotator.errors import AnnotatorError
from annotator.names import fold
from annotator.schemas import Document, Origin, parse_annotation
from annotator.store import open_db

ROOT = Path(__file__).parent.parent
runner = CliRunner()
LLM = Origin(engine="llm", model="gpt-4o-mini", prompt="qa@scale")

# Small pools, so that generated documents share names (events form, and chain), write one source
# two ways, and count the same things with different values.
PLACES = ["Idlib", "Khan Sheikhoun", "Aleppo", "Hama", "Maarat al-Numan", "Kyiv", "Lyon", "Geneva", "Reuters",
          "Hayat Tahrir al-Sham", "Saraqeb", "Damascus"]
SPEAKERS = ["Ahmed Sheikho", "Sheikho", "Bashar al-Assad", "Assad", "Mr Assad", "the Syrian Observatory",
            "Syrian Observatory", "militants and activists", "United Nations", "UN", "Jane Smith", "he", "unknown"]
QUOTED = ["We cannot move", "The shelling has not stopped", "We will win", "There is no food left"]
VALUES = [12, 13, 400_000, 500_000, 1_000_000, 0]
UNITS = ["people", "person", "civilians", "km", None]
SUBJECTS = ["people forced to flee", "people forced to leave their homes", "people killed", "killed",
            "population of Idlib", "population of Khan Sheikhoun", "distance to Aleppo", None, "?"]
STATUSES = ["accepted", "accepted", "rejected", "proposed", "edited"]


@dataclass
class Article:
    """A document being written: its text and its annotation records, their offsets right by construction."""

    text: str = ""
    records: list[dict[str, Any]] = field(default_factory=list)

    def write(self, words: str) -> int:
        """Append words after a space; where they start."""
        if self.text:
            self.text += " "
        self.text += words
        return len(self.text) - len(words)

    def annotate(self, start: int, words: str, kind: str, status: str, **fields: Any) -> None:
        self.records.append({"id": f"i{len(self.records)}", "kind": kind, "start": start, "end": start + len(words),
                             "text": words, "status": status, **fields})

    def document(self, source: str) -> ContractDocument:
        return qa.checked_document(document_id(self.text), source, self.text, self.records)


quotes = st.tuples(st.sampled_from(QUOTED), st.sampled_from(SPEAKERS), st.sampled_from(SPEAKERS),
                   st.sampled_from(STATUSES))
figures = st.tuples(st.sampled_from(VALUES), st.sampled_from(VALUES), st.sampled_from(UNITS),
                    st.sampled_from(SUBJECTS), st.sampled_from([None, "United Nations", "Assad"]),
                    st.sampled_from(STATUSES))


@st.composite
def articles(draw: st.DrawFn, number: int) -> Article:
    """An article naming some places, with quotes (speakers written one way, named another) and figures
    (values as written, or not)."""
    article = Article()
    article.write(f"Report {number}.")
    places = draw(st.lists(st.sampled_from(PLACES), max_size=6))
    if places:
        article.write(f"Officials in {', '.join(places)} met on Monday.")
    for quoted, written, speaker, status in draw(st.lists(quotes, max_size=3)):
        start = article.write(f"“{quoted},” said {written}.")
        mention = start + len(quoted) + 9
        article.annotate(start + 1, quoted, "quote", status, speaker=speaker, speaker_start=mention,
                         speaker_end=mention + len(written), cue="said", quote_type="direct")
    for written, value, unit, subject, by, status in draw(st.lists(figures, max_size=4)):
        words = f"{written:,} {unit or 'units'}"
        start = article.write(f"Some {words} were counted.") + len("Some ")
        article.annotate(start, words, "figure", status, value=value, unit=unit, qualifier="approximately",
                         subject=subject, attributed_to=by)
    return article


@st.composite
def archives(draw: st.DrawFn, most: int = 10) -> list[Article]:
    """A few articles, some of them retold (the same names and figures, other words around them)."""
    count = draw(st.integers(1, most))
    written = [draw(articles(number)) for number in range(count)]
    for number in draw(st.lists(st.integers(0, count - 1), max_size=3)):
        retold = Article(written[number].text.replace(f"Report {number}.", f"Report {len(written)}, retold."),
                         [dict(record) for record in written[number].records])
        shift = len(retold.text) - len(written[number].text)
        for record in retold.records:
            for key in ("start", "end", "speaker_start", "speaker_end"):
                if key in record:
                    record[key] += shift
        written.append(retold)
    return written


def reports_of(documents: list[ContractDocument]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The report of `qa` and of the implementation before it, as JSON-ready data."""
    return qa.check_documents(iter(documents)).to_dict(), reference.check_documents(documents).to_dict()


# ---------------------------------------------------------------------------- the same report as before


@given(archives())
def test_generated_documents_get_the_report_they_got_before(written: list[Article]) -> None:
    documents = [article.document(f"news/{number}.txt") for number, article in enumerate(written)]
    new, old = reports_of(documents)
    assert new == old


@given(archives(most=6))
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_stores_get_the_report_they_got_before(written: list[Article]) -> None:
    with tempfile.TemporaryDirectory() as folder, open_db(Path(folder) / "labels.db") as store:
        for number, article in enumerate(written):
            document = Document.from_text(article.text, f"news/{number}.txt")
            if not store.add_documents([document])[0]:
                continue  # the same text again
            annotations = [parse_annotation({**record, "status": "proposed", "id": None, "origin": LLM.model_dump()},
                                            document=article.text) for record in article.records]
            ids = store.add_proposals(document.id, annotations)
            for item_id, annotation, record in zip(ids, annotations, article.records):
                if record["status"] == "edited":
                    changed = annotation.model_copy(update={"cue": "told"} if annotation.kind == "quote"
                                                    else {"qualifier": "at least"})
                    store.record_decision(item_id, "edit", "ann", changed)
                elif record["status"] != "proposed":
                    action = {"accepted": "accept", "rejected": "reject"}[record["status"]]
                    store.record_decision(item_id, action, "ann")
        for status in ("all", "gold"):
            new = qa.check_documents(qa.documents_from_store(store, status)).to_dict()
            old = reference.check_documents(reference.documents_from_store(store, status)).to_dict()
            assert new == old, status


@given(archives(), st.integers(1, 4))
def test_leaving_common_names_out_of_the_index_only_splits_events(written: list[Article], common: int) -> None:
    """Names held by more than `common` documents propose no pair: every pair still linked is one the
    implementation before linked too, with the same overlap, so each event lies inside one it found."""
    documents = [article.document(f"news/{number}.txt") for number, article in enumerate(written)]
    coverage = qa.Coverage.of(documents, common)
    before = {document_id: event for event in reference.group_events(documents)
              for document_id in event.document_ids}
    for event in coverage.events(coverage.groups()):
        [inside] = {before[document_id].number for document_id in event.document_ids}
        assert event.similarity >= before[event.document_ids[0]].similarity


def _bench() -> Any:
    spec = importlib.util.spec_from_file_location("qa_scale", ROOT / "bench" / "qa_scale.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


@pytest.mark.parametrize("seed", [1, 2])
def test_a_generated_news_archive_gets_the_report_it_got_before(tmp_path: Path, seed: int) -> None:
    """Events of one to eight reports whose figures sometimes disagree, from the store and from its file."""
    bench = _bench()
    archive = tmp_path / "archive.jsonl"
    bench.write_archive(archive, 250, seed)
    bench.build_store(tmp_path / "labels.db", 250, seed)
    with open_db(tmp_path / "labels.db") as store:
        new = qa.check_documents(qa.documents_from_store(store)).to_dict()
        old = reference.check_documents(reference.documents_from_store(store)).to_dict()
    assert new == old
    assert len(new["events"]) > 40 and len(new["disagreements"]) > 40 and new["summary"]["errors"] > 0
    from_file = qa.check_documents(qa.documents_from_file(archive)).to_dict()
    assert from_file["events"] == new["events"] and from_file["disagreements"] == new["disagreements"]


# ---------------------------------------------------------------------------- events by hand

MAARAT = (
    "Syrian government forces captured Maarat al-Numan on Tuesday, the Syrian Observatory for Human Rights said. "
    "Fighters of Hayat Tahrir al-Sham withdrew towards Saraqeb and Idlib city as Russian jets struck the highway. "
    "The United Nations said {figure} had fled the offensive since December."
)


def test_two_reports_of_one_event_that_disagree_on_a_figure() -> None:
    documents = []
    for number, figure, value in ((0, "about 400,000 people", 400_000), (1, "more than 520,000 people", 520_000)):
        article = Article()
        text = MAARAT.format(figure=figure) if number == 0 else "Reporting by Ahmed Sheikho. " + MAARAT.format(
            figure=figure)
        start = article.write(text) + text.index(figure)
        article.annotate(start, figure, "figure", "accepted", value=value, unit="people",
                         qualifier="approximately", subject="people who fled", attributed_to="United Nations")
        documents.append(article.document(f"outlet{number}.txt"))
    unrelated = qa.checked_document("sha256:u", "u.txt", "Lyon beat Marseille in the Ligue 1 on Sunday.", [])
    report = qa.check_documents([documents[0], unrelated, documents[1]])
    [event] = report.events
    assert event.document_ids == [documents[0].id, documents[1].id]
    assert {"maarat", "numan", "saraqeb", "idlib"} <= set(event.shared_names)
    [pair] = report.disagreements
    assert (pair.first.value, pair.second.value, pair.subject_similarity) == (400_000, 520_000, 100.0)
    assert report.to_dict() == reference.check_documents([documents[0], unrelated, documents[1]]).to_dict()


def _wire_story(number: int, names: list[str]) -> ContractDocument:
    text = (f"Story {number}. Officials from {names[0]} and {names[1]} met envoys of {names[2]} in Washington "
            "on Monday, Reuters reported.")
    return qa.checked_document(document_id(text), f"wire/{number}.txt", text, [])


def test_a_very_common_name_does_not_make_every_document_one_event() -> None:
    """Wire stories that share only "Washington" and "Reuters" overlap 2/8 = 0.25 by name, well above
    `EVENT_THRESHOLD`: the implementation before chained every one of them into one event. Names held
    by more than `COMMON_NAME_DOCUMENTS` documents propose no pair, so only the two stories that share
    names of their own are one event."""
    count = qa.COMMON_NAME_DOCUMENTS + 20
    documents = [_wire_story(number, [f"Town{number}a", f"Town{number}b", f"Town{number}c"])
                 for number in range(count)]
    documents[7] = _wire_story(7, ["Kherson", "Mykolaiv", "Odesa"])
    documents[90] = _wire_story(90, ["Kherson", "Mykolaiv", "Zaporizhzhia"])
    [event] = qa.group_events(documents)
    assert event.document_ids == [documents[7].id, documents[90].id]
    assert event.shared_names == ["kherson", "mykolaiv", "reuters", "washington"]
    assert event.similarity == round(4 / 6, 3)  # the common names still count in the overlap
    [before] = reference.group_events(documents)
    assert len(before.document_ids) == count
    # With no more documents than the limit, every pair that shares a name is compared, as before.
    few = documents[: qa.COMMON_NAME_DOCUMENTS]
    assert [event.to_dict() for event in qa.group_events(few)] == [
        event.to_dict() for event in reference.group_events(few)]


def test_one_source_written_two_ways_is_found_among_many_names() -> None:
    """The pairs `same_source` may join are found through an index of names and their words."""
    article = Article()
    speakers = [f"Speaker{number} Person{number}" for number in range(60)] + [
        "Ahmed Sheikho", "Sheikho", "Bashar al-Assad", "The Syrian Observatory", "Syrian Observatory",
        "militants and activists", "activists"]
    for speaker in speakers:
        start = article.write(f"“We cannot move,” said {speaker}.")
        article.annotate(start + 1, "We cannot move", "quote", "accepted", speaker=speaker,
                         speaker_start=None, speaker_end=None)
    found = qa.check_document(article.document("a.txt"))
    assert [f.forms[0].name for f in found if f.check == "canonical-name"] == ["Sheikho", "Syrian Observatory"]
    before = reference.check_document(reference.checked_document(
        document_id(article.text), "a.txt", article.text, article.records))
    assert [f.to_dict() for f in found] == [f.to_dict() for f in before]


# ---------------------------------------------------------------------------- streaming


def test_documents_are_checked_as_they_stream_by_and_not_kept() -> None:
    """`check_documents` reads a stream once and lets each document go once checked."""
    kept: list[weakref.ref[ContractDocument]] = []

    def stream() -> Iterator[ContractDocument]:
        for number in range(30):
            assert all(ref() is None for ref in kept[:-1]), "an earlier document is still held"
            document = _wire_story(number, ["Kherson", "Mykolaiv", f"Town{number}"])
            kept.append(weakref.ref(document))
            yield document

    report = qa.check_documents(stream())
    assert report.documents == 30 and len(report.events) == 1 and len(report.events[0].document_ids) == 30


def test_a_file_is_read_one_line_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    good = {"text": "Some 40 people fled.", "source": "a.txt", "annotations": []}
    bad = {"text": "Some 40 people fled.", "source": "b.txt",
           "annotations": [{"kind": "figure", "start": 0, "end": 7, "text": "Some 41", "value": 41}]}
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    documents = qa.documents_from_file(path)
    assert next(documents).source == "a.txt"  # read before the bad line is reached
    with pytest.raises(AnnotatorError, match=":2: annotations"):
        next(documents)
    result = runner.invoke(app, ["qa", "--file", str(path)])
    assert result.exit_code == 1 and result.stdout == "" and f"{path}:2:" in result.stderr
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    result = runner.invoke(app, ["qa", "--file", str(empty)])
    assert result.exit_code == 1 and "no documents" in result.stderr
    with pytest.raises(AnnotatorError, match="unknown status filter"):
        qa.documents_from_file(path, "nonsense")  # at once, before any reading


@given(st.text())
def test_a_text_is_folded_as_fold_folds_it(text: str) -> None:
    assert qa.fold_text(text) == fold(text)
    assert qa.document_words(text) == reference.document_words(text)
    assert qa.distinctive_names(text) == reference.distinctive_names(text)
