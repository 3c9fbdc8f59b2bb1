"""Scoring an engine's proposals against the reviewed gold, per kind, and comparing with a baseline.

Gold comes from the store (every document whose proposals all have a decision) or from a contract
JSONL file; predictions come from running an engine (through the response cache, so a re-run asks
nothing) or from a contract file. Items are matched within a document and kind, one to one, by
character overlap: `overlap` is the share of the gold span that a proposal covers, and pairs are
taken greedily, the largest share first (ties: the closer span), so a proposal is never counted
twice and the pairs at a stricter threshold are a subset of those at a looser one.

Metrics, all "higher is better", None where undefined (no gold and no proposals of a kind):

- `<kind>.precision`, `<kind>.recall`, `<kind>.f1`: a pair counts when `overlap >= 0.3`;
  `quote.*@0.8` at `overlap >= 0.8`; `<kind>.*@exact` with identical offsets;
- `quote.speaker_accuracy`, `quote.type_accuracy` over matched quotes (canonical names compared,
  see `names.same_name`);
- `figure.value_accuracy` (within a relative tolerance), `figure.unit_accuracy` (units compared by
  `numbers.canonical_unit`: "people" is "person", "km" is "kilometre"),
  `figure.qualifier_accuracy` over matched figures;
- `stance.polarity_macro_f1` (polarity F1 per class, averaged over the classes present) and
  `stance.holder_accuracy` over matched stances;
- `all.precision`, `all.recall`, `all.f1`: pooled over the kinds.

Every proposal without a gold item is a false positive; one that repeats an item the reviewer
rejected (a hard negative) is marked `rejected_again` and counted apart as well.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from annotator.canonical import to_json
from annotator.contract import ContractDocument, Item, documents_from_store, read_contract
from annotator.errors import AnnotatorError
from annotator.matching import DEFAULT_TOLERANCE, FIELD_CHECKS, MATCH, field_checks, match
from annotator.options import name_and_number
from annotator.schemas import ANNOTATION_KINDS
from annotator.store import Store, now

STRICT = 0.8
"""The stricter threshold reported for quotes."""
_ACCURACY_NAMES = {"quote_type": "type_accuracy"}


# ----------------------------------------------------------------------------- gold


def gold_from_store(store: Store, kinds: Sequence[str] | None = None) -> tuple[list[ContractDocument], int]:
    """Every fully reviewed document with its gold and rejected items, and how many are still under review."""
    golds, under_review = [], 0
    for document in documents_from_store(store, "all", kinds):  # one pass: the store marks each document
        if document.fully_reviewed:
            golds.append(document)
        elif document.partial:
            under_review += 1
    return golds, under_review


def gold_from_file(path: Path, kinds: Sequence[str] | None = None) -> tuple[list[ContractDocument], int]:
    """The fully reviewed documents of a contract JSONL file with their gold, and how many are still under review.

    A document is fully reviewed when its line says so (`"reviewed": true`, as export writes), or, in a
    file without the mark, when it has annotations and none is still `proposed`: the same documents
    the store's eval scores against.
    """
    golds, under_review = [], 0
    for parsed in read_contract(path):
        if parsed.fully_reviewed:
            golds.append(parsed.only(kinds=kinds or None))
        elif parsed.partial:
            under_review += 1
    return golds, under_review


@dataclass
class FilePredictions:
    """Predictions read from a contract file, by document id, with the provenance they share."""

    items: dict[str, list[Item]]
    engine: str
    model: str | None
    prompt_name: str | None


def predictions_from_file(path: Path, kinds: Sequence[str] | None = None) -> FilePredictions:
    """The annotations of a contract file as predictions (all but rejected ones), by document id.

    When every annotation has the same engine and model in its `origin` (as `propose --out`
    writes), the run is recorded under that engine and model, so its baseline is the last
    evaluation of the same engine; otherwise under engine `file`.
    """
    items: dict[str, list[Item]] = {}
    origins: set[tuple[str, str | None]] = set()
    prompts: set[str] = set()
    for parsed in read_contract(path):
        kept = items.setdefault(parsed.document.id, [])
        for item in parsed.items:
            if item.status == "rejected" or (kinds is not None and item.kind not in kinds):
                continue
            kept.append(item)
            origin = item.origin
            origins.add((origin["engine"], origin.get("model")) if origin else ("file", None))
            if origin and origin.get("prompt"):
                prompts.add(origin["prompt"])
    engine, model = next(iter(origins)) if len(origins) == 1 else ("file", None)
    return FilePredictions(items, engine, model, ",".join(sorted(prompts)) or None)


def gold_hash(golds: Sequence[ContractDocument]) -> str:
    """A short hash of the gold scored against: equal hashes mean the same documents and labels."""
    digest = hashlib.sha256()
    for gold in sorted(golds, key=lambda g: g.document.id):
        for label, items in (("gold", gold.gold), ("rejected", gold.rejected)):
            for item in sorted(items, key=lambda i: (i.kind, i.start, i.end)):
                digest.update(to_json([gold.document.id, label, item.kind, item.start, item.end, dict(item.fields)]).encode())
    return digest.hexdigest()[:16]


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Example:
    """One scored item: a gold item found (tp) or missed (fn), or a proposal with no gold item (fp)."""

    document_id: str
    kind: str
    outcome: str
    gold_id: str | None
    gold_start: int | None
    gold_end: int | None
    pred_start: int | None
    pred_end: int | None
    overlap: float | None
    text: str
    checks: dict[str, bool]
    repetition: int = 0

    @property
    def key(self) -> tuple[Any, ...]:
        """What identifies the item across runs: the gold item, or for a fp the proposal's span."""
        if self.outcome == "fp":
            return (self.document_id, self.kind, "fp", self.pred_start, self.pred_end)
        return (self.document_id, self.kind, "gold", self.gold_id or f"{self.gold_start}:{self.gold_end}")

    def row(self) -> tuple[Any, ...]:
        """The `eval_examples` row (after the run id)."""
        return (self.repetition, self.document_id, self.kind, self.outcome, self.gold_id, self.gold_start,
                self.gold_end, self.pred_start, self.pred_end, self.overlap, self.text, self.checks)


