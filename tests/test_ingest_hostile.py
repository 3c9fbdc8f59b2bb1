"""Hostile input to `annotator ingest`, as one table: every case is a clean one-line error or a clean ingest.

Each row puts one hostile entry (a FIFO, a device behind a symlink, a name that is not UTF-8 or that
carries escape codes, a JSONL record Python cannot read, a late NUL byte, an unreadable folder, …)
beside a good article, runs the real CLI on it and asserts the project's standard: the exit code,
exactly one error line that names the file (escaped) and the problem, no traceback, the good article
stored, and nothing that was already stored changed.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from typer.testing import CliRunner

from annotator.cli import app
from annotator.store import open_db

GOOD = "A good article beside the hostile input, which must still be stored."
STORED = "An article stored before the hostile ingest; nothing about it may change."
DEEP = 100_000


@dataclass
class Case:
    """One hostile input: how to make it in `corpus/`, and what ingest must say about it."""

    id: str
    make: Callable[[Path], object]
    # The one error line, less the `error: ` prefix, must contain this; None: ingested without error.
    message: str | None
    # Extra arguments after `corpus` (e.g. a path given directly, or `--max-size`).
    args: Callable[[Path], list[str]] = lambda corpus: []
    # "cli": in-process CliRunner; "process": a real process with a timeout (for what could hang or
    # grow without bound); "unprivileged": a process without root's right to read anything.
    via: str = "cli"
    # Monkeypatches for the in-process run (an unreadable entry, as root can read everything).
    patch: Callable[[pytest.MonkeyPatch, Path], None] | None = None
    # Texts that must be stored afterwards besides the good article (for inputs that are ingested).
    stored: list[str] = field(default_factory=list)


def write(name: str | bytes, content: bytes | str) -> Callable[[Path], None]:
    """A maker that writes one file (a `bytes` name is used as raw bytes, whatever its encoding)."""

    def make(corpus: Path) -> None:
        path = os.path.join(os.fsencode(corpus), name if isinstance(name, bytes) else os.fsencode(name))
        data = content.encode("utf-8") if isinstance(content, str) else content
        with open(path, "wb") as stream:
            stream.write(data)

    return make


def symlink(name: str, target: str) -> Callable[[Path], None]:
    """A maker of a symlink `name` in the corpus pointing at `target`."""
    return lambda corpus: (corpus / name).symlink_to(target)


def fifo(name: str) -> Callable[[Path], None]:
    """A maker of a FIFO that no one ever writes to."""
    return lambda corpus: os.mkfifo(corpus / name)


def unix_socket(corpus: Path) -> socket.socket:
    """A listening Unix socket named like an article (kept open by the returned object)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(os.path.relpath(corpus / "socket.txt"))  # relative: socket paths are short
    server.listen()
    return server


def locked(name: str, folder: bool) -> Callable[[Path], None]:
    """A maker of a file or folder with no permissions at all."""

    def make(corpus: Path) -> None:
        path = corpus / name
        if folder:
            path.mkdir()
            (path / "inside.txt").write_text("Unreadable article inside a locked folder.")
        else:
            path.write_text("An unreadable article.")
        path.chmod(0)

    return make


def refuse_scandir(name: str) -> Callable[[pytest.MonkeyPatch, Path], None]:
    """Make listing the folder `name` fail with EACCES, as for a folder the user may not read."""

    def patch(monkeypatch: pytest.MonkeyPatch, corpus: Path) -> None:
        real = os.scandir

        def scandir(path=".", *args):
            if os.fsdecode(path).rstrip("/").endswith(name):
                raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
            return real(path, *args)

        monkeypatch.setattr(os, "scandir", scandir)

    return patch


def refuse_open(name: str) -> Callable[[pytest.MonkeyPatch, Path], None]:
    """Make opening the file `name` fail with EACCES, as for a file the user may not read."""

    def patch(monkeypatch: pytest.MonkeyPatch, corpus: Path) -> None:
        real = os.open

        def open_(path, flags, *args, **kwargs):
            if os.fsdecode(path).endswith(name):
                raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
            return real(path, flags, *args, **kwargs)

        monkeypatch.setattr(os, "open", open_)

    return patch


def deep_tree(corpus: Path) -> None:
    """Folders 1,500 deep (deeper than Python's recursion limit), an article at the bottom."""
    path = os.fspath(corpus)
    for _ in range(1500):
        path = os.path.join(path, "d")
        os.mkdir(path)
    Path(path, "bottom.txt").write_text("Deep in the tree.")


