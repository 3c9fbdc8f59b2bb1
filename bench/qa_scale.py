"""Benchmark `annotator qa` against the size of the store: it must be linear in documents.

    python bench/qa_scale.py [--sizes 1000 2000 4000 10000] [--repeats 3] [--reference] [--huge]

Builds one store per size through `annotator import` of a generated contract JSONL file: news-like
articles grouped into events (one to eight reports of the same event, whose figures sometimes
disagree), each with quotes, figures and a stance, mostly reviewed, some errors planted; many
distinct names, a few in about a third of the articles (agencies, capitals, "Front") and a long
tail of background names.
Then, for each size, each measurement in its own process (medians over `--repeats`):

- `qa`: `check_documents(documents_from_store(store))`, the whole of `annotator qa` but the printing,
  in seconds of wall time and of CPU time (which other work on a shared machine disturbs less);
- `checks`: the same stream through the per-document checks alone (`check_document`), so that
  `qa - checks` is what the comparison across documents costs per document (target: <= 1 ms);
  both per document in CPU time;
- the peak resident memory of the process (`ru_maxrss`) and what it held before qa began.

`--reference` measures the implementation before qa streamed (`tests/qa_reference.py`) beside it,
and checks that both give the same report; it is quadratic, so it is skipped above
`REFERENCE_LIMIT` documents. `--huge` adds 100,000 documents (minutes to build).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_LIMIT = 4_000
"""Largest store the quadratic reference is measured on (it takes 1.4 GB there, and its memory grows as
the square of the documents)."""

SYLLABLES = (
    "ka ri ma sa le bo da mi ro tu ve ne shi ha lo qu za fe li ge an or es ut ib na ko ta ya mo "
    "su de ba ru hi pa te ju wa no gu al em ki sor ven dal mar tin bel vak hom rus"
).split()
COMMON_NAMES = ("Washington", "Moscow", "Brussels", "Geneva", "Europe")
"""Names that about a third of the articles carry: no signal for which event an article reports."""
AGENCIES = ("Reuters", "AP", "AFP")
GROUPS = ("Front", "Brigade", "Army", "Movement", "Council", "Alliance", "Guard", "Union")
FILLER = (
    "the fighting continued through the night while residents sheltered in basements and aid workers waited "
    "for access to the area where the roads remained closed and the markets stayed shut as prices rose "
    "sharply and families sought shelter with relatives in nearby villages according to local accounts"
).split()
SUBJECTS = {
    "fled": ("people forced to flee", "people forced to leave their homes", "people who fled"),
    "killed": ("people killed", "civilians killed", "people killed in the fighting"),
    "injured": ("people injured", "people wounded", "people injured in the strikes"),
    "aid": ("people in need of aid", "people needing humanitarian aid", "people in need of assistance"),
}
SENTENCES = {
    "fled": "{figure} have been forced to leave their homes since the offensive began{by}.",
    "killed": "At least {figure} have been killed in the fighting{by}.",
    "injured": "More than {figure} were injured in the strikes{by}.",
    "aid": "Some {figure} are in need of humanitarian aid{by}.",
}
QUOTES = (
    "We cannot move, the roads are closed", "The shelling has not stopped for three days",
    "We need a ceasefire now", "Our forces will restore order", "There is no food left in the town",
    "The talks have failed", "We will not leave our homes",
)


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables)).capitalize()


def _person(rng: random.Random) -> str:
    """A first name (a few thousand, so common ones recur across stories) and a surname (a rare one)."""
    return f"{_word(rng, 2)} {_word(rng, 3)}"


def _size(rng: random.Random) -> int:
    """How many reports an event gets: many singles, some pairs, a few large stories."""
    return rng.choices((1, 2, 3, 4, 5, 6, 8), weights=(35, 25, 15, 10, 7, 5, 3))[0]


class _Article:
    """An article being written: its text so far and its annotations, with their offsets."""

    def __init__(self) -> None:
        self.text = ""
        self.annotations: list[dict[str, Any]] = []

    def write(self, words: str) -> int:
        """Append words (with a space before them) and say where they start."""
        if self.text:
            self.text += " "
        start = len(self.text)
        self.text += words
        return start

    def annotate(self, start: int, words: str, kind: str, **fields: Any) -> None:
        self.annotations.append({"kind": kind, "start": start, "end": start + len(words), "text": words, **fields,
                                 "origin": {"engine": "bench", "model": None, "prompt": None}})


def news_archive(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`count` contract records (dicts) of news-like articles about events, in event order."""
    rng = random.Random(seed)
    background = [_word(rng, 3) for _ in range(20_000)]
    weights = [1 / (rank + 1) ** 0.9 for rank in range(len(background))]  # Zipf: a few frequent, a long tail
    reporters = [_person(rng) for _ in range(200)]
    written = 0
    event = 0
    while written < count:
        event += 1
        story = _Story(
            people=[_person(rng) for _ in range(6)], places=[_word(rng, 3) for _ in range(10)],
            groups=[f"{_word(rng, 3)} {rng.choice(GROUPS)}", f"{_word(rng, 2)} {rng.choice(GROUPS)}"],
            values={key: rng.choice((12, 40, 230, 1_500, 20_000, 400_000)) * rng.randint(1, 9) for key in SUBJECTS},
        )
        for report in range(min(_size(rng), count - written)):
            names = (rng.choices(background, weights=weights, k=rng.randint(4, 10)), rng.choice(reporters))
            yield _report(rng, f"bench/event{event:06d}-{report}.txt", story, *names)
            written += 1


