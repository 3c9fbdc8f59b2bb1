"""The `llm` engine: openai + instructor against any OpenAI-compatible endpoint.

This module is the HTTP transport of a `chat.ChatEngine`, which works a document through (each
kind, each chunk) and grounds the answers. For each kind in each chunk, one chat request asks for
the kind's items; the answer model is made from the kind's schema (`schemas.draft_models`), and its validator
grounds every item in the document, so an item that is not in the text makes instructor re-ask
with that message. After the re-asks, what still cannot be grounded is recorded as a failure.

Two layers of retry, kept apart: instructor re-asks on a wrong answer; tenacity retries the
transport (429 honouring Retry-After, 5xx, timeouts, connection errors) with exponential backoff
and jitter, a bounded number of times. A server that refuses `response_format: json_schema`
(llama.cpp's server does) gets `json_object` with the schema instead, from then on.

Time and size are bounded whatever the server does: one HTTP request gets `timeout` seconds from
sending to the answer's last byte (httpx's own timeouts are per read, so a server trickling a byte
at a time would never trip them), all the requests for one kind in one chunk (attempts, re-asks,
back-off) get `document_timeout`, and an answer over `max_answer_bytes` is dropped unread. The API
key is masked in everything the engine reports.

openai and instructor are imported on the first request, not with this module: a run answered
wholly from the response cache (a re-run, an `eval` with a warm cache) never pays for them.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from annotator.chunking import CHUNK_CHARS, CHUNK_OVERLAP
from annotator.grounding import DocumentIndex
from annotator.propose.chat import ChatEngine, Reply, completion_text, usage_tokens
from annotator.propose.engine import Failure
from annotator.propose.prompts import Prompt, chat_messages
from annotator.schemas import GROUNDING, draft_models

if TYPE_CHECKING:
    import openai

# instructor logs each failed attempt; failures are reported as data here, not as log lines.
logging.getLogger("instructor").addHandler(logging.NullHandler())
logging.getLogger("instructor").propagate = False

DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_TIMEOUT = 120.0
"""Seconds one request may take, from sending it to the last byte of the answer (`--timeout`)."""
MAX_RETRY_AFTER = 120.0
"""The longest a server's Retry-After is waited for before a retry."""
MAX_ANSWER_BYTES = 4 * 1024 * 1024
"""The largest answer read: an honest answer for one chunk of text is a few kilobytes."""
# US dollars per million tokens (input, output), for the cost estimate of a run.
PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}
_KEY_PATTERN = re.compile(r"sk-[A-Za-z0-9_\-]{6,}")


def redact(text: str, secret: str | None) -> str:
    """`text` with the API key (and anything shaped like an OpenAI key) masked."""
    if secret:
        text = text.replace(secret, "***")
    return _KEY_PATTERN.sub("sk-***", text)


class AnswerTooLarge(Exception):
    """The server's answer is bigger than the engine reads (`max_answer_bytes`)."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        self.limit = limit
        self.declared = declared
        size = f"{declared:,} bytes" if declared is not None else f"more than {limit:,} bytes"
        super().__init__(f"the answer is too large ({size}; at most {limit:,} are read)")


def _bounded_http_client(deadline: float, max_bytes: int) -> Any:
    """An httpx client for openai whose every request ends within `deadline` seconds and `max_bytes` bytes.

    httpx's timeouts are per read: a server that sends a byte every few seconds never trips them.
    The whole exchange (connect, send, headers, body) is run under one asyncio deadline instead,
    and the body is counted as it arrives, so an oversized answer is never held in memory whole.
    Made from openai's own default client, so its connection limits and proxy settings still apply.
    """
    import httpx2
    import openai

    class CappedStream(httpx2.AsyncByteStream):
        """The response body, refused as soon as it grows past `max_bytes`."""

        def __init__(self, inner: Any) -> None:
            self.inner = inner

        async def __aiter__(self):  # type: ignore[no-untyped-def]
            read = 0
            async for part in self.inner:
                read += len(part)
                if read > max_bytes:
                    raise AnswerTooLarge(max_bytes)
                yield part

        async def aclose(self) -> None:
            await self.inner.aclose()

    class BoundedClient(openai.DefaultAsyncHttpxClient):  # type: ignore[misc, valid-type]
        async def send(self, request: Any, *, stream: bool = False, **kwargs: Any) -> Any:
            try:
                async with asyncio.timeout(deadline):
                    response = await super().send(request, stream=True, **kwargs)
                    if stream:
                        return response
                    try:
                        declared = response.headers.get("content-length", "")
                        if declared.isdigit() and int(declared) > max_bytes:
                            raise AnswerTooLarge(max_bytes, int(declared))
                        response.stream = CappedStream(response.stream)
                        await response.aread()
                    except BaseException:
                        await response.aclose()
                        raise
                    return response
            except TimeoutError:
                # openai turns httpx timeouts into APITimeoutError, which is retried like any timeout.
                raise httpx2.ReadTimeout(f"no complete answer within {deadline:g} s", request=request) from None

    return BoundedClient(timeout=deadline)


def estimate_cost(model: str, tokens_in: int, tokens_out: int) -> float:
    """US dollars for a model's tokens, 0 for a model without a known price (a local server)."""
    for name, (price_in, price_out) in sorted(PRICES.items(), key=lambda item: -len(item[0])):
        if model == name or model.startswith(name + "-"):
            return (tokens_in * price_in + tokens_out * price_out) / 1_000_000
    return 0.0


