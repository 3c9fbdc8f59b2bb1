"""The run: an engine over documents, with the response cache, resume and the store's records.

`propose_documents()` records everything in the store: the run with its provenance, each
document's proposals (with how their spans were grounded) and failures (with their reasons), in
one transaction per document, so an interrupted run keeps every document it finished and a re-run
answers those from the response cache without asking the engine again. `answer_documents()` is the
same loop without the run's records, for `eval`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from annotator.propose.engine import DocumentResult, Engine, Failure, Proposal, RunProgress, RunSummary, opened
from annotator.canonical import canonical_key
from annotator.schemas import Document, parse_annotation, to_json
from annotator.store import Store


def cache_key(engine: Engine, document: Document) -> str:
    """The response-cache key: engine, model, prompt hash, document and parameters, hashed from
    canonical JSON with sorted keys (parameters given in another order are the same request)."""
    key = canonical_key([engine.name, engine.model, engine.prompt_hash, document.id, engine.params])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def legacy_cache_key(engine: Engine, document: Document) -> str:
    """The key a store made before cache keys were canonical holds the same answer under."""
    parts = (engine.name, engine.model or "", engine.prompt_hash, document.id, to_json(engine.params))
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def cached_answer(store: Store, engine: Engine, document: Document) -> tuple[str, int, int] | None:
    """The stored answer to this request, under its key or the key an older store gave it."""
    return store.cached_response(cache_key(engine, document)) or store.cached_response(legacy_cache_key(engine, document))


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
    ready (a fresh result carries its latency). Cancelling stops every worker. The engine is
    opened here and shut down on the way out, whatever happens (`engine.opened`).
    """
    results: dict[str, DocumentResult] = {}
    queue: asyncio.Queue[Document] = asyncio.Queue()
    for document in documents:
        queue.put_nowait(document)
    look_up = store is not None and use_cache and engine.cacheable

    async def worker() -> None:
        while not queue.empty():
            document = queue.get_nowait()
            cached = cached_answer(store, engine, document) if look_up else None  # type: ignore[arg-type]
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

    async with opened(engine):
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
