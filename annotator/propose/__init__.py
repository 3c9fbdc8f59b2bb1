"""Proposal engines behind one small interface: a document in, proposals out.

- `rules` (`annotator.propose.rules`): deterministic, offline, no model.
- `llm` (`annotator.propose.llm`): openai + instructor against any OpenAI-compatible endpoint.
- `local` (`annotator.propose.local`): llama.cpp in-process with a GGUF file.

`propose_documents()` runs an engine over documents and records everything in the store: the run
with its provenance, each document's proposals (with how their spans were grounded) and failures
(with their reasons), in one transaction per document, so an interrupted run keeps every document
it finished and a re-run answers those from the response cache without asking the engine again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from annotator.schemas import Annotation, Document, Origin, parse_annotation, to_json
from annotator.store import Store


@dataclass(frozen=True)
class Proposal:
    """One proposed annotation and how its span was found in the document."""

    annotation: Annotation
    score: float = 1.0
    method: str = "exact"
    claimed_text: str | None = None
    """The engine's own words for the span, when they were not verbatim."""


@dataclass(frozen=True)
class Failure:
    """A proposal or request that failed, with a reason fit to show a user."""

    kind: str | None
    reason: str
    claimed: dict[str, Any] | None = None
    retryable: bool = False
    """No answer came (HTTP error such as 401 or 5xx, timeout, lost connection, answer too large):
    not cached, so the next run asks again. Only a real answer, good or bad, is cached."""


@dataclass
class DocumentResult:
    """What an engine made of one document."""

    proposals: list[Proposal] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    cached: bool = False
    latency_ms: float = 0.0


class Engine(Protocol):
    """What every proposal engine provides.

    An engine that holds a secret (an API key) also has `redact(text) -> text`: everything it
    answers passes through it before anything is stored, cached or shown.
    """

    name: str
    model: str | None
    prompt_name: str
    """The prompt set, e.g. `quote@1a2b3c,figure@4d5e6f`."""
    prompt_hash: str
    params: dict[str, Any]
    concurrency: int
    cacheable: bool

    async def propose(self, document: Document) -> DocumentResult:
        """Propose annotations for one document; never raises for a problem with that document."""
        ...


@dataclass
class RunProgress:
    """Counters for a progress display, updated after each document."""

    total: int
    done: int = 0
    failed_documents: int = 0
    failures: int = 0
    proposals: int = 0
    cached: int = 0
    tokens: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def rate(self) -> float:
        """Documents per second so far."""
        elapsed = time.perf_counter() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0


@dataclass
class RunSummary:
    """The outcome of `propose_documents`."""

    run_id: int
    progress: RunProgress
    results: dict[str, DocumentResult]
    interrupted: bool = False


def content_hash(*parts: str) -> str:
    """Hex sha256 of the parts, separated so that ("ab", "c") and ("a", "bc") differ."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def cache_key(engine: Engine, document: Document) -> str:
    """The response-cache key: engine, model, prompt hash, document and parameters."""
    return content_hash(engine.name, engine.model or "", engine.prompt_hash, document.id, to_json(engine.params))


def _encode(result: DocumentResult) -> str:
    return to_json(
        {
            "proposals": [
                {**p.annotation.model_dump(mode="json", exclude={"id", "status"}),
                 "grounding": [p.score, p.method, p.claimed_text]}
                for p in result.proposals
            ],
            "failures": [{"kind": f.kind, "reason": f.reason, "claimed": f.claimed} for f in result.failures],
        }
    )


def _decode(text: str, document: Document, tokens_in: int, tokens_out: int) -> DocumentResult:
    data = json.loads(text)
    proposals = []
    for item in data["proposals"]:
        score, method, claimed = item.pop("grounding")
        proposals.append(Proposal(parse_annotation(item, document.text), score, method, claimed))
    failures = [Failure(f["kind"], f["reason"], f["claimed"]) for f in data["failures"]]
    return DocumentResult(proposals, failures, tokens_in, tokens_out, cached=True)


def _redact_value(value: Any, redact: Callable[[str], str]) -> Any:
    """A JSON-like value with `redact` applied to every string in it, keys included."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact(k) if isinstance(k, str) else k: _redact_value(v, redact) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact_value(v, redact) for v in value]
    return value


def redact_result(result: DocumentResult, redact: Callable[[str], str]) -> DocumentResult:
    """The result with `redact` applied to every string an engine made up: fields, claims, reasons.

    A server can echo the API key anywhere in an answer (a speaker's name, a claimed quote, an error
    message). The span's `text` is the document's own and is left as it is.
    """

    def clean(proposal: Proposal) -> Proposal:
        annotation = proposal.annotation
        fields = {name: value for name, value in annotation.fields().items() if isinstance(value, str)}
        changed = {name: redact(value) for name, value in fields.items() if redact(value) != value}
        if changed:
            annotation = annotation.model_copy(update=changed)
        claimed = redact(proposal.claimed_text) if proposal.claimed_text is not None else None
        return Proposal(annotation, proposal.score, proposal.method, claimed)

    result.proposals = [clean(p) for p in result.proposals]
    result.failures = [
        Failure(f.kind, redact(f.reason), _redact_value(f.claimed, redact), f.retryable) for f in result.failures
    ]
    return result


