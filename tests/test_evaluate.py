"""`annotator eval`: matching and metrics, stored runs, baselines and gates, files, repeats, the llm cache."""

from __future__ import annotations

import dataclasses
import itertools
import json
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scripted_server import Fault, ScriptedServer, reply_for, request_text
from typer.testing import CliRunner

from annotator import evaluate
from annotator.cli import app
from annotator.contract import ContractDocument, Item
from annotator.evaluate import score
from annotator.names import same_name
from annotator.propose import RulesProposer
from annotator.schemas import Document
from annotator.store import open_db

runner = CliRunner()
ROOT = Path(__file__).parent.parent
TEXT = (
    "“The convoy is stuck,” Suleiman Abdulqader told Al Jazeera.\n\n"
    "According to the UN, some 400,000 people fled. The ministry condemned the attack on the convoy."
)
DOC = Document.from_text(TEXT, "a.txt")


def item(needle: str, kind: str = "quote", **fields) -> Item:
    start = TEXT.index(needle)
    return Item(kind, start, start + len(needle), needle, fields, status="accepted")


def shifted(base: Item, start: int = 0, end: int = 0, **fields) -> Item:
    s, e = base.start + start, base.end + end
    return dataclasses.replace(base, start=s, end=e, text=TEXT[s:e], fields={**base.fields, **fields})


def scored(gold: list[Item], predicted: list[Item], rejected: list[Item] | None = None, **options):
    negatives = [dataclasses.replace(item, status="rejected") for item in rejected or []]
    return score([ContractDocument(DOC, [*gold, *negatives])], {DOC.id: predicted}, **options)


QUOTE = item("The convoy is stuck", speaker="Suleiman Abdulqader", quote_type="direct")


def test_overlap_levels_count_a_quote_at_each_threshold() -> None:
    # Covers 15 of the gold's 19 characters (0.79): found at 0.3, not at 0.8, not exact.
    result = scored([QUOTE], [shifted(QUOTE, end=-4)])
    assert result.metrics["quote.recall"] == 1.0
    assert result.metrics["quote.recall@0.8"] == 0.0
    assert result.metrics["quote.recall@exact"] == 0.0
    # Covers 5 of 19 (0.26): missed, and the proposal is a false positive.
    result = scored([QUOTE], [shifted(QUOTE, end=-14)])
    assert result.metrics["quote.recall"] == 0.0 and result.metrics["quote.precision"] == 0.0
    assert [e.outcome for e in result.examples] == ["fn", "fp"]
    exact = scored([QUOTE], [QUOTE])
    assert exact.metrics["quote.f1@exact"] == exact.metrics["quote.f1@0.8"] == 1.0


def test_matching_is_one_to_one_and_prefers_the_larger_share() -> None:
    first, second = item("The convoy"), item("is stuck")
    wide = item("The convoy is stuck")
    result = scored([first, second], [wide])
    assert result.counts["quote"] == {"gold": 2, "predicted": 1, "tp": 1, "fp": 0, "fn": 1, "rejected_again": 0}
    # With an exact proposal for the second gold item, the wide one goes to the first.
    result = scored([first, second], [wide, second])
    assert result.metrics["quote.recall"] == 1.0 and result.metrics["quote.recall@exact"] == 0.5


def test_speaker_is_compared_as_a_canonical_name() -> None:
    same = shifted(QUOTE, speaker="suleiman  abdulqader")
    other = shifted(QUOTE, speaker="Suleiman")
    assert scored([QUOTE], [same]).metrics["quote.speaker_accuracy"] == 1.0
    assert scored([QUOTE], [other]).metrics["quote.speaker_accuracy"] == 0.0
    assert same_name("the Syrian Observatory", "Syrian Observatory")
    assert same_name("Hay’et Tahrir al-Sham", "Hay'et Tahrir al-Sham")
    assert same_name(None, None) and not same_name(None, "UN")


def test_figure_value_tolerance_unit_and_qualifier() -> None:
    gold = item("some 400,000 people", "figure", value=400000.0, unit="people", qualifier="approximately")
    close = shifted(gold, value=402000.0, unit="People", qualifier="exact")
    far = shifted(gold, value=450000.0, unit="civilians")
    assert scored([gold], [close]).metrics["figure.value_accuracy"] == 1.0
    assert scored([gold], [close], tolerance=0.001).metrics["figure.value_accuracy"] == 0.0
    result = scored([gold], [far])
    assert result.metrics["figure.value_accuracy"] == 0.0 and result.metrics["figure.unit_accuracy"] == 0.0
    assert scored([gold], [close]).metrics["figure.qualifier_accuracy"] == 0.0


