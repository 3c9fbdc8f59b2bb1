"""Frame time of the review's new actions on an archive: accept the rest, flag, document note, next attention.

    python bench/review_keys.py [--documents 10000] [--presses 15]

The store is built as `bench/scale.py`'s is: `bench/scale_corpus.py` writes the contract file, nothing
reviewed, and `annotator import` stores it. Each action is timed as `bench/tui.py` times accept: from the
key reaching the app to the next frame written to the terminal (`frame_after_key`), the median of
`--presses` tries, each followed by keys (untimed) that put the store back as it was.

Not here yet: the scripted reviewer that counts keys per item over a written corpus with planted
engine errors (see the report of the issue "Review at the speed of reading").
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tui import frame_after_key  # noqa: E402

TARGET_MS = 100
"""Every interactive step under a second (DESIGN.md); a key that opens a box or decides should feel instant."""


def build(db: Path, documents: int) -> float:
    """A store of `documents` generated articles, none reviewed; returns the seconds it took."""
    started = time.perf_counter()
    corpus = db.with_suffix(".jsonl")
    subprocess.run([sys.executable, str(ROOT / "bench" / "scale_corpus.py"), str(corpus), "--documents",
                    str(documents), "--reviewed", "none"], check=True, capture_output=True)
    subprocess.run([str(Path(sys.executable).parent / "annotator"), "import", str(corpus), "--db", str(db)],
                   check=True, capture_output=True)
    return time.perf_counter() - started


async def frames(db: Path, presses: int) -> dict[str, list[float]]:
    """Seconds from key to frame for each new action, `presses` times each."""
    from annotator.tui.app import create_app

    app = create_app(db, None, "bench")
    written: list[float] = []
    display = app._display

    def timed_display(screen, renderable):  # every frame the app writes to the terminal
        if renderable is not None:
            written.append(time.perf_counter())
        display(screen, renderable)

    app._display = timed_display
    timed: dict[str, list[float]] = {name: [] for name in
                                     ("A (ask)", "A y (accept the rest)", "u (undo the batch)", "! (box)",
                                      "! enter (flag)", "N (box)", "g (next attention)")}

    async def key(name: str | None, pressed: str) -> None:
        latency = await frame_after_key(app, pressed, written)
        if name is not None and latency is not None:
            timed[name].append(latency)

    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        for _ in range(presses):
            await key("A (ask)", "A")
            await key("A y (accept the rest)", "y")
            await key("u (undo the batch)", "u")
            await key("! (box)", "exclamation_mark")
            await key("! enter (flag)", "enter")
            await key(None, "u")
            await key("N (box)", "N")
            await key(None, "escape")
            await key("g (next attention)", "g")
    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--presses", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "labels.db"
        seconds = build(db, args.documents)
        print(f"built and imported {args.documents:,} documents in {seconds:.0f} s")
        for name, latencies in asyncio.run(frames(db, args.presses)).items():
            median = statistics.median(latencies) * 1000 if latencies else float("nan")
            print(f"{name:<24} key to frame: median {median:6.1f} ms over {len(latencies)} presses   "
                  f"(target: <= {TARGET_MS} ms)")


if __name__ == "__main__":
    main()