def server_model(base_url: str, api_key: str | None, timeout: float = 10.0) -> str:
    """The first model a server lists (llama.cpp, vLLM and Ollama list what they serve).

    The listing is bounded like every request (`timeout` seconds start to last byte, an answer of
    at most `MAX_ANSWER_BYTES`); it runs on its own event loop in a worker thread, so it can be
    called from synchronous code whether or not an event loop is running.
    """
    import concurrent.futures

    import openai

    from annotator.errors import AnnotatorError

    async def listed() -> list[str]:
        async with openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or "no-key", max_retries=1, timeout=timeout,
            http_client=_bounded_http_client(timeout, MAX_ANSWER_BYTES),
        ) as client:
            return [model.id async for model in client.models.list()]

    try:
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            models = pool.submit(asyncio.run, listed()).result()
    except openai.APIError as error:
        reason = str(_root(error, AnswerTooLarge) or error)
        raise AnnotatorError(f"{base_url}: cannot list models ({redact(reason, api_key)}); pass --model") from None
    if not models:
        raise AnnotatorError(f"{base_url}: the server lists no models; pass --model")
    return models[0]


_ANSWER_MODELS: dict[str, type] = {}


def answer_model(kind: str) -> type:
    """The kind's answer model, wrapped for instructor once (instructor would wrap it on every call)."""
    if kind not in _ANSWER_MODELS:
        import instructor

        _ANSWER_MODELS[kind] = instructor.openai_schema(draft_models(kind)[1])
    return _ANSWER_MODELS[kind]


def transport_error(error: BaseException) -> openai.APIError | None:
    """The openai error at the root of `error` (instructor wraps them), if any."""
    import openai

    return _root(error, openai.APIError)  # type: ignore[return-value]


