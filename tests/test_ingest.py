"""Ingest: every supported format, dedup, and a one-line error for every bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotator.cli import app
from annotator.errors import AnnotatorError
from annotator.ingest import html_to_text, parse_size, read_file, read_paths
from annotator.store import open_db

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_txt_and_md_keep_the_text_and_take_a_title(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("# Rebels withdraw\n\nBody “quoted”.\r\n", encoding="utf-8")
    [document] = read_file(tmp_path / "a.md")
    assert document.text == "# Rebels withdraw\n\nBody “quoted”.\n"
    assert document.title == "Rebels withdraw"
    assert document.source == f"{tmp_path.as_posix()}/a.md"


def test_html_keeps_visible_text_only() -> None:
    html = """<html><head><title>Khan Sheikhoun falls</title><style>p{color:red}</style>
    <script>var secret = "x";</script></head><body><nav>Home</nav><h1>Rebels&nbsp;withdraw</h1>
    <p>“They moved,” he <b>said</b>.</p><noscript>enable js</noscript><p>Second&amp;para</p></body></html>"""
    text, title = html_to_text(html)
    assert title == "Khan Sheikhoun falls"
    assert text == "Home\n\nRebels withdraw\n\n“They moved,” he said.\n\nSecond&para"
    assert "secret" not in text and "color" not in text and "enable js" not in text


def test_jsonl_records_become_documents(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl"
    path.write_text(
        json.dumps({"id": "a1", "text": "First article.", "title": "One"}) + "\n\n"
        + json.dumps({"text": "Second article.", "source": "wire/2"}) + "\n",
        encoding="utf-8",
    )
    first, second = read_file(path)
    assert (first.external_id, first.title, first.source) == ("a1", "One", f"{path.as_posix()}#a1")
    assert (second.external_id, second.source, second.title) == (None, "wire/2", "Second article.")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.txt", b"", "empty.txt: empty file"),
        ("blank.txt", b"  \n\n ", "blank.txt: empty file"),
        ("binary.txt", b"abc\x00\x01\x02", "binary.txt: binary file (NUL byte at offset 3)"),
        ("latin1.txt", "café".encode("latin-1") + b" ok", "latin1.txt: not valid UTF-8 (byte 0xe9 at offset 3)"),
        ("bad.jsonl", b'{"text": "ok"}\n{"text": \n', "bad.jsonl:2: invalid JSON"),
        ("notext.jsonl", b'{"body": "ok"}\n', "notext.jsonl:1: a record needs a non-empty string field 'text'"),
        ("page.html", b"<html><script>x</script></html>", "page.html: no visible text"),
        ("notes.pdf", b"%PDF", "notes.pdf: unsupported file type .pdf"),
    ],
)
def test_bad_files_get_a_one_line_error_naming_them(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(AnnotatorError) as caught:
        read_file(tmp_path / name)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_size_limit(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("x" * 2048)
    with pytest.raises(AnnotatorError, match="2,048 bytes is over the size limit of 1,024 bytes"):
        read_file(tmp_path / "big.txt", max_bytes=1024)
    assert parse_size("5MB") == 5 * 1024**2 and parse_size("512k") == 512 * 1024 and parse_size("100") == 100
    with pytest.raises(AnnotatorError, match="cannot read size"):
        parse_size("lots")


def test_a_folder_goes_on_past_bad_files(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.txt").write_text("Article A.")
    (corpus / "sub" / "b.html").write_text("<p>Article B.</p>")
    (corpus / "sub" / "bad.txt").write_bytes(b"\xff\xfe")
    (corpus / "ignored.csv").write_text("not, an, article")
    (corpus / ".hidden.txt").write_text("hidden")
    report = read_paths([corpus])
    assert [d.text for d in report.documents] == ["Article A.", "Article B."]
    assert len(report.errors) == 1 and "bad.txt: not valid UTF-8" in report.errors[0]


def test_cli_ingest_summary_and_dedup(seeds: Path, tmp_path: Path) -> None:
    result = invoke("ingest", str(seeds))
    assert result.exit_code == 0
    assert "ingested 2, duplicates 0, skipped 0" in result.stdout
    result = invoke("ingest", str(seeds))
    assert "ingested 0, duplicates 2, skipped 0" in result.stdout
    with open_db(tmp_path / "labels.db") as store:
        sources = sorted(Path(d.source).name for d in store.documents())
    assert sources == sorted(p.name for p in seeds.iterdir())


def test_cli_ingest_changed_file_is_a_new_linked_document(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Version one.")
    invoke("ingest", str(article))
    article.write_text("Version two.")
    result = invoke("ingest", str(article))
    assert "ingested 1, duplicates 0" in result.stdout
    with open_db(tmp_path / "labels.db") as store:
        first, second = store.documents()
    assert second.previous_id == first.id and second.source == first.source


def test_cli_ingest_reports_bad_files_and_keeps_going(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "good.txt").write_text("Good article.")
    (tmp_path / "docs" / "empty.txt").write_text("")
    result = invoke("ingest", "docs", "missing")
    assert result.exit_code == 1
    assert "ingested 1, duplicates 0, skipped 2" in result.stdout
    assert "error: docs/empty.txt: empty file" in result.stderr
    assert "error: missing: no such file or folder" in result.stderr


def test_cli_ingest_folder_with_nothing_supported_fails(tmp_path: Path) -> None:
    (tmp_path / "pics").mkdir()
    (tmp_path / "pics" / "a.png").write_bytes(b"\x89PNG")
    result = invoke("ingest", "pics")
    assert result.exit_code == 1
    assert "error: pics: no supported files" in result.stderr


def test_cli_ingest_size_limit_option(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("word " * 400)
    result = invoke("ingest", "big.txt", "--max-size", "1KB")
    assert result.exit_code == 1 and "over the size limit" in result.stderr
