"""Read articles from files and folders into documents.

Supported: `.txt`, `.md`, `.html`/`.htm` (visible text only) and `.jsonl` (one record a line with
`text` and optional `id`, `source`, `title`). A file that cannot be read is reported with a
one-line reason naming it, and the rest of a folder goes on.

A folder is read one file at a time (`iter_documents`) and stored in bounded batches
(`store_documents`), so memory stays flat whatever its size. A file is read whole (at most the size
limit) and checked before any of its documents is stored: a bad file leaves nothing.

Input is treated as hostile: only regular files are opened, reading stops at the size limit whatever
`stat` says, names are shown escaped (a name cannot forge or garble an error line), and a record that
Python's JSON reader cannot turn into valid Unicode text is an error naming its line.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING

from annotator.contract import load_json
from annotator.errors import AnnotatorError
from annotator.schemas import Document

if TYPE_CHECKING:
    from annotator.store import Store

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".jsonl"}
_TITLE_CHARS = 200
BATCH_DOCUMENTS = 1000
"""Documents stored per transaction: a reviewer's decision in another process waits for one batch at most."""
BATCH_CHARACTERS = 16 * 1024 * 1024
"""Characters of text after which a batch is stored early, so that a batch of large files stays small too."""


@dataclass
class IngestReport:
    """What one ingest did: documents read, and files skipped with their reasons."""

    documents: list[Document] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def shown(path: Path | str) -> str:
    """A path as one printable line, for messages: a file name cannot forge, split or colour an error line.

    Control, format and separator characters are escaped (`\\n`, `\\x1b`, `\\u202e`), and bytes of the
    name that are not UTF-8 are shown as `\\xNN`.
    """
    out = []
    for char in str(path):
        if char.isprintable():
            out.append(char)
        elif "\udc80" <= char <= "\udcff":  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        else:
            out.append(char.encode("unicode_escape").decode("ascii"))
    return "".join(out)


def parse_size(value: str) -> int:
    """Bytes from a size such as `5MB`, `512k` or `1048576`."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmg]?)i?b?\s*", value.lower())
    if not match:
        raise AnnotatorError(f"cannot read size {value!r} (try 5MB, 512KB or a number of bytes)")
    number, unit = match.groups()
    return int(float(number) * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit])


def discover(path: Path, on_error: Callable[[str], None] | None = None) -> Iterator[Path]:
    """The supported files under `path` (anything but a folder yields itself), sorted, hidden entries
    skipped, symlinked folders not followed; a folder that cannot be listed is reported to `on_error`
    and the walk goes on.

    Iterative, not `os.walk`: that recurses once per level, and a tree a few thousand folders deep
    would end the whole ingest in a RecursionError.
    """
    if not path.is_dir():
        yield path
        return
    pending = [path]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = sorted(listing, key=lambda entry: entry.name)
        except OSError as error:
            if on_error is not None:
                on_error(f"{shown(folder)}: cannot read folder ({error.strerror or error}); skipped")
            continue
        subfolders = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_folder = entry.is_dir()
            except OSError:  # reading it will say why
                is_folder = False
            if is_folder:
                if not entry.is_symlink():
                    subfolders.append(folder / entry.name)
            elif Path(entry.name).suffix.lower() in SUPPORTED_SUFFIXES:
                yield folder / entry.name
        pending.extend(reversed(subfolders))  # depth first, in name order


def _kind(mode: int) -> str:
    """What a file-system entry that is not a regular file is, for a message."""
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a folder")):
        if test(mode):
            return name
    return "an entry of an unknown kind"


def read_bytes(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most `max_bytes`; AnnotatorError naming it otherwise.

    FIFOs, devices and sockets (also behind a symlink) are never read: a FIFO blocks forever and
    `/dev/zero` never ends. They are refused from `stat` before opening (opening some devices has
    effects of its own) and again from the open descriptor, in case the entry was swapped between.
    At most `max_bytes + 1` bytes are read, as `stat` may say 0 for a file that is not empty (/proc).
    """
    name = shown(path)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise AnnotatorError(f"{name}: {_kind(info.st_mode)}, not a regular file; skipped")
        if info.st_size > max_bytes:
            raise AnnotatorError(f"{name}: {info.st_size:,} bytes is over the size limit of {max_bytes:,} bytes")
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with open(descriptor, "rb") as stream:
            mode = os.fstat(descriptor).st_mode
            if not stat.S_ISREG(mode):
                raise AnnotatorError(f"{name}: {_kind(mode)}, not a regular file; skipped")
            data = stream.read(max_bytes + 1)
    except OSError as error:
        raise AnnotatorError(f"{name}: cannot read ({error.strerror or error})") from None
    if len(data) > max_bytes:
        raise AnnotatorError(f"{name}: over the size limit of {max_bytes:,} bytes (it grew while being read, "
                             "or its size was not known in advance)")
    return data