@dataclass
class Score:
    """The metrics of one pass over the gold and every example behind them."""

    metrics: dict[str, float | None]
    counts: dict[str, dict[str, int]]
    examples: list[Example]


def _prf(tp: int, predicted: int, gold: int) -> tuple[float | None, float | None, float | None]:
    precision = tp / predicted if predicted else None
    recall = tp / gold if gold else None
    if not predicted and not gold:
        return None, None, None
    f1 = 2 * tp / (predicted + gold)
    return precision, recall, f1


def _macro_f1(pairs: Sequence[tuple[Any, Any]]) -> float | None:
    classes = sorted({g for g, _ in pairs} | {p for _, p in pairs}, key=str)
    if not classes:
        return None
    scores = []
    for label in classes:
        tp = sum(1 for g, p in pairs if g == label and p == label)
        wrong = sum(1 for g, p in pairs if (g == label) != (p == label))
        scores.append(2 * tp / (2 * tp + wrong))
    return sum(scores) / len(scores)


def metric_names(kinds: Iterable[str]) -> list[str]:
    """Every metric `score` reports for these kinds, in report order."""
    names = []
    for kind in kinds:
        levels = ["", "@0.8", "@exact"] if kind == "quote" else ["", "@exact"]
        names += [f"{kind}.{measure}{level}" for level in levels for measure in ("precision", "recall", "f1")]
        names += [f"{kind}.{_ACCURACY_NAMES.get(name, name + '_accuracy')}" for name in FIELD_CHECKS.get(kind, ())
                  if name != "polarity"]
        if kind == "stance":
            names.append("stance.polarity_macro_f1")
    return names + ["all.precision", "all.recall", "all.f1"]


