"""Benchmark the `rules` engine: megabytes of news text proposed per second on one core.

    python bench/propose_rules.py [--megabytes 4] [--repeat 3]

The corpus is made from the seed articles: each copy swaps in other names, places and numbers
(deterministically), so the engine sees varied text of the seeds' shape rather than one article
it could cache. Two throughputs are printed, best of `--repeat` runs: articles one at a time (how
`annotator propose` uses it) and the same text as a handful of very long documents (to show the
engine stays linear in document length). Each is given by the wall clock and per second of the
process's CPU time; on a shared machine the second is the steadier measure of one core.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from annotator.propose.rules import RulesEngine

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
# Each seed name is swapped for one of these, so copies differ in length and content.
SWAPS = {
    "Suleiman Abdulqader": ["Omar Haddad", "Rami Abdel Rahman", "Layla Mansour", "Yusuf Karim"],
    "Ahmed Sheikho": ["Fatima Ali", "Khaled Issa", "Mahmoud Darwish", "Samir Nasser"],
    "Sheikho": ["Ali", "Issa", "Darwish", "Nasser"],
    "Khan Sheikhoun": ["Maarat al-Numan", "Saraqeb", "Kafr Nabl", "Ariha"],
    "Khan Shaikhoun": ["Jisr al-Shughour", "Latamneh", "Morek", "Kafr Zita"],
    "Idlib": ["Hama", "Aleppo", "Latakia", "Raqqa"],
    "Turkish": ["Russian", "Iranian", "Jordanian", "Iraqi"],
}


def corpus(megabytes: float, seed: int = 7) -> list[str]:
    """Articles made from the seeds until the corpus holds `megabytes` of UTF-8 text."""
    rng = random.Random(seed)
    originals = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
    articles: list[str] = []
    size = 0
    while size < megabytes * 1_000_000:
        text = rng.choice(originals)
        for name, others in SWAPS.items():
            text = text.replace(name, rng.choice(others))
        # Vary the numbers too, keeping their shape (2,000 stays a four-digit figure with a comma).
        text = "".join(str(rng.randint(1, 9)) if ch.isdigit() and rng.random() < 0.5 else ch for ch in text)
        paragraphs = text.split("\n\n")
        head, body = paragraphs[:3], paragraphs[3:]
        rng.shuffle(body)
        article = "\n\n".join(head + body)
        articles.append(article)
        size += len(article.encode("utf-8"))
    return articles


def megabytes_per_second(documents: list[str], repeat: int) -> tuple[float, float]:
    """Best-of-`repeat` throughput of proposing every document once: by the wall clock, and per
    second of this process's own CPU time (which other programs on a shared machine do not eat)."""
    engine = RulesEngine()
    total = sum(len(doc.encode("utf-8")) for doc in documents) / 1_000_000
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        for doc in documents:
            engine.propose(doc)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return total / best_wall, total / best_cpu


def main() -> None:
    """Build the corpus, time both shapes and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--megabytes", type=float, default=4.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    articles = corpus(args.megabytes)
    total = sum(len(a.encode("utf-8")) for a in articles) / 1_000_000
    engine = RulesEngine()
    proposals = sum(len(engine.propose(a)) for a in articles)
    print(f"corpus: {len(articles)} articles, {total:.2f} MB, {proposals} proposals")
    wall, cpu = megabytes_per_second(articles, args.repeat)
    print(f"articles one at a time: {wall:.2f} MB/s wall, {cpu:.2f} MB/s of CPU time")
    # The same text as four long documents: a quadratic scan would show here.
    per_document = max(1, len(articles) // 4)
    long_documents = ["\n\n".join(articles[i : i + per_document]) for i in range(0, len(articles), per_document)]
    wall, cpu = megabytes_per_second(long_documents, args.repeat)
    print(f"{len(long_documents)} long documents:     {wall:.2f} MB/s wall, {cpu:.2f} MB/s of CPU time")


if __name__ == "__main__":
    main()
