"""Benchmark the proposal engines and print the figures the Proposal engines issue names.

    python bench/propose.py

- rules: MB of news text per second on one core;
- llm against the scripted server (in its own process) with a fixed 200 ms latency: 100 documents
  at concurrency 16, against the ideal 100 / 16 x 200 ms;
- llm per-document overhead over a bare openai client call to the same server (no latency),
  measured side by side, alternating;
- cache: HTTP requests a second identical run makes, counted at the server;
- local: tokens/s against llama-cpp-python called directly (bench/propose_local.py), when installed.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import openai  # noqa: E402
from scripted_server import ScriptedServer, reply_for, request_text  # noqa: E402

from annotator.propose import RulesProposer, propose_documents  # noqa: E402
from annotator.propose.llm import LLMEngine  # noqa: E402
from annotator.schemas import Document  # noqa: E402
from annotator.store import open_db  # noqa: E402

SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
QUOTE = "The Turkish convoy is still stuck north of Khan Sheikhoun"


def _answer(request: dict):
    found = QUOTE in request_text(request, role="user")
    return reply_for(request, {"items": [{"text": QUOTE, "speaker": "Suleiman Abdulqader", "cue": "said",
                                          "quote_type": "direct"}] if found else []})


def _serve(latency: float, port_queue, stop_event, count_queue) -> None:
    with ScriptedServer(_answer, latency=latency) as server:
        port_queue.put(server.base_url)
        stop_event.wait()
        count_queue.put(server.request_count)


class ServerProcess:
    """The scripted server in its own process, so it does not share the benchmark's GIL."""

    def __init__(self, latency: float) -> None:
        context = multiprocessing.get_context("spawn")
        self.urls, self.counts, self.stop = context.Queue(), context.Queue(), context.Event()
        self.process = context.Process(target=_serve, args=(latency, self.urls, self.stop, self.counts))

    def __enter__(self) -> str:
        self.process.start()
        return self.urls.get(timeout=30)

    def requests(self) -> int:
        """Stop the server and return how many requests it answered."""
        self.stop.set()
        count = self.counts.get(timeout=30)
        self.process.join(timeout=30)
        return count

    def __exit__(self, *exc: object) -> None:
        if self.process.is_alive():
            self.stop.set()
            self.process.join(timeout=30)


def documents(count: int) -> list[Document]:
    texts = [path.read_text(encoding="utf-8") for path in SEEDS]
    return [Document.from_text(f"Report {i}.\n\n{texts[i % len(texts)]}", f"bench/{i}.txt") for i in range(count)]


def bench_rules() -> None:
    """The rules engine through the common interface, over the varied corpus of bench/propose_rules.py."""
    sys.path.insert(0, str(ROOT / "bench"))
    from propose_rules import corpus

    engine = RulesProposer()
    docs = [Document.from_text(text, f"bench/{i}.txt") for i, text in enumerate(corpus(2.0))]
    size = sum(len(d.text.encode("utf-8")) for d in docs)

    async def all_documents() -> None:
        for document in docs:
            await engine.propose(document)

    best = min(_time(lambda: asyncio.run(all_documents())) for _ in range(3))
    print(f"rules: {size / best / 1e6:.2f} MB/s of news text on one core ({size / 1e6:.1f} MB, best of 3)   "
          f"(target: >= 2 MB/s)")


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _engine(url: str, concurrency: int) -> LLMEngine:
    return LLMEngine("bench-model", base_url=url, api_key="bench", kinds=["quote"], concurrency=concurrency)


async def _bare_concurrent(url: str, docs: list[Document], prompt: str, concurrency: int) -> None:
    """The same requests through a bare AsyncOpenAI client, `concurrency` at a time: the client's own floor."""
    client = openai.AsyncOpenAI(base_url=url, api_key="bench", max_retries=0)
    slots = asyncio.Semaphore(concurrency)

    async def one(document: Document) -> None:
        async with slots:
            await client.chat.completions.create(
                model="bench-model", temperature=0.0,
                messages=[{"role": "system", "content": prompt}, {"role": "user", "content": document.text}],
            )

    await asyncio.gather(*(one(d) for d in docs))
    await client.close()


def bench_llm_concurrency(work: Path) -> None:
    ideal = 100 / 16 * 0.2
    with ServerProcess(latency=0.2) as url:
        prompt = _engine(url, 16).prompts["quote"].text
        for _ in range(2):  # the first warms the client up
            took = _time(lambda: asyncio.run(_bare_concurrent(url, documents(100), prompt, 16)))
        print(f"bare AsyncOpenAI client, same 100 requests at concurrency 16: {took:.2f} s; {took / ideal:.2f}x "
              f"(seven rounds of 200 ms are 1.12x)")
        for label, offset in (("first run in a fresh process", 0), ("next run", 100)):
            docs = documents(200)[offset : offset + 100]
            with open_db(work / f"c{offset}.db") as store:
                store.add_documents(docs)
                took = _time(lambda: asyncio.run(propose_documents(store, docs, _engine(url, 16))))
            print(f"llm: 100 documents at concurrency 16, 200 ms latency ({label}): {took:.2f} s; "
                  f"ideal {ideal:.2f} s; {took / ideal:.2f}x   (target: <= 1.15x)")


def bench_llm_cache(work: Path) -> None:
    docs = documents(50)
    server = ServerProcess(latency=0.0)
    with server as url, open_db(work / "cache.db") as store:
        store.add_documents(docs)
        asyncio.run(propose_documents(store, docs, _engine(url, 8)))
        asyncio.run(propose_documents(store, docs, _engine(url, 8)))
        total = server.requests()
    print(f"cache: first run {len(docs)} requests, second identical run {total - len(docs)} requests   (target: 0)")


def bench_llm_overhead(work: Path) -> None:
    docs = documents(150)
    with ServerProcess(latency=0.0) as url:
        client = openai.OpenAI(base_url=url, api_key="bench", max_retries=0)
        engine_times, bare_times = [], []
        for round_number in range(3):
            batch = docs[round_number * 50 : (round_number + 1) * 50]
            with open_db(work / f"o{round_number}.db") as store:
                store.add_documents(batch)
                engine = _engine(url, 1)
                took = _time(lambda: asyncio.run(propose_documents(store, batch, engine)))
                engine_times.append(took / len(batch))
            prompt = engine.prompts["quote"].text

            def bare() -> None:
                for document in batch:
                    client.chat.completions.create(
                        model="bench-model", temperature=0.0,
                        messages=[{"role": "system", "content": prompt}, {"role": "user", "content": document.text}],
                    )

            bare_times.append(_time(bare) / len(batch))
    ours, theirs = statistics.median(engine_times), statistics.median(bare_times)
    print(f"llm: {ours * 1000:.2f} ms per document through the engine (request, validation, grounding, store) vs "
          f"{theirs * 1000:.2f} ms for a bare openai call: overhead {(ours - theirs) * 1000:.2f} ms   (target: <= 5 ms)")


def main() -> None:
    bench_rules()
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        bench_llm_concurrency(work)
        bench_llm_cache(work)
        bench_llm_overhead(work)
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        print("local: skipped (llama-cpp-python not installed: pip install -e '.[local]')")
        return
    local = ROOT / "bench" / "propose_local.py"
    if local.exists():
        import runpy

        runpy.run_path(str(local), run_name="__main__")


if __name__ == "__main__":
    main()