def score(
    golds: Sequence[ContractDocument],
    predictions: Mapping[str, Sequence[Item]],
    kinds: Sequence[str] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    repetition: int = 0,
) -> Score:
    """Match each document's predictions to its gold, kind by kind, and compute every metric."""
    kinds = list(kinds or ANNOTATION_KINDS)
    levels = {"": MATCH, "@0.8": STRICT, "@exact": None}
    tp = {(kind, level): 0 for kind in kinds for level in levels}
    n_gold = dict.fromkeys(kinds, 0)
    n_pred = dict.fromkeys(kinds, 0)
    rejected_again = dict.fromkeys(kinds, 0)
    right: dict[tuple[str, str], list[bool]] = {}
    polarities: list[tuple[Any, Any]] = []
    examples: list[Example] = []
    for gold_document in golds:
        document_id = gold_document.document.id
        predicted_here = predictions.get(document_id, ())
        for kind in kinds:
            gold = [item for item in gold_document.gold if item.kind == kind]
            predicted = [item for item in predicted_here if item.kind == kind]
            n_gold[kind] += len(gold)
            n_pred[kind] += len(predicted)
            found: dict[int, tuple[int, float]] = {}
            for i, j, share in match(gold, predicted):
                exact = (gold[i].start, gold[i].end) == (predicted[j].start, predicted[j].end)
                tp[(kind, "@exact")] += exact
                tp[(kind, "@0.8")] += share >= STRICT
                if share >= MATCH:
                    tp[(kind, "")] += 1
                    found[i] = (j, share)
            for i, g in enumerate(gold):
                if i in found:
                    j, share = found[i]
                    p = predicted[j]
                    checks = field_checks(g, p, tolerance)
                    for name, ok in checks.items():
                        right.setdefault((kind, name), []).append(ok)
                    if kind == "stance":
                        polarities.append((g.fields.get("polarity"), p.fields.get("polarity")))
                    examples.append(Example(document_id, kind, "tp", g.id, g.start, g.end, p.start, p.end,
                                            round(share, 4), g.text, checks, repetition))
                else:
                    examples.append(Example(document_id, kind, "fn", g.id, g.start, g.end, None, None, None,
                                            g.text, {}, repetition))
            matched = {j for j, _ in found.values()}
            rejected = [item for item in gold_document.rejected if item.kind == kind]
            for j, p in enumerate(predicted):
                if j in matched:
                    continue
                again = any(pair[2] >= MATCH for pair in match(rejected, [p]))
                rejected_again[kind] += again
                examples.append(Example(document_id, kind, "fp", None, None, None, p.start, p.end, None, p.text,
                                        {"rejected_again": True} if again else {}, repetition))
    metrics: dict[str, float | None] = {}
    counts: dict[str, dict[str, int]] = {}
    for kind in kinds:
        for level in levels:
            if level == "@0.8" and kind != "quote":
                continue
            precision, recall, f1 = _prf(tp[(kind, level)], n_pred[kind], n_gold[kind])
            metrics.update({f"{kind}.precision{level}": precision, f"{kind}.recall{level}": recall,
                            f"{kind}.f1{level}": f1})
        for name in FIELD_CHECKS.get(kind, ()):
            if name == "polarity":
                continue
            results = right.get((kind, name), [])
            metrics[f"{kind}.{_ACCURACY_NAMES.get(name, name + '_accuracy')}"] = (
                sum(results) / len(results) if results else None)
        if kind == "stance":
            metrics["stance.polarity_macro_f1"] = _macro_f1(polarities)
        counts[kind] = {"gold": n_gold[kind], "predicted": n_pred[kind], "tp": tp[(kind, "")],
                        "fp": n_pred[kind] - tp[(kind, "")], "fn": n_gold[kind] - tp[(kind, "")],
                        "rejected_again": rejected_again[kind]}
    all_tp = sum(tp[(kind, "")] for kind in kinds)
    precision, recall, f1 = _prf(all_tp, sum(n_pred.values()), sum(n_gold.values()))
    metrics.update({"all.precision": precision, "all.recall": recall, "all.f1": f1})
    ordered = {name: metrics[name] for name in metric_names(kinds)}
    return Score(ordered, counts, examples)


# --------------------------------------------------------------------------- runs


@dataclass(frozen=True)
class Flip:
    """An item found (or proposed) in some repetitions and not in others."""

    example: Example
    times: int
    repeat: int


