"""`annotator report`: what reviewers made of each engine run's proposals, against a hand-made decision log."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

import annotator.store
from annotator.cli import app
from annotator.report import engine_report, report_dict
from annotator.schemas import Document, Figure, Origin, Quote
from annotator.store import manual_id, open_db

runner = CliRunner()

TEXT = ('"We will stay," said Ahmed Sheikho. "The town is empty," said Lina Haddad. "Nobody came back," said '
        'Omar Novak. "Help is late," a voice said. Nearly 400,000 people fled.')
LLM = Origin(engine="llm", model="gpt-4o-mini", prompt="quotes@aaa")
RULES = Origin(engine="rules", prompt="rules@x")
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _quote(words: str, speaker: str | None, origin: Origin | None, cut: int = 0) -> Quote:
    start = TEXT.index(words)
    end = start + len(words) - cut
    return Quote(start=start, end=end, text=TEXT[start:end], speaker=speaker, origin=origin)


def _figure(value: float) -> Figure:
    start = TEXT.index("400,000 people")
    return Figure(start=start, end=start + 14, text="400,000 people", value=value, unit="people", origin=RULES)


class Clock:
    """`annotator.store.now` at a time the test sets, in seconds after START."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> str:
        return (START + timedelta(seconds=self.seconds)).isoformat(timespec="microseconds")


@pytest.fixture
def logged(tmp_path, monkeypatch):
    """A decision log with known answers (see each test).

    llm (quotes@aaa) proposed Q1 Q2 Q3, rules proposed Q1 (its own item) and a figure.
    alice, one session: t=0 accept llm Q1 (first of the session: not timed), t=10 edit llm Q2 (speaker and
    span), t=30 reject llm Q3, t=36 accept rules Q1, t=1000 edit the figure's value (after a break: not
    timed), t=1004 add a quote nobody proposed, t=1010 add a quote over llm Q3 (which she rejected).
    bob, another session: t=2000 accept llm Q1 (first: not timed), t=2004 accept llm Q2, t=2010 reject
    llm Q3 and rules Q1 in one batch (6 s shared: 3 s each).
    """
    clock = Clock()
    monkeypatch.setattr(annotator.store, "now", clock)
    path = tmp_path / "labels.db"
    with open_db(path) as store:
        document = Document.from_text(TEXT, "a.txt", "A")
        store.add_documents([document])
        q1, q2, q3 = (store.add_proposals(document.id, [quote])[0] for quote in (
            _quote("We will stay", "Ahmed Sheikho", LLM), _quote("The town is empty", "Lina Haddad", LLM),
            _quote("Nobody came back", "Omar Novak", LLM)))
        r1, f1 = store.add_proposals(document.id, [_quote("We will stay", "Ahmed Sheikho", RULES), _figure(400000)])

        def at(seconds: float, *decision, **options) -> None:
            clock.seconds = seconds
            store.record_decision(*decision, **options)

        at(0, q1, "accept", "alice")
        at(10, q2, "edit", "alice", _quote("The town is empty", "Lina Haddid", LLM, cut=6))
        at(30, q3, "reject", "alice")
        at(36, r1, "accept", "alice")
        at(1000, f1, "edit", "alice", _figure(500000))
        at(1004, manual_id(), "add", "alice", _quote("Help is late", "a voice", None), document.id)
        at(1010, manual_id(), "add", "alice", _quote("Nobody came back", "Omar Novak", None, cut=5), document.id)
    with open_db(path) as store:  # another process: another session
        clock.seconds = 2000
        store.record_decision(q1, "accept", "bob")
        clock.seconds = 2004
        store.record_decision(q2, "accept", "bob")
        clock.seconds = 2010
        store.record_decisions([q3, r1], "reject", "bob")
    return path


def _rows(path) -> dict[tuple[str, str], dict]:
    with open_db(path) as store:
        return {(row["engine"], row["kind"]): row for row in report_dict(engine_report(store))["rows"]}


