"""A generated archive in the contract format, for the scale benchmarks.

    python bench/scale_corpus.py OUT.jsonl --documents 100000 [--reviewed half|all|none]

Each document is a news-like article of about 2,800 characters with 20 annotations (quotes with
their speakers, figures, stances) whose spans are right by construction. `--reviewed half` marks
the first half of the documents fully reviewed (accepted, some edited or rejected, one added item
in some) and leaves the rest proposed; `all` reviews every document; `none` reviews nothing.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from annotator.canonical import document_id  # noqa: E402

FIRST = "Ana Boris Chen Dara Emil Farah Goran Hana Ivo Jana Karim Lena Marek Nadia Omar Petra Rui Sara Tomas Uma".split()
LAST = ("Novak Okafor Lindqvist Haddad Moreau Tanaka Silva Kowalski Brennan Mensah Ivanova Castillo Weber Rossi "
        "Nakamura Dubois Hassan Petrov Alvarez Jansen Murphy Costa Schmidt Yilmaz Kim").split()
PLACES = "Lyon Kumasi Tartu Oaxaca Gdansk Mombasa Cork Tromso Braga Izmir Sendai Malmo Pecs Arequipa Nis".split()
ROLES = ["the mayor", "a spokeswoman for the ministry", "the regional director", "a union leader",
         "the hospital's chief executive", "an economist at the central bank", "the police commissioner"]
TOPICS = ["the new tram line", "the water tariff", "the port expansion", "the wage agreement", "the flood barrier",
          "the school closures", "the budget cut", "the stadium project", "the curfew", "the vaccine rollout"]
SAYINGS = [
    "We will not accept a plan that leaves {place} behind",
    "The numbers speak for themselves and the council knows it",
    "Nobody here was consulted before the decision was taken",
    "This is the largest investment the region has seen in a generation",
    "We need more time to study what {topic} will cost",
    "Families cannot wait another winter for an answer",
    "The figures we were given last year were simply wrong",
    "I am confident that {topic} will be finished on schedule",
]
BACKGROUND = [
    "The council met behind closed doors for most of the afternoon, and a vote is expected before the end of the month.",
    "Opposition groups have promised to challenge the decision in court if it goes ahead without a public inquiry.",
    "Residents who spoke to reporters outside the town hall said they had learned of the plan from the local radio.",
    "The project was first announced three years ago and has been delayed twice by disputes over its funding.",
    "Shops along the main road closed early as the protest moved towards the river, where police had set up barriers.",
]
UNITS = ["people", "jobs", "homes", "euros", "tonnes", "kilometres", "patients", "students"]
ORIGIN = {"engine": "rules", "model": None, "prompt": "rules@scale"}


class Article:
    """Text built piece by piece, remembering where each annotation's span lies."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.items: list[dict] = []

    def add(self, text: str) -> tuple[int, int]:
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        return start, self.length

    def item(self, kind: str, span: tuple[int, int], text: str, **fields) -> None:
        self.items.append({"kind": kind, "start": span[0], "end": span[1], "text": text, **fields})

    @property
    def text(self) -> str:
        return "".join(self.parts)


def article(rng: random.Random, index: int) -> tuple[str, str, list[dict]]:
    """(title, text, annotations) of one generated article."""
    place, topic = rng.choice(PLACES), rng.choice(TOPICS)
    people = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(4)]
    out = Article()
    title = f"{place}: {topic} ({index})"
    out.add(f"{title.upper()}\n\n{place.upper()} - Officials in {place} on Tuesday defended {topic}, "
            f"after weeks of protests that drew crowds to the old town square.\n\n")
    while len(out.items) < 20:
        person = rng.choice(people)
        role = rng.choice(ROLES)
        saying = rng.choice(SAYINGS).format(place=place, topic=topic)
        out.add('"')
        span = out.add(saying)
        out.add(f'," said {person}, {role}. ')
        out.item("quote", span, saying, speaker=person, quote_type="direct")
        count = rng.randrange(2, 90_000)
        unit = rng.choice(UNITS)
        written = f"{count:,} {unit}"
        out.add("Figures released on Monday put the total at ")
        span = out.add(written)
        out.add(f", up from last year, according to the office in {place}. ")
        out.item("figure", span, written, value=count, unit=unit, qualifier="exact")
        if len(out.items) < 20 and rng.random() < 0.5:
            holder = rng.choice(people)
            sentence = f"{holder} has said repeatedly that {topic} should be stopped"
            span = out.add(sentence)
            out.add(". ")
            out.item("stance", span, sentence, holder=holder, target=topic, polarity="against")
        if rng.random() < 0.45:
            out.add(rng.choice(BACKGROUND) + " ")
        out.add("\n\n" if rng.random() < 0.3 else "")
    return title, out.text.rstrip() + "\n", out.items[:20]


def lines(documents: int, reviewed: str, seed: int = 7) -> Iterator[str]:
    """The contract JSONL lines of the archive."""
    rng = random.Random(seed)
    for index in range(documents):
        title, text, items = article(rng, index)
        done = reviewed == "all" or (reviewed == "half" and index < documents // 2)
        annotations = []
        for n, item in enumerate(items):
            status = "proposed"
            if done:
                status = "rejected" if n % 11 == 3 else "edited" if n % 13 == 5 else "accepted"
            annotations.append({**item, "status": status, "origin": ORIGIN})
        if done and index % 3 == 0:
            first = items[0]
            annotations.append({**first, "kind": "stance", "holder": first["speaker"], "target": "the plan",
                                "polarity": "favor", "status": "added",
                                "origin": {"engine": "manual", "model": None, "prompt": None}})
            for key in ("speaker", "quote_type"):
                annotations[-1].pop(key)
        yield json.dumps({"doc_id": document_id(text), "source": f"archive/{index:06d}.txt", "title": title,
                          "text": text, "annotations": annotations}, ensure_ascii=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--reviewed", choices=["half", "all", "none"], default="half")
    args = parser.parse_args()
    with args.out.open("w", encoding="utf-8") as out:
        for line in lines(args.documents, args.reviewed):
            out.write(line + "\n")


if __name__ == "__main__":
    main()