@dataclass
class EvalReport:
    """An evaluation: what was scored, its metrics (the mean over repetitions) and its examples."""

    engine: str
    model: str | None
    prompt_name: str | None
    prompt_hash: str | None
    params: dict[str, Any]
    gold: str
    gold_hash: str
    documents: int
    metrics: dict[str, float | None]
    counts: dict[str, dict[str, int]]
    examples: list[Example]
    repeat: int = 1
    spread: dict[str, dict[str, float]] | None = None
    passed: bool | None = None
    started_at: str = ""
    finished_at: str = ""
    id: int | None = None
    failures: int = 0
    """Requests or proposals that failed (they score as if nothing had been proposed)."""

    def flips(self) -> list[Flip]:
        """Gold items found in only some repetitions, and proposals made in only some."""
        if self.repeat < 2:
            return []
        hits: dict[tuple[Any, ...], list[Example]] = {}
        for example in self.examples:
            if example.outcome in ("tp", "fp"):
                hits.setdefault(example.key, []).append(example)
        return [Flip(found[0], len(found), self.repeat) for found in hits.values() if len(found) < self.repeat]

    def record(self) -> dict[str, Any]:
        """The `eval_runs` columns."""
        return {
            "engine": self.engine, "model": self.model, "prompt_name": self.prompt_name,
            "prompt_hash": self.prompt_hash, "params": self.params, "gold": self.gold, "gold_hash": self.gold_hash,
            "documents": self.documents, "repeat": self.repeat, "metrics": self.metrics, "counts": self.counts,
            "spread": self.spread, "passed": None if self.passed is None else int(self.passed),
            "failures": self.failures, "started_at": self.started_at, "finished_at": self.finished_at,
        }

    def to_json(self) -> str:
        """The whole report as JSON, as `--report` writes it and `--baseline FILE` reads it."""
        data = {"id": self.id, **self.record(), "passed": self.passed,
                "examples": [asdict(example) for example in self.examples]}
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_record(cls, run: Mapping[str, Any]) -> EvalReport:
        """A report from a stored run (`Store.eval_run`) or a JSON report file's contents."""
        examples = [Example(**{name: example.get(name) for name in Example.__dataclass_fields__})
                    for example in run.get("examples", [])]
        passed = run.get("passed")
        return cls(
            engine=run["engine"], model=run.get("model"), prompt_name=run.get("prompt_name"),
            prompt_hash=run.get("prompt_hash"), params=run.get("params") or {}, gold=run["gold"],
            gold_hash=run["gold_hash"], documents=run["documents"], metrics=run["metrics"],
            counts=run.get("counts") or {}, examples=examples, repeat=run.get("repeat") or 1,
            spread=run.get("spread"), passed=None if passed is None else bool(passed),
            started_at=run.get("started_at") or "", finished_at=run.get("finished_at") or "",
            id=run.get("id"), failures=run.get("failures") or 0,
        )