def test_stance_polarity_macro_f1_on_matched_items() -> None:
    a = item("The ministry condemned the attack", "stance", holder="ministry", target="the attack", polarity="against")
    b = item("The convoy is stuck", "stance", holder="Suleiman Abdulqader", target="convoy", polarity="neutral")
    c = item("some 400,000 people fled", "stance", holder="UN", target="people", polarity="against")
    predicted = [a, shifted(b, polarity="against"), shifted(c, holder="United Nations")]
    result = scored([a, b, c], predicted)
    # against: tp 2, fp 1 -> F1 0.8; neutral: tp 0, fn 1 -> F1 0. Macro: 0.4.
    assert result.metrics["stance.polarity_macro_f1"] == pytest.approx(0.4)
    assert result.metrics["stance.holder_accuracy"] == pytest.approx(2 / 3)


def test_a_rejected_item_proposed_again_is_a_false_positive() -> None:
    rejected = item("Al Jazeera", speaker=None)
    result = scored([QUOTE], [QUOTE, rejected], rejected=[rejected])
    assert result.metrics["quote.precision"] == 0.5
    assert result.counts["quote"]["rejected_again"] == 1
    [fp] = [e for e in result.examples if e.outcome == "fp"]
    assert fp.checks == {"rejected_again": True} and fp.text == "Al Jazeera"


def test_undefined_metrics_are_none_and_pooled_metrics_cover_the_kinds() -> None:
    result = scored([QUOTE], [QUOTE], kinds=["quote", "figure"])
    assert result.metrics["figure.precision"] is None and result.metrics["figure.value_accuracy"] is None
    assert result.metrics["all.f1"] == 1.0
    assert list(result.metrics) == evaluate.metric_names(["quote", "figure"])
    result = scored([QUOTE], [], kinds=["quote"])
    assert result.metrics["quote.precision"] is None and result.metrics["quote.recall"] == 0.0
    assert result.metrics["quote.f1"] == 0.0


spans = st.tuples(st.integers(0, 80), st.integers(1, 30)).map(lambda p: (p[0], min(p[0] + p[1], len(TEXT))))


@settings(max_examples=200, deadline=None)
@given(st.lists(spans, max_size=6), st.lists(spans, max_size=6))
def test_scores_are_consistent_for_any_spans(gold_spans, predicted_spans) -> None:
    gold = [Item("quote", s, e, TEXT[s:e], {"speaker": None}, status="accepted") for s, e in dict.fromkeys(gold_spans)]
    predicted = [Item("quote", s, e, TEXT[s:e], {"speaker": None}) for s, e in dict.fromkeys(predicted_spans)]
    result = scored(gold, predicted, kinds=["quote"])
    counts = result.counts["quote"]
    assert counts["tp"] <= min(len(gold), len(predicted))
    assert counts["tp"] + counts["fn"] == len(gold) and counts["tp"] + counts["fp"] == len(predicted)
    recall = [result.metrics[f"quote.recall{level}"] for level in ("", "@0.8", "@exact")]
    if gold:
        assert recall[0] >= recall[1] >= recall[2]
    # Each gold item and each proposal appears in exactly one example.
    assert sum(e.outcome in ("tp", "fn") for e in result.examples) == len(gold)
    assert sum(e.outcome in ("tp", "fp") for e in result.examples) == len(predicted)
    perfect = scored(gold, gold, kinds=["quote"])
    if gold:
        assert perfect.metrics["quote.f1@exact"] == 1.0


# ---------------------------------------------------------------------------- the store


def reviewed_store(store, decide_all: bool = True) -> list[Document]:
    """Rules proposals for two documents; every item decided in the first, the second half-decided."""
    first = Document.from_text(TEXT, "a.txt")
    second = Document.from_text(TEXT.replace("Suleiman Abdulqader", "Ahmed Sheikho"), "b.txt")
    store.add_documents([first, second])
    from annotator.propose import run_proposals

    run_proposals(store, [first, second], RulesProposer())
    for number, annotation in enumerate(store.annotations()):
        if annotation.document_id == first.id:
            store.record_decision(annotation.id, "reject" if annotation.kind == "figure" else "accept", "ann")
        elif number % 2 == 0 or decide_all:
            store.record_decision(annotation.id, "accept", "ann")
    return [first, second]


