"""Benchmark the gold store at scale and print the figures the Foundation issue names.

    python bench/store.py [--documents 10000] [--decisions 200000]

Builds a store with N documents, one proposal per decision and one decision per proposal, then
measures: recording one decision (own transaction, synchronous=FULL), JSONL export against
`sqlite3 -json` selecting the same rows (side by side, same run), `annotator stats` as a command,
and ingest of .txt files as a command.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from annotator.export import export_jsonl
from annotator.schemas import Document, Figure, Origin, Quote
from annotator.store import open_db

WORDS = (
    "government forces advanced rebels withdrew town province activists said statement observatory civilians "
    "displaced highway convoy bombardment ministry opposition fighters monitor reported offensive"
).split()
ORIGIN = Origin(engine="llm", model="bench-model", prompt="quotes@bench")
# The rows an export reads, as sqlite3's own JSON output would give them.
SQLITE_QUERY = (
    "SELECT p.id, p.document_id, p.kind, coalesce(c.start, p.start), coalesce(c.\"end\", p.\"end\"), "
    "coalesce(c.text, p.text), coalesce(s.status, 'proposed') AS status, coalesce(c.fields, p.fields), p.origin "
    "FROM proposals p JOIN documents doc ON doc.id = p.document_id "
    "LEFT JOIN item_state s ON s.item_id = p.id LEFT JOIN decisions c ON c.id = s.content_id "
    "ORDER BY doc.rowid, p.start"
)


def article(rng: random.Random, index: int) -> str:
    """A news-like article of about 300 words."""
    return f"Article {index}. " + " ".join(rng.choice(WORDS) for _ in range(300)) + "."


def build(path: Path, documents: int, decisions: int, rng: random.Random) -> None:
    per_document = max(1, decisions // documents)
    with open_db(path) as store:
        docs = [Document.from_text(article(rng, i), f"bench/{i}.txt", f"Article {i}") for i in range(documents)]
        store.add_documents(docs)
        actions = ["accept", "reject", "edit"]
        with store.transaction():
            for document in docs:
                words = document.text.split(" ")
                proposals = []
                offset = 0
                for i, word in enumerate(words[: per_document * 2]):
                    if i % 2 == 0 and len(proposals) < per_document:
                        if i % 4 == 0:
                            proposals.append(Quote(start=offset, end=offset + len(word), text=word,
                                                   speaker="Spokesperson", cue="said", origin=ORIGIN))
                        else:
                            proposals.append(Figure(start=offset, end=offset + len(word), text=word, value=i,
                                                    unit="people", qualifier="approximately", origin=ORIGIN))
                    offset += len(word) + 1
                ids = store.add_proposals(document.id, proposals)
                for item_id, proposal in zip(ids, proposals):
                    action = rng.choice(actions)
                    store.record_decision(item_id, action, "bench", proposal if action == "edit" else None)


def time_it(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--decisions", type=int, default=200_000)
    parser.add_argument("--ingest-files", type=int, default=2_000)
    args = parser.parse_args()
    rng = random.Random(7)
    work = Path(tempfile.mkdtemp(prefix="annotator-bench-"))
    annotator_cmd = [sys.executable, "-m", "annotator.cli"]
    try:
        db = work / "labels.db"
        took = time_it(lambda: build(db, args.documents, args.decisions, rng))
        print(f"built {args.documents:,} documents / {args.decisions:,} decisions in {took:.1f} s")

        with open_db(db) as store:
            ids = [row.id for row in store.annotations(statuses=["proposed", "accepted", "rejected"])][:2000]
            timings = []
            for item_id in ids[:1000]:
                start = time.perf_counter()
                store.record_decision(item_id, "accept", "bench")
                timings.append(time.perf_counter() - start)
        timings.sort()
        print(f"record one decision (synchronous=FULL): median {statistics.median(timings) * 1000:.3f} ms, "
              f"p95 {timings[int(len(timings) * 0.95)] * 1000:.3f} ms   (target: median <= 1 ms)")

        # Export and sqlite3 -json, alternated and repeated, best of each.
        ours, theirs = [], []
        for _ in range(3):
            with open_db(db) as store, (work / "out.jsonl").open("w", encoding="utf-8") as out:
                ours.append(time_it(lambda: export_jsonl(store, out, "all")))
            with (work / "sqlite.json").open("w") as out:
                theirs.append(time_it(lambda: subprocess.run(["sqlite3", str(db), "-json", SQLITE_QUERY],
                                                             stdout=out, check=True)))
        with open_db(db) as store:
            rows = sum(1 for _ in store.annotations())
        ratio = min(theirs) / min(ours)
        print(f"export {rows:,} annotations as JSONL: {min(ours):.2f} s; sqlite3 -json same rows: "
              f"{min(theirs):.2f} s; speed ratio {ratio:.2f}   (target: >= 0.33)")

        stats_times = [time_it(lambda: subprocess.run([*annotator_cmd, "stats", "--db", str(db)],
                                                      capture_output=True, check=True)) for _ in range(3)]
        with open_db(db) as store:
            core = min(time_it(store.stats) for _ in range(3))
        print(f"`annotator stats`: {min(stats_times):.2f} s as a command ({core:.2f} s in the store)   "
              f"(target: <= 0.5 s)")

        folder = work / "ingest"
        folder.mkdir()
        for i in range(args.ingest_files):
            (folder / f"{i:05d}.txt").write_text(article(rng, i + 10**6), encoding="utf-8")
        took = time_it(lambda: subprocess.run([*annotator_cmd, "ingest", str(folder), "--db", str(work / "i.db")],
                                              capture_output=True, check=True))
        print(f"ingest {args.ingest_files:,} .txt files as a command: {took:.2f} s, "
              f"{args.ingest_files / took:,.0f} documents/s   (target: >= 500/s)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
