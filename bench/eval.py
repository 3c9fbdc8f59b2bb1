"""Benchmark `annotator eval` over 1,000 gold documents with a warm response cache.

    python bench/eval.py [--documents 1000]

Builds a store of N documents (the seed articles, varied), proposes with `rules` and accepts
every proposal as gold, then warms the response cache with one `llm` eval against the scripted
server (which answers, for each kind, what the rules engine finds in the text). It prints:

- the warm eval as a command (`annotator eval --engine llm …`: start-up, gold, cache, scoring,
  storing every example), beside `annotator stats` on the same store, the start-up floor;
- the warm eval in-process, split into reading the gold, answering from the cache and scoring;
- the HTTP requests the warm runs made (0 expected).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from scripted_server import ScriptedServer, reply_for, request_text  # noqa: E402

from annotator import evaluate  # noqa: E402
from annotator.contract import Item  # noqa: E402
from annotator.propose import RulesProposer, answer_documents, propose_documents  # noqa: E402
from annotator.propose.llm import LLMEngine  # noqa: E402
from annotator.propose.rules import RulesEngine  # noqa: E402
from annotator.schemas import Document, draft_models  # noqa: E402
from annotator.store import open_db  # noqa: E402

SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
RULES = RulesEngine()
KINDS = {"QUOTATION": "quote", "FIGURE": "figure", "STANCE": "stance"}


def answer(request: dict):
    """What the rules engine finds in the text, as the kind's answer model."""
    system = request_text(request, role="system")
    kind = next(kind for word, kind in KINDS.items() if word in system)
    item_model = draft_models(kind)[0]
    found = [a for a in RULES.propose(request_text(request, role="user")) if a.kind == kind]
    items = [item_model.model_validate({"text": a.text, **a.fields()}).model_dump(mode="json") for a in found]
    return reply_for(request, {"items": items})


def documents(count: int) -> list[Document]:
    texts = [path.read_text(encoding="utf-8") for path in SEEDS]
    return [Document.from_text(f"Report {i}.\n\n{texts[i % len(texts)]}", f"bench/{i}.txt") for i in range(count)]


def build(db: Path, count: int) -> None:
    """Documents with rules proposals, every one accepted as gold."""
    docs = documents(count)
    with open_db(db) as store:
        store.add_documents(docs)
        asyncio.run(propose_documents(store, docs, RulesProposer()))
        with store.transaction():
            for item in list(store.annotations()):
                store.record_decision(item.id, "accept", "bench")


def command(*args: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "annotator.cli", *args], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder, ScriptedServer(answer) as server:
        db = Path(folder) / "labels.db"
        started = time.perf_counter()
        build(db, options.documents)
        print(f"store: {options.documents} documents, every proposal accepted ({time.perf_counter() - started:.1f} s)")

        def engine() -> LLMEngine:
            return LLMEngine("scripted", base_url=server.base_url, api_key="no-key", concurrency=16)

        with open_db(db) as store:
            golds, _ = evaluate.gold_from_store(store)
            started = time.perf_counter()
            cold = evaluate.evaluate_engine(engine(), golds, store)
            print(f"cold eval (fills the cache): {time.perf_counter() - started:.2f} s, "
                  f"{server.request_count} requests, all.f1 {cold.metrics['all.f1']:.3f}")
        asked = server.request_count

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        eval_args = ["eval", "--engine", "llm", "--base-url", server.base_url, "--model", "scripted", "--db", str(db)]
        warm, floor = [], []
        for _ in range(options.rounds):  # alternating, so both see the same machine
            warm.append(command(*eval_args, env=env))
            floor.append(command("stats", "--db", str(db), env=env))
        print(f"warm eval, command: median {statistics.median(warm):.2f} s over {options.rounds} runs "
              f"(target <= 2 s); annotator stats on the same store: {statistics.median(floor):.2f} s")

        with open_db(db) as store:
            started = time.perf_counter()
            golds, _ = evaluate.gold_from_store(store)
            read = time.perf_counter() - started
            llm = engine()
            started = time.perf_counter()
            results = asyncio.run(answer_documents(llm, [g.document for g in golds], store))
            cached = time.perf_counter() - started
            predictions = {i: [Item.of(p.annotation) for p in r.proposals] for i, r in results.items()}
            started = time.perf_counter()
            scored = evaluate.score(golds, predictions)
            scoring = time.perf_counter() - started
            started = time.perf_counter()
            report = evaluate.evaluate_engine(engine(), golds, store)
            evaluate.store_report(store, report)
            whole = time.perf_counter() - started
        print(f"warm eval, in-process: {whole:.2f} s in all, of which gold {read:.2f} s, cache {cached:.2f} s, "
              f"scoring {scoring:.2f} s ({len(scored.examples):,} examples)")
        print(f"requests made by the warm runs: {server.request_count - asked}")


if __name__ == "__main__":
    main()
