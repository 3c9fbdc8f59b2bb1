"""The `llm` engine against llama.cpp's own OpenAI-compatible server with a small GGUF model.

A real server on 127.0.0.1 (`python -m llama_cpp.server`, see `llama_server.py`), the real openai
client and instructor: nothing is mocked. SmolLM2-135M proposes poorly; these tests prove the path
(request, mode fallback, parsing, grounding, recording), never the quality of the answers.
"""

from __future__ import annotations

import json
import os

import pytest
from llama_server import LlamaServer, missing_modules

from annotator.propose import run_proposals
from annotator.schemas import Document

if missing_modules():
    pytest.skip(
        f"llama.cpp's server needs {', '.join(missing_modules())}: pip install -e '.[local]'", allow_module_level=True
    )


from annotator.propose.llm import LLMEngine  # noqa: E402

# Two paragraphs of a seed article: one indirect quote, one reported statement.
TEXT = (
    "Hayat Tahrir al-Sham, Syria\u2019s main al Qaida-linked faction, said in a statement that its fighters carried "
    "out \u201ca redeployment\u201d, withdrawing to areas south of the town of Khan Sheikhoun.\n\n"
    "Syrian state TV said government troops have expanded their presence in the Khan Sheikhoun area."
)


@pytest.fixture(scope="module")
def server():
    """One llama.cpp server for the module; answers capped at 96 tokens to keep a run to seconds."""
    with LlamaServer(n_ctx=2048, n_threads=2, max_tokens=96) as running:
        yield running


def test_the_server_lists_its_model_and_stops_without_a_trace() -> None:
    with LlamaServer(n_ctx=512) as server:
        pid = server.process.pid
        assert server.model_id.endswith(".gguf")
    assert server.process is None
    assert not os.path.exists(f"/proc/{pid}")  # reaped, not a zombie


def test_llm_engine_end_to_end_through_llama_cpp_server(store, server: LlamaServer) -> None:
    document = Document.from_text(TEXT, "seed-excerpt.txt")
    store.add_documents([document])
    engine = LLMEngine(server.model_id, base_url=server.base_url, kinds=["quote"], reasks=0, timeout=120)

    summary = run_proposals(store, [document], engine)

    # llama-cpp-python's server refuses `response_format: {"type": "json_schema"}`: its request
    # model allows only "text" and "json_object", and the pydantic error comes back as HTTP 500
    # naming json_schema. The engine then switches, for good, to instructor's JSON mode with
    # `{"type": "json_object", "schema": ...}`, which the server compiles to a grammar.
    assert engine.mode == "json"
    record = store.run(summary.run_id)
    assert record["engine"] == "llm" and record["model"] == server.model_id
    assert record["finished_at"] and record["error"] is None and record["documents"] == 1
    assert summary.progress.done == 1
    for item in store.annotations():
        assert TEXT[item.start : item.end] == item.text and item.kind == "quote"
    failures = store.failures()
    assert all(failure["reason"].strip() for failure in failures)
    assert record["failures"] == len(failures)
    for failure in failures:
        if failure["claimed"]:
            assert json.loads(failure["claimed"])["text"]