def _root(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The exception of type `kind` in the chain of causes of `error`, if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _retryable(error: BaseException) -> bool:
    """Whether to try the request again in this run: rate limits, timeouts, lost connections, 5xx."""
    import openai

    if _root(error, AnswerTooLarge) is not None:
        return False  # the same server would send the same oversized answer again
    cause = transport_error(error)
    if isinstance(cause, (openai.RateLimitError, openai.APIConnectionError, openai.InternalServerError)):
        return not _refuses_json_schema(cause)
    return isinstance(cause, openai.APIStatusError) and cause.status_code >= 500 and not _refuses_json_schema(cause)


def _refuses_json_schema(error: openai.APIError) -> bool:
    status = getattr(error, "status_code", None)
    message = str(error).lower()
    return status in (400, 422, 500) and "json_schema" in message


def _wait(initial: float, maximum: float):
    import openai
    from tenacity import wait_exponential_jitter

    backoff = wait_exponential_jitter(multiplier=initial, max=maximum)

    def wait(state: Any) -> float:
        error = state.outcome.exception() if state.outcome else None
        cause = transport_error(error) if error else None
        if isinstance(cause, openai.RateLimitError):
            header = cause.response.headers.get("retry-after") if cause.response is not None else None
            try:
                return min(max(float(header), 0.0), MAX_RETRY_AFTER) if header else backoff(state)
            except ValueError:
                return backoff(state)
        return backoff(state)

    return wait


class LLMEngine(ChatEngine):
    """Proposals from a chat model behind an OpenAI-compatible API: the HTTP transport of a `ChatEngine`."""

    name = "llm"

    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        kinds: Sequence[str] | None = None,
        prompts: dict[str, Prompt] | None = None,
        concurrency: int = 8,
        timeout: float = DEFAULT_TIMEOUT,
        document_timeout: float | None = None,
        attempts: int = 5,
        reasks: int = 2,
        backoff: tuple[float, float] = (0.5, 30.0),
        max_chars: int = CHUNK_CHARS,
        overlap: int = CHUNK_OVERLAP,
        temperature: float = 0.0,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        from annotator.errors import AnnotatorError

        if not timeout > 0:
            raise AnnotatorError(f"--timeout must be a positive number of seconds, not {timeout:g}")
        super().__init__(model, kinds=kinds, prompts=prompts, max_chars=max_chars, overlap=overlap,
                         temperature=temperature)
        self.concurrency = concurrency
        self.attempts = attempts
        self.reasks = reasks
        self.backoff = backoff
        self.base_url = base_url
        self.timeout = timeout
        """Seconds one request may take, start to last byte."""
        # Twice one request: a request that timed out gets one more go, and a server that never
        # answers costs a document 2 × timeout, not attempts × timeout.
        self.document_timeout = document_timeout if document_timeout is not None else 2 * timeout
        """Seconds all the requests for one kind in one chunk may take: attempts, re-asks and waits."""
        self.max_answer_bytes = max_answer_bytes
        self._api_key = api_key
        self.mode = "json_schema"
        """How a new request sends the answer's schema: `json_schema`, or `json` (json_object with the
        schema) once the server has refused json_schema. It only ever goes from the first to the second."""
        # Made inside the running event loop on first use, closed by `aclose()` at the end of a run.
        self._client: openai.AsyncOpenAI | None = None
        self._clients: dict[str, Any] = {}
        self._requests: asyncio.Semaphore | None = None
        self.params: dict[str, Any] = {
            "temperature": temperature, "max_chars": max_chars, "overlap": overlap, "reasks": reasks,
            "base_url": base_url,
        }

    def _instructor(self, mode: str) -> Any:
        """The instructor client that sends the schema the way `mode` says."""
        import instructor
        import openai

        if self._client is None:
            # Local servers take any key; the openai client insists on one.
            self._client = openai.AsyncOpenAI(
                base_url=self.base_url, api_key=self._api_key or "no-key", max_retries=0, timeout=self.timeout,
                http_client=_bounded_http_client(self.timeout, self.max_answer_bytes),
            )
        if mode not in self._clients:
            self._clients[mode] = instructor.from_openai(
                self._client, mode=instructor.Mode.JSON_SCHEMA if mode == "json_schema" else instructor.Mode.JSON
            )
        return self._clients[mode]

    def redact(self, text: str) -> str:
        """`text` with this engine's API key (and anything shaped like an OpenAI key) masked."""
        return redact(text, self._api_key)

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        """US dollars for the tokens, at the model's price (0 for a model without a known one)."""
        return estimate_cost(self.model, tokens_in, tokens_out)

    async def aclose(self) -> None:
        """Close the HTTP client; the next run opens a new one."""
        if self._client is not None:
            await self._client.close()
        self._client, self._clients, self._requests = None, {}, None

    async def ask(self, kind: str, text: str, hint: int, index: DocumentIndex) -> Reply:
        """One request for one kind in one chunk, with transport retries and the mode fallback.

        The chunk holds one of `concurrency` slots from its first attempt to its last, so its
        `document_timeout` counts time spent on it, never time queued behind other documents.
        """
        if self._requests is None:
            self._requests = asyncio.Semaphore(self.concurrency)
        async with self._requests:
            return await self._ask_within_deadline(kind, text, hint, index)

    async def _ask_within_deadline(self, kind: str, text: str, hint: int, index: DocumentIndex) -> Reply:
        from instructor.core import IncompleteOutputException, InstructorRetryException
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

        model = answer_model(kind)
        messages = chat_messages(self.prompts[kind], text)
        # This coroutine runs as its own task, so the grounding check is seen by its validation only.
        GROUNDING.set(lambda words: index.ground(words, hint=hint).grounded)
        attempts = 0
        last_error: BaseException | None = None
        try:
            async with asyncio.timeout(self.document_timeout):
                async for attempt in AsyncRetrying(
                    retry=retry_if_exception(_retryable),
                    stop=stop_after_attempt(self.attempts),
                    wait=_wait(*self.backoff),
                    reraise=True,
                ):
                    with attempt:
                        attempts += 1
                        try:
                            answer, completion = await self._request(model, messages)
                        except Exception as error:
                            last_error = error
                            raise
        except TimeoutError:
            return Reply(failure=self._out_of_time(kind, attempts, last_error))
        except InstructorRetryException as error:
            if transport_error(error) is not None:
                return Reply(failure=self._failure(kind, error))
            # The re-asks are spent: what the last answer holds that grounds is still kept.
            usage = getattr(error, "total_usage", None)
            return Reply(text=completion_text(error.last_completion), tokens_in=usage_tokens(usage, "prompt_tokens"),
                         tokens_out=usage_tokens(usage, "completion_tokens"))
        except IncompleteOutputException:
            return Reply(failure=Failure(kind, "the answer was cut off (finish_reason=length): truncated JSON"))
        except Exception as error:  # noqa: BLE001 - one request's failure never stops the run
            return Reply(failure=self._failure(kind, error))
        usage = getattr(completion, "usage", None)
        return Reply(items=answer.items, tokens_in=usage_tokens(usage, "prompt_tokens"),
                     tokens_out=usage_tokens(usage, "completion_tokens"))

    async def _request(self, answer_model: type, messages: list[dict[str, str]]) -> Any:
        """One instructor call; on a refusal of json_schema, switch to json_object + schema and call again.

        The mode is read once, when the request starts, and the call is made in that mode: other
        requests in flight may switch `self.mode` meanwhile, which only changes the mode of the
        requests that start after.
        """
        mode = self.mode
        try:
            return await self._create(answer_model, messages, mode)
        except Exception as error:
            cause = transport_error(error)
            if mode != "json_schema" or cause is None or not _refuses_json_schema(cause):
                raise
        self.mode = "json"
        return await self._create(answer_model, messages, "json")

    async def _create(self, answer_model: type, messages: list[dict[str, str]], mode: str) -> Any:
        """One instructor call (with its re-asks) that sends the answer's schema the way `mode` says."""
        extra: dict[str, Any] = {}
        if mode == "json":
            # llama.cpp's server constrains output to a schema given this way.
            extra["extra_body"] = {
                "response_format": {"type": "json_object", "schema": answer_model.model_json_schema()}
            }
        return await self._instructor(mode).chat.completions.create_with_completion(
            model=self.model, messages=messages, response_model=answer_model, max_retries=self.reasks,
            temperature=self.temperature, **extra,
        )

    def _failure(self, kind: str, error: BaseException) -> Failure:
        """A request that got no answer to keep: not cached (`retryable`) when it was the transport's fault."""
        import openai

        too_large = _root(error, AnswerTooLarge)
        cause = too_large or transport_error(error) or error
        retried = _retryable(error)
        if isinstance(cause, AnswerTooLarge):
            reason = str(cause)
        elif isinstance(cause, openai.APITimeoutError):
            reason = f"the server did not answer in time (timeout {self.timeout:g} s)"
        elif isinstance(cause, openai.APIConnectionError):
            reason = f"cannot reach the server ({cause.__class__.__name__})"
        elif isinstance(cause, openai.APIStatusError):
            body = cause.body if isinstance(cause.body, dict) else {}
            message = body.get("message") if isinstance(body.get("message"), str) else cause.message
            reason = f"HTTP {cause.status_code}: {message}"
        else:
            reason = f"{cause.__class__.__name__}: {cause}"
        if retried:
            reason += f" (after {self.attempts} attempts)"
        # Only an answer is worth keeping: an HTTP error (401 before a key is fixed, 5xx), a lost
        # connection, a timeout or an answer too large to read says nothing about the document.
        no_answer = too_large is not None or transport_error(error) is not None
        return Failure(kind, self.redact(reason)[:500], retryable=no_answer)

    def _out_of_time(self, kind: str, attempts: int, last_error: BaseException | None) -> Failure:
        """The failure of a chunk whose `document_timeout` ran out, saying what went wrong last."""
        spent = f"gave up after {self.document_timeout:g} s and {attempts} attempt{'s' * (attempts != 1)}"
        if last_error is None:
            reason = f"the server did not answer in time (timeout {self.timeout:g} s; {spent})"
        else:
            last = self._failure(kind, last_error).reason.removesuffix(f" (after {self.attempts} attempts)")
            reason = f"{last} ({spent})"
        return Failure(kind, self.redact(reason)[:500], retryable=True)
