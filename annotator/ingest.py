"""Read articles from files and folders into documents.

Supported: `.txt`, `.md`, `.html`/`.htm` (visible text only) and `.jsonl` (one record a line with
`text` and optional `id`, `source`, `title`). A file that cannot be read is reported with a
one-line reason naming it, and the rest of a folder goes on.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from annotator.errors import AnnotatorError
from annotator.schemas import Document

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".jsonl"}
_TITLE_CHARS = 200


@dataclass
class IngestReport:
    """What one ingest did: documents read, and files skipped with their reasons."""

    documents: list[Document] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_size(value: str) -> int:
    """Bytes from a size such as `5MB`, `512k` or `1048576`."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*", value.lower())
    if not match:
        raise AnnotatorError(f"cannot read size {value!r} (try 5MB, 512KB or a number of bytes)")
    number, unit = match.groups()
    return int(float(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit])


def discover(path: Path) -> Iterator[Path]:
    """The supported files under `path` (a file yields itself), sorted, hidden entries skipped."""
    if path.is_file():
        yield path
        return
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in SUPPORTED_SUFFIXES:
                yield Path(root) / name


def decode(path: Path, data: bytes) -> str:
    """UTF-8 text of a file, or an error naming the first bad byte; newlines normalised to `\\n`."""
    if b"\x00" in data[:8192]:
        raise AnnotatorError(f"{path}: binary file (NUL byte at offset {data.index(0)})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AnnotatorError(
            f"{path}: not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def first_line_title(text: str) -> str | None:
    """The first non-empty line, without Markdown heading marks, cut to a list-friendly length."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:_TITLE_CHARS]
    return None


class _VisibleText(HTMLParser):
    """Collects the text a browser would show, with block elements as line breaks."""

    HIDDEN = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
    BLOCKS = {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
        "article", "header", "footer", "blockquote", "pre", "figure", "figcaption", "hr", "main", "aside", "nav",
    }  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.hidden = 0
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        elif tag in self.HIDDEN:
            self.hidden += 1
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        elif tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
        elif not self.hidden:
            self.parts.append(data)

    def text(self) -> str:
        """Paragraphs separated by blank lines, spaces inside each line collapsed."""
        lines = (re.sub(r"[ \t\f\v\u00a0]+", " ", line).strip() for line in "".join(self.parts).split("\n"))
        return "\n\n".join(line for line in lines if line)


def html_to_text(html: str) -> tuple[str, str | None]:
    """The visible text of an HTML page and its `<title>`."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    title = " ".join("".join(parser.title).split()) or None
    return parser.text(), title


def _source(path: Path) -> str:
    return path.as_posix()


def read_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Document]:
    """The documents in one file; AnnotatorError naming the file when it cannot be used."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise AnnotatorError(f"{path}: unsupported file type {suffix or '(none)'} (supported: .txt .md .html .jsonl)")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise AnnotatorError(f"{path}: {size:,} bytes is over the size limit of {max_bytes:,} bytes")
        data = path.read_bytes()
    except OSError as error:
        raise AnnotatorError(f"{path}: cannot read ({error.strerror})") from None
    text = decode(path, data)
    if not text.strip():
        raise AnnotatorError(f"{path}: empty file")
    if suffix == ".jsonl":
        return _read_jsonl(path, text)
    if suffix in HTML_SUFFIXES:
        body, title = html_to_text(text)
        if not body:
            raise AnnotatorError(f"{path}: no visible text")
        return [Document.from_text(body, _source(path), title or first_line_title(body))]
    return [Document.from_text(text, _source(path), first_line_title(text))]


def _read_jsonl(path: Path, text: str) -> list[Document]:
    documents = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise AnnotatorError(f"{path}:{number}: invalid JSON ({error.msg} at column {error.colno})") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not record["text"].strip():
            raise AnnotatorError(f"{path}:{number}: a record needs a non-empty string field 'text'")
        body = record["text"]
        external_id = record.get("id")
        source = record.get("source") or f"{_source(path)}#{external_id if external_id is not None else number}"
        title = record.get("title") or first_line_title(body)
        documents.append(
            Document.from_text(
                body, str(source), str(title), str(external_id) if external_id is not None else None
            )
        )
    if not documents:
        raise AnnotatorError(f"{path}: no records")
    return documents


def read_paths(paths: list[Path], max_bytes: int = DEFAULT_MAX_BYTES) -> IngestReport:
    """Every document under `paths`; files that fail are reported and skipped, the rest go on."""
    report = IngestReport()
    for path in paths:
        if not path.exists():
            report.errors.append(f"{path}: no such file or folder")
            continue
        found = False
        for file in discover(path):
            found = True
            try:
                report.documents.extend(read_file(file, max_bytes))
            except AnnotatorError as error:
                report.errors.append(str(error))
        if not found:
            report.errors.append(f"{path}: no supported files (.txt .md .html .jsonl)")
    return report
