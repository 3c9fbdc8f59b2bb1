"""`annotator import` against hostile files, and a long import beside a reviewer in another process.

Every hostile file ends in one clean error line naming FILE:LINE, exit 1, no traceback, and the
store byte-for-byte as it was (compared as an SQL dump). A long import never makes a concurrent
decision fail or wait long: it is staged without a lock and published in one short transaction.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotator.cli import app
from annotator.export import import_contract
from annotator.ingest import shown
from annotator.schemas import Document, Quote, Stance, document_id
from annotator.store import open_db

TEXT = "“The convoy is stuck,” Suleiman Abdulqader told Al Jazeera. Some 400,000 people fled."
OTHER = "A second article: nothing of note happened in the town today."
STORED = "The stored article says: peace is near, the minister said."
_SPEAKER = TEXT.index("Suleiman Abdulqader")
QUOTE = {"id": "q1", "kind": "quote", "start": 1, "end": 20, "text": "The convoy is stuck", "status": "accepted",
         "speaker": "Suleiman Abdulqader", "speaker_start": _SPEAKER, "speaker_end": _SPEAKER + 19, "cue": "told",
         "quote_type": "direct", "origin": {"engine": "llm", "model": "m", "prompt": "quote@1"}}
_FIGURE = TEXT.index("400,000 people")
FIGURE = {"id": "f1", "kind": "figure", "start": _FIGURE, "end": _FIGURE + 14, "text": "400,000 people",
          "status": "proposed", "value": 400000, "unit": "people", "qualifier": "exact",
          "origin": {"engine": "llm", "model": "m", "prompt": "figure@1"}}


def line(text: str = TEXT, annotations: list | None = None, **extra) -> str:
    """One contract line, as `json.dumps` writes it (non-ASCII escaped, so surrogates can be planted)."""
    return json.dumps({"source": "a.txt", "text": text, "annotations": annotations or [], **extra})


def plant(good: str, needle: str, replacement: str) -> str:
    """`good` with the JSON text `needle` replaced, to write what `json.dumps` would refuse to."""
    assert needle in good, needle
    return good.replace(needle, replacement, 1)


def nested(depth: int, leaf: str = "1") -> str:
    return "[" * depth + leaf + "]" * depth


def deep_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


GOOD = line(annotations=[QUOTE, FIGURE])
# (file content, line of the error, what the error says)
HOSTILE: dict[str, tuple[str, int, str]] = {
    "same id twice in a document": (
        line(OTHER) + "\n" + line(annotations=[QUOTE, {**FIGURE, "id": "q1"}]), 2,
        "annotations[1]: id 'q1' is used twice in this document (first by annotations[0])"),
    "same item twice without ids": (
        line(annotations=[{**FIGURE, "id": None}, {**FIGURE, "id": None}]), 1,
        "annotations[1] is the same item as annotations[0]"),
    "lone surrogate in the text": (plant(GOOD, "Al Jazeera", "Al \\ud800Jazeera"), 1, "text: not text (a lone surrogate \\ud800)"),
    "lone surrogate in the source": (plant(GOOD, '"a.txt"', '"a\\udfff.txt"'), 1, "source: not text (a lone surrogate \\udfff)"),
    "lone surrogate in the title": (line(title="T\ud800"), 1, "title: not text (a lone surrogate \\ud800)"),
    "lone surrogate in a field": (plant(GOOD, '"told"', '"to\\udc00ld"'), 1, "annotations[0].cue: not text"),
    "lone surrogate in the origin": (plant(GOOD, '"quote@1"', '"quote@\\ud83d"'), 1, "annotations[0].origin.prompt: not text"),
    "lone surrogate in an extra field": (plant(GOOD, '"cue"', '"note": "\\ud800", "cue"'), 1, "annotations[0].note: not text"),
    "lone surrogate in a key": (plant(GOOD, '"engine"', '"\\ud800": 1, "engine"'), 1, "a key that is not text"),
    "surrogate pair reversed": (plant(GOOD, '"told"', '"\\ude00\\ud83d"'), 1, "not text (a lone surrogate"),
    "JSON 100,000 deep in an extra field": (plant(GOOD, '"cue"', f'"extra": {nested(100_000)}, "cue"'), 1,
                                             "invalid JSON (nested too deeply)"),
    "JSON 100,000 deep in the origin": (plant(GOOD, '"engine": "llm"', f'"engine": "llm", "x": {deep_object(100_000)}'),
                                        1, "invalid JSON (nested too deeply)"),
    "origin nested 500 deep": (plant(GOOD, '"engine": "llm"', f'"engine": "llm", "x": {deep_object(500)}'), 1,
                               "annotations[0].origin.x.a.a"),
    "top level nested 100,000 deep": (nested(100_000), 1, "invalid JSON (nested too deeply)"),
    "integer of 5,000 digits": (plant(GOOD, "400000", "9" * 5000), 1, "invalid JSON (a number longer than 4,300 digits)"),
    "integer of 4,000 digits as a value": (plant(GOOD, "400000", "9" * 4000), 1, "annotations[1]: value: Input should be"),
    "integer of 70 bits in the origin": (plant(GOOD, '"engine": "llm"', f'"engine": "llm", "n": {2**70}'), 1,
                                         "annotations[0].origin.n: integer out of range"),
    "integer of 70 bits as a start": (plant(GOOD, '"start": 1,', f'"start": {2**70},'), 1, "annotations[0]: "),
    "NaN in the origin": (plant(GOOD, '"engine": "llm"', '"engine": "llm", "n": NaN'), 1, "NaN is not a number JSON allows"),
    "Infinity as a value": (plant(GOOD, "400000", "Infinity"), 1, "Infinity is not a number JSON allows"),
    "1e999 in the origin": (plant(GOOD, '"engine": "llm"', '"engine": "llm", "n": -1e999'), 1,
                            "annotations[0].origin.n: not a finite number"),
    "id of another document in the store": (line(OTHER, [{**FIGURE, "id": "p_stored", "start": 2, "end": 8,
                                                          "text": OTHER[2:8]}]), 1,
                                            "id 'p_stored' already belongs to another document (in the store)"),
    "id of another document earlier in the file": (
        line(annotations=[QUOTE]) + "\n" + line(OTHER) + "\n" + line(OTHER, [{**FIGURE, "id": "q1", "start": 2, "end": 8,
                                                                               "text": OTHER[2:8]}]),
        3, "id 'q1' already belongs to another document (in line 1)"),
    "stored id with another kind": (line(STORED, [{**FIGURE, "id": "p_stored", "start": 25, "end": 38,
                                                   "text": "peace is near"}]), 1,
                                    "id 'p_stored' is a quote in the store, not a figure"),
    "an added item accepted": (line(STORED, [{"id": "m_stored", "kind": "stance", "start": 4, "end": 18,
                                              "text": "stored article", "status": "accepted", "holder": "x",
                                              "target": "y", "polarity": "neutral"}]), 1, "it is gold already"),
    "a proposal marked added": (line(STORED, [{**QUOTE, "id": "p_stored", "status": "added", "start": 25, "end": 38,
                                               "text": "peace is near", "speaker_start": None, "speaker_end": None}]),
                                1, "id 'p_stored' is a proposal"),
    "bad line after 2,000 good ones": (
        "\n".join(line(f"Document number {i}.", [{**FIGURE, "id": f"x{i}", "start": 0, "end": 8, "text": "Document"}])
                  for i in range(2000)) + "\n{oops\n",
        2001, "invalid JSON"),
    "invalid UTF-8": (GOOD + "\n" + line(OTHER) + "\n", 2, "not valid UTF-8"),  # bytes planted below
    "UTF-8 encoded surrogate": (GOOD + "\n", 1, "not valid UTF-8"),  # bytes planted below
    "not an object": ('["a"]', 1, "a line must be a JSON object"),
    "doc_id of another text": (line(doc_id="sha256:" + "0" * 64), 1, "is not the sha256 of the text"),
    "doc_id nested 900 deep": (line(doc_id=None).replace("null", nested(900)), 1, "'doc_id' must be a string"),
    "kind nested 900 deep": (plant(GOOD, '"kind": "quote"', f'"kind": {nested(900)}'), 1, "annotations[0]: "),
    "a file name with a newline and escape codes": ("{oops", 1, "invalid JSON"),
    "an empty file": ("\n\n", None, "no documents"),
    "a folder": ("", None, "cannot read"),
}
FILE_NAMES = {"a file name with a newline and escape codes": "evil\nerror: forged\x1b[31m.jsonl"}


def raw_bytes(name: str, content: str) -> bytes:
    data = content.encode("utf-8", "surrogatepass")
    if name == "invalid UTF-8":
        return data.replace(b"second article", b"second \xff article")
    if name == "UTF-8 encoded surrogate":
        return data.replace(b"Al Jazeera", b"Al \xed\xa0\x80Jazeera")
    return data


def dump(path: Path) -> list[str]:
    """The whole database as SQL, read through a plain connection (no migration, no cleanup)."""
    connection = sqlite3.connect(path)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


@pytest.fixture
def populated(tmp_path: Path) -> Path:
    """A store with documents, a proposal `p_stored`, an added item `m_stored` and decisions."""
    db = tmp_path / "labels.db"
    with open_db(db) as store:
        stored = Document.from_text(STORED, "stored.txt")
        store.add_documents([stored])
        quote = Quote(id="p_stored", start=25, end=38, text="peace is near", speaker="the minister")
        store.add_proposals(stored.id, [quote])
        store.record_decision("p_stored", "accept", "ann")
        stance = Stance(start=4, end=18, text="stored article", holder="x", target="y", polarity="neutral")
        store.record_decision("m_stored", "add", "ann", stance, document_id=stored.id)
        store.add_documents([Document.from_text(TEXT, "a.txt")])
    return db


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_is_one_clean_error_and_changes_nothing(populated: Path, tmp_path: Path, name: str) -> None:
    content, number, message = HOSTILE[name]
    path = tmp_path / FILE_NAMES.get(name, "hostile.jsonl")
    if name == "a folder":
        path.mkdir()
    else:
        path.write_bytes(raw_bytes(name, content))
    before = dump(populated)
    result = CliRunner().invoke(app, ["import", str(path), "--db", str(populated)], catch_exceptions=False)
    output = result.stdout + result.stderr
    assert result.exit_code == 1, output
    assert "Traceback" not in output
    [error] = result.stderr.splitlines()
    where = f"{shown(path)}:{number}: " if number is not None else f"{shown(path)}: "
    assert error.startswith(f"error: {where}"), error
    assert "\x1b" not in error
    assert message in error, error
    assert len(error) < 400  # a 100,000-deep file never comes back in the message
    assert dump(populated) == before


def test_the_neighbours_of_hostile_input_import(populated: Path, tmp_path: Path) -> None:
    """A surrogate pair, an origin 20 deep and a 63-bit integer are fine."""
    content = plant(plant(plant(GOOD, '"told"', '"told \\ud83d\\ude00"'), '"engine": "llm"',
                          f'"engine": "llm", "x": {deep_object(20)}, "n": {2**63 - 1}'),
                    '"cue"', f'"ignored": {nested(500)}, "cue"')
    path = tmp_path / "fine.jsonl"
    path.write_text(content + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(path), "--db", str(populated)], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert "imported 1 documents (0 new), 2 proposals, 1 decisions" in result.stdout
    with open_db(populated) as store:
        [quote] = [a for a in store.annotations() if a.id == "q1"]
        assert quote.fields()["cue"] == "told 😀" and quote.origin()["n"] == 2**63 - 1


def test_a_document_twice_in_one_file_takes_the_later_label(store, tmp_path: Path) -> None:
    path = tmp_path / "twice.jsonl"
    path.write_text(line(annotations=[QUOTE, FIGURE]) + "\n" + line(annotations=[{**QUOTE, "status": "rejected"}, FIGURE])
                    + "\n" + line(annotations=[{**QUOTE, "status": "rejected"}]) + "\n", encoding="utf-8")
    report = import_contract(store, path, "ann")
    assert (report.documents, report.new_documents, report.proposals, report.decisions) == (3, 1, 2, 2)
    assert {a.id: a.status for a in store.annotations()} == {"q1": "rejected", "f1": "proposed"}
    again = import_contract(store, path, "ann")
    assert (again.new_documents, again.proposals) == (0, 0)
    # The file's first line says accepted again, its second rejected: the log gets both, the later stands.
    assert again.decisions == 2 and {a.id: a.status for a in store.annotations()}["q1"] == "rejected"


def test_versions_of_a_source_are_linked_within_one_import(store, tmp_path: Path) -> None:
    path = tmp_path / "versions.jsonl"
    path.write_text(line("First version.") + "\n" + line("Second version.") + "\n", encoding="utf-8")
    import_contract(store, path, "ann")
    first, second = store.documents()
    assert first.previous_id is None and second.previous_id == first.id == document_id("First version.")


# ------------------------------------------------------------------ a long import beside a reviewer

_REVIEWER = textwrap.dedent(
    """
    import json, sqlite3, sys, time
    from pathlib import Path
    from annotator.store import open_db

    db, ids_file, stop, out = sys.argv[1:5]
    ids = json.loads(Path(ids_file).read_text())
    store = open_db(db)
    waits, failures, documents_seen = [], [], set()
    Path(out + ".ready").write_text("")
    for item_id in ids:
        if Path(stop).exists():
            break
        started = time.perf_counter()
        try:
            store.record_decision(item_id, "accept", "reviewer")
        except sqlite3.OperationalError as error:
            failures.append(str(error))
        waits.append((time.time(), time.perf_counter() - started))
        documents_seen.add(store.conn.execute("SELECT count(*) FROM documents").fetchone()[0])
        time.sleep(0.005)
    Path(out).write_text(json.dumps({"waits": waits, "failures": failures, "documents_seen": sorted(documents_seen)}))
    """
)


def big_file(path: Path, documents: int, per_document: int) -> int:
    """A contract file of `documents` new documents with `per_document` accepted quotes each."""
    sentence = "“We are leaving now,” a resident said. "
    with path.open("w", encoding="utf-8") as out:
        for number in range(documents):
            text = f"Report {number}. " + sentence * per_document
            annotations = []
            for index in range(per_document):
                start = text.index("We are leaving now", len(f"Report {number}. ") + index * len(sentence))
                annotations.append({"id": f"d{number}_{index}", "kind": "quote", "start": start, "end": start + 18,
                                    "text": "We are leaving now", "status": "accepted", "speaker": "a resident",
                                    "speaker_start": None, "speaker_end": None, "cue": "said", "quote_type": "direct",
                                    "origin": {"engine": "llm", "model": "m", "prompt": "quote@1"}})
            out.write(json.dumps({"source": f"r{number}.txt", "text": text, "annotations": annotations}) + "\n")
    return documents * per_document


def test_a_long_import_never_blocks_a_reviewer_in_another_process(tmp_path: Path) -> None:
    db = tmp_path / "labels.db"
    with open_db(db) as store:
        review = Document.from_text("The reviewer's own article, with many proposals. " * 20, "review.txt")
        store.add_documents([review])
        ids = store.add_proposals(review.id, [
            Quote(start=i * 50, end=i * 50 + 12, text=review.text[i * 50 : i * 50 + 12]) for i in range(20)
        ] * 1)
    ids = ids * 100  # the same items accepted again and again: each is a real decision
    (tmp_path / "ids.json").write_text(json.dumps(ids))
    annotations = big_file(tmp_path / "big.jsonl", 1500, 20)
    stop, out = tmp_path / "stop", tmp_path / "reviewer.json"
    reviewer = subprocess.Popen([sys.executable, "-c", _REVIEWER, str(db), str(tmp_path / "ids.json"), str(stop), str(out)])
    try:
        deadline = time.monotonic() + 30
        while not Path(str(out) + ".ready").exists():
            assert time.monotonic() < deadline and reviewer.poll() is None
            time.sleep(0.02)
        time.sleep(0.3)  # the reviewer is deciding
        with open_db(db) as store:
            started = time.time()
            report = import_contract(store, tmp_path / "big.jsonl", "importer")
            ended = time.time()
        time.sleep(0.3)
    finally:
        stop.write_text("")
        reviewer.wait(60)
    result = json.loads(out.read_text())
    assert report.proposals == report.decisions == annotations
    assert result["failures"] == []
    during = [wait for at, wait in result["waits"] if started <= at <= ended]
    assert len(during) > 20, "the reviewer was not deciding while the import ran"
    longest = max(wait for _, wait in result["waits"])
    # A decision waits at most for the copy into the store, a small part of the import (the old
    # import held the lock from its first line to its last).
    assert longest < (ended - started) / 2, (longest, ended - started)
    # Readers saw the store before the import or after it, never halfway.
    assert set(result["documents_seen"]) <= {1, 1 + 1500}
    with open_db(db) as store:
        recorded = store.conn.execute("SELECT count(*) FROM decisions WHERE annotator = (SELECT n FROM annotators WHERE name = 'reviewer')").fetchone()[0]
        assert recorded == len(result["waits"])
        assert store.conn.execute("SELECT count(*) FROM decisions WHERE annotator = (SELECT n FROM annotators WHERE name = 'importer')").fetchone()[0] == annotations