def remove_tree(top: Path) -> None:
    """Remove a folder tree without recursion (pytest's own clean-up recurses, and fails on `deep_tree`)."""
    folders, pending = [], [os.fspath(top)]
    while pending:
        folders.append(pending.pop())
        with os.scandir(folders[-1]) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                else:
                    os.unlink(entry.path)
    for folder in reversed(folders):
        os.rmdir(folder)


def jsonl(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def folder(name: str | bytes, inner: str, content: bytes) -> Callable[[Path], None]:
    """A maker of a sub-folder holding one file."""

    def make(corpus: Path) -> None:
        path = os.path.join(os.fsencode(corpus), name if isinstance(name, bytes) else os.fsencode(name))
        os.mkdir(path)
        with open(os.path.join(path, os.fsencode(inner)), "wb") as stream:
            stream.write(content)

    return make


TABLE = [
    # Not regular files: never opened or read (a FIFO blocks forever, /dev/zero never ends).
    Case("fifo in a folder", fifo("pipe.txt"), "corpus/pipe.txt: a FIFO, not a regular file", via="process"),
    Case("fifo given directly", lambda corpus: os.mkfifo("direct.md"), "direct.md: a FIFO, not a regular file",
         args=lambda corpus: ["direct.md"], via="process"),
    Case("fifo behind a symlink", lambda corpus: (os.mkfifo("hidden-pipe"), (corpus / "p.md").symlink_to(
        Path("hidden-pipe").resolve())), "corpus/p.md: a FIFO, not a regular file", via="process"),
    Case("/dev/zero behind a symlink", symlink("zero.txt", "/dev/zero"),
         "corpus/zero.txt: a character device, not a regular file", via="process"),
    Case("/dev/urandom behind a symlink", symlink("random.jsonl", "/dev/urandom"),
         "corpus/random.jsonl: a character device, not a regular file", via="process"),
    Case("/dev/null behind a symlink", symlink("null.html", "/dev/null"),
         "corpus/null.html: a character device, not a regular file"),
    Case("/dev/zero given directly", lambda corpus: None, "/dev/zero: unsupported file type (none)",
         args=lambda corpus: ["/dev/zero"], via="process"),
    Case("a unix socket", unix_socket, "corpus/socket.txt: a socket, not a regular file"),
    Case("stat says 0 bytes but there are more (/proc)", symlink("maps.txt", "/proc/self/maps"),
         "corpus/maps.txt: over the size limit of 1,024 bytes", args=lambda corpus: ["--max-size", "1KB"]),
    Case("a symlink loop", symlink("loop.txt", "loop.txt"), "corpus/loop.txt: cannot read (Too many levels"),
    Case("a dangling symlink", symlink("gone.txt", "nowhere.txt"),
         "corpus/gone.txt: cannot read (No such file or directory)"),
    Case("a symlink to the folder above (not followed)", symlink("up", ".."), None),
    Case("a folder named like an article", folder("folder.txt", "inner.txt", b"Inner article in a folder.txt."),
         None, stored=["Inner article in a folder.txt."]),
    Case("a folder tree 1,500 deep", deep_tree, None, stored=["Deep in the tree."]),
    Case("a hidden FIFO (hidden entries are skipped)", fifo(".pipe.txt"), None, via="process"),
    # Names: never abort the folder, always shown escaped on one line.
    Case("a name that is not UTF-8, good content", write(b"caf\xe9.txt", "Article under a Latin-1 name."), None,
         stored=["Article under a Latin-1 name."]),
    Case("a name that is not UTF-8, given directly", write(b"caf\xe9.md", "Named directly, Latin-1."), None,
         args=lambda corpus: [os.fsdecode(os.fsencode(corpus) + b"/caf\xe9.md")], via="process",
         stored=["Named directly, Latin-1."]),
    Case("a name that is not UTF-8, bad content", write(b"bad\xff.txt", b"\xff\xfe"),
         "corpus/bad\\xff.txt: not valid UTF-8"),
    Case("a folder name that is not UTF-8", folder(b"dir\xe9", "empty.txt", b""),
         "corpus/dir\\xe9/empty.txt: empty file"),
    Case("a newline that forges an error line", write("x.txt: fine\nerror: forged.txt", b""),
         "corpus/x.txt: fine\\nerror: forged.txt: empty file"),
    Case("a newline in a .txt name", write("two\nlines.txt", b""), "corpus/two\\nlines.txt: empty file"),
    Case("terminal escape codes in a name", write("\x1b[2J\x1b[31mred.txt", b""),
         "corpus/\\x1b[2J\\x1b[31mred.txt: empty file"),
    Case("a carriage return in a name", write("over\rwrite.txt", b""), "corpus/over\\rwrite.txt: empty file"),
    Case("backspaces and a bell in a name", write("a\x08\x08\x07.txt", b""), "corpus/a\\x08\\x08\\x07.txt: empty file"),
    Case("a C1 next-line control in a name", write("c1\x85.txt", b""), "corpus/c1\\x85.txt: empty file"),
    Case("a DEL in a name", write("del\x7f.txt", b""), "corpus/del\\x7f.txt: empty file"),
    Case("a Unicode line separator in a name", write("ls\u2028.txt", b""), "corpus/ls\\u2028.txt: empty file"),
    Case("a right-to-left override in a name", write("txt.\u202eexe.md", b""), "corpus/txt.\\u202eexe.md: empty file"),
    Case("Rich markup in a name", write("[bold red]x[reset].txt", b""), "corpus/[bold red]x[reset].txt: empty file"),
    Case("an emoji code in a name", write(":warning:.txt", b""), "corpus/:warning:.txt: empty file"),
    Case("a missing path with a newline", lambda corpus: None, "missing\\nerror: x.txt: no such file or folder",
         args=lambda corpus: ["missing\nerror: x.txt"]),
    # JSONL records that Python's reader accepts but the store cannot hold, or refuses with an exception
    # other than JSONDecodeError.
    Case("a lone surrogate in text", write("s.jsonl", jsonl(r'{"text": "bad \ud800 text"}')),
         "corpus/s.jsonl:1: field 'text' is not valid Unicode (lone surrogate \\ud800 at character 4)"),
    Case("a lone low surrogate in text", write("low.jsonl", jsonl(r'{"text": "\udfff"}')),
         "corpus/low.jsonl:1: field 'text' is not valid Unicode"),
    Case("a lone surrogate in id, line 2",
         write("id.jsonl", jsonl('{"text": "Fine."}', r'{"text": "x", "id": "\ud800"}')),
         "corpus/id.jsonl:2: field 'id' is not valid Unicode"),
    Case("a lone surrogate in title", write("t.jsonl", jsonl(r'{"text": "x", "title": "\ud83d"}')),
         "corpus/t.jsonl:1: field 'title' is not valid Unicode"),
    Case("a lone surrogate in source", write("src.jsonl", jsonl(r'{"text": "x", "source": "a\udc80"}')),
         "corpus/src.jsonl:1: field 'source' is not valid Unicode"),
    Case("an escaped surrogate pair (valid)", write("pair.jsonl", jsonl(r'{"text": "Smile \ud83d\ude00 ok."}')), None,
         stored=["Smile \U0001f600 ok."]),
    Case("a NUL escape in text", write("nul.jsonl", jsonl(r'{"text": "a\u0000b"}')),
         "corpus/nul.jsonl:1: field 'text' holds a NUL character"),
    Case(f"an array nested {DEEP:,} deep",
         write("deep.jsonl", jsonl('{"text": "x", "extra": ' + "[" * DEEP + "]" * DEEP + "}")),
         "corpus/deep.jsonl:1: invalid JSON (nested too deeply)"),
    Case(f"an object nested {DEEP:,} deep", write("deepobj.jsonl", jsonl('{"a":' * DEEP + "1" + "}" * DEEP)),
         "corpus/deepobj.jsonl:1: invalid JSON (nested too deeply)"),
    Case("an integer of 5,000 digits", write("int.jsonl", jsonl('{"text": "x", "n": ' + "7" * 5000 + "}")),
         "corpus/int.jsonl:1: invalid JSON (a number longer than 4,300 digits)"),
    Case("an id of 5,000 digits", write("intid.jsonl", jsonl('{"text": "x", "id": ' + "1" * 5000 + "}")),
         "corpus/intid.jsonl:1: invalid JSON (a number longer than"),
    Case("a float of 5,000 digits (read as a float)",
         write("float.jsonl", jsonl('{"text": "Big float.", "n": ' + "9" * 5000 + ".5}")),
         None, stored=["Big float."]),
    Case("NaN and Infinity", write("nan.jsonl", jsonl('{"text": "Odd numbers.", "a": NaN, "b": -Infinity}')), None,
         stored=["Odd numbers."]),
    Case("an id that is an object", write("objid.jsonl", jsonl('{"text": "x", "id": {"a": [1]}}')),
         "corpus/objid.jsonl:1: field 'id' must be a string or an integer"),
    Case("a title that is a list", write("listtitle.jsonl", jsonl('{"text": "x", "title": ["a"]}')),
         "corpus/listtitle.jsonl:1: field 'title' must be a string"),
    Case("a record that is not an object", write("arr.jsonl", jsonl("[1, 2]")),
         "corpus/arr.jsonl:1: a record needs a non-empty string field 'text'"),
    Case("a raw escape code inside a JSON string", write("ctl.jsonl", b'{"text": "a\x1b[31mb"}\n'),
         "corpus/ctl.jsonl:1: invalid JSON (Invalid control character"),
    Case("a byte-order mark before the first record",
         write("bom.jsonl", b"\xef\xbb\xbf" + jsonl('{"text": "After a BOM."}')),
         None, stored=["After a BOM."]),
    # Binary content: a NUL anywhere, not only in the first 8 KB.
    Case("a NUL byte after 8 KB", write("late.txt", b"text " * 2000 + b"\x00"),
         "corpus/late.txt: binary file (NUL byte at offset 10000)"),
    Case("a NUL byte at the end of 1 MB", write("end.md", b"m" * 1_000_000 + b"\x00"),
         "corpus/end.md: binary file (NUL byte at offset 1000000)"),
    Case("a NUL byte after 8 KB of HTML", write("late.html", b"<p>" + b"x" * 9000 + b"\x00</p>"),
         "corpus/late.html: binary file (NUL byte at offset 9003)"),
    Case("a NUL byte after 8 KB of JSONL", write("late.jsonl", jsonl('{"text": "' + "y" * 9000 + '"}') + b"\x00\n"),
         "corpus/late.jsonl: binary file (NUL byte at offset"),
    Case("UTF-16 text", write("utf16.txt", "Wide text.".encode("utf-16")), "corpus/utf16.txt: binary file (NUL byte"),
    Case("UTF-8-encoded surrogate bytes", write("cesu.txt", b"ok \xed\xa0\x80"),
         "corpus/cesu.txt: not valid UTF-8 (byte 0xed at offset 3)"),
    Case("an overlong UTF-8 slash", write("overlong.txt", b"a\xc0\xafb"),
         "corpus/overlong.txt: not valid UTF-8 (byte 0xc0"),
    # HTML that Python's parser chokes on.
    Case("unclosed tags (quadratic in Python's parser)", write("slow.html", "<a " * 100_000),
         "corpus/slow.html: HTML too malformed to read"),
    Case("unclosed comments (quadratic in Python's parser)", write("slowc.html", "<!--x>" * 100_000 + "<p>t</p>"),
         "corpus/slowc.html: HTML too malformed to read"),
    Case("a marked section the parser asserts on", write("marked.html", "<p>x</p><![<![<!["),
         "corpus/marked.html: HTML the parser cannot read"),
    Case("surrogate and huge character references", write("refs.html", "<p>Refs &#xD800; &#99999999999; end.</p>"),
         None, stored=["Refs \ufffd \ufffd end."]),
    Case(f"divs nested {DEEP:,} deep", write("divs.html", "<div>" * DEEP + "Deep text." + "</div>" * DEEP), None,
         stored=["Deep text."]),
    # Size.
    Case("over the size limit", write("big.txt", "word " * 400), "corpus/big.txt: 2,000 bytes is over the size limit",
         args=lambda corpus: ["--max-size", "1KB"]),
    # Unreadable entries: for real (without root's override when run as root), and through a patched
    # os call so the message is checked however the tests run.
    Case("an unreadable sub-folder", locked("locked", folder=True),
         "corpus/locked: cannot read folder (Permission denied); skipped", via="unprivileged"),
    Case("an unreadable file", locked("locked.txt", folder=False), "corpus/locked.txt: cannot read (Permission denied)",
         via="unprivileged"),
    Case("a sub-folder that cannot be listed", folder("sub", "inside.txt", b"Never listed."),
         "corpus/sub: cannot read folder (Permission denied); skipped", patch=refuse_scandir("corpus/sub")),
    Case("a top folder that cannot be listed", lambda corpus: Path("other").mkdir(),
         "other: cannot read folder (Permission denied); skipped", args=lambda corpus: ["other"],
         patch=refuse_scandir("other")),
    Case("a file that cannot be opened", write("closed.txt", "Never opened."),
         "corpus/closed.txt: cannot read (Permission denied)", patch=refuse_open("closed.txt")),
]

CLI = "import sys; from annotator.cli import app; sys.exit(app())"


def unprivileged() -> list[str] | None:
    """A command prefix that runs without root's right to read any file, or None where none is needed."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    # Root reads chmod-000 files through CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH: drop both.
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all"]


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail, instead of hanging the suite, if an in-process ingest blocks."""

    def expired(signum, frame):
        raise TimeoutError(f"ingest still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_ingest(case: Case, args: list[str], monkeypatch: pytest.MonkeyPatch, corpus: Path) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `annotator ingest ARGS`, run as the case says."""
    if case.via == "cli":
        if case.patch:
            case.patch(monkeypatch, corpus)
        with deadline(60):
            result = CliRunner().invoke(app, ["ingest", *args], catch_exceptions=False)
        monkeypatch.undo()
        return result.exit_code, result.stdout, result.stderr
    prefix = unprivileged() if case.via == "unprivileged" else []
    if prefix is None:
        pytest.skip("running as root without setpriv: root reads unreadable files")
    done = subprocess.run([*prefix, sys.executable, "-c", CLI, "ingest", *args], capture_output=True, timeout=60)
    return done.returncode, done.stdout.decode("utf-8", "replace"), done.stderr.decode("utf-8", "replace")


def documents(db: Path) -> list[dict]:
    with open_db(db) as store:
        return [document.model_dump() for document in store.documents()]


@pytest.mark.parametrize("case", TABLE, ids=[case.id for case in TABLE])
def test_hostile_input_is_one_clean_line_and_the_rest_goes_on(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "labels.db"
    (tmp_path / "stored").mkdir()
    (tmp_path / "stored" / "article.txt").write_text(STORED)
    assert CliRunner().invoke(app, ["ingest", "stored", "--db", str(db)], catch_exceptions=False).exit_code == 0
    before = documents(db)

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(GOOD)
    keep = case.make(corpus)  # noqa: F841 - a socket must stay open while ingest runs
    try:
        code, out, err = run_ingest(case, ["corpus", *case.args(corpus), "--db", str(db)], monkeypatch, corpus)
    finally:
        for entry in ("corpus/locked", "corpus/locked.txt"):
            if os.path.lexists(entry):
                os.chmod(entry, 0o700)
        if (corpus / "d").is_dir():
            remove_tree(corpus / "d")

    assert "Traceback" not in out + err, err
    lines = err.splitlines()
    if case.message is None:
        assert (code, lines) == (0, []), err
    else:
        assert code == 1, (out, err)
        assert len(lines) == 1, err
        [line] = lines
        assert line.startswith("error: ") and case.message in line, line
        assert all(char.isprintable() for char in line), repr(line)  # no raw control or format characters
        assert "skipped 1" in out, out
    after = documents(db)
    assert after[: len(before)] == before  # nothing already stored changed
    texts = [document["text"] for document in after]
    assert GOOD in texts
    for text in case.stored:
        assert text in texts
    if case.message is None:
        assert len(after) == len(before) + 1 + len(case.stored)
    else:
        assert len(after) == len(before) + 1  # nothing from the bad input, whole file or part


def test_the_table_covers_every_hostile_input_the_issue_names() -> None:
    ids = " | ".join(case.id for case in TABLE)
    for named in ("fifo", "/dev/zero behind a symlink", "stat says 0", "not UTF-8", "newline", "escape codes",
                  "lone surrogate", f"nested {DEEP:,} deep", "5,000 digits", "NUL byte after 8 KB",
                  "unreadable sub-folder"):
        assert named in ids, named
    assert len(TABLE) >= 60


def test_a_non_utf8_name_is_stored_with_its_bytes_escaped(tmp_path: Path) -> None:
    write(b"caf\xe9.txt", "Latin-1 named.")(tmp_path)
    result = CliRunner().invoke(app, ["ingest", "."], catch_exceptions=False)
    assert result.exit_code == 0 and "ingested 1" in result.stdout
    [document] = documents(tmp_path / "labels.db")
    assert document["source"] == "caf\\xe9.txt"
    again = CliRunner().invoke(app, ["ingest", "."], catch_exceptions=False)
    assert "ingested 0, duplicates 1" in again.stdout  # the same name gives the same source