class _Story:
    """What the reports of one event share: who, where, and the true counts."""

    def __init__(self, people: list[str], places: list[str], groups: list[str], values: dict[str, int]) -> None:
        self.people, self.places, self.groups, self.values = people, places, groups, values


def _filler(rng: random.Random) -> str:
    return " ".join(rng.choices(FILLER, k=rng.randint(15, 40))).capitalize() + "."


def _report(rng: random.Random, source: str, story: _Story, extra: list[str], reporter: str) -> dict[str, Any]:
    """One article about `story`: most of its names, some background ones, quotes, figures, a stance."""
    article = _Article()
    agency = rng.choice(AGENCIES)
    people = rng.sample(story.people, 4)
    places = rng.sample(story.places, 8)
    group, other = story.groups if rng.random() < 0.8 else story.groups[::-1]
    common = rng.sample(COMMON_NAMES, rng.randint(1, 2))
    article.write(f"{places[0].upper()} ({agency}) - {people[0]}'s forces advanced on {places[1]} on "
                  f"Tuesday as fighters of the {group} withdrew towards {places[2]}, activists said.")
    article.write(f"By {reporter}, {agency}.")
    article.write(f"The town lies on the road between {places[2]} and {places[3]}, and the {other} has held it "
                  "since the spring.")
    article.write(f"Residents of {places[4]}, {places[5]} and {places[6]} fled towards {places[3]}, "
                  f"where {people[3]} has set up camps near {places[7]}.")
    for witness in (_person(rng), _person(rng)):  # named in this report alone
        article.write(f"{witness}, a teacher from {rng.choice(places)}, said {rng.choice(extra)} had sent no help.")
    article.write(f"Officials in {common[0]} and {extra[0]} said the talks in {extra[1]} had stalled, and "
                  f"envoys from {' and '.join([*common[1:], *extra[2:]])} called for calm.")
    for speaker in people[1:3]:
        canonical = speaker
        if rng.random() < 0.02:
            canonical = speaker.split()[-1]  # one written two ways in the article: a canonical-name error
        if rng.random() < 0.01:
            canonical = _person(rng)  # nowhere in the article: an invented speaker
        article.write(f"{speaker}, an official from {rng.choice(places)}, described the situation.")
        quoted = rng.choice(QUOTES)
        start = article.write(f"“{quoted},” {speaker.split()[-1]} told {agency}.")
        mention = start + len(quoted) + 4
        article.annotate(start + 1, quoted, "quote", speaker=canonical, speaker_start=mention,
                         speaker_end=mention + len(speaker.split()[-1]), cue="told", quote_type="direct")
        article.write(_filler(rng))
    for key in rng.sample(list(SUBJECTS), rng.randint(2, 4)):
        true = story.values[key]
        value = true if rng.random() < 0.75 else true * rng.choice((2, 3)) // 4 + 1
        figure = f"{value:,} {'civilians' if key == 'killed' and rng.random() < 0.3 else 'people'}"
        by = rng.choice((None, group, "the UN", people[1]))
        sentence = SENTENCES[key].format(figure=figure, by=f", according to {by}" if by else "")
        start = article.write(sentence) + sentence.index(figure)
        written = value + 1 if rng.random() < 0.03 else value  # a value that is not the number written
        article.annotate(start, figure, "figure", value=written, unit=figure.split()[-1],
                         qualifier="approximately" if key in ("fled", "aid") else "at least",
                         subject=rng.choice(SUBJECTS[key]), attributed_to=by.removeprefix("the ") if by else None)
        article.write(_filler(rng))
    stance = f"The {group} condemned the offensive on {places[1]}."
    article.annotate(article.write(stance), stance, "stance", holder=group, target="the offensive",
                     polarity="against")
    reviewed = rng.random()
    for number, annotation in enumerate(article.annotations):
        annotation["id"] = f"{source}#{number}"
        if reviewed < 0.8:  # reviewed in full
            annotation["status"] = "rejected" if rng.random() < 0.1 else "accepted"
        elif reviewed < 0.9:  # under review
            annotation["status"] = rng.choice(("accepted", "proposed"))
        else:
            annotation["status"] = "proposed"
    return {"source": source, "text": article.text, "annotations": article.annotations}