def cache_result(store: Store, engine: Engine, document: Document, result: DocumentResult) -> None:
    """Keep a fresh answer in the response cache, unless a transport failure means it must be asked again."""
    if engine.cacheable and not result.cached and not any(f.retryable for f in result.failures):
        store.cache_response(cache_key(engine, document), engine.name, engine.model, engine.prompt_hash,
                             document.id, _encode(result), result.tokens_in, result.tokens_out)


def _store_result(store: Store, run_id: int, engine: Engine, document: Document, result: DocumentResult) -> None:
    """Proposals, failures and the cache entry of one document, in one transaction."""
    with store.transaction():
        store.add_proposals(
            document.id,
            [p.annotation for p in result.proposals],
            run_id,
            [(p.score, p.method, p.claimed_text) for p in result.proposals],
        )
        if result.failures:
            store.record_failures(run_id, document.id, [(f.kind, f.reason, f.claimed) for f in result.failures])
        cache_result(store, engine, document, result)


async def answer_documents(
    engine: Engine,
    documents: Sequence[Document],
    store: Store | None = None,
    on_answer: Callable[[Document, DocumentResult], None] | None = None,
    use_cache: bool = True,
) -> dict[str, DocumentResult]:
    """Each document's result from `engine`, worked on `engine.concurrency` at a time.

    With a `store` and `use_cache`, an answer already in the response cache is used instead of
    asking the engine. `on_answer` is called with each document and its result as soon as it is
    ready (a fresh result carries its latency). Cancelling stops every worker.
    """
    results: dict[str, DocumentResult] = {}
    queue: asyncio.Queue[Document] = asyncio.Queue()
    for document in documents:
        queue.put_nowait(document)
    look_up = store is not None and use_cache and engine.cacheable

    async def worker() -> None:
        while not queue.empty():
            document = queue.get_nowait()
            cached = store.cached_response(cache_key(engine, document)) if look_up else None  # type: ignore[union-attr]
            if cached is not None:
                result = _decode(cached[0], document, cached[1], cached[2])
            else:
                started = time.perf_counter()
                result = await engine.propose(document)
                result.latency_ms = (time.perf_counter() - started) * 1000
                redact = getattr(engine, "redact", None)
                if redact is not None:
                    result = redact_result(result, redact)
            results[document.id] = result
            if on_answer is not None:
                on_answer(document, result)

    workers = [asyncio.ensure_future(worker()) for _ in range(max(1, min(engine.concurrency, len(documents))))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    return results


async def propose_documents(
    store: Store,
    documents: Sequence[Document],
    engine: Engine,
    on_progress: Callable[[RunProgress], None] | None = None,
    on_document: Callable[[str, DocumentResult], None] | None = None,
) -> RunSummary:
    """Run `engine` over `documents`, recording the run, proposals and failures in `store`.

    `on_progress` is called with the counters and `on_document` with the document's id and
    result, each time a document has been stored.

    Documents are worked on `engine.concurrency` at a time; each is stored as soon as it is done.
    Cancelling (Ctrl-C) stops the run with the store consistent and the run marked interrupted.
    """
    run_id = store.start_run(engine.name, engine.model, engine.prompt_name, engine.prompt_hash, engine.params)
    progress = RunProgress(total=len(documents))
    results: dict[str, DocumentResult] = {}

    def stored(document: Document, result: DocumentResult) -> None:
        _store_result(store, run_id, engine, document, result)
        results[document.id] = result
        progress.done += 1
        progress.cached += result.cached
        progress.proposals += len(result.proposals)
        progress.failures += len(result.failures)
        progress.failed_documents += bool(result.failures) and not result.proposals
        progress.tokens += 0 if result.cached else result.tokens_in + result.tokens_out
        if on_progress is not None:
            on_progress(progress)
        if on_document is not None:
            on_document(document.id, result)

    interrupted = False
    error: str | None = None
    try:
        with store.machine_writes():
            await answer_documents(engine, documents, store, stored)
    except (asyncio.CancelledError, KeyboardInterrupt):
        interrupted = True
        raise
    except Exception as failed:
        redact = getattr(engine, "redact", None) or (lambda text: text)
        error = redact(f"{failed.__class__.__name__}: {failed}")[:500]
        raise
    finally:
        close = getattr(engine, "aclose", None)
        if close is not None:
            await close()
        fresh = [r for r in results.values() if not r.cached]
        store.finish_run(
            run_id,
            tokens_in=sum(r.tokens_in for r in fresh),
            tokens_out=sum(r.tokens_out for r in fresh),
            cost=sum(r.cost for r in fresh),
            error="interrupted" if interrupted else error,
            documents=progress.done,
            failures=progress.failures,
            latency_ms=sum(r.latency_ms for r in fresh) / len(fresh) if fresh else None,
        )
    return RunSummary(run_id, progress, results, interrupted)


def run_proposals(
    store: Store,
    documents: Sequence[Document],
    engine: Engine,
    on_progress: Callable[[RunProgress], None] | None = None,
) -> RunSummary:
    """`propose_documents` from synchronous code."""
    return asyncio.run(propose_documents(store, documents, engine, on_progress))


class RulesProposer:
    """The `rules` engine behind the common interface: offline, instant, never cached."""

    name = "rules"
    model = None
    cacheable = False
    concurrency = 1

    def __init__(self, kinds: Sequence[str] | None = None) -> None:
        from annotator.propose.rules import RulesEngine

        self._rules = RulesEngine()
        self.kinds = tuple(kinds) if kinds else None
        self.prompt_name = self._rules.prompt
        self.prompt_hash = self._rules.prompt.rpartition("@")[2]
        self.params: dict[str, Any] = {"kinds": list(self.kinds)} if self.kinds else {}

    async def propose(self, document: Document) -> DocumentResult:
        """Every rule-based proposal for the document (spans are exact by construction)."""
        annotations = self._rules.propose(document.text)
        if self.kinds is not None:
            annotations = [a for a in annotations if a.kind in self.kinds]
        return DocumentResult(proposals=[Proposal(a) for a in annotations])


ENGINES = ("auto", "rules", "llm", "local")


@dataclass(frozen=True)
class EngineChoice:
    """An engine made ready to run, and why it was chosen, in words for the user."""

    engine: Engine
    reason: str


def choose_engine(
    engine: str = "auto",
    *,
    model: str | None = None,
    base_url: str | None = None,
    api_key: str | None = None,
    kinds: Sequence[str] | None = None,
    concurrency: int = 8,
    gguf: str | None = None,
    prompts: Path | None = None,
    timeout: float | None = None,
) -> EngineChoice:
    """Make the engine asked for; `auto` is `llm` when a key or a base URL is configured, else `rules`.

    `base_url` and `api_key` default to `OPENAI_BASE_URL` and `OPENAI_API_KEY`; `prompts` is a
    folder of prompt files for the model engines (default: `ANNOTATOR_PROMPTS`, else the packaged prompts);
    `timeout` is the seconds one request to a model server may take (the llm engine's default if None).
    """
    import os

    from annotator.errors import AnnotatorError

    if engine not in ENGINES:
        raise AnnotatorError(f"unknown engine {engine!r} (expected one of: {', '.join(ENGINES)})")
    base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
    api_key = api_key or os.environ.get("OPENAI_API_KEY") or None
    if engine == "auto":
        engine = "llm" if (api_key or base_url) else "rules"
        why = "a key or base URL is configured" if engine == "llm" else "no OPENAI_API_KEY or base URL is configured"
    else:
        why = "asked for"
    if engine == "rules":
        return EngineChoice(RulesProposer(kinds), f"engine rules ({why})")
    if engine == "local":
        from annotator.propose.local import LocalEngine

        local = LocalEngine(gguf, kinds=kinds, prompts=_prompts(kinds, prompts))
        return EngineChoice(local, f"engine local: {local.model} ({why})")
    from annotator.propose.llm import DEFAULT_MODEL, LLMEngine, server_model

    if base_url is None and api_key is None:
        raise AnnotatorError("the llm engine needs OPENAI_API_KEY or --base-url (an OpenAI-compatible server)")
    if model is None:
        model = server_model(base_url, api_key) if base_url else DEFAULT_MODEL
    llm = LLMEngine(model, base_url=base_url, api_key=api_key, kinds=kinds, concurrency=concurrency,
                    prompts=_prompts(kinds, prompts), **({"timeout": timeout} if timeout is not None else {}))
    return EngineChoice(llm, f"engine llm: {model} at {base_url or 'api.openai.com'} ({why})")


def _prompts(kinds: Sequence[str] | None, folder: Path | None) -> dict[str, Any] | None:
    """The prompt files of `folder`, or None for the default folder (the engine loads those itself)."""
    if folder is None:
        return None
    from annotator.propose.prompts import load_prompts

    return load_prompts(kinds, folder)


def origin(engine: str, model: str | None, prompt: str | None) -> Origin:
    """The provenance every proposal of an engine carries."""
    return Origin(engine=engine, model=model, prompt=prompt)