def decode(path: Path, data: bytes) -> str:
    """UTF-8 text of a file, or an error naming the first bad byte; newlines normalised to `\\n`.

    A NUL byte anywhere makes the file binary: text never holds one, and a NUL past the first
    block is how a binary file that starts like text gives itself away.
    """
    if b"\x00" in data:
        raise AnnotatorError(f"{shown(path)}: binary file (NUL byte at offset {data.index(0)})")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise AnnotatorError(
            f"{shown(path)}: not valid UTF-8 (byte 0x{data[error.start]:02x} at offset {error.start})"
        ) from None
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def first_line_title(text: str) -> str | None:
    """The first non-empty line, without Markdown heading marks, cut to a list-friendly length."""
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line[:_TITLE_CHARS]
    return None


class _Malformed(Exception):
    """HTML whose unfinished tags would take the parser quadratic time."""


class _VisibleText(HTMLParser):
    """Collects the text a browser would show, with block elements as line breaks.

    Python's parser (before 3.13.4 and 3.12.11) rescans to the end of the page for every tag or
    comment it cannot finish: 60 KB of `<a ` takes half a minute, 5 MB would take days. Each
    unfinished construct costs at most the rest of the page, so that cost is counted and the page is
    refused past `MAX_RESCAN` characters (seconds), which well-formed pages never come near.
    """

    HIDDEN = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
    BLOCKS = {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table", "section",
        "article", "header", "footer", "blockquote", "pre", "figure", "figcaption", "hr", "main", "aside", "nav",
    }  # fmt: skip
    MAX_RESCAN = 20_000_000

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.hidden = 0
        self.in_title = False
        self.rescanned = 0

    def _counted(self, parse: Callable[[int], int], i: int) -> int:
        end = parse(i)
        if end < 0:
            self.rescanned += len(self.rawdata) - i
            if self.rescanned > self.MAX_RESCAN:
                raise _Malformed
        return end

    def parse_starttag(self, i: int) -> int:
        return self._counted(super().parse_starttag, i)

    def parse_endtag(self, i: int) -> int:
        return self._counted(super().parse_endtag, i)

    def parse_comment(self, i: int, report: int = 1) -> int:
        return self._counted(lambda at: super(_VisibleText, self).parse_comment(at, report), i)

    def parse_pi(self, i: int) -> int:
        return self._counted(super().parse_pi, i)

    def parse_html_declaration(self, i: int) -> int:
        return self._counted(super().parse_html_declaration, i)

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
    """The visible text of an HTML page and its `<title>`; AnnotatorError for a page too malformed to read."""
    parser = _VisibleText()
    try:
        parser.feed(html)
        parser.close()
    except _Malformed:
        raise AnnotatorError(
            "HTML too malformed to read (tags or comments that never close; the parser would take hours)"
        ) from None
    except AssertionError as error:  # how Python's parser reports markup it cannot scan, e.g. `<![<![`
        raise AnnotatorError(f"HTML the parser cannot read ({str(error)[:80]})") from None
    title = " ".join("".join(parser.title).split()) or None
    return parser.text(), title