def write_archive(path: Path, count: int, seed: int = 7) -> None:
    """The archive as a contract JSONL file."""
    with path.open("w", encoding="utf-8") as out:
        for record in news_archive(count, seed):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def build_store(db: Path, count: int, seed: int = 7) -> None:
    """A store of `count` generated articles, imported as `annotator import` does."""
    from annotator.export import import_contract
    from annotator.store import open_db

    jsonl = db.with_suffix(".jsonl")
    write_archive(jsonl, count, seed)
    with open_db(db) as store:
        import_contract(store, jsonl, "bench")
    jsonl.unlink()


# One measurement, in a process of its own so that its peak memory is its own.
_MEASURE = """
import json, resource, sys, time
sys.path.insert(0, {tests!r})
if {implementation!r} == "reference":
    import qa_reference as qa
else:
    from annotator import qa
from annotator.store import open_db

def resident():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
with open_db({db!r}) as store:
    before = resident()
    started, cpu = time.perf_counter(), time.process_time()
    if {mode!r} == "checks":
        found = sum(len(qa.check_document(document)) for document in qa.documents_from_store(store))
        result = {{"findings": found}}
    else:
        report = qa.check_documents(qa.documents_from_store(store))
        result = {{"findings": len(report.findings), "events": len(report.events),
                   "largest": max((len(event.document_ids) for event in report.events), default=0),
                   "disagreements": len(report.disagreements)}}
        if {keep!r}:
            with open({keep!r}, "w") as out:
                json.dump(report.to_dict(), out)
    result["seconds"] = time.perf_counter() - started
    result["cpu"] = time.process_time() - cpu
result["before_mb"] = before
result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(result))
"""


def measure(db: Path, implementation: str, mode: str, keep: Path | None = None) -> dict[str, Any]:
    """One run of qa (`mode` "qa") or of the per-document checks alone ("checks"), in a fresh process."""
    code = _MEASURE.format(tests=str(ROOT / "tests"), implementation=implementation, db=str(db), mode=mode,
                           keep=str(keep) if keep else "")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def median_of(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 2_000, 4_000, 10_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--reference", action="store_true", help="also measure the quadratic implementation before")
    parser.add_argument("--huge", action="store_true", help="also 100,000 documents (minutes)")
    args = parser.parse_args()
    sizes = [*args.sizes, *([100_000] if args.huge else [])]
    work = Path(tempfile.mkdtemp(prefix="annotator-qa-bench-"))
    implementations = ["streaming", "reference"] if args.reference else ["streaming"]
    print(f"{'documents':>9} {'implementation':<14} {'qa s':>7} {'cpu s':>7} {'ms/doc':>7} {'checks ms/doc':>13} "
          f"{'across ms/doc':>13} {'peak MB':>8} {'before MB':>9} {'events':>7} {'largest':>7} {'disagree':>8} "
          f"{'findings':>8}")
    try:
        for size in sizes:
            db = work / f"qa{size}.db"
            started = time.perf_counter()
            build_store(db, size)
            print(f"# built {size:,} documents in {time.perf_counter() - started:.1f} s", flush=True)
            reports = {}
            for implementation in implementations:
                if implementation == "reference" and size > REFERENCE_LIMIT:
                    continue
                keep = work / f"{implementation}{size}.json"
                runs = [measure(db, implementation, "qa", keep if repeat == 0 else None)
                        for repeat in range(args.repeats)]
                checks = [measure(db, implementation, "checks") for _ in range(args.repeats)]
                reports[implementation] = json.loads(keep.read_text())
                # Per document in CPU time, which other work on a shared machine disturbs less than wall time.
                cpu, alone = median_of(runs, "cpu"), median_of(checks, "cpu")
                print(f"{size:>9,} {implementation:<14} {median_of(runs, 'seconds'):>7.2f} {cpu:>7.2f} "
                      f"{cpu / size * 1000:>7.3f} {alone / size * 1000:>13.3f} {(cpu - alone) / size * 1000:>13.3f} "
                      f"{median_of(runs, 'peak_mb'):>8.0f} {median_of(runs, 'before_mb'):>9.0f} "
                      f"{runs[0]['events']:>7} {runs[0]['largest']:>7} {runs[0]['disagreements']:>8} "
                      f"{runs[0]['findings']:>8}", flush=True)
            if len(reports) == 2:
                same = reports["streaming"] == reports["reference"]
                print(f"# {size:,}: the same report as the reference: {'yes' if same else 'NO'}", flush=True)
            db.unlink()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
