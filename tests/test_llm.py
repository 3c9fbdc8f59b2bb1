"""The `llm` engine against a real OpenAI-compatible HTTP server on 127.0.0.1, through the real client."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from scripted_server import Fault, Reply, ScriptedServer, reply_for, request_text
from typer.testing import CliRunner

from annotator.cli import app
from annotator.propose import propose_documents, run_proposals
from annotator.propose.llm import LLMEngine, estimate_cost, redact
from annotator.schemas import Document

KEY = "sk-test-SECRETSECRET1234567890"
TEXT = (
    "DOC-1 Idlib.\n\n“Khan Shaikhoun has become completely surrounded,” Suleiman Abdulqader told Al Jazeera.\n\n"
    "According to the United Nations, some 400,000 people have been forced to leave their homes."
)
QUOTE = {"text": "Khan Shaikhoun has become completely surrounded", "speaker": "Suleiman Abdulqader",
         "cue": "told", "quote_type": "direct"}
FIGURE = {"text": "some 400,000 people", "value": 400000, "unit": "people", "qualifier": "approximately",
          "subject": "people forced to leave their homes", "attributed_to": "United Nations"}


def answer(request: dict) -> Reply:
    """Quotes for the quote prompt, figures for the figure prompt, nothing for stance."""
    system = request_text(request, role="system")
    items = [QUOTE] if "QUOTATION" in system else [FIGURE] if "FIGURE" in system else []
    items = [item for item in items if item["text"] in request_text(request, role="user")]
    return reply_for(request, {"items": items})


def documents(count: int = 1) -> list[Document]:
    return [Document.from_text(TEXT.replace("DOC-1", f"DOC-{i + 1}"), f"doc{i + 1}.txt") for i in range(count)]


def engine(server: ScriptedServer, **options) -> LLMEngine:
    options = {"api_key": KEY, "backoff": (0.01, 0.05), "timeout": 5.0, **options}
    return LLMEngine(options.pop("model", "scripted-model"), base_url=server.base_url, **options)


def run(store, docs, llm):
    store.add_documents(docs)
    return run_proposals(store, docs, llm)


def test_proposals_are_grounded_and_the_run_is_recorded(store) -> None:
    with ScriptedServer(answer) as server:
        summary = run(store, documents(), engine(server))
        assert server.request_count == 3  # one request per kind
        assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    items = {a.kind: a for a in store.annotations()}
    assert set(items) == {"quote", "figure"}
    quote = items["quote"]
    assert TEXT[quote.start : quote.end] == quote.text == QUOTE["text"]
    fields = quote.fields()
    assert fields["speaker"] == "Suleiman Abdulqader"
    assert TEXT[fields["speaker_start"] : fields["speaker_end"]] == "Suleiman Abdulqader"
    assert items["figure"].fields()["value"] == 400000 and items["figure"].fields()["attributed_to"] == "United Nations"
    origin = quote.origin()
    assert origin["engine"] == "llm" and origin["model"] == "scripted-model" and origin["prompt"].startswith("quote@")
    record = store.run(summary.run_id)
    assert record["engine"] == "llm" and record["model"] == "scripted-model"
    assert record["prompt_name"].split(",")[0] == origin["prompt"] and record["prompt_hash"]
    assert record["tokens_in"] > 0 and record["tokens_out"] > 0 and record["finished_at"]
    assert record["documents"] == 1 and record["failures"] == 0 and record["latency_ms"] > 0
    assert json.loads(record["params"])["temperature"] == 0.0


def test_a_second_identical_run_makes_no_request(store) -> None:
    with ScriptedServer(answer) as server:
        run(store, documents(3), engine(server))
        first = server.request_count
        summary = run(store, documents(3), engine(server))
        assert server.request_count == first == 9
    assert summary.progress.cached == 3
    assert store.run(summary.run_id)["tokens_in"] == 0
    assert store.conn.execute("SELECT count(*) FROM items WHERE proposal = 1").fetchone()[0] == 6  # the cached answers add nothing twice


@pytest.mark.parametrize(
    "fault", [Fault.rate_limit(retry_after=0.3), Fault.server_error(500), Fault.server_error(503), Fault.disconnect()]
)
def test_transient_faults_are_retried(store, fault: Fault) -> None:
    with ScriptedServer(answer) as server:
        server.queue_faults([fault, fault], when="QUOTATION")
        started = time.perf_counter()
        summary = run(store, documents(), engine(server, kinds=["quote"]))
        elapsed = time.perf_counter() - started
        assert server.request_count == 3
    assert summary.progress.failures == 0
    assert [a.kind for a in store.annotations()] == ["quote"]
    if fault.kind == "rate_limit":
        assert elapsed >= 0.6  # Retry-After honoured twice


def test_timeouts_are_retried(store) -> None:
    with ScriptedServer(answer) as server:
        server.queue_faults([Fault.timeout(5)])
        summary = run(store, documents(), engine(server, kinds=["figure"], timeout=0.3))
    assert summary.progress.failures == 0 and [a.kind for a in store.annotations()] == ["figure"]


def test_retries_are_bounded_and_failure_is_recorded_not_cached(store) -> None:
    def failing(request: dict):
        return Fault.server_error(500) if "DOC-2" in request_text(request) else answer(request)

    with ScriptedServer(failing) as server:
        summary = run(store, documents(3), engine(server, kinds=["quote"], attempts=3))
        assert server.request_count == 2 + 3  # two good documents, three tries for the bad one
        assert summary.progress.done == 3 and summary.progress.failures == 1
        [failure] = store.failures()
        assert failure["kind"] == "quote" and "HTTP 500" in failure["reason"] and "after 3 attempts" in failure["reason"]
        assert len(list(store.annotations())) == 2  # one document's failure never stops the run
        # The failed document is asked again on the next run; the others come from the cache.
        server.reset()
        run(store, documents(3), engine(server, kinds=["quote"], attempts=3))
        assert server.request_count == 3 and all("DOC-2" in request_text(r.body) for r in server.requests)


@pytest.mark.parametrize("fault", [Fault.malformed_json(), Fault.truncated_json()])
def test_malformed_and_truncated_answers_are_recorded_with_a_reason(store, fault: Fault) -> None:
    with ScriptedServer(lambda request: fault) as server:
        summary = run(store, documents(), engine(server, kinds=["quote"], reasks=1))
    [failure] = store.failures()
    assert summary.progress.failures == 1
    if fault.kind == "truncated_json":
        assert "cut off" in failure["reason"] and server.request_count == 1
    else:
        assert "not valid JSON" in failure["reason"] and server.request_count == 2  # one re-ask


def test_a_quote_not_in_the_text_is_re_asked_then_recorded(store) -> None:
    invented = {**QUOTE, "text": "We will never surrender the town to anyone"}

    def responder(request: dict) -> Reply:
        return reply_for(request, {"items": [QUOTE, invented]})

    with ScriptedServer(responder) as server:
        run(store, documents(), engine(server, kinds=["quote"], reasks=1))
        assert server.request_count == 2
        re_ask = json.dumps(server.requests[1].body["messages"])
        assert "not in the document" in re_ask and "never surrender" in re_ask
    [failure] = store.failures()
    assert failure["reason"].startswith("not found in the document (best match")
    assert json.loads(failure["claimed"])["text"] == invented["text"]
    [item] = store.annotations()
    assert item.text == QUOTE["text"]  # the good item of the same answer is kept


def test_near_verbatim_quotes_are_realigned_and_flagged(store) -> None:
    straight = {**QUOTE, "text": "Khan Shaikhoun has become  completely\nsurrounded"}
    with ScriptedServer(lambda request: reply_for(request, {"items": [straight]})) as server:
        run(store, documents(), engine(server, kinds=["quote"]))
    [item] = store.annotations()
    row = next(store.proposal_rows([item.id]))
    assert row["text"] == QUOTE["text"] and row["grounding_method"] == "normalized"
    assert 0.9 < row["grounding_score"] < 1.0 and row["claimed_text"] == straight["text"]


def test_json_schema_refusal_falls_back_to_json_object_with_schema(store) -> None:
    with ScriptedServer(answer, refuse_json_schema=True) as server:
        llm = engine(server, kinds=["figure"])
        run(store, documents(2), llm)
        bodies = [r.body for r in server.requests]
    assert bodies[0]["response_format"]["type"] == "json_schema"
    later = [b for b in bodies if b["response_format"]["type"] == "json_object"]
    assert later and later[-1]["response_format"]["schema"]["title"] == "FigureProposals"
    assert [a.kind for a in store.annotations()] == ["figure", "figure"]
    assert store.failures() == []


def test_a_refusal_while_requests_are_in_flight_sends_each_request_in_one_mode(store) -> None:
    # Eight requests in flight are all refused json_schema: each is asked again once, with the
    # schema in json_object; none goes out as a bare json_object, and later ones start in json.
    with ScriptedServer(answer, refuse_json_schema=True, latency=0.05) as server:
        llm = engine(server, kinds=["figure"], concurrency=8)
        run(store, documents(12), llm)
        bodies = [r.body for r in server.requests]
    kinds = [b["response_format"]["type"] for b in bodies]
    assert llm.mode == "json" and set(kinds) == {"json_schema", "json_object"}
    assert all(b["response_format"].get("schema") for b in bodies if b["response_format"]["type"] == "json_object")
    assert kinds.count("json_object") == 12 and kinds.count("json_schema") <= 8
    assert len(list(store.annotations())) == 12 and store.failures() == []


def test_the_engine_is_an_async_context_manager_that_closes_its_client(store) -> None:
    async def propose_within() -> tuple[bool, bool, int]:
        async with llm as opened:
            result = await opened.propose(documents()[0])
            held = llm._client is not None
        return held, llm._client is None, len(result.proposals)

    with ScriptedServer(answer) as server:
        llm = engine(server, kinds=["quote"])
        assert asyncio.run(propose_within()) == (True, True, 1)
        run(store, documents(), llm)  # the run opens and shuts it down itself
        assert llm._client is None


def test_long_documents_are_chunked_and_offsets_mapped_back(store) -> None:
    filler = "\n\n".join(f"Paragraph {i} says nothing of note about the weather today." for i in range(120))
    text = filler + "\n\n" + TEXT
    with ScriptedServer(answer) as server:
        run(store, [Document.from_text(text, "long.txt")], engine(server, kinds=["quote"], max_chars=2000, overlap=300))
        assert server.request_count >= 4
    [quote] = store.annotations()
    assert quote.start > len(filler) and text[quote.start : quote.end] == QUOTE["text"]


def test_concurrency_is_bounded_and_runs_overlap(store) -> None:
    with ScriptedServer(answer, latency=0.2) as server:
        started = time.perf_counter()
        run(store, documents(12), engine(server, kinds=["quote"], concurrency=4))
        elapsed = time.perf_counter() - started
    assert 0.6 <= elapsed < 2.0  # 12 requests, 4 at a time: 3 waves of 0.2 s, not 12


def test_interrupted_run_keeps_finished_documents_and_resumes(store) -> None:
    docs = documents(6)
    store.add_documents(docs)

    async def interrupted(server: ScriptedServer) -> None:
        task = asyncio.ensure_future(propose_documents(store, docs, engine(server, kinds=["quote"], concurrency=1)))
        while store.conn.execute("SELECT count(*) FROM items WHERE proposal = 1").fetchone()[0] < 2:
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with ScriptedServer(answer, latency=0.1) as server:
        asyncio.run(interrupted(server))
        done = store.conn.execute("SELECT count(*) FROM items WHERE proposal = 1").fetchone()[0]
        assert 2 <= done < 6
        assert store.conn.execute("SELECT error FROM runs").fetchone()[0] == "interrupted"
        server.reset()
        run_proposals(store, docs, engine(server, kinds=["quote"], concurrency=1))
        asked = {request_text(r.body, role="user").split()[0] for r in server.requests}
    assert len(asked) == 6 - done  # finished documents are not sent again
    assert store.conn.execute("SELECT count(*) FROM items WHERE proposal = 1").fetchone()[0] == 6


def test_the_api_key_never_reaches_the_store_or_messages(store, tmp_path: Path) -> None:
    def leaky(request: dict) -> Reply:
        return Reply.error(401, f"Incorrect API key provided: {KEY}. You can find your key at ...")

    with ScriptedServer(leaky) as server:
        run(store, documents(), engine(server, kinds=["quote"]))
    [failure] = store.failures()
    assert "HTTP 401" in failure["reason"] and KEY not in failure["reason"] and "***" in failure["reason"]
    store.close()
    data = b"".join(path.read_bytes() for path in tmp_path.glob("labels.db*"))
    assert KEY.encode() not in data and b"SECRETSECRET" not in data
    assert redact(f"key {KEY} and sk-otherkey12345678", KEY) == "key *** and sk-***"


def test_cost_estimate() -> None:
    assert estimate_cost("gpt-4o-mini", 1_000_000, 1_000_000) == pytest.approx(0.75)
    assert estimate_cost("gpt-4o-mini-2024-07-18", 2_000_000, 0) == pytest.approx(0.30)
    assert estimate_cost("qwen2.5:7b", 10**6, 10**6) == 0.0


def test_cli_propose_against_a_base_url_writes_the_contract(tmp_path: Path, monkeypatch, seeds: Path) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    with ScriptedServer(answer) as server:
        result = CliRunner().invoke(
            app, ["propose", "a.txt", "--base-url", server.base_url, "--out", "preds.jsonl"], catch_exceptions=False
        )
        assert result.exit_code == 0, result.stderr
        assert server.requests[0].path == "/v1/models"
        assert server.requests[1].body["model"] == "scripted-model"  # the model the server lists
    assert "engine llm: scripted-model" in result.stderr and KEY not in result.stderr + result.stdout
    assert "proposed 2 items for 1 documents" in result.stdout
    [line] = (tmp_path / "preds.jsonl").read_text(encoding="utf-8").splitlines()
    record = json.loads(line)
    assert record["text"] == TEXT and {a["status"] for a in record["annotations"]} == {"proposed"}
    for annotation in record["annotations"]:
        assert TEXT[annotation["start"] : annotation["end"]] == annotation["text"]
        assert annotation["origin"]["engine"] == "llm"


def test_cli_propose_chooses_rules_without_a_key(tmp_path: Path, seeds: Path) -> None:
    result = CliRunner().invoke(app, ["propose", str(seeds), "--out", "p.jsonl"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "engine rules (no OPENAI_API_KEY or base URL is configured)" in result.stderr
    lines = (tmp_path / "p.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and all(json.loads(line)["annotations"] for line in lines)
    bad = CliRunner().invoke(app, ["propose", str(seeds), "--engine", "llm"], catch_exceptions=False)
    assert bad.exit_code == 1 and "needs OPENAI_API_KEY or --base-url" in bad.stderr