def test_gold_comes_from_fully_reviewed_documents_only(store) -> None:
    first, second = reviewed_store(store, decide_all=False)
    golds, under_review = evaluate.gold_from_store(store)
    assert [g.document.id for g in golds] == [first.id] and under_review == 1
    gold = golds[0]
    assert gold.rejected and all(i.kind == "figure" for i in gold.rejected)
    assert gold.gold and all(i.kind != "figure" for i in gold.gold)
    # The rules proposals repeat the rejected figure: it is a false positive, marked as such.
    report = evaluate.evaluate_engine(RulesProposer(), golds, store)
    assert report.counts["figure"]["rejected_again"] == len(gold.rejected) == report.counts["figure"]["fp"]
    assert report.metrics["quote.f1"] == 1.0


def eval_cli(*args: str):
    return runner.invoke(app, ["eval", *args], catch_exceptions=False)


def test_eval_stores_runs_and_compares_with_the_last(store) -> None:
    reviewed_store(store)
    first = eval_cli("--engine", "rules")
    assert first.exit_code == 0, first.output
    assert "run 1" in first.stdout and "baseline" not in first.stdout
    second = eval_cli("--engine", "rules", "--max-drop", "0")
    assert second.exit_code == 0, second.output
    assert "baseline (run 1)" in second.stdout and "+0.0000" in second.stdout
    run = store.eval_run(2)
    assert run["engine"] == "rules" and run["passed"] == 1 and run["gold"] == "store"
    assert run["prompt_name"].startswith("rules@") and run["documents"] == 2
    counts = run["counts"]
    assert len(run["examples"]) == sum(c["tp"] + c["fn"] + c["fp"] for c in counts.values())
    assert {e["outcome"] for e in run["examples"]} == {"tp", "fp"}  # the rejected figures come back
    # The reviewer changes their mind about a quote: the gold changed, and the proposal is now a false positive.
    quote = next(a for a in store.annotations() if a.kind == "quote" and a.status == "accepted")
    store.record_decision(quote.id, "reject", "ann")
    third = eval_cli("--engine", "rules")
    assert "note: the gold changed since the baseline" in third.stdout
    assert f"new false positives (1):\n  quote {quote.document_id[7:19]} {quote.start}:{quote.end}" in third.stdout
    assert "note: the gold changed" not in second.stdout


def test_gates_fail_the_command(store) -> None:
    reviewed_store(store)
    result = eval_cli("--engine", "rules", "--fail-under", "figure.precision=0.6", "--fail-under", "quote.f1=0.9")
    assert result.exit_code == 1
    assert "fail: figure.precision 0.5000 is under 0.6 (--fail-under)" in result.stderr
    assert "quote.f1" not in result.stderr
    assert store.eval_run(1)["passed"] == 0
    # No baseline to compare with: --max-drop cannot pass. A failed run is never a default baseline.
    result = eval_cli("--engine", "rules", "--max-drop", "0.02")
    assert result.exit_code == 1 and "--max-drop needs a baseline" in result.stderr
    for bad, message in [("quote.f1", "expected METRIC=VALUE"), ("quote.nope=1", "unknown metric 'quote.nope'")]:
        result = eval_cli("--engine", "rules", "--fail-under", bad)
        assert result.exit_code == 1 and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_a_loss_of_recall_fails_against_the_baseline(store) -> None:
    """The mechanism CI relies on: a prompt or engine change that loses items fails --max-drop."""
    reviewed_store(store)
    assert eval_cli("--engine", "rules").exit_code == 0
    golds, _ = evaluate.gold_from_store(store)

    class LosesAQuote(RulesProposer):
        async def propose(self, document):
            result = await super().propose(document)
            quotes = [p for p in result.proposals if p.annotation.kind == "quote"]
            result.proposals.remove(quotes[0])
            return result

    report = evaluate.evaluate_engine(LosesAQuote(), golds, store)
    comparison = evaluate.compare(report, evaluate.resolve_baseline(None, store, "rules", None, "store"))
    failures = evaluate.gate_failures(report, {}, 0.02, comparison)
    assert any(line.startswith("quote.recall dropped") for line in failures)
    assert len(comparison.newly_missed) == 2 and not comparison.newly_found  # one quote in each document
    assert {e.outcome for e in comparison.newly_missed} == {"fn"}
    # The other way round, the lost quotes are newly found.
    back = evaluate.compare(evaluate.evaluate_engine(RulesProposer(), golds, store), report)
    assert [e.key for e in back.newly_found] == [e.key for e in comparison.newly_missed]


