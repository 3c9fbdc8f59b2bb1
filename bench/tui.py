"""Benchmark the review UI at scale and print the figures the review UI issue names.

    python bench/tui.py [--documents 10000] [--proposals 200000]

With a store of N documents and M proposals:
- start to the first document shown: a fresh process runs `annotator review --db STORE` (every
  document in the store), headless, until the first document is drawn;
- accept keypress to the next item rendered: from the key event entering the app to the next frame
  written to the terminal (the app's display hook), one key at a time on a settled screen;
- opening a 20,000-word document with 500 proposals: `open` plus drawing the screen;
- resident memory of the app process with the large store open.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from annotator.schemas import Document, Figure, Origin, Quote  # noqa: E402
from annotator.store import open_db  # noqa: E402

ORIGIN = Origin(engine="rules", prompt="rules@bench")
SEEDS = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "seeds").glob("*.txt"))]


def article(rng: random.Random, words: int) -> str:
    """News-like text of about `words` words, paragraphs from the seed articles."""
    paragraphs = [p for text in SEEDS for p in text.split("\n\n") if len(p) > 80]
    out, count = [], 0
    while count < words:
        paragraph = rng.choice(paragraphs)
        out.append(paragraph)
        count += len(paragraph.split())
    return "\n\n".join(out)


def proposals_for(text: str, count: int) -> list:
    """`count` proposals spread over the text, on word boundaries."""
    starts = [i + 1 for i, ch in enumerate(text) if ch == " "][:: max(1, len(text.split()) // count)][:count]
    items = []
    for n, start in enumerate(starts):
        end = text.find(" ", start)
        end = end if end > start else min(len(text), start + 3)
        if n % 2:
            items.append(Quote(start=start, end=end, text=text[start:end], speaker="Spokesperson", origin=ORIGIN))
        else:
            items.append(Figure(start=start, end=end, text=text[start:end], value=n, origin=ORIGIN))
    return items


def build(path: Path, documents: int, proposals: int) -> tuple[list[str], str]:
    rng = random.Random(3)
    per = proposals // documents
    with open_db(path) as store:
        docs = [Document.from_text(f"Report {i}.\n\n" + article(rng, 250), f"bench/{i}.txt", f"Report {i}")
                for i in range(documents)]
        big = Document.from_text(article(rng, 20_000), "bench/big.txt", "A 20,000-word article")
        store.add_documents([*docs, big])
        with store.transaction():
            for document in docs:
                store.add_proposals(document.id, proposals_for(document.text, per))
            store.add_proposals(big.id, proposals_for(big.text, 500))
    return [d.id for d in docs], big.id


CHILD = """
import sys, time
t0 = time.perf_counter()
from annotator.tui.app import ReviewApp
async def shown(pilot):
    await pilot.pause()
    print(f"ready {time.perf_counter() - t0:.3f}")
    with open("/proc/self/status") as status:
        rss = [l for l in status if l.startswith("VmRSS")][0].split()[1]
    print(f"rss {int(rss) / 1024:.0f}")
    pilot.app.exit()
run = ReviewApp.run
ReviewApp.run = lambda self: run(self, headless=True, size=(120, 36), auto_pilot=shown)
from annotator.cli import app
app(["review", "--db", sys.argv[1], "--annotator", "bench"], standalone_mode=False)
"""


def start_to_first_document(db: Path) -> tuple[float, float, float]:
    times, ready, rss = [], [], []
    for _ in range(3):
        started = time.perf_counter()
        result = subprocess.run([sys.executable, "-c", CHILD, str(db)], capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - started)
        lines = dict(line.split() for line in result.stdout.splitlines() if line.split()[0] in ("ready", "rss"))
        ready.append(float(lines["ready"]))
        rss.append(float(lines["rss"]))
    return min(times), min(ready), max(rss)


def recorded_frames(app) -> list[float]:
    """The times of the frames `app` writes to the terminal from now on (a list that fills as it runs)."""
    frames: list[float] = []
    display = app._display

    def timed_display(screen, renderable):  # every frame the app writes to the terminal
        if renderable is not None:
            frames.append(time.perf_counter())
        display(screen, renderable)

    app._display = timed_display
    return frames


async def frame_after_key(app, key: str, frames: list[float]) -> float | None:
    """Seconds from a key reaching the app to the next frame written to the terminal, or None if none was."""
    from textual import events

    seen = len(frames)
    started = time.perf_counter()
    event = events.Key(key, key)
    event.set_sender(app)
    app._driver.send_message(event)
    while time.perf_counter() - started < 1.0:
        await asyncio.sleep(0.0005)
        if len(frames) > seen:
            break
    await asyncio.sleep(0.05)  # let the screen settle before the next key
    return frames[seen] - started if len(frames) > seen else None


async def key_latency(db: Path, ids: list[str], big: str, presses: int) -> tuple[list[float], int, float]:
    from annotator.tui.app import create_app
    from annotator.tui.screens.review import ReviewScreen

    app = create_app(db, ids[:200], "bench")
    frames = recorded_frames(app)
    accept, missing = [], 0
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        for _ in range(presses):
            latency = await frame_after_key(app, "a", frames)
            if latency is None:
                missing += 1
            else:
                accept.append(latency)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        queue = app.queue
        queue.document_ids.append(big)
        opened = []
        for _ in range(5):
            started = time.perf_counter()
            queue.open(len(queue.document_ids) - 1)
            screen.show_document()
            await pilot.pause()
            opened.append(time.perf_counter() - started)
            queue.open(0)
            screen.show_document()
            await pilot.pause()
    return accept, missing, min(opened)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--proposals", type=int, default=200_000)
    parser.add_argument("--presses", type=int, default=150)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "labels.db"
        started = time.perf_counter()
        ids, big = build(db, args.documents, args.proposals)
        print(f"built {args.documents:,} documents / {args.proposals:,} proposals in {time.perf_counter() - started:.1f} s")
        wall, ready, rss = start_to_first_document(db)
        print(f"start to first document shown: {ready:.2f} s in the process ({wall:.2f} s wall, exit included)   "
              f"(target: <= 1 s)")
        print(f"resident memory: {rss:.0f} MB   (target: <= 250 MB)")
        accept, missing, opened = asyncio.run(key_latency(db, ids, big, args.presses))
        accept.sort()
        p95 = accept[int(len(accept) * 0.95)]
        print(f"accept to next item rendered: median {statistics.median(accept) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms "
              f"over {len(accept)} presses, key in to frame out ({missing} presses drew no frame)   "
              f"(target: median <= 16 ms, p95 <= 33 ms)")
        print(f"open a 20,000-word document with 500 proposals: {opened * 1000:.0f} ms   (target: <= 200 ms)")


if __name__ == "__main__":
    main()