def test_counts_per_reviewer_label(logged) -> None:
    llm = _rows(logged)[("llm", "quote")]
    assert (llm["model"], llm["prompt"]) == ("gpt-4o-mini", "quotes@aaa")
    # Three proposals, six labels: alice accepted Q1, edited Q2, rejected Q3; bob accepted Q1 and Q2, rejected Q3.
    assert (llm["proposed"], llm["decisions"]) == (3, 6)
    assert (llm["accepted"], llm["edited"], llm["rejected"]) == (3, 1, 2)
    rules = _rows(logged)[("rules", "quote")]
    assert (rules["proposed"], rules["accepted"], rules["edited"], rules["rejected"]) == (1, 1, 0, 1)


def test_field_and_span_corrections(logged) -> None:
    rows = _rows(logged)
    llm = rows[("llm", "quote")]
    # Four labels kept a proposal (3 accepted + 1 edited); one changed the speaker and the span.
    assert llm["field_correction"]["speaker"] == 0.25
    assert llm["field_correction"]["quote_type"] == 0.0
    assert llm["span_changed"] == 0.25
    figure = rows[("rules", "figure")]
    assert figure["field_correction"]["value"] == 1.0 and figure["field_correction"]["unit"] == 0.0
    assert figure["span_changed"] == 0.0
    assert rows[("rules", "quote")]["field_correction"]["speaker"] == 0.0


def test_missed_items_are_added_ones_the_run_did_not_propose(logged) -> None:
    rows = _rows(logged)
    # "Help is late" matches no proposal; the item over llm Q3 matches Q3, which llm proposed (rejected: not missed).
    assert rows[("llm", "quote")]["missed"] == 1
    assert rows[("rules", "quote")]["missed"] == 2
    assert rows[("rules", "figure")]["missed"] == 0


def test_median_seconds_per_decision(logged) -> None:
    rows = _rows(logged)
    # llm: alice 10 (Q2), 20 (Q3); bob 4 (Q2), 3 (Q3, half of a 6 s batch); the firsts of a session untimed.
    assert rows[("llm", "quote")]["median_seconds"] == 7.0
    assert rows[("llm", "quote")]["timed"] == 4
    # rules Q1: alice 6 s, bob 3 s (the batch's other half).
    assert rows[("rules", "quote")]["median_seconds"] == 4.5
    assert rows[("rules", "figure")]["median_seconds"] is None  # after a 964 s break: not timed


def test_decision_times_worked_out_in_a_second_process_are_the_same(logged) -> None:
    with open_db(logged) as store:
        here = report_dict(engine_report(store, elsewhere=False))
        assert report_dict(engine_report(store, elsewhere=True)) == here
    assert {row["timed"] for row in here["rows"]} == {4, 2, 0}


def test_undone_decisions_leave_the_counts(logged) -> None:
    with open_db(logged) as store:
        store.undo("bob")  # the batch: Q3 and rules Q1 undecided by bob again
        rows = {(row.engine, row.kind): row for row in engine_report(store)}
    assert (rows[("llm", "quote")].decisions, rows[("llm", "quote")].rejected) == (5, 1)
    assert rows[("rules", "quote")].rejected == 0


def test_report_command_json_keys_and_table(logged) -> None:
    result = runner.invoke(app, ["report", "--json", "--db", str(logged)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["rows"]
    assert len(rows) == 3
    assert {"engine", "model", "prompt", "kind", "proposed", "accepted", "edited", "rejected", "missed",
            "field_correction", "span_changed", "median_seconds"} <= set(rows[0])
    assert [row["engine"] for row in rows] == ["llm", "rules", "rules"]
    result = runner.invoke(app, ["report", "--db", str(logged)], catch_exceptions=False)
    assert result.exit_code == 0
    # One table per run, titled by it, its kinds side by side.
    assert "llm/gpt-4o-mini@quotes@aaa" in result.stdout and "rules/-@rules@x" in result.stdout
    assert "speaker corrected" in result.stdout and "25%" in result.stdout and "7.0" in result.stdout


def test_report_command_needs_a_store(tmp_path) -> None:
    result = runner.invoke(app, ["report", "--db", str(tmp_path / "missing.db")])
    assert result.exit_code == 1 and "no such database" in result.stderr
