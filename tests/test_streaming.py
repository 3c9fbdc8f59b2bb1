"""Import and ingest stream: a file or folder of any size is read and stored a bounded piece at a time.

Memory itself is not measured here (bench/import_scale.py does that); these tests hold what
streaming must not change: an import staged over many small transactions stores exactly what
the file says, or nothing at all, and an ingest stored in many batches stores every file and
reports every bad one on its own line.
"""

from __future__ import annotations

import io
import json
import random
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotator import ingest
from annotator.canonical import to_json
from annotator.cli import app
from annotator.contract import Item, encode_line
from annotator.errors import AnnotatorError
from annotator.export import export_jsonl, import_contract
from annotator.schemas import Document, Figure, Origin, Quote, Stance
from annotator.store import MANUAL_ORIGIN, Store, legacy_proposal_id, open_db, staging

runner = CliRunner()
WORDS = ("government forces advanced rebels withdrew town province activists said statement observatory "
         "civilians displaced highway convoy ministry opposition fighters monitor reported offensive").split()
LLM = Origin(engine="llm", model="bench-model", prompt="quotes@1")
STATUSES = ("proposed", "accepted", "edited", "rejected", "added")


def contract_lines(documents: int, items: int = 12, seed: int = 5) -> list[str]:
    """Contract lines as an export writes them: every kind and status, ids on every item, canonical JSON."""
    rng = random.Random(seed)
    lines = []
    for number in range(documents):
        text = f"Report {number}. " + " ".join(rng.choice(WORDS) for _ in range(items * 3))
        starts = [i + 1 for i, char in enumerate(text) if char == " "][::3][:items]
        records = []
        for index, start in enumerate(starts):
            end = text.index(" ", start) if " " in text[start:] else len(text)
            span = {"start": start, "end": end, "text": text[start:end]}
            status = STATUSES[(number + index) % len(STATUSES)]
            added = status == "added"
            common = {**span, "id": f"{'m' if added else 'p'}{seed}_{number}_{index}", "status": status,
                      "origin": Origin(**MANUAL_ORIGIN) if added else LLM}
            kind = index % 3
            if kind == 0:
                annotation = Quote(**common, speaker=rng.choice(["Ahmed Sheikho", "a spokesperson"]), cue="said")
            elif kind == 1:
                annotation = Figure(**common, value=float(index * 10), unit="people", qualifier="approximately")
            else:
                annotation = Stance(**common, holder="the monitor", target="the offensive",
                                    polarity=rng.choice(["favor", "against", "neutral"]))
            records.append(to_json(Item.of(annotation).record()))
        document = Document.from_text(text, f"news/{number}.txt", f"Report {number}")
        reviewed = all('"status":"proposed"' not in record for record in records)
        lines.append(encode_line(document, records, reviewed))
    return lines


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def exported(db: Path) -> str:
    with open_db(db) as store:
        out = io.StringIO()
        export_jsonl(store, out, "all")
    return out.getvalue()


