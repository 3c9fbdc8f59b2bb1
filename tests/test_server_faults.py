"""A faulty or hostile model server, through the real llm engine and the scripted loopback server.

Every case ends in a failure recorded with its reason, within a bounded time, with nothing cached
that is not a real answer, and with the API key nowhere in the store. Timeouts are short here so
the suite stays fast; the proportions are what the defaults keep (a document gets 2 × --timeout).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from scripted_server import Fault, Reply, ScriptedServer, reply_for, request_text
from test_llm import KEY, QUOTE, TEXT, answer, documents, engine, run
from typer.testing import CliRunner

from annotator.cli import app
from annotator.propose import DocumentResult, run_proposals
from annotator.propose.llm import MAX_ANSWER_BYTES
from annotator.store import open_db

ROOT = Path(__file__).parent.parent


def stored_bytes(folder: Path) -> bytes:
    """Every byte of the database and its WAL: what a `grep` of the store would see."""
    return b"".join(path.read_bytes() for path in folder.glob("labels.db*"))


def cached(store) -> int:
    return store.db["responses"].count


@pytest.mark.parametrize("status", [401, 403])
def test_an_auth_failure_is_not_cached_and_the_next_run_asks_again(store, status: int) -> None:
    with ScriptedServer(answer) as server:
        server.queue_faults([Fault.auth_error(status)])
        summary = run(store, documents(), engine(server, kinds=["quote"]))
        assert server.request_count == 1  # a refused key is not retried within the run
        [failure] = store.failures()
        assert failure["reason"].startswith(f"HTTP {status}: Incorrect API key provided")
        assert summary.progress.failures == 1 and cached(store) == 0
        # The user fixes the key: the next run asks again instead of repeating the refusal.
        server.reset()
        again = run(store, documents(), engine(server, kinds=["quote"]))
        assert server.request_count == 1 and again.progress.cached == 0 and again.progress.failures == 0
    assert [a.kind for a in store.annotations()] == ["quote"] and cached(store) == 1


@pytest.mark.parametrize("fault", [Fault.server_error(502), Fault.disconnect(), Fault.timeout(30)])
def test_server_errors_lost_connections_and_timeouts_are_not_cached(store, fault: Fault) -> None:
    with ScriptedServer(lambda request: fault) as server:
        run(store, documents(), engine(server, kinds=["quote"], attempts=2, timeout=0.3))
    assert len(store.failures()) == 1 and cached(store) == 0


def test_a_real_answer_that_fails_is_cached(store) -> None:
    with ScriptedServer(lambda request: Fault.malformed_json()) as server:
        run(store, documents(), engine(server, kinds=["quote"], reasks=0))
        server.reset()
        summary = run(store, documents(), engine(server, kinds=["quote"], reasks=0))
        assert server.request_count == 0 and summary.progress.cached == 1  # the same answer would come back


def test_a_trickled_answer_is_cut_off_at_the_deadline(store) -> None:
    # A byte every 0.2 s: ~500 bytes would take 100 s, and no single read ever waits 0.5 s.
    with ScriptedServer(answer) as server:
        server.queue_faults([Fault.trickle(interval=0.2)] * 5)
        started = time.perf_counter()
        summary = run(store, documents(), engine(server, kinds=["quote"], timeout=0.5))
        elapsed = time.perf_counter() - started
        assert server.request_count == 2  # the first attempt cut at 0.5 s, the second at the 1 s budget
    [failure] = store.failures()
    assert "did not answer in time" in failure["reason"] and "gave up after 1 s and 2 attempts" in failure["reason"]
    assert 0.9 < elapsed < 2.5 and summary.progress.failures == 1 and cached(store) == 0


def test_a_slow_but_steady_answer_within_the_deadline_is_read(store) -> None:
    with ScriptedServer(answer) as server:
        server.queue_faults([Fault.trickle(interval=0.0005)])
        run(store, documents(), engine(server, kinds=["quote"], timeout=5))
    assert store.failures() == [] and [a.kind for a in store.annotations()] == ["quote"]


def test_a_server_that_never_answers_costs_a_document_twice_the_timeout(store) -> None:
    with ScriptedServer(lambda request: Fault.timeout(30)) as server:
        started = time.perf_counter()
        summary = run(store, documents(2), engine(server, timeout=0.3, attempts=5))
        elapsed = time.perf_counter() - started
        requests = server.request_count
    # 2 documents × 3 kinds, each kind in parallel, all given up after 2 × 0.3 s (not 5 × 0.3 s).
    assert elapsed < 1.5, elapsed
    assert requests <= 2 * 3 * 2
    assert summary.progress.failures == 6 and summary.progress.failed_documents == 2
    assert all("did not answer in time" in f["reason"] for f in store.failures())
    assert cached(store) == 0


def test_the_budget_names_the_last_error(store) -> None:
    with ScriptedServer(lambda request: Fault.server_error(503)) as server:
        # A timeout far above one answer's time on a busy machine: every attempt ends in a 503.
        run(store, documents(), engine(server, kinds=["quote"], timeout=1.0, attempts=500, backoff=(0.05, 0.05)))
    [failure] = store.failures()
    assert failure["reason"].startswith("HTTP 503: ") and "gave up after 2 s" in failure["reason"]


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "read-until-close"])
def test_a_huge_answer_fails_fast_is_not_re_asked_and_not_cached(store, declare_length: bool) -> None:
    with ScriptedServer(answer) as server:
        server.queue_faults([Fault.huge_answer(20_000_000, declare_length=declare_length)])
        started = time.perf_counter()
        summary = run(store, documents(), engine(server, kinds=["quote"]))
        elapsed = time.perf_counter() - started
        assert server.request_count == 1  # neither retried nor sent back in a re-ask
        bodies = sum(len(json.dumps(r.body)) for r in server.requests)
    [failure] = store.failures()
    assert failure["reason"].startswith("the answer is too large") and f"{MAX_ANSWER_BYTES:,}" in failure["reason"]
    assert elapsed < 3, elapsed
    assert bodies < 100_000 and summary.progress.failures == 1 and cached(store) == 0


def test_an_answer_under_the_cap_is_read(store) -> None:
    with ScriptedServer(answer) as server:
        server.queue_faults([Fault.huge_answer(2_000)])
        run(store, documents(), engine(server, kinds=["quote"], reasks=0, max_answer_bytes=10_000))
    [failure] = store.failures()
    assert failure["reason"].startswith("not found in the document")  # read, then failed grounding


def test_the_key_echoed_anywhere_never_reaches_the_store(store, tmp_path: Path) -> None:
    """The server repeats the API key in error bodies, item fields, claims and malformed answers."""
    planted = {
        "quote": Fault.echo_key({"items": [
            {**QUOTE, "speaker": "{key}", "cue": "told {key}"},  # a good span whose fields hold the key
            {**QUOTE, "text": "the key is {key}"},  # a claim not in the text: stored as a failure
        ]}),
        "figure": Fault.echo_key("Sure! Your key {key} works, here are the figures"),  # not JSON
        "stance": Fault.auth_error(401, echo_key=True),
    }

    def responder(request: dict) -> Reply | Fault:
        system = request_text(request, role="system")
        for kind, fault in planted.items():
            if kind.upper() in system or (kind == "quote" and "QUOTATION" in system):
                return fault
        return reply_for(request, {"items": []})

    with ScriptedServer(responder) as server:
        run(store, documents(), engine(server, reasks=0))
        assert {r.headers["authorization"] for r in server.requests} == {f"Bearer {KEY}"}
    reasons = [f["reason"] for f in store.failures()]
    assert any("HTTP 401" in r for r in reasons) and any("not valid JSON" in r for r in reasons)
    assert any(f["claimed"] and "***" in f["claimed"] for f in store.failures())
    [quote] = store.annotations()
    assert quote.fields()["speaker"] == "***" and quote.fields()["cue"] == "told ***"
    store.close()
    data = stored_bytes(tmp_path)
    assert data.count(KEY.encode()) == 0 and data.count(b"SECRETSECRET") == 0


def test_a_run_that_fails_stores_its_error_redacted(store) -> None:
    class Broken:
        """An engine that dies on a bug whose message holds the key."""

        name, model, prompt_name, prompt_hash, params, concurrency, cacheable = "broken", None, "p", "h", {}, 1, False

        def redact(self, text: str) -> str:
            return text.replace(KEY, "***")

        async def propose(self, document) -> DocumentResult:
            raise RuntimeError(f"bad header Authorization: Bearer {KEY}")

    store.add_documents(documents())
    with pytest.raises(RuntimeError):
        run_proposals(store, documents(), Broken())
    [row] = store.conn.execute("SELECT error, finished_at FROM runs").fetchall()
    assert row[0] == "RuntimeError: bad header Authorization: Bearer ***" and row[1]


def test_timeout_is_a_setting_of_eval_and_its_environment(tmp_path: Path, monkeypatch) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"source": "a.txt", "text": TEXT, "annotations": [], "reviewed": True}) + "\n",
                    encoding="utf-8")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    with ScriptedServer(lambda request: Fault.timeout(30)) as server:
        for args, env in ((["--timeout", "0.3"], None), ([], "0.3")):
            if env is not None:
                monkeypatch.setenv("ANNOTATOR_TIMEOUT", env)
            started = time.perf_counter()
            result = CliRunner().invoke(
                app, ["eval", "--engine", "llm", "--model", "m", "--base-url", server.base_url, "--gold", str(gold),
                      "--kind", "quote", *args],
                catch_exceptions=False,
            )
            elapsed = time.perf_counter() - started
            assert "1 proposals or requests failed" in result.stderr, result.stderr
            assert elapsed < 3, elapsed  # 2 × 0.3 s, not 2 × 120 s
    bad = CliRunner().invoke(app, ["eval", "--engine", "llm", "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
                                   "--gold", str(gold), "--timeout", "0"], catch_exceptions=False)
    assert bad.exit_code != 0 and "Traceback" not in bad.output


# ------------------------------------------------------------------------- runs killed with -9

_RUNNER = textwrap.dedent(
    """
    import asyncio, sys
    sys.path.insert(0, {tests!r})
    from test_llm import documents, engine
    from annotator.propose.llm import LLMEngine
    from annotator.propose import propose_documents
    from annotator.store import open_db

    store = open_db({db!r})
    docs = documents(50)
    store.add_documents(docs)
    llm = LLMEngine("m", base_url={url!r}, api_key="k", kinds=["quote"], concurrency=1, timeout=60)
    asyncio.run(propose_documents(store, docs, llm))
    """
)


def start_run_process(tmp_path: Path, server: ScriptedServer) -> subprocess.Popen:
    """A real `propose` run in another process, slowed down by the server; returns once its run is recorded."""
    script = _RUNNER.format(tests=str(Path(__file__).parent), db=str(tmp_path / "labels.db"), url=server.base_url)
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with open_db(tmp_path / "labels.db") as store:
            if store.conn.execute("SELECT count(*) FROM items WHERE proposal = 1").fetchone()[0] >= 1:
                return process
        assert process.poll() is None, "the run process died"
        time.sleep(0.05)
    process.kill()
    raise AssertionError("the run never started")


def test_a_run_killed_with_kill_9_is_marked_interrupted_and_a_live_one_is_not(tmp_path: Path) -> None:
    with ScriptedServer(answer, latency=0.05) as server:
        process = start_run_process(tmp_path, server)
        try:
            # Another command opens the store while the run goes on: the run is left running.
            with open_db(tmp_path / "labels.db") as store:
                [run_row] = store.conn.execute("SELECT id, pid, finished_at, error FROM runs").fetchall()
                assert run_row[1] == process.pid and run_row[2] is None and run_row[3] is None
                assert store.run_counts()["running"] == 1
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
    with open_db(tmp_path / "labels.db") as store:
        record = store.run(run_row[0])
        stored = store.conn.execute("SELECT count(DISTINCT doc) FROM items").fetchone()[0]
        assert record["finished_at"] and record["error"].startswith(f"interrupted: process {process.pid} ended")
        assert record["documents"] == stored >= 1
        assert store.run_counts() == {"running": 0, "interrupted": 1, "failed": 0, "finished": 0}
    result = CliRunner().invoke(app, ["stats", "--db", str(tmp_path / "labels.db")], catch_exceptions=False)
    assert "runs 1 (1 interrupted)" in result.stdout, result.stdout


def test_liveness_is_judged_by_pid_start_time_and_host(store) -> None:
    def unfinished(pid: int | None, host: str | None, process: str | None, started_at: str = "2999") -> int:
        cursor = store.conn.execute(
            "INSERT INTO runs (engine, started_at, pid, host, process) VALUES ('llm', ?, ?, ?, ?)",
            [started_at, pid, host, process],
        )
        return int(cursor.lastrowid)

    import socket

    from annotator.store import _process_started

    here = socket.gethostname()
    alive = unfinished(os.getpid(), here, _process_started(os.getpid()))
    reused = unfinished(os.getpid(), here, "another-boot:123")  # the pid now belongs to another process
    gone = unfinished(2**22 + 17, here, None)  # above any pid_max: no such process
    elsewhere = unfinished(2**22 + 17, "another-host", None)  # cannot be checked from here
    legacy_recent = unfinished(None, None, None)
    legacy_old = unfinished(None, None, None, started_at="2000-01-01T00:00:00+00:00")
    assert sorted(store.close_abandoned_runs()) == sorted([reused, gone, legacy_old])
    left = {row[0] for row in store.conn.execute("SELECT id FROM runs WHERE finished_at IS NULL")}
    assert left == {alive, elsewhere, legacy_recent}
    assert store.close_abandoned_runs() == []


def test_listing_the_models_is_bounded_too() -> None:
    from annotator.errors import AnnotatorError
    from annotator.propose.llm import server_model

    with ScriptedServer(answer) as server:
        assert server_model(server.base_url, KEY) == "scripted-model"
    # A server that trickles its model list is cut off at the deadline, not waited on for minutes.
    with ScriptedServer(answer) as server:
        server.models_trickle = 0.2
        started = time.perf_counter()
        with pytest.raises(AnnotatorError, match="cannot list models"):
            server_model(server.base_url, KEY, timeout=0.5)
        assert time.perf_counter() - started < 2.5  # two tries of 0.5 s, not 0.2 s × ~150 bytes × 2
