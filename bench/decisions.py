"""What reading a decision back costs: the review queue's accept and edit beside the bare store write.

    python bench/decisions.py [--documents 2000] [--proposals 500] [--repeats 5]

The review queue reads every item back from the store after recording its decision, so that the
card shows exactly the label the store derived. This prints, side by side in one run, the median
time (and spread over repeats) of:
- `Store.record_decision` alone (one accept, committed with FULL sync): the floor;
- `ReviewQueue.accept` (the same write, then the item read back) on a document with `--proposals`
  items, in a store of `--documents` documents;
- `ReviewQueue.edit` (validation against the rules for reviewed values, the write, the read-back).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from annotator.review import ReviewQueue, annotation_of  # noqa: E402
from annotator.schemas import Document, Origin, Quote  # noqa: E402
from annotator.store import open_db  # noqa: E402

ORIGIN = Origin(engine="rules", prompt="rules@bench")
SENTENCE = "“We will stay here,” the mayor said on Monday. "


def build(path: Path, documents: int, proposals: int) -> list[str]:
    """A store of `documents` documents with `proposals` quotes each; returns the document ids."""
    ids = []
    with open_db(path) as store:
        texts = [f"Report {n}. " + SENTENCE * proposals for n in range(documents)]
        docs = [Document.from_text(text, f"r{n}.txt") for n, text in enumerate(texts)]
        store.add_documents(docs)
        with store.machine_writes():
            for document in docs:
                offset = document.text.index("We will")
                quotes = [Quote(start=offset + i * len(SENTENCE), end=offset + i * len(SENTENCE) + 17,
                                text="We will stay here", speaker="the mayor", cue="said", origin=ORIGIN)
                          for i in range(proposals)]
                store.add_proposals(document.id, quotes)
                ids.append(document.id)
    return ids


def timed(action, count: int) -> list[float]:
    """Milliseconds of each of `count` calls."""
    times = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--proposals", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--count", type=int, default=100, help="decisions timed per repeat and kind")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "labels.db"
        ids = build(path, options.documents, options.proposals)
        medians: dict[str, list[float]] = {"record_decision": [], "queue.accept": [], "queue.edit": []}
        with open_db(path) as store:
            queue = ReviewQueue(store, ids, "bench")
            for repeat in range(options.repeats):
                queue.open(repeat * 3)
                items = iter(queue.all_items)
                medians["record_decision"].append(statistics.median(
                    timed(lambda: store.record_decision(next(items).id, "accept", "bench"), options.count)))
                queue.open(repeat * 3 + 1)
                medians["queue.accept"].append(statistics.median(timed(queue.accept, options.count)))
                queue.open(repeat * 3 + 2)

                def edit() -> None:
                    queue.edit(annotation_of(queue.current).model_copy(update={"cue": "told"}))
                    queue.move(1)

                medians["queue.edit"].append(statistics.median(timed(edit, options.count)))
    floor = statistics.median(medians["record_decision"])
    print(f"{options.documents} documents x {options.proposals} proposals; median of {options.repeats} repeats "
          f"of {options.count} decisions each (ms)")
    for name, values in medians.items():
        middle = statistics.median(values)
        print(f"  {name:16} median {middle:6.3f}  spread {min(values):.3f}-{max(values):.3f}  "
              f"x{middle / floor:.2f} of record_decision")


if __name__ == "__main__":
    main()