def dump(db: Path) -> list[str]:
    """Everything the store holds, as SQL."""
    with open_db(db) as store:
        return list(store.conn.iterdump())


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Staging transactions and ingest batches a few rows long, so that a small file spans many of them."""
    monkeypatch.setattr(staging, "BATCH_ROWS", 37)
    monkeypatch.setattr(ingest, "BATCH_DOCUMENTS", 7)


def test_an_import_over_many_staging_transactions_stores_exactly_the_file(small_batches, tmp_path: Path) -> None:
    source = write(tmp_path / "gold.jsonl", contract_lines(60))
    with open_db(tmp_path / "a.db") as store:
        report = import_contract(store, source, "ann")
    assert (report.documents, report.new_documents) == (60, 60)
    # Every status, span, field and id comes back as the file has it: the export is the file itself.
    assert exported(tmp_path / "a.db") == source.read_text(encoding="utf-8")
    # And the exact round trip: export, import into a fresh store, export again.
    again = write(tmp_path / "again.jsonl", exported(tmp_path / "a.db").splitlines())
    with open_db(tmp_path / "b.db") as store:
        import_contract(store, again, "ann")
    assert exported(tmp_path / "b.db") == again.read_text(encoding="utf-8")


def test_importing_the_same_file_again_stores_nothing_new(small_batches, tmp_path: Path) -> None:
    source = write(tmp_path / "gold.jsonl", contract_lines(30))
    with open_db(tmp_path / "a.db") as store:
        first = import_contract(store, source, "ann")
        second = import_contract(store, source, "ann")
    assert first.proposals > 0 and first.decisions > 0
    assert (second.documents, second.new_documents, second.proposals, second.decisions) == (30, 0, 0, 0)
    assert exported(tmp_path / "a.db") == source.read_text(encoding="utf-8")


def test_a_bad_last_line_of_a_large_file_leaves_the_store_untouched(small_batches, tmp_path: Path) -> None:
    db = tmp_path / "labels.db"
    with open_db(db) as store:
        import_contract(store, write(tmp_path / "before.jsonl", contract_lines(5, seed=9)), "ann")
    before = dump(db)
    lines = contract_lines(80)
    bad = json.loads(lines[-1])
    bad["annotations"][0]["start"] += 1  # its text no longer what the document holds there
    path = write(tmp_path / "big.jsonl", [*lines[:-1], json.dumps(bad)])
    result = runner.invoke(app, ["import", str(path), "--db", str(db)], catch_exceptions=False)
    assert result.exit_code == 1
    [message] = result.stderr.splitlines()
    assert message.startswith(f"error: {path}:80: annotations[0]:"), message
    assert dump(db) == before
    # Nor is anything left staged: the same connection fails the same way, then imports the good part.
    with open_db(db) as store:
        with pytest.raises(AnnotatorError, match="big.jsonl:80: annotations"):
            import_contract(store, path, "ann")
        assert import_contract(store, write(tmp_path / "good.jsonl", lines[:-1]), "ann").new_documents == 79
        assert store.conn.execute("SELECT count(*) FROM sqlite_temp_master").fetchone() == (0,)
    assert exported(db).endswith(write(tmp_path / "good.jsonl", lines[:-1]).read_text(encoding="utf-8"))


def test_an_id_of_another_document_on_the_last_line_leaves_the_store_untouched(small_batches, tmp_path: Path) -> None:
    db = tmp_path / "labels.db"
    lines = contract_lines(40)
    clash = json.loads(lines[-1])
    taken = clash["annotations"][1]["id"] = json.loads(lines[3])["annotations"][1]["id"]
    path = write(tmp_path / "clash.jsonl", [*lines[:-1], json.dumps(clash)])
    message = f"clash.jsonl:40: id '{taken}' already belongs to another document (in line 4)"
    with open_db(db) as store, pytest.raises(AnnotatorError, match=re.escape(message)):
        import_contract(store, path, "ann")
    assert exported(db) == ""


def test_proposals_without_ids_get_the_ids_the_store_gives_them(tmp_path: Path) -> None:
    """Also the id an older store gave the same proposal, found with one look per document."""
    lines = contract_lines(3)
    record = json.loads(lines[0])
    document = Document.from_text(record["text"], record["source"], record["title"])
    proposals = [annotation for annotation in record["annotations"] if annotation["status"] != "added"]
    for annotation in proposals:
        annotation["id"] = None
    first = Quote(**{key: value for key, value in proposals[0].items() if key != "status"})
    legacy = legacy_proposal_id(document.id, first, to_json(LLM.model_dump(mode="json")))
    with open_db(tmp_path / "labels.db") as store:
        store.add_documents([document])
        store.add_proposals(document.id, [first.model_copy(update={"id": legacy})])
        path = write(tmp_path / "no-ids.jsonl", [json.dumps(record), *lines[1:]])
        report = import_contract(store, path, "ann")
        later = sum(item["status"] != "added" for line in lines[1:] for item in json.loads(line)["annotations"])
        assert report.proposals == len(proposals) - 1 + later  # the legacy one was stored already
        ids = {annotation.id for annotation in store.annotations(document_id=document.id)}
        assert legacy in ids and len(ids) == len(record["annotations"])
        again = import_contract(store, path, "ann")
    assert (again.proposals, again.decisions) == (0, 0)


def test_an_import_stages_on_disk_even_where_temporary_tables_live_in_memory(tmp_path: Path, monkeypatch) -> None:
    """Held in memory, the staged rows of a large file would be the whole file again, several times over."""
    seen = []
    publish = staging.ImportStaging.publish

    def watched(self):
        seen.append(self.conn.execute("PRAGMA temp_store").fetchone()[0])
        return publish(self)

    monkeypatch.setattr(staging.ImportStaging, "publish", watched)
    with open_db(tmp_path / "labels.db") as store:
        store.conn.execute("PRAGMA temp_store = MEMORY")
        import_contract(store, write(tmp_path / "gold.jsonl", contract_lines(3)), "ann")
        assert seen == [1]  # FILE while staging
        assert store.conn.execute("PRAGMA temp_store").fetchone()[0] == 2  # and the connection's own setting after


# ------------------------------------------------------------------ ingest


def corpus(folder: Path, files: int) -> list[str]:
    """A folder of `files` articles in sub-folders, with bad files and one duplicate among them; the bad ones' names."""
    bad = []
    for number in range(files):
        sub = folder / f"{number // 10:02d}"
        sub.mkdir(parents=True, exist_ok=True)
        if number % 9 == 4:
            (sub / f"{number:03d}.txt").write_bytes(b"caf\xe9 " * 3)
            bad.append(f"{sub / f'{number:03d}.txt'}: not valid UTF-8")
        elif number % 9 == 7:
            (sub / f"{number:03d}.txt").write_text("")
            bad.append(f"{sub / f'{number:03d}.txt'}: empty file")
        else:
            (sub / f"{number:03d}.txt").write_text(f"Article {number}.\n\nThe convoy reached the town.")
    (folder / "copy.txt").write_text("Article 0.\n\nThe convoy reached the town.")
    return bad


