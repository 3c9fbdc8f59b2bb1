"""Benchmark `annotator import` and `annotator ingest` at scale: wall seconds and the command's peak memory.

    python bench/import_scale.py [--repeats 3] [--work DIR] [--big]

Generates contract JSONL files of 3k, 10k and 30k news-like documents (about 20 items each, mixed
statuses, every tenth document without item ids) and folders of 10k and 30k small `.txt` files,
then runs `annotator import FILE --db NEW.db` and `annotator ingest FOLDER --db NEW.db` as
commands and prints, per size, the median wall time and peak RSS of the command (its own
`wait4` rusage, so each run is measured alone); the biggest size of each runs once. `--big` adds
100k documents and 100k files (minutes); `--temp-in-memory` opens every store with SQLite's
temporary tables in memory, as some builds and settings have them. Inputs are generated once into `--work` (default: a
temporary folder removed at the end) and reused when the folder is given again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEEDS = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "seeds").glob("*.txt"))]
PARAGRAPHS = [p for text in SEEDS for p in text.split("\n\n") if len(p) > 80]
STATUSES = ("proposed", "proposed", "accepted", "accepted", "edited", "rejected", "added")
ORIGIN = {"engine": "llm", "model": "bench-model", "prompt": "quotes@bench"}
IMPORT_SIZES = (3_000, 10_000, 30_000)
INGEST_SIZES = (10_000, 30_000)
BIG = 100_000
# The command as run by `--temp-in-memory`: every store opened with temporary tables in memory, as
# on a machine whose SQLite keeps them there (`SQLITE_TEMP_STORE=2`, or a setting to that effect).
TEMP_IN_MEMORY = """
import sys
import annotator.store as store
opened = store.open_db
def open_db(*args, **kwargs):
    result = opened(*args, **kwargs)
    result.conn.execute("PRAGMA temp_store = MEMORY")
    return result
store.open_db = open_db
from annotator.cli import app
sys.argv[0] = "annotator"
app()
"""


def article(rng: random.Random, index: int, words: int = 250) -> str:
    """News-like text of about `words` words, paragraphs from the seed articles, unique by its first line."""
    out, count = [f"Report {index}."], 0
    while count < words:
        paragraph = rng.choice(PARAGRAPHS)
        out.append(paragraph)
        count += len(paragraph.split())
    return "\n\n".join(out)


def _record(rng: random.Random, text: str, number: int, start: int, end: int, with_id: bool, doc: int) -> str:
    """One annotation record in contract order: the opening keys, the kind's fields, then origin."""
    status = rng.choice(STATUSES)
    span = text[start:end]
    kind = ("quote", "figure", "stance")[number % 3]
    if kind == "quote":
        fields = {"speaker": rng.choice(["Suleiman Abdulqader", "Ahmed Sheikho", "a spokesperson"]),
                  "speaker_start": None, "speaker_end": None, "cue": "said", "quote_type": "direct"}
    elif kind == "figure":
        fields = {"value": float(number * 10), "unit": "people", "qualifier": "approximately",
                  "subject": "people displaced", "attributed_to": None}
    else:
        fields = {"holder": "the observatory", "target": "the offensive",
                  "polarity": rng.choice(["favor", "against", "neutral"])}
    if status == "added":
        item_id = "m_" + hashlib.sha256(f"{doc}/{number}".encode()).hexdigest()[:20]
        origin = {"engine": "manual"}
    else:
        item_id = "p_" + hashlib.sha256(f"{doc}/{number}/p".encode()).hexdigest()[:20]
        origin = ORIGIN
    record = {"id": item_id if with_id or status == "added" else None, "kind": kind, "start": start, "end": end,
              "text": span, "status": status, **fields, "origin": origin}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def contract_line(rng: random.Random, index: int, items: int = 20) -> str:
    """One contract JSONL line (`encode_line`'s shape) with about `items` annotations on word boundaries."""
    text = article(rng, index)
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    step = max(1, len(spaces) // (items + 1))
    records = []
    for number, at in enumerate(spaces[step::step][:items]):
        start = at + 1
        end = text.find(" ", start)
        if end <= start:
            continue
        records.append(_record(rng, text, number, start, end, index % 10 != 0, index))
    reviewed = all('"status":"proposed"' not in record for record in records)
    doc_id = "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    return (f'{{"doc_id":{json.dumps(doc_id)},"source":{json.dumps(f"bench/{index}.txt")},'
            f'"title":{json.dumps(f"Report {index}")},"text":{json.dumps(text, ensure_ascii=False)},'
            f'"annotations":[{",".join(records)}],"reviewed":{"true" if reviewed else "false"}}}')