def load_report(path: Path) -> EvalReport:
    """A report written by `eval --report`; AnnotatorError naming the file when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return EvalReport.from_record(data)
    except OSError as error:
        raise AnnotatorError(f"{path}: cannot read ({error.strerror})") from None
    except (ValueError, KeyError, TypeError) as error:
        raise AnnotatorError(f"{path}: not an eval report ({error.__class__.__name__}: {error})") from None


def _spread(scores: Sequence[Score]) -> dict[str, dict[str, float]]:
    """Mean, standard deviation, minimum and maximum of each metric that has a value in some pass."""
    spread = {}
    for name in scores[0].metrics:
        values = [s.metrics[name] for s in scores if s.metrics[name] is not None]
        if values:
            spread[name] = {"mean": statistics.fmean(values), "stdev": statistics.pstdev(values),
                            "min": min(values), "max": max(values)}
    return spread


def report_of(
    scores: Sequence[Score],
    golds: Sequence[ContractDocument],
    *,
    engine: str,
    model: str | None,
    prompt_name: str | None,
    prompt_hash: str | None,
    params: dict[str, Any],
    gold: str,
    started_at: str,
    failures: int = 0,
) -> EvalReport:
    """One report from the scores of one or more repetitions."""
    repeat = len(scores)
    spread = _spread(scores)
    counts = scores[0].counts if repeat == 1 else {
        kind: {name: round(statistics.fmean(s.counts[kind][name] for s in scores), 2) for name in scores[0].counts[kind]}
        for kind in scores[0].counts
    }
    return EvalReport(
        engine=engine, model=model, prompt_name=prompt_name, prompt_hash=prompt_hash, params=params, gold=gold,
        gold_hash=gold_hash(golds), documents=len(golds),
        metrics={name: spread[name]["mean"] if name in spread else None for name in scores[0].metrics},
        counts=counts, examples=[example for s in scores for example in s.examples], repeat=repeat,
        spread=spread if repeat > 1 else None, started_at=started_at, finished_at=now(), failures=failures,
    )


async def _engine_predictions(engine: Any, golds: Sequence[ContractDocument], store: Store | None,
                              repeat: int) -> tuple[list[dict[str, list[Item]]], int]:
    from annotator.propose import answer_documents, cache_result

    documents = [gold.document for gold in golds]
    keep = (lambda document, result: cache_result(store, engine, document, result)) if store is not None else None
    passes, failures = [], 0
    for _ in range(repeat):
        # Repetitions measure how much the engine's answers vary: each asks afresh.
        # (answer_documents opens the engine and shuts it down, whatever happens.)
        results = await answer_documents(engine, documents, store, keep, use_cache=repeat == 1)
        passes.append({document_id: [Item.of(p.annotation) for p in result.proposals]
                       for document_id, result in results.items()})
        failures += sum(len(result.failures) for result in results.values())
    return passes, failures


def evaluate_engine(
    engine: Any,
    golds: Sequence[ContractDocument],
    store: Store | None = None,
    *,
    gold: str = "store",
    repeat: int = 1,
    kinds: Sequence[str] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> EvalReport:
    """Run `engine` over the gold documents `repeat` times and score each pass.

    With a `store`, answers come from and go to its response cache (a single pass reads the
    cache; repeated passes ask afresh, since their point is the engine's variation).
    """
    if repeat < 1:
        raise AnnotatorError(f"--repeat must be at least 1, not {repeat}")
    started = now()
    # What the engine writes is its answers to the cache, which a re-run can make again.
    with store.machine_writes() if store is not None else contextlib.nullcontext():
        passes, failures = asyncio.run(_engine_predictions(engine, golds, store, repeat))
    scores = [score(golds, predictions, kinds, tolerance, index) for index, predictions in enumerate(passes)]
    params = {**engine.params, "tolerance": tolerance, **({"kinds": list(kinds)} if kinds else {})}
    return report_of(scores, golds, engine=engine.name, model=engine.model, prompt_name=engine.prompt_name,
                     prompt_hash=engine.prompt_hash, params=params, gold=gold, started_at=started, failures=failures)


def evaluate_file(
    predictions: FilePredictions,
    golds: Sequence[ContractDocument],
    *,
    source: str,
    gold: str = "store",
    kinds: Sequence[str] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> EvalReport:
    """Score predictions read from a contract file."""
    started = now()
    scored = score(golds, predictions.items, kinds, tolerance)
    params = {"predictions": source, "tolerance": tolerance, **({"kinds": list(kinds)} if kinds else {})}
    prompt_hash = hashlib.sha256(predictions.prompt_name.encode()).hexdigest()[:16] if predictions.prompt_name else None
    return report_of([scored], golds, engine=predictions.engine, model=predictions.model,
                     prompt_name=predictions.prompt_name, prompt_hash=prompt_hash, params=params, gold=gold,
                     started_at=started)


# ------------------------------------------------------------------ baseline and gates


@dataclass
class Comparison:
    """How a report differs from its baseline: per metric, and per gold item and proposal."""

    baseline: EvalReport
    deltas: dict[str, tuple[float | None, float | None, float | None]]
    """metric: (baseline, current, current - baseline)."""
    newly_missed: list[Example]
    newly_found: list[Example]
    new_false_positives: list[Example]
    gold_changed: bool
    """The baseline was scored against other gold: part of any change is the gold's."""


def _hit_rates(report: EvalReport) -> dict[tuple[Any, ...], tuple[float, Example]]:
    """For each gold item and proposal: the share of repetitions that found (or made) it, and an example."""
    rates: dict[tuple[Any, ...], float] = {}
    shown: dict[tuple[Any, ...], Example] = {}
    for example in report.examples:
        hit = example.outcome in ("tp", "fp")
        rates[example.key] = rates.get(example.key, 0.0) + hit / report.repeat
        if example.key not in shown or (hit and shown[example.key].outcome == "fn"):
            shown[example.key] = example
    return {key: (rate, shown[key]) for key, rate in rates.items()}


def compare(current: EvalReport, baseline: EvalReport) -> Comparison:
    """Deltas per metric, and the gold items newly missed or found (in most repetitions) and new false positives."""
    deltas = {}
    for name, value in current.metrics.items():
        before = baseline.metrics.get(name)
        delta = value - before if value is not None and before is not None else None
        deltas[name] = (before, value, delta)
    now_rates, then_rates = _hit_rates(current), _hit_rates(baseline)
    missed, found, new_fp = [], [], []
    for key, (rate, example) in now_rates.items():
        before = then_rates[key][0] if key in then_rates else 0.0
        if rate >= 0.5 > before:
            (new_fp if key[2] == "fp" else found).append(example)
        elif before >= 0.5 > rate and key[2] == "gold":
            missed.append(example)
    order = lambda e: (e.document_id, e.gold_start or e.pred_start or 0, e.kind)  # noqa: E731
    return Comparison(baseline, deltas, sorted(missed, key=order), sorted(found, key=order), sorted(new_fp, key=order),
                      gold_changed=baseline.gold_hash != current.gold_hash)


def parse_fail_under(specs: Sequence[str], kinds: Sequence[str] | None = None) -> dict[str, float]:
    """`METRIC=VALUE` pairs as a dict; AnnotatorError for a bad pair or a metric `kinds` do not have."""
    known = metric_names(kinds or ANNOTATION_KINDS)
    limits = {}
    for spec in specs:
        try:
            name, _, limit = name_and_number(spec)
        except ValueError:
            limit = math.nan
        if math.isnan(limit):
            raise AnnotatorError(f"--fail-under {spec!r}: expected METRIC=VALUE, e.g. quote.recall=0.8")
        if name not in known:
            raise AnnotatorError(f"--fail-under {spec!r}: unknown metric {name!r} (known: {', '.join(known)})")
        limits[name] = limit
    return limits


def gate_failures(
    report: EvalReport, fail_under: Mapping[str, float], max_drop: float | None, comparison: Comparison | None
) -> list[str]:
    """Why the report fails its gates, one line each; empty when it passes."""
    failures = []
    for name, limit in fail_under.items():
        value = report.metrics.get(name)
        if value is None:
            failures.append(f"{name} has no value (no gold and no proposals of its kind), --fail-under {limit:g}")
        elif value < limit:
            failures.append(f"{name} {value:.4f} is under {limit:g} (--fail-under)")
    if max_drop is not None:
        if comparison is None:
            failures.append("--max-drop needs a baseline, and there is none: run once without it to store one")
        else:
            for name, (before, value, delta) in comparison.deltas.items():
                if delta is not None and -delta > max_drop + 1e-12:
                    failures.append(f"{name} dropped {-delta:.4f} ({before:.4f} -> {value:.4f}), more than "
                                    f"--max-drop {max_drop:g}")
                elif before is not None and value is None:
                    failures.append(f"{name} had {before:.4f} in the baseline and has no value now")
    return failures


def resolve_baseline(
    spec: str | None, store: Store | None, engine: str, model: str | None, gold: str
) -> EvalReport | None:
    """The baseline asked for: `last` (default; the store's latest run of the same engine, model
    and gold that did not fail its gates), `none`, a stored run id, or an eval report file.

    Resolved before the engine runs, so that a wrong baseline fails at once.
    """
    spec = (spec or "last").strip()
    if spec == "none":
        return None
    if spec == "last":
        if store is None:
            return None
        run_id = store.last_eval_run_id(engine, model, gold)
        return EvalReport.from_record(store.eval_run(run_id)) if run_id is not None else None  # type: ignore[arg-type]
    if spec.isdigit():
        if store is None:
            raise AnnotatorError(f"--baseline {spec}: a stored run needs a store (--db)")
        run = store.eval_run(int(spec))
        if run is None:
            raise AnnotatorError(f"--baseline {spec}: no eval run {spec} in {store.path}")
        return EvalReport.from_record(run)
    return load_report(Path(spec))


def store_report(store: Store, report: EvalReport) -> int:
    """Record the report in the store and return its run id."""
    report.id = store.record_eval(report.record(), (example.row() for example in report.examples))
    return report.id


@dataclass
class Gold:
    """The gold an evaluation scores against, and where it came from."""

    documents: list[ContractDocument]
    label: str
    """`store`, or the gold file's path: runs are compared only with runs against the same gold."""
    under_review: int = 0
    """Documents left out because some of their proposals have no decision yet."""


def load_gold(store: Store | None, path: Path | None = None, kinds: Sequence[str] | None = None) -> Gold:
    """The gold of the file at `path`, else of the store; AnnotatorError when there is none."""
    if path is not None:
        documents, under_review = gold_from_file(path, kinds)
        gold = Gold(documents, str(path), under_review)
    elif store is not None:
        documents, under_review = gold_from_store(store, kinds)
        gold = Gold(documents, "store", under_review)
    else:
        raise AnnotatorError("nothing to score against: give a store or a gold file")
    if not gold.documents:
        waiting = ""
        if path is None and store is not None and store.overlap() > 1:
            waiting = (f" ({gold.under_review} documents wait for all their reviewers or for agreement: "
                       "annotator assign, annotator adjudicate)")
        raise AnnotatorError(f"{path or store.path}: no fully reviewed documents to score against{waiting}")  # type: ignore[union-attr]
    return gold


@dataclass
class Evaluation:
    """What `annotator eval` did: the report (stored, if there is a store), its comparison and gates."""

    report: EvalReport
    comparison: Comparison | None
    failed: list[str]
    """Why the gates failed, one line each; empty when they passed or there were none."""


def run_evaluation(
    store: Store | None,
    gold: Gold,
    engine: Any = None,
    *,
    predictions: Path | None = None,
    baseline: str | None = None,
    fail_under: Mapping[str, float] | None = None,
    max_drop: float | None = None,
    repeat: int = 1,
    kinds: Sequence[str] | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    report_path: Path | None = None,
) -> Evaluation:
    """Score `engine` (or the `predictions` file) against `gold`.

    `fail_under` is what `parse_fail_under` makes of the `--fail-under` pairs. A bad gold or
    baseline fails before the engine runs. The report is compared with the baseline, checked
    against the gates, stored when there is a store, and written to `report_path` as JSON.
    """
    golds, gold_label = gold.documents, gold.label
    if predictions is not None:
        given = predictions_from_file(predictions, kinds)
        base = resolve_baseline(baseline, store, given.engine, given.model, gold_label)
        report = evaluate_file(given, golds, source=str(predictions), gold=gold_label, kinds=kinds, tolerance=tolerance)
    else:
        base = resolve_baseline(baseline, store, engine.name, engine.model, gold_label)
        report = evaluate_engine(engine, golds, store, gold=gold_label, repeat=repeat, kinds=kinds, tolerance=tolerance)
    comparison = compare(report, base) if base is not None else None
    failed = gate_failures(report, fail_under or {}, max_drop, comparison)
    if fail_under or max_drop is not None:
        report.passed = not failed
    if store is not None:
        store_report(store, report)
    if report_path is not None:
        try:
            report_path.write_text(report.to_json() + "\n", encoding="utf-8")
        except OSError as error:
            raise AnnotatorError(f"{report_path}: cannot write ({error.strerror})") from None
    return Evaluation(report, comparison, failed)