def _source(path: Path) -> str:
    # A name that is not UTF-8 is stored with those bytes written `\xNN`: the store holds valid
    # Unicode only, and the same name always gives the same source (so re-ingests link versions).
    return path.as_posix().encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def read_file(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> list[Document]:
    """The documents in one file; AnnotatorError naming the file when it cannot be used."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise AnnotatorError(
            f"{shown(path)}: unsupported file type {shown(suffix) or '(none)'} (supported: .txt .md .html .jsonl)"
        )
    text = decode(path, read_bytes(path, max_bytes))
    if not text.strip():
        raise AnnotatorError(f"{shown(path)}: empty file")
    if suffix == ".jsonl":
        return _read_jsonl(path, text)
    if suffix in HTML_SUFFIXES:
        try:
            body, title = html_to_text(text)
        except AnnotatorError as error:
            raise AnnotatorError(f"{shown(path)}: {error}") from None
        if not body:
            raise AnnotatorError(f"{shown(path)}: no visible text")
        return [Document.from_text(body, _source(path), title or first_line_title(body))]
    return [Document.from_text(text, _source(path), first_line_title(text))]


def _checked_text(value: str, field: str) -> str:
    """`value` if it is text the store can hold; ValueError naming `field` otherwise."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:  # JSON's "\ud800" escape decodes to a lone surrogate
        raise ValueError(
            f"field {field!r} is not valid Unicode (lone surrogate \\u{ord(value[error.start]):04x} "
            f"at character {error.start})"
        ) from None
    if "\x00" in value:
        raise ValueError(f"field {field!r} holds a NUL character (at character {value.index(chr(0))})")
    return value


def _record_document(record: object, path: Path, number: int) -> Document:
    """The document of one parsed JSONL record; ValueError with a short reason when it cannot be one."""
    if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not record["text"].strip():
        raise ValueError("a record needs a non-empty string field 'text'")
    body = _checked_text(record["text"], "text")
    external_id = record.get("id")
    if external_id is not None and (isinstance(external_id, bool) or not isinstance(external_id, str | int)):
        raise ValueError("field 'id' must be a string or an integer")
    for name in ("source", "title"):
        if record.get(name) is not None and not isinstance(record[name], str):
            raise ValueError(f"field {name!r} must be a string")
    external = _checked_text(str(external_id), "id") if external_id is not None else None
    source = _checked_text(
        record.get("source") or f"{_source(path)}#{external if external is not None else number}", "source"
    )
    title = _checked_text(record.get("title") or first_line_title(body) or "", "title") or None
    return Document.from_text(body, source, title, external)


def _read_jsonl(path: Path, text: str) -> list[Document]:
    documents = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            documents.append(_record_document(load_json(line, constants=True), path, number))
        except ValueError as error:
            raise AnnotatorError(f"{shown(path)}:{number}: {error}") from None
    if not documents:
        raise AnnotatorError(f"{shown(path)}: no records")
    return documents


def iter_documents(
    paths: Iterable[Path], max_bytes: int = DEFAULT_MAX_BYTES, on_error: Callable[[str], None] | None = None
) -> Iterator[Document]:
    """Every document under `paths`, read one file at a time; each file or folder that fails is
    reported to `on_error` (one line) and skipped, and the rest go on."""
    errors = 0

    def report(message: str) -> None:
        nonlocal errors
        errors += 1
        if on_error is not None:
            on_error(message)

    for path in paths:
        try:
            os.stat(path)
        except FileNotFoundError:
            report(f"{shown(path)}: no such file or folder")
            continue
        except (OSError, ValueError) as error:  # ValueError: a NUL in the name
            report(f"{shown(path)}: cannot read ({getattr(error, 'strerror', None) or error})")
            continue
        reported, found = errors, False
        for file in discover(path, report):
            found = True
            try:
                documents = read_file(file, max_bytes)
            except AnnotatorError as error:
                report(str(error))
                continue
            yield from documents
        if not found and errors == reported:
            report(f"{shown(path)}: no supported files (.txt .md .html .jsonl)")


def read_paths(paths: list[Path], max_bytes: int = DEFAULT_MAX_BYTES) -> IngestReport:
    """Every document under `paths` at once; files and folders that fail are reported and skipped, the rest go on.

    For a folder of any size, `iter_documents` and `store_documents` keep memory flat.
    """
    report = IngestReport()
    report.documents.extend(iter_documents(paths, max_bytes, report.errors.append))
    return report


@dataclass
class Stored:
    """What `store_documents` did: documents new to the store, and those it held already (the same text)."""

    new: int = 0
    duplicates: int = 0


def store_documents(
    store: Store,
    documents: Iterable[Document],
    on_stored: Callable[[Document, bool], None] | None = None,
) -> Stored:
    """Store documents as they come, a transaction per `BATCH_DOCUMENTS` of them (or `BATCH_CHARACTERS` of text).

    Only one batch is ever held: memory stays flat however many documents `documents` yields, and
    the write lock is held for one batch at a time. Re-storing is a no-op (documents are keyed by
    their content), so a batch committed before an interruption costs nothing to store again.
    `on_stored` gets each document, with whether it was new, once its batch is committed.
    """
    stored = Stored()
    pending: list[Document] = []
    characters = 0

    def flush() -> None:
        nonlocal characters
        created = store.add_documents(pending)
        for document, new in zip(pending, created):
            stored.new += new
            stored.duplicates += not new
            if on_stored is not None:
                on_stored(document, new)
        pending.clear()
        characters = 0

    for document in documents:
        pending.append(document)
        characters += len(document.text)
        if len(pending) >= BATCH_DOCUMENTS or characters >= BATCH_CHARACTERS:
            flush()
    if pending:
        flush()
    return stored