def test_report_file_and_baseline_file(store, tmp_path: Path) -> None:
    reviewed_store(store)
    result = eval_cli("--engine", "rules", "--report", "first.json")
    assert result.exit_code == 0
    data = json.loads((tmp_path / "first.json").read_text())
    assert data["engine"] == "rules" and data["metrics"]["quote.f1"] == 1.0 and data["examples"]
    result = eval_cli("--engine", "rules", "--baseline", "first.json", "--max-drop", "0")
    assert result.exit_code == 0 and "baseline" in result.stdout
    assert eval_cli("--engine", "rules", "--baseline", "1").exit_code == 0
    result = eval_cli("--engine", "rules", "--baseline", "99")
    assert result.exit_code == 1 and "no eval run 99" in result.stderr
    (tmp_path / "bad.json").write_text("{}")
    result = eval_cli("--engine", "rules", "--baseline", "bad.json")
    assert result.exit_code == 1 and "error: bad.json: not an eval report (KeyError: 'engine')" in result.stderr


def test_gold_and_predictions_from_files_need_no_db(store, tmp_path: Path) -> None:
    reviewed_store(store)
    assert runner.invoke(app, ["export", "-o", "gold.jsonl"], catch_exceptions=False).exit_code == 0
    docs = [json.loads(line) for line in (tmp_path / "gold.jsonl").read_text().splitlines()]
    gold_quotes = sum(1 for doc in docs for a in doc["annotations"] if a["kind"] == "quote")
    predictions = []
    for doc in docs:  # the gold itself, less its first quote, as predictions
        quotes = [a for a in doc["annotations"] if a["kind"] == "quote"]
        doc["annotations"] = [{**a, "status": "proposed"} for a in doc["annotations"] if a is not quotes[0]]
        predictions.append(json.dumps(doc))
    (tmp_path / "pred.jsonl").write_text("\n".join(predictions) + "\n")
    store.close()
    (tmp_path / "labels.db").rename(tmp_path / "kept.db")
    result = eval_cli("--gold", "gold.jsonl", "--pred", "pred.jsonl")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "labels.db").exists()  # no store was made
    assert "not stored" in result.stdout
    line = next(line for line in result.stdout.splitlines() if "quote.recall " in line)
    assert f"{(gold_quotes - 2) / gold_quotes:.4f}" in line
    # The engine path against a gold file, and a broken gold file.
    assert eval_cli("--gold", "gold.jsonl", "--engine", "rules").exit_code == 0
    (tmp_path / "broken.jsonl").write_text('{"text": "x"\n')
    result = eval_cli("--gold", "broken.jsonl", "--engine", "rules")
    assert result.exit_code == 1 and result.stderr.startswith("error: broken.jsonl:1: invalid JSON")


# ------------------------------------------------------------------------- the llm engine