def write_contract(path: Path, documents: int, seed: int = 11) -> Path:
    """A contract JSONL file of `documents` lines (kept if it exists already)."""
    if not path.exists():
        rng = random.Random(seed)
        partial = path.with_suffix(".part")
        with partial.open("w", encoding="utf-8") as out:
            for index in range(documents):
                out.write(contract_line(rng, index) + "\n")
        partial.rename(path)
    return path


def write_folder(path: Path, files: int, seed: int = 13) -> Path:
    """A folder of `files` small `.txt` articles in subfolders of 1,000 (kept if it exists already)."""
    if not path.exists():
        rng = random.Random(seed)
        partial = path.with_name(path.name + ".part")
        shutil.rmtree(partial, ignore_errors=True)
        for index in range(files):
            folder = partial / f"{index // 1000:03d}"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{index:06d}.txt").write_text(article(rng, index, 120), encoding="utf-8")
        partial.rename(path)
    return path


def measure(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one run of `command`, which must succeed.

    CPU time (user + system) is given beside wall time: on a shared machine it moves less.
    """
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    took = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    stderr = child.stderr.read().decode(errors="replace") if child.stderr else ""
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({child.returncode}):\n{stderr[-2000:]}")
    return took, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def runs(command_for, repeats: int) -> tuple[float, float, float]:
    """Medians of wall seconds, CPU seconds and peak RSS over `repeats` runs, each into a fresh database."""
    measured = [measure(command_for(attempt)) for attempt in range(repeats)]
    return tuple(statistics.median(m[i] for m in measured) for i in range(3))  # type: ignore[return-value]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per size (the biggest size runs once)")
    parser.add_argument("--work", type=Path, help="keep generated inputs here and reuse them")
    parser.add_argument("--big", action="store_true", help=f"also {BIG:,} documents and files (minutes)")
    parser.add_argument("--only", choices=("import", "ingest"), help="one command only")
    parser.add_argument("--temp-in-memory", action="store_true",
                        help="run as if SQLite kept temporary tables in memory (some builds and settings do)")
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="annotator-import-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    annotator = [sys.executable, *(["-c", TEMP_IN_MEMORY] if args.temp_in_memory else ["-m", "annotator.cli"])]
    import_sizes = [*IMPORT_SIZES, BIG] if args.big else list(IMPORT_SIZES)
    ingest_sizes = [*INGEST_SIZES, BIG] if args.big else list(INGEST_SIZES)
    dbs = work / "dbs"
    try:
        if args.only != "ingest":
            print(f"{'import':>8} {'documents':>10} {'MB file':>8} {'seconds':>8} {'CPU s':>8} {'peak RSS MB':>12} "
                  f"{'docs/s':>8}")
            for size in import_sizes:
                source = write_contract(work / f"contract-{size}.jsonl", size)
                repeats = 1 if size == import_sizes[-1] else args.repeats

                def command(attempt: int, size: int = size, source: Path = source) -> list[str]:
                    shutil.rmtree(dbs, ignore_errors=True)
                    dbs.mkdir()
                    return [*annotator, "import", str(source), "--db", str(dbs / f"import-{size}-{attempt}.db"),
                            "--annotator", "bench"]

                took, cpu, peak = runs(command, repeats)
                print(f"{'':>8} {size:>10,} {source.stat().st_size / 2**20:>8.0f} {took:>8.1f} {cpu:>8.1f} "
                      f"{peak:>12.0f} {size / took:>8,.0f}", flush=True)
        if args.only != "import":
            print(f"{'ingest':>8} {'files':>10} {'':>8} {'seconds':>8} {'CPU s':>8} {'peak RSS MB':>12} {'files/s':>8}")
            for size in ingest_sizes:
                folder = write_folder(work / f"folder-{size}", size)
                repeats = 1 if size == ingest_sizes[-1] else args.repeats

                def command(attempt: int, size: int = size, folder: Path = folder) -> list[str]:
                    shutil.rmtree(dbs, ignore_errors=True)
                    dbs.mkdir()
                    return [*annotator, "ingest", str(folder), "--db", str(dbs / f"ingest-{size}-{attempt}.db")]

                took, cpu, peak = runs(command, repeats)
                print(f"{'':>8} {size:>10,} {'':>8} {took:>8.1f} {cpu:>8.1f} {peak:>12.0f} {size / took:>8,.0f}",
                      flush=True)
    finally:
        shutil.rmtree(dbs, ignore_errors=True)
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
