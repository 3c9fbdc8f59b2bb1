"""Benchmark an archive at scale: every figure of the scale issue, for each size side by side.

    python bench/scale.py [--sizes 10000,100000] [--work DIR] [--keep]

For each size, two stores are built through `annotator import` of generated contract JSONL
(bench/scale_corpus.py: ~2,800-character news-like articles, 20 items each): one half reviewed
(the first half of the documents fully reviewed) and one fully reviewed. Then, on each store:
review start to the first document drawn; `tab`, `J`, `K` and `u` from key to the next frame
(as bench/tui.py measures accept); the document list's first page, a scroll of a page, and a
search keystroke; `stats`; eval's gold selection; JSONL export against `sqlite3 -json` over the
same rows; `qa`; the size of labels.db against the text it holds. Also: import and ingest wall
time and peak resident memory, and the rules engine on one 5 MB document against the same text
as ordinary articles. Medians over repeats, with the spread (min–max) where it says so.
Building the 100k stores takes several minutes; this is not part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

import scale_corpus  # noqa: E402
from tui import CHILD, frame_after_key, recorded_frames  # noqa: E402

PYTHON = sys.executable
# The rows a JSONL export reads, as sqlite3's own JSON output gives them: each item as it stands, its
# words read from its document as the store reads them.
SQLITE_ROWS = (
    "SELECT doc.id AS doc_id, i.id, i.kind, coalesce(c.start, i.start) AS start, coalesce(c.\"end\", i.\"end\") AS \"end\", "
    "coalesce(c.text, i.text, substr(doc.text, i.start + 1, i.\"end\" - i.start)) AS text, "
    "coalesce(i.status, 'proposed') AS status, coalesce(c.fields, i.fields) AS fields, "
    "coalesce(o.json, c.origin) AS origin FROM items i JOIN documents doc ON doc.n = i.doc "
    "LEFT JOIN origins o ON o.n = i.origin LEFT JOIN decisions c ON c.id = i.content "
    "WHERE i.proposal = 1 OR i.status = 'added' ORDER BY i.doc, 4, 5"
)


def timed(command: list[str], **kwargs) -> tuple[float, float, subprocess.CompletedProcess]:
    """(wall seconds, peak resident MB of the command, the result), measured by GNU time."""
    with tempfile.NamedTemporaryFile("r") as report:
        started = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-o", report.name, "-f", "%M", *command], capture_output=True,
                                text=True, **kwargs)
        wall = time.perf_counter() - started
        peak = int(report.read().strip().splitlines()[-1]) / 1024
    if result.returncode not in (0, 3):
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr[-2000:]}")
    return wall, peak, result


def annotator(*args: str) -> list[str]:
    return [PYTHON, "-m", "annotator.cli", *args]


def median_spread(values: list[float], scale: float = 1.0, unit: str = "") -> str:
    values = [v * scale for v in values]
    return f"{statistics.median(values):.3g}{unit} ({min(values):.3g}–{max(values):.3g})"


def build(work: Path, documents: int, reviewed: str) -> tuple[Path, dict[str, str]]:
    """A store of `documents` built through `annotator import`; the import's figures."""
    source = work / f"archive-{documents}-{reviewed}.jsonl"
    with source.open("w", encoding="utf-8") as out:
        for line in scale_corpus.lines(documents, reviewed):
            out.write(line + "\n")
    db = work / f"labels-{documents}-{reviewed}.db"
    for stale in work.glob(db.name + "*"):
        stale.unlink()
    wall, peak, _ = timed(annotator("import", str(source), "--db", str(db), "--annotator", "archive"))
    megabytes = source.stat().st_size / 1e6
    source.unlink()
    return db, {"import (s)": f"{wall:.1f}", "import peak RSS (MB)": f"{peak:.0f}",
                "import file (MB)": f"{megabytes:.0f}"}


def review_start(db: Path, repeat: int = 3) -> dict[str, str]:
    """Process start to the first document drawn, `annotator review --db` over the whole store; its memory then."""
    ready, rss = [], []
    for _ in range(repeat):
        result = subprocess.run([PYTHON, "-c", CHILD, str(db)], capture_output=True, text=True, check=True, cwd=ROOT)
        lines = dict(line.split() for line in result.stdout.splitlines() if line.split()[0] in ("ready", "rss"))
        ready.append(float(lines["ready"]))
        rss.append(float(lines["rss"]))
    return {"review start to first document": median_spread(ready, unit=" s"),
            "review resident memory (MB)": f"{max(rss):.0f}"}


async def keys(db: Path) -> dict[str, str]:
    """Key to next frame for tab, J, K, u, and the document list's first page, scroll and search."""
    from annotator.tui.app import create_app

    app = create_app(db, None, "bench")
    frames = recorded_frames(app)
    out: dict[str, list[float]] = {}

    async def press(name: str, key: str, times: int) -> None:
        for _ in range(times):
            latency = await frame_after_key(app, key, frames)
            if latency is not None:
                out.setdefault(name, []).append(latency)

    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await press("tab", "tab", 15)
        await press("J", "J", 15)
        await press("K", "K", 15)
        await press("a (then u)", "a", 5)
        await press("u", "u", 5)
        for _ in range(3):
            await press("d: document list, first page", "d", 1)
            await press("list: a page down", "pagedown", 3)
            await press("list: one search keystroke", "slash", 1)
            await press("list: one search keystroke", "1", 1)
            await press("list: one search keystroke", "2", 1)
            await pilot.press("escape")  # the search box
            await pilot.pause()
            await pilot.press("escape")  # the list
            await pilot.pause()
    return {f"{name} (ms)": median_spread(values, 1000) for name, values in out.items()}