@pytest.fixture
def batches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many documents each `Store.add_documents` call stored, call by call."""
    sizes: list[int] = []
    add_documents = Store.add_documents

    def counted(self, documents):
        documents = list(documents)
        sizes.append(len(documents))
        return add_documents(self, documents)

    monkeypatch.setattr(Store, "add_documents", counted)
    return sizes


def test_ingest_stores_a_folder_in_batches_and_reports_each_bad_file(small_batches, batches, tmp_path: Path) -> None:
    bad = corpus(Path("news"), 60)  # the test runs in tmp_path: names as the command shows them
    stored = len(list(Path("news").rglob("*.txt"))) - len(bad)
    result = runner.invoke(app, ["ingest", "news"], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stdout.strip() == f"ingested {stored - 1}, duplicates 1, skipped {len(bad)}"
    lines = result.stderr.splitlines()
    assert len(lines) == len(bad)
    for line, problem in zip(lines, bad):
        assert line.startswith("error: ") and problem in line, (line, problem)
    assert sum(batches) == stored and max(batches) == 7 and len(batches) == -(-stored // 7)
    with open_db(tmp_path / "labels.db") as store:
        assert len(store.document_ids()) == stored - 1
    again = runner.invoke(app, ["ingest", "news"], catch_exceptions=False)
    assert again.exit_code == 1
    assert again.stdout.strip() == f"ingested 0, duplicates {stored}, skipped {len(bad)}"


def test_a_batch_of_large_documents_is_stored_early(batches, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(ingest, "BATCH_CHARACTERS", 1000)
    documents = [Document.from_text(f"{number} " + "word " * 150, f"{number}.txt") for number in range(10)]
    told: list[tuple[str, bool]] = []
    with open_db(tmp_path / "labels.db") as store:
        result = ingest.store_documents(store, [*documents, documents[0]],
                                        lambda document, new: told.append((document.id, new)))
        assert len(store.document_ids()) == 10
    assert (result.new, result.duplicates) == (10, 1)
    assert told == [(document.id, True) for document in documents] + [(documents[0].id, False)]
    assert batches == [2, 2, 2, 2, 2, 1]  # 1,000 characters reached every second document


def test_a_folder_is_read_one_file_at_a_time(tmp_path: Path, monkeypatch) -> None:
    bad = corpus(tmp_path / "news", 30)
    opened: list[Path] = []
    read_file = ingest.read_file
    monkeypatch.setattr(ingest, "read_file", lambda path, max_bytes: opened.append(path) or read_file(path, max_bytes))
    documents = ingest.iter_documents([tmp_path / "news"])
    next(documents)
    assert len(opened) == 1
    assert len(list(documents)) == 30 - len(bad) and len(opened) == 31  # 30 files, one copy, the first read


def test_review_of_a_folder_stores_it_in_batches_and_opens_each_document_once(small_batches, batches,
                                                                               monkeypatch) -> None:
    from annotator.tui import app as tui

    opened: list[list[str]] = []
    create_app = tui.create_app

    def spy(db, ids, who, **options):
        opened.append(ids)
        return create_app(db, ids, who, **options)

    monkeypatch.setattr(tui, "create_app", spy)
    monkeypatch.setattr(tui.ReviewApp, "run", lambda self: None)
    bad = corpus(Path("news"), 30)
    result = runner.invoke(app, ["review", "news"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len([line for line in result.stderr.splitlines() if line.startswith("error: ")]) == len(bad)
    in_order = list(dict.fromkeys(document.id for document in ingest.iter_documents([Path("news")])))
    assert opened == [in_order] and len(in_order) == 30 - len(bad)  # the copy opened once
    assert max(batches) == 7 and sum(batches) == len(in_order) + 1


def test_review_of_a_folder_without_documents_opens_no_store(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "a.txt").write_text("")
    result = runner.invoke(app, ["review", "empty"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "error: empty/a.txt: empty file" in result.stderr and "no documents to review" in result.stderr
    assert not (tmp_path / "labels.db").exists()
