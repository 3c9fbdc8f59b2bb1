"""The JSONL contract: export, import, the exact round trip, CSV and filters."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from annotator.cli import app
from annotator.errors import AnnotatorError
from annotator.contract import left_out_of_gold
from annotator.export import export_csv, export_jsonl, import_contract
from annotator.schemas import Document, Figure, Origin, Quote, Stance, document_id
from annotator.store import open_db

runner = CliRunner()
LLM = Origin(engine="llm", model="gpt-4o-mini", prompt="quotes@abc123")
TEXT = (
    "“The convoy is stuck,” Suleiman Abdulqader told Al Jazeera.\n\n"
    "According to the UN, some 400,000 people – 40% of them children – fled. Café owners welcomed the truce."
)


def _span(needle: str) -> tuple[int, int, str]:
    start = TEXT.index(needle)
    return start, start + len(needle), needle


def populate(store) -> Document:
    """A document with items in every status."""
    document = Document.from_text(TEXT, "seeds/a.txt", "Convoy")
    store.add_documents([document, Document.from_text("Nothing happened.", "seeds/b.txt")])
    s, e, t = _span("The convoy is stuck")
    quote = Quote(start=s, end=e, text=t, speaker="Suleiman", speaker_start=23, speaker_end=31, cue="told",
                  quote_type="direct", origin=LLM)
    s, e, t = _span("some 400,000 people")
    figure = Figure(start=s, end=e, text=t, value=400000, unit="people", qualifier="approximately",
                    subject="people who fled", attributed_to="UN", origin=LLM)
    s, e, t = _span("40%")
    share = Figure(start=s, end=e, text=t, value=40, unit="%", origin=LLM)
    s, e, t = _span("Café owners welcomed the truce")
    stance = Stance(start=s, end=e, text=t, holder="Café owners", target="the truce", polarity="favor", origin=LLM)
    ids = store.add_proposals(document.id, [quote, figure, share, stance])
    store.record_decision(ids[0], "edit", "ann", quote.model_copy(update={"speaker": "Suleiman Abdulqader",
                                                                           "speaker_end": 42}))
    store.record_decision(ids[1], "accept", "ann")
    store.record_decision(ids[2], "reject", "ann")
    s, e, t = _span("UN")
    store.record_decision("m_added1", "add", "ann", Stance(start=s, end=e, text=t, holder="UN", target="x",
                                                           polarity="neutral"), document_id=document.id)
    return document


def exported(store, status: str = "all", kinds=None) -> str:
    out = io.StringIO()
    export_jsonl(store, out, status, kinds)
    return out.getvalue()


def test_export_follows_the_contract(store) -> None:
    document = populate(store)
    lines = exported(store).splitlines()
    assert len(lines) == 2
    record = json.loads(lines[0])
    assert list(record) == ["doc_id", "source", "title", "text", "annotations", "reviewed"]
    assert record["reviewed"] is False  # its stance is still undecided
    assert record["doc_id"] == document_id(TEXT) == document.id
    assert record["source"] == "seeds/a.txt" and record["text"] == TEXT
    by_status = {a["status"]: a for a in record["annotations"]}
    assert set(by_status) == {"edited", "accepted", "rejected", "proposed", "added"}
    for annotation in record["annotations"]:
        assert TEXT[annotation["start"] : annotation["end"]] == annotation["text"]
        assert list(annotation)[:6] == ["id", "kind", "start", "end", "text", "status"]
        assert list(annotation)[-1] == "origin"
    edited = by_status["edited"]
    assert edited["speaker"] == "Suleiman Abdulqader" and edited["speaker_end"] == 42
    assert edited["origin"] == {"engine": "llm", "model": "gpt-4o-mini", "prompt": "quotes@abc123"}
    accepted = by_status["accepted"]
    assert (accepted["kind"], accepted["value"], accepted["qualifier"], accepted["attributed_to"]) == (
        "figure", 400000, "approximately", "UN")
    assert by_status["added"]["origin"]["engine"] == "manual"
    assert json.loads(lines[1])["annotations"] == []


def exported_partial(store, status: str = "gold", kinds=None) -> str:
    out = io.StringIO()
    export_jsonl(store, out, status, kinds, partial=True)
    return out.getvalue()


def test_status_and_kind_filters(store) -> None:
    populate(store)
    # Gold comes from fully reviewed documents only: a.txt still has an undecided stance.
    assert exported(store, "gold") == "" and left_out_of_gold(store, "gold") == 1
    gold = [json.loads(line) for line in exported_partial(store, "gold").splitlines()]
    assert [d["source"] for d in gold] == ["seeds/a.txt"]  # the unreviewed document is not gold
    assert sorted(a["status"] for a in gold[0]["annotations"]) == ["accepted", "added", "edited"]
    assert left_out_of_gold(store, "gold", partial=True) == 0
    [proposed] = [json.loads(line) for line in exported(store, "proposed").splitlines()]
    assert [a["kind"] for a in proposed["annotations"]] == ["stance"]
    [quotes] = [json.loads(line) for line in exported_partial(store, "gold", ["quote"]).splitlines()]
    assert [a["kind"] for a in quotes["annotations"]] == ["quote"]
    with pytest.raises(AnnotatorError, match="unknown status filter"):
        exported(store, "done")


def test_round_trip_is_byte_identical(store, tmp_path: Path) -> None:
    populate(store)
    store.record_decision(store.db.execute("SELECT id FROM items WHERE proposal = 1 AND kind = 'stance'").fetchone()[0],
                          "reject", "ann")  # a.txt is fully reviewed: its gold is exported
    for status in ("all", "gold"):
        first = exported(store, status)
        path = tmp_path / f"{status}.jsonl"
        path.write_text(first, encoding="utf-8")
        with open_db(tmp_path / f"fresh-{status}.db") as fresh:
            import_contract(fresh, path, "importer")
            assert exported(fresh, status) == first
            # Importing the same file again changes nothing.
            import_contract(fresh, path, "importer")
            assert exported(fresh, status) == first
            assert fresh.db["decisions"].count == (5 if status == "all" else 3)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=60),
    data=st.data(),
)
def test_round_trip_holds_for_any_text(tmp_path: Path, text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start + 1, len(text)))
    status = data.draw(st.sampled_from(["proposed", "accepted", "edited", "rejected", "added"]))
    value = data.draw(st.floats(allow_nan=False, allow_infinity=False))
    name = data.draw(st.text(max_size=10))
    record = {"doc_id": document_id(text), "source": name or "s", "title": name, "text": text, "annotations": [
        {"id": "x1", "kind": "figure", "start": start, "end": end, "text": text[start:end], "status": status,
         "value": value, "unit": name, "qualifier": "range", "subject": None, "attributed_to": name,
         "origin": {"engine": "llm", "model": name, "prompt": None}}]}
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    import secrets

    with open_db(tmp_path / f"{secrets.token_hex(4)}.db") as first:
        import_contract(first, path, "a")
        once = exported(first)
        assert json.loads(once) == {**record, "reviewed": status != "proposed"}
        path.write_text(once, encoding="utf-8")
        with open_db(tmp_path / f"{secrets.token_hex(4)}.db") as second:
            import_contract(second, path, "a")
            assert exported(second) == once


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "in.jsonl:2: invalid JSON"),
        ('["a"]', "in.jsonl:2: a line must be a JSON object"),
        ('{"source": "s", "text": ""}', "in.jsonl:2: 'text' must be a non-empty string"),
        ('{"doc_id": "sha256:00", "source": "s", "text": "abc"}', "in.jsonl:2: doc_id 'sha256:00' is not the sha256"),
        ('{"source": "s", "text": "abc", "annotations": [{"kind": "quote", "start": 0, "end": 2, "text": "ab", '
         '"quote_type": "rumour"}]}', "in.jsonl:2: annotations[0]: quote_type"),
        ('{"source": "s", "text": "abc", "annotations": [{"kind": "quote", "start": 0, "end": 2, "text": "xy"}]}',
         "in.jsonl:2: annotations[0]: text 'xy' is not what the document holds"),
        ('{"source": "s", "text": "abc", "annotations": [{"kind": "mood", "start": 0, "end": 2, "text": "ab"}]}',
         "in.jsonl:2: annotations[0]: unknown kind 'mood'"),
        ('{"source": "s", "text": "abc", "annotations": [{"kind": "quote", "start": 0, "end": 2, "text": "ab", '
         '"status": "maybe"}]}', "in.jsonl:2: annotations[0]: status"),
    ],
)
def test_malformed_lines_are_refused_whole(store, tmp_path: Path, line: str, message: str) -> None:
    good = json.dumps({"source": "s", "text": "good document"})
    path = tmp_path / "in.jsonl"
    path.write_text(good + "\n" + line + "\n", encoding="utf-8")
    with pytest.raises(AnnotatorError) as caught:
        import_contract(store, path, "ann")
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert store.db["documents"].count == 0  # the good first line was not stored either


def test_csv_has_one_row_per_annotation(store) -> None:
    populate(store)
    out = io.StringIO()
    assert export_csv(store, out, "gold") == 0  # a.txt is still under review
    assert export_csv(store, out, "gold", partial=True) == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue().split("\n", 1)[1])))
    assert [r["status"] for r in rows] == ["edited", "added", "accepted"]
    assert rows[0]["speaker"] == "Suleiman Abdulqader" and rows[0]["origin_model"] == "gpt-4o-mini"
    assert rows[2]["value"] == "400000.0" and rows[2]["attributed_to"] == "UN"


def test_cli_export_import_round_trip(seeds: Path, tmp_path: Path) -> None:
    invoke = lambda *args: runner.invoke(app, list(args), catch_exceptions=False)  # noqa: E731
    assert invoke("ingest", str(seeds)).exit_code == 0
    with open_db(tmp_path / "labels.db") as store:
        populate(store)
    result = invoke("export", "--format", "jsonl", "--status", "all", "-o", "all.jsonl")
    assert result.exit_code == 0 and "wrote 4 documents" in result.stderr
    result = invoke("import", "all.jsonl", "--db", "other.db", "--annotator", "bob")
    assert result.exit_code == 0 and "imported 4 documents (4 new)" in result.stdout
    assert invoke("export", "--status", "all", "--db", "other.db", "-o", "again.jsonl").exit_code == 0
    assert (tmp_path / "again.jsonl").read_bytes() == (tmp_path / "all.jsonl").read_bytes()
    csv_result = invoke("export", "--format", "csv", "--kind", "figure")
    assert csv_result.stdout.splitlines()[0].startswith("doc_id,source,id,kind,start,end,text,status,speaker")
    assert len(csv_result.stdout.splitlines()) == 1  # a.txt is under review: nothing is gold yet
    assert csv_result.stderr.strip() == (
        "left out 1 documents still under review (--include-partial to export their partial gold)")
    csv_result = invoke("export", "--format", "csv", "--kind", "figure", "--include-partial")
    assert len(csv_result.stdout.splitlines()) == 2  # header + the accepted figure
    bad = invoke("export", "--format", "xml")
    assert bad.exit_code == 1 and "unknown format 'xml'" in bad.stderr
    bad = invoke("export", "--kind", "mood")
    assert bad.exit_code == 1 and "unknown kind 'mood'" in bad.stderr


def test_cli_import_bad_file_keeps_the_db_as_it_was(tmp_path: Path, seeds: Path) -> None:
    runner.invoke(app, ["ingest", str(seeds)], catch_exceptions=False)
    before = (tmp_path / "labels.db").read_bytes()
    (tmp_path / "bad.jsonl").write_text('{"source": "x", "text": "fine"}\n{oops\n')
    result = runner.invoke(app, ["import", "bad.jsonl"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("error: bad.jsonl:2: invalid JSON")
    with open_db(tmp_path / "labels.db") as store:
        assert store.db["documents"].count == 2
    missing = runner.invoke(app, ["import", "nope.jsonl"], catch_exceptions=False)
    assert missing.exit_code == 1 and "nope.jsonl: cannot read" in missing.stderr
    assert before  # the store existed before and still opens