def seconds(function: Callable[[], object], repeat: int = 3) -> str:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return median_spread(times, unit=" s")


def in_process(db: Path) -> dict[str, str]:
    from annotator.evaluate import gold_from_store
    from annotator.store import open_db

    with open_db(db) as store:
        selection = seconds(lambda: (store.fully_reviewed_document_ids(), store.reviewed_document_ids()))
        stats = seconds(store.stats)
        started = time.perf_counter()
        golds, _ = gold_from_store(store)
        loading = time.perf_counter() - started
        text = store.conn.execute("SELECT sum(length(text)) FROM documents").fetchone()[0]
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = db.stat().st_size
    return {
        "stats, in the process": stats,
        "eval gold selection": selection,
        "eval gold loaded (documents)": f"{loading:.1f} s ({len(golds):,})",
        "labels.db / text": f"{size / text:.2f}x ({size / 1e6:.0f} MB / {text / 1e6:.0f} MB)",
    }


def commands(db: Path, work: Path) -> dict[str, str]:
    stats = [timed(annotator("stats", "--db", str(db)))[0] for _ in range(3)]
    ours, theirs = [], []
    for _ in range(3):
        out = work / "export.jsonl"
        wall, _, _ = timed(annotator("export", "--db", str(db), "--status", "all", "--output", str(out)))
        ours.append(wall)
        started = time.perf_counter()
        with (work / "sqlite.json").open("w") as sink:
            subprocess.run(["sqlite3", "-json", str(db), SQLITE_ROWS], stdout=sink, check=True)
        theirs.append(time.perf_counter() - started)
    ratio = statistics.median(theirs) / statistics.median(ours)
    qa_wall, qa_peak, _ = timed(annotator("qa", "--db", str(db)))
    return {
        "stats command (s)": median_spread(stats),
        "export JSONL (s)": median_spread(ours),
        "sqlite3 -json same rows (s)": median_spread(theirs),
        "export speed / sqlite3's": f"{ratio:.2f}",
        "qa (s)": f"{qa_wall:.1f}",
        "qa peak RSS (MB)": f"{qa_peak:.0f}",
    }


def ingest(work: Path, documents: int) -> dict[str, str]:
    folder = work / f"folder-{documents}"
    folder.mkdir(exist_ok=True)
    rng = scale_corpus.random.Random(11)
    for index in range(documents):
        _, text, _ = scale_corpus.article(rng, index)
        (folder / f"{index:06d}.txt").write_text(text, encoding="utf-8")
    db = work / "ingest.db"
    wall, peak, _ = timed(annotator("ingest", str(folder), "--db", str(db)))
    shutil.rmtree(folder)
    for path in work.glob("ingest.db*"):
        path.unlink()
    return {"ingest folder (s)": f"{wall:.1f}", "ingest peak RSS (MB)": f"{peak:.0f}"}


def rules_long(megabytes: float = 5.0, repeat: int = 3) -> dict[str, str]:
    """The rules engine on one long document against the same text cut into articles (MB/s)."""
    from annotator.propose.rules_proposer import RulesProposer
    from annotator.schemas import Document

    rng = scale_corpus.random.Random(5)
    texts, size = [], 0
    while size < megabytes * 1e6:
        _, text, _ = scale_corpus.article(rng, len(texts))
        texts.append(text)
        size += len(text.encode())
    proposer = RulesProposer()

    async def run(documents: list[Document]) -> float:
        started = time.perf_counter()
        for document in documents:
            await proposer.propose(document)
        return size / 1e6 / (time.perf_counter() - started)

    articles = [Document.from_text(text, f"a/{i}.txt") for i, text in enumerate(texts)]
    long = [Document.from_text("\n\n".join(texts), "long.txt")]
    speeds: dict[str, list[float]] = {"one": [], "articles": []}
    for _ in range(repeat):  # alternated, so that a busy moment falls on both
        speeds["one"].append(asyncio.run(run(long)))
        speeds["articles"].append(asyncio.run(run(articles)))
    return {"rules, one 5 MB document (MB/s)": median_spread(speeds["one"]),
            "rules, same text as articles (MB/s)": median_spread(speeds["articles"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--work", type=Path, default=None, help="folder for the stores (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the stores built")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    work = args.work or Path(tempfile.mkdtemp(prefix="annotator-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)
    table: dict[str, dict[int, str]] = {}

    def put(figures: dict[str, str], size: int, suffix: str = "") -> None:
        for name, value in figures.items():
            table.setdefault(name + suffix, {})[size] = value
        print(json.dumps({"size": size, **{name + suffix: value for name, value in figures.items()}}), flush=True)

    for size in sizes:
        for reviewed in ("half", "all"):
            suffix = "  [half reviewed]" if reviewed == "half" else "  [fully reviewed]"
            db, figures = build(work, size, reviewed)
            put(figures, size, suffix)
            put(review_start(db), size, suffix)
            put(asyncio.run(keys(db)), size, suffix)
            put(in_process(db), size, suffix)
            put(commands(db, work), size, suffix)
            if not args.keep:
                for path in work.glob(db.name + "*"):
                    path.unlink()
        put(ingest(work, size), size)
    put(rules_long(), sizes[-1])
    width = max(len(name) for name in table)
    print()
    print(f"{'figure':<{width}}  " + "  ".join(f"{size:>26,}" for size in sizes))
    for name, values in table.items():
        print(f"{name:<{width}}  " + "  ".join(f"{values.get(size, ''):>26}" for size in sizes))
    if not args.work and not args.keep:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
