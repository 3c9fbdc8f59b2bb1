"""The engine interface: what a proposal engine is given, what it answers, and how it is shut down.

An engine takes one document and answers a `DocumentResult`: proposals (each with how its span
was grounded) and failures (each with a reason fit to show a user). It is an async context
manager: whoever runs it (`run.answer_documents`) opens it with `async with` and it lets go of what
it holds (an HTTP client) on the way out, whatever happened.
"""

from __future__ import annotations

import contextlib
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, Self

from annotator.schemas import Annotation, Document, Origin


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

    async def __aenter__(self) -> Self:
        """Ready to propose; what the engine needs (a client, a model) may still be made on first use."""
        ...

    async def __aexit__(self, *exc_info: object) -> None:
        """Let go of what the engine holds open; a later `async with` opens it again."""
        ...


class BaseEngine:
    """The context-manager half of `Engine`, for engines to inherit: `aclose()` runs on the way out."""

    async def __aenter__(self) -> Self:
        """The engine itself."""
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close what the engine holds, whether the block ended well or not."""
        await self.aclose()

    async def aclose(self) -> None:
        """Let go of what the engine holds open (nothing, unless an engine says otherwise)."""


def opened(engine: Any) -> AbstractAsyncContextManager[Any]:
    """`async with opened(engine):` opens the engine, or nothing for one that holds nothing open.

    A duck-typed engine (a test's stand-in, a user's own) need not be a context manager.
    """
    return engine if hasattr(engine, "__aexit__") else contextlib.nullcontext(engine)


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


def origin(engine: str, model: str | None, prompt: str | None) -> Origin:
    """The provenance every proposal of an engine carries."""
    return Origin(engine=engine, model=model, prompt=prompt)