def test_llm_eval_uses_the_cache_and_repeat_reports_flips(store) -> None:
    first, _ = reviewed_store(store)
    golds, _ = evaluate.gold_from_store(store)
    quote = {"text": "The convoy is stuck", "speaker": "Suleiman Abdulqader", "cue": "told", "quote_type": "direct"}
    other = {"text": "Al Jazeera", "speaker": None, "cue": "told", "quote_type": "direct"}
    calls = itertools.count()

    def answer(request: dict):
        if "QUOTATION" not in request_text(request, role="system"):
            return reply_for(request, {"items": []})
        items = [quote] + ([other] if next(calls) // 2 % 2 else [])  # every other pass of two documents
        return reply_for(request, {"items": [i for i in items if i["text"] in request_text(request, role="user")]})

    from annotator.propose.llm import LLMEngine

    with ScriptedServer(answer) as server:
        def engine():
            return LLMEngine("scripted", base_url=server.base_url, api_key="sk-test-SECRETKEY123", kinds=["quote"],
                             backoff=(0.01, 0.02))

        report = evaluate.evaluate_engine(engine(), golds, store, kinds=["quote"])
        asked = server.request_count
        assert asked == 2 and report.failures == 0
        again = evaluate.evaluate_engine(engine(), golds, store, kinds=["quote"])
        assert server.request_count == asked  # answered from the cache
        assert again.metrics == report.metrics
        repeated = evaluate.evaluate_engine(engine(), golds, store, kinds=["quote"], repeat=3)
        assert server.request_count == asked + 6  # repetitions ask afresh
    assert repeated.repeat == 3 and repeated.spread["quote.precision"]["max"] > repeated.spread["quote.precision"]["min"]
    flips = repeated.flips()
    assert flips and all(f.example.text == other["text"] and 0 < f.times < 3 for f in flips)
    assert all(f.example.outcome == "fp" for f in flips)
    assert repeated.failures == 0
    evaluate.store_report(store, repeated)
    stored = store.eval_run(repeated.id)
    assert stored["repeat"] == 3 and {e["repetition"] for e in stored["examples"]} == {0, 1, 2}
    assert "SECRETKEY" not in json.dumps(stored)


def test_failed_requests_are_counted_and_stored(store) -> None:
    reviewed_store(store)
    golds, _ = evaluate.gold_from_store(store)

    def answer(request: dict):
        return Fault.server_error() if "FIGURE" in request_text(request, role="system") else reply_for(request, {"items": []})

    from annotator.propose.llm import LLMEngine

    with ScriptedServer(answer) as server:
        engine = LLMEngine("scripted", base_url=server.base_url, kinds=["quote", "figure"], attempts=2,
                           backoff=(0.01, 0.02))
        report = evaluate.evaluate_engine(engine, golds, store, kinds=["quote", "figure"])
    assert report.failures == 2  # the figure request of each document, after its retries
    assert report.metrics["figure.recall"] == 0.0
    evaluate.store_report(store, report)
    assert store.eval_run(report.id)["failures"] == 2
    # An answer with a transport failure is not cached: the next eval asks again.
    assert store.conn.execute("SELECT count(*) FROM responses").fetchone()[0] == 0


def test_a_prompt_change_is_evaluated_against_the_last_run_of_the_model(store, tmp_path: Path) -> None:
    """The CI story: the same model with a new prompt set, compared with its previous run, fails the gate."""
    reviewed_store(store)
    quote = {"text": "The convoy is stuck", "speaker": "Suleiman Abdulqader", "cue": "told", "quote_type": "direct"}

    def answer(request: dict):
        # The old prompt finds the quote; the new one (asking for "nothing") finds none.
        system = request_text(request, role="system")
        found = "QUOTATION" in system and "nothing" not in system
        return reply_for(request, {"items": [quote] if found and quote["text"] in request_text(request) else []})

    (tmp_path / "v2").mkdir()
    (tmp_path / "v2" / "quote.md").write_text("Find every QUOTATION. Return nothing.\n")
    with ScriptedServer(answer) as server:
        common = ["--engine", "llm", "--base-url", server.base_url, "--model", "scripted", "--kind", "quote"]
        first = eval_cli(*common)
        assert first.exit_code == 0, first.output
        second = eval_cli(*common, "--prompts", "v2", "--max-drop", "0.02")
        asked = server.request_count
    assert second.exit_code == 1
    assert "fail: quote.recall dropped" in second.stderr and "newly missed (2):" in second.stdout
    runs = [store.eval_run(1), store.eval_run(2)]
    assert runs[0]["prompt_name"] != runs[1]["prompt_name"] and runs[1]["prompt_name"].startswith("quote@")
    assert runs[1]["passed"] == 0 and asked == 4  # a new prompt is not answered from the old one's cache


# ------------------------------------------------------------------- the committed gold


def test_rules_stay_at_or_above_their_stored_baseline_on_the_seed_gold(tmp_path: Path) -> None:
    """What ships is regression-tested against labels.db: a change that loses recall fails CI."""
    shutil.copy(ROOT / "labels.db", tmp_path / "gold.db")
    with sqlite3.connect(tmp_path / "gold.db") as conn:
        baselines = conn.execute("SELECT count(*) FROM eval_runs WHERE engine = 'rules' AND passed IS NOT 0").fetchone()
    assert baselines[0] >= 1, "labels.db holds no rules baseline: run `annotator eval --engine rules` and commit it"
    result = eval_cli("--engine", "rules", "--db", "gold.db", "--max-drop", "0")
    assert result.exit_code == 0, result.output
    assert "baseline (run" in result.stdout and "on 2 documents" in result.stdout
    with open_db(tmp_path / "gold.db") as store:
        golds, under_review = evaluate.gold_from_store(store)
    assert under_review == 0 and {g.document.source for g in golds} == {
        "seeds/000_abf700d5805d1a6d.txt", "seeds/001_51e6285c5e7f3f86.txt"}
    assert sum(len(g.gold) for g in golds) >= 40
