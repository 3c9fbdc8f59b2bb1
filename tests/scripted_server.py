"""A scripted, real OpenAI-compatible HTTP server on 127.0.0.1 for offline tests.

The LLM path is tested against real HTTP (never a mocked client object): the tests
start this server, point a real ``openai.OpenAI`` / ``AsyncOpenAI`` client (or
instructor on top of one) at ``server.base_url`` and script what "the model" says.

Usage::

    from scripted_server import Fault, Reply, ScriptedServer, reply_for, request_text

    # Same answer to every request, in whichever mode the client asked for
    # (a tool call when the request has ``tools``, message content otherwise).
    with ScriptedServer.fixed('{"quotes": []}') as server:
        client = openai.OpenAI(base_url=server.base_url, api_key="test-key", max_retries=0)
        ...
        assert server.request_count == 1
        assert server.requests[0].headers["authorization"] == "Bearer test-key"
        assert server.requests[0].body["model"] == "gpt-4o-mini"

    # An answer derived from the request.
    def responder(request: dict) -> Reply | Fault | str | dict:
        if "DOC-7" in request_text(request):
            return Fault.server_error()              # this document always fails
        return reply_for(request, {"n": len(request_text(request, role="user"))})

    with ScriptedServer(responder, latency=0.2) as server:
        # Transient faults, consumed first-in first-out before normal replies:
        server.queue_faults([Fault.rate_limit(retry_after=0.2), Fault.server_error(500)])
        # ... or only by requests that match (a substring of request_text, or a predicate):
        server.queue_faults([Fault.truncated_json()], when="DOC-3")

As a pytest fixture::

    @pytest.fixture
    def llm_server():
        with ScriptedServer.fixed("{}") as server:
            yield server

Endpoints: ``POST /v1/chat/completions`` (non-streaming) and ``GET /v1/models``
(``server.models_trickle = seconds`` sends the model list one byte at a time).

What a responder may return (see ``_coerce``):

- ``Reply.content(text)``: a chat.completion with ``message.content = text``,
  ``finish_reason: "stop"`` and a ``usage`` block (tokens ~ whitespace words).
- ``Reply.tool_call(name, arguments)``: ``message.tool_calls`` with one function call,
  ``content: null``, ``finish_reason: "tool_calls"`` (what instructor's TOOLS mode reads).
- ``Reply.error(status, message, ...)``: an OpenAI-style error body with any status.
- a ``Fault`` (see below), or a plain ``str`` / ``dict`` / ``list``, which is answered
  with ``reply_for(request, value)``: a tool call when the request offers ``tools``
  (named after the function the request forces or offers first), content otherwise.

Faults (``Fault.*``), queued with ``queue_faults`` or returned by a responder:

- ``rate_limit(retry_after=0.2)``: HTTP 429, ``Retry-After`` header, OpenAI error body.
- ``server_error(status=500)``: HTTP 5xx with an OpenAI error body.
- ``timeout(seconds=5)``: hold the request ``seconds`` (or until ``close()``), then drop
  the connection without an answer. Use a client timeout shorter than ``seconds``.
- ``malformed_json(text=...)``: a 200 answer whose payload is prose, not JSON (as content,
  or as tool-call arguments when the request has tools).
- ``truncated_json(text=None)``: the normal answer (from the responder, or ``text``) cut in
  the middle, with ``finish_reason: "length"``.
- ``disconnect()``: close the socket without any response.
- ``auth_error(status=401, echo_key=False)``: HTTP 401 (or 403) with OpenAI's
  ``invalid_api_key`` body; with ``echo_key`` the message repeats the request's key in full.
- ``trickle(interval=5.0, text=None)``: the normal answer (or ``text``), its headers at once
  and then its body one byte every ``interval`` seconds (woken by ``close()``).
- ``huge_answer(size=20_000_000, declare_length=True)``: a 200 answer of about ``size`` bytes:
  one item whose text is that long (as content, or as tool-call arguments when the request has
  tools). ``declare_length=False`` sends no ``Content-Length``: the body ends when the
  connection closes, so a client learns its size only by reading it.
- ``echo_key(payload)``: a 200 answer of ``payload`` (str or JSON-serialisable) with every
  ``{key}`` in it replaced by the API key of the request's ``Authorization`` header.

``refuse_json_schema=True`` answers every request whose ``response_format.type`` is
``"json_schema"`` with HTTP 400 and llama.cpp's message (older llama.cpp servers accept only
``{"type": "json_object", "schema": {...}}``). This check runs before faults and the
responder and consumes no fault. (Those llama.cpp builds actually answered it with
HTTP 500 / ``server_error``; pass ``refuse_status=500`` to reproduce that exactly.)

Everything is deterministic: ids count up per server (``chatcmpl-scripted-1``,
``call_scripted_1_0``), ``created`` is a fixed timestamp, and nothing is random.
Each request runs in its own thread, so ``latency`` sleeps overlap rather than queue up.
``close()`` (or leaving the ``with`` block) wakes every sleeping handler, drops open
keep-alive connections, joins all handler threads and frees the port.
``server.errors`` collects tracebacks of responder (or server) exceptions; those requests
are answered with HTTP 500, so a test may assert ``server.errors == []``.
"""

from __future__ import annotations

import dataclasses
import json
import socket
import socketserver
import sys
import threading
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Union

__all__ = [
    "Fault",
    "RecordedRequest",
    "Reply",
    "ScriptedServer",
    "reply_for",
    "request_mode",
    "request_text",
    "response_format",
    "tool_names",
]

CREATED = 1_700_000_000  # fixed "created" timestamp: answers are byte-for-byte reproducible
MALFORMED_TEXT = (
    "Sure! Here are the quotes: the minister said the talks were going well, "
    "and a spokesperson told reporters nothing had been decided."
)
LLAMA_CPP_JSON_SCHEMA_MESSAGE = (
    'response_format type must be one of "text" or "json_object", but got: json_schema'
)


# --------------------------------------------------------------------------- request helpers


def _content_text(content: Any) -> str:
    """Text of one message ``content``: a string, or a list of parts with ``text``."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part.get("text", "") for part in content if isinstance(part, dict)
        )
    return str(content)


def request_text(request: Mapping[str, Any], role: str | None = None) -> str:
    """The message contents of a chat request, joined by newlines.

    ``role="user"`` keeps only user messages (instructor's JSON modes add a system
    message carrying the schema; the document normally sits in a user message).
    """
    return "\n".join(
        _content_text(message.get("content"))
        for message in request.get("messages") or []
        if role is None or message.get("role") == role
    )


def response_format(request: Mapping[str, Any]) -> dict[str, Any] | None:
    """The request's ``response_format`` dict, or None."""
    value = request.get("response_format")
    return value if isinstance(value, dict) else None


def tool_names(request: Mapping[str, Any]) -> list[str]:
    """Function names the request offers, the forced one (``tool_choice``) first."""
    names = [
        tool.get("function", {}).get("name", "")
        for tool in request.get("tools") or []
        if isinstance(tool, dict)
    ]
    choice = request.get("tool_choice")
    if isinstance(choice, dict):
        forced = choice.get("function", {}).get("name")
        if forced:
            names = [forced] + [name for name in names if name != forced]
    return names


def request_mode(request: Mapping[str, Any]) -> str:
    """How the client asked for structure: ``tools``, ``json_schema``, ``json_object`` or ``text``."""
    if tool_names(request):
        return "tools"
    fmt = response_format(request)
    if fmt and fmt.get("type") in ("json_schema", "json_object"):
        return str(fmt["type"])
    return "text"


def _as_text(payload: Any) -> str:
    return payload if isinstance(payload, str) else json.dumps(payload)


def reply_for(request: Mapping[str, Any], payload: Any) -> Reply:
    """Answer ``payload`` (str, or anything JSON-serialisable) in the request's mode.

    A tool call to the request's (forced or first) function when it offers ``tools``,
    otherwise message content. This is how a model honours instructor's TOOLS,
    JSON_SCHEMA, JSON and MD_JSON modes alike.
    """
    text = _as_text(payload)
    names = tool_names(request)
    if names:
        return Reply.tool_call(names[0], text)
    return Reply.content(text)


def _words(text: str) -> int:
    return len(text.split())


# --------------------------------------------------------------------------- replies and faults


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build it with the classmethods, not by hand."""

    status: int = 200
    message: dict[str, Any] | None = None  # assistant message of a chat.completion
    finish_reason: str = "stop"
    body: Any = None  # raw JSON body for non-completion answers (errors)
    headers: Mapping[str, str] = field(default_factory=dict)
    hold: float = 0.0  # extra seconds to wait before answering (woken by close())
    disconnect: bool = False  # close the socket instead of answering
    trickle: float = 0.0  # seconds between single bytes of the body (0: all at once)
    undeclared: bool = False  # no Content-Length: the body ends when the connection closes

    @classmethod
    def content(cls, text: str, finish_reason: str = "stop") -> Reply:
        """A chat.completion whose ``choices[0].message.content`` is ``text``."""
        return cls(message={"role": "assistant", "content": text}, finish_reason=finish_reason)

    @classmethod
    def tool_call(cls, name: str, arguments: Any, finish_reason: str = "tool_calls") -> Reply:
        """A chat.completion calling function ``name``; ``arguments`` is a JSON string (or dumped)."""
        message = {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "", "type": "function",
                 "function": {"name": name, "arguments": _as_text(arguments)}}
            ],
        }
        return cls(message=message, finish_reason=finish_reason)

    @classmethod
    def error(
        cls,
        status: int,
        message: str,
        type: str = "server_error",  # noqa: A002 - the OpenAI field is called "type"
        code: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """An HTTP error with an OpenAI-style ``{"error": {...}}`` body."""
        body = {"error": {"message": message, "type": type, "param": None, "code": code}}
        return cls(status=status, body=body, headers=dict(headers or {}))

    def delayed(self, seconds: float) -> Reply:
        """The same reply, sent ``seconds`` later (a slow but successful answer)."""
        return Reply(self.status, self.message, self.finish_reason, self.body,
                     self.headers, self.hold + seconds, self.disconnect, self.trickle, self.undeclared)

    def trickled(self, interval: float) -> Reply:
        """The same reply, its body sent one byte every ``interval`` seconds after the headers."""
        return Reply(self.status, self.message, self.finish_reason, self.body,
                     self.headers, self.hold, self.disconnect, interval, self.undeclared)

    def truncated(self) -> Reply:
        """The same completion with its payload cut in the middle and ``finish_reason: "length"``."""
        if self.message is None:
            return self
        message = json.loads(json.dumps(self.message))  # deep copy
        if message.get("tool_calls"):
            function = message["tool_calls"][0]["function"]
            function["arguments"] = function["arguments"][: len(function["arguments"]) // 2]
        else:
            text = message.get("content") or ""
            message["content"] = text[: len(text) // 2]
        return Reply(self.status, message, "length", self.body, self.headers,
                     self.hold, self.disconnect, self.trickle, self.undeclared)


@dataclass(frozen=True)
class Fault:
    """An injected failure; ``resolve`` turns it into the ``Reply`` sent for one request."""

    kind: str
    status: int = 500
    seconds: float = 0.0
    text: str | None = None

    @classmethod
    def rate_limit(cls, retry_after: float = 0.2) -> Fault:
        """HTTP 429 with ``Retry-After: <seconds>`` and an OpenAI rate-limit error body."""
        return cls("rate_limit", status=429, seconds=retry_after)

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """HTTP ``status`` (500, 502, 503 ...) with an OpenAI server_error body."""
        return cls("server_error", status=status)

    @classmethod
    def timeout(cls, seconds: float = 5.0) -> Fault:
        """Hold the request ``seconds`` (bounded; ``close()`` wakes it), then drop the connection."""
        return cls("timeout", seconds=seconds)

    @classmethod
    def malformed_json(cls, text: str = MALFORMED_TEXT) -> Fault:
        """A 200 answer whose payload is prose, not JSON."""
        return cls("malformed_json", status=200, text=text)

    @classmethod
    def truncated_json(cls, text: str | None = None) -> Fault:
        """The normal answer (or ``text``) cut in half, ``finish_reason: "length"``."""
        return cls("truncated_json", status=200, text=text)

    @classmethod
    def disconnect(cls) -> Fault:
        """Close the connection without sending any response."""
        return cls("disconnect")

    @classmethod
    def auth_error(cls, status: int = 401, echo_key: bool = False) -> Fault:
        """HTTP 401 or 403 with OpenAI's ``invalid_api_key`` body; ``echo_key`` repeats the key in it."""
        return cls("auth_error", status=status, text="echo" if echo_key else None)

    @classmethod
    def trickle(cls, interval: float = 5.0, text: str | None = None) -> Fault:
        """The normal answer (or ``text``), its body one byte every ``interval`` seconds."""
        return cls("trickle", status=200, seconds=interval, text=text)

    @classmethod
    def huge_answer(cls, size: int = 20_000_000, declare_length: bool = True) -> Fault:
        """A 200 answer of about ``size`` bytes (one item with a text that long), with or without its length."""
        return cls("huge_answer", status=200, seconds=float(size), text=None if declare_length else "undeclared")

    @classmethod
    def echo_key(cls, payload: Any) -> Fault:
        """A 200 answer of ``payload`` with ``{key}`` replaced by the request's API key."""
        return cls("echo_key", status=200, text=_as_text(payload))

    def resolve(
        self, request: Mapping[str, Any], normal: Callable[[], Reply], headers: Mapping[str, str] | None = None
    ) -> Reply:
        """The reply for ``request``; ``normal()`` gives what the responder would have said.

        ``headers`` (lower-cased names) are the request's, for faults that echo the API key.
        """
        key = (headers or {}).get("authorization", "").removeprefix("Bearer ")
        if self.kind == "rate_limit":
            return Reply.error(
                429,
                "Rate limit reached for requests (scripted). Please try again later.",
                type="requests",
                code="rate_limit_exceeded",
                headers={"Retry-After": f"{self.seconds:g}"},
            )
        if self.kind == "server_error":
            return Reply.error(
                self.status, "The server had an error while processing your request.",
            )
        if self.kind == "timeout":
            return Reply(hold=self.seconds, disconnect=True)
        if self.kind == "disconnect":
            return Reply(disconnect=True)
        if self.kind == "malformed_json":
            return reply_for(request, self.text or MALFORMED_TEXT)
        if self.kind == "truncated_json":
            base = reply_for(request, self.text) if self.text is not None else normal()
            return base.truncated()
        if self.kind == "auth_error":
            shown = key if self.text == "echo" else f"{key[:3]}***{key[-4:]}"
            return Reply.error(
                self.status,
                f"Incorrect API key provided: {shown}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                type="invalid_request_error",
                code="invalid_api_key",
            )
        if self.kind == "trickle":
            base = reply_for(request, self.text) if self.text is not None else normal()
            return base.trickled(self.seconds)
        if self.kind == "huge_answer":
            reply = reply_for(request, {"items": [{"text": "x" * int(self.seconds)}]})
            return dataclasses.replace(reply, undeclared=self.text == "undeclared")
        if self.kind == "echo_key":
            return reply_for(request, (self.text or "").replace("{key}", key))
        raise ValueError(f"unknown fault kind {self.kind!r}")


Answer = Union[Reply, Fault, str, dict, list]
Responder = Callable[[dict], Answer]
Predicate = Callable[[dict], bool]


def _coerce(request: Mapping[str, Any], answer: Answer) -> Reply | Fault:
    if isinstance(answer, (Reply, Fault)):
        return answer
    return reply_for(request, answer)


@dataclass
class RecordedRequest:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]  # keys lower-cased
    body: Any  # parsed JSON (dict) or None
    outcome: str = "pending"  # "reply", "refused", a Fault kind, or "responder_error"


# --------------------------------------------------------------------------- the HTTP server


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # never block interpreter exit; close() joins them (see join_handlers)
    request_queue_size = 128  # 32+ simultaneous connects must not overflow the backlog

    def __init__(self, owner: ScriptedServer) -> None:
        self.owner = owner
        self.open_sockets: set[socket.socket] = set()
        self.handler_threads: set[threading.Thread] = set()
        self.tracking_lock = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn(), a reverse-DNS lookup: skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def process_request(self, request, client_address):  # type: ignore[no-untyped-def]
        # ThreadingMixIn does not track daemon threads, so server_close() would not join
        # them: start and track the per-connection thread here instead.
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address),
            name="ScriptedServer-handler", daemon=True,
        )
        with self.tracking_lock:
            self.handler_threads = {t for t in self.handler_threads if t.is_alive()}
            self.handler_threads.add(thread)
            self.open_sockets.add(request)
        thread.start()

    def shutdown_request(self, request):  # type: ignore[no-untyped-def]
        with self.tracking_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """Wake handlers blocked reading an idle keep-alive connection."""
        with self.tracking_lock:
            sockets = list(self.open_sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join_handlers(self, timeout: float = 5.0) -> None:
        with self.tracking_lock:
            threads = list(self.handler_threads)
        for thread in threads:
            thread.join(timeout)
            if thread.is_alive():
                with self.owner._lock:
                    self.owner.errors.append(f"handler still alive after close(): {thread!r}")

    def handle_error(self, request, client_address):  # type: ignore[no-untyped-def]
        # A client hanging up mid-answer (its timeout fired) is expected, not news;
        # anything else is a bug in this module: keep it for the test to see.
        if not isinstance(sys.exc_info()[1], OSError):
            with self.owner._lock:
                self.owner.errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like a real API server
    disable_nagle_algorithm = True  # TCP_NODELAY: else Nagle + delayed ACK add ~40 ms a reply
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        owner = self.server.owner
        record = owner._record("GET", self.path, dict(self.headers.items()), None)
        if self.path.rstrip("/") == "/v1/models":
            record.outcome = "reply"
            body = {"object": "list", "data": [
                {"id": owner.model, "object": "model", "created": CREATED, "owned_by": "scripted"}
            ]}
            self._send_json(200, body, trickle=owner.models_trickle)
        else:
            record.outcome = "not_found"
            self._send_reply(Reply.error(404, f"no route {self.path}", type="invalid_request_error"))

    def do_POST(self) -> None:  # noqa: N802
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        record = owner._record("POST", self.path, dict(self.headers.items()), body)
        if self.path.rstrip("/") != "/v1/chat/completions":
            record.outcome = "not_found"
            self._send_reply(Reply.error(404, f"no route {self.path}", type="invalid_request_error"))
            return
        if not isinstance(body, dict):
            record.outcome = "bad_request"
            self._send_reply(Reply.error(400, "request body is not a JSON object",
                                         type="invalid_request_error"))
            return
        if owner.latency > 0 and owner._stop.wait(owner.latency):
            self.close_connection = True  # closing down: drop it
            return
        reply, record.outcome = owner._answer(body, record.headers)
        if reply.hold > 0:
            owner._stop.wait(reply.hold)
        self._send_reply(reply, body)

    def _send_reply(self, reply: Reply, request: Mapping[str, Any] | None = None) -> None:
        if reply.disconnect:
            self.close_connection = True  # socketserver closes the socket; no bytes sent
            return
        if reply.message is not None:
            body = self.server.owner._completion(request or {}, reply)
        else:
            body = reply.body
        self._send_json(reply.status, body, reply.headers, reply.trickle, reply.undeclared)

    def _send_json(
        self,
        status: int,
        body: Any,
        headers: Mapping[str, str] | None = None,
        trickle: float = 0.0,
        undeclared: bool = False,
    ) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if undeclared:
                self.send_header("Connection", "close")
                self.close_connection = True  # the end of the body is the end of the connection
            else:
                self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            if trickle <= 0:
                self.wfile.write(data)
                return
            self.wfile.flush()
            for index in range(len(data)):
                if self.server.owner._stop.wait(trickle):
                    self.close_connection = True  # closing down: stop mid-body
                    return
                self.wfile.write(data[index : index + 1])
                self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client gave up (e.g. its timeout fired)


class ScriptedServer:
    """A real OpenAI-compatible chat server on 127.0.0.1, answering from a script.

    ``responder(request_dict)`` decides normal answers; ``queue_faults`` injects failures
    ahead of them; ``latency`` (seconds, settable any time) delays every completion.
    """

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        latency: float = 0.0,
        refuse_json_schema: bool = False,
        refuse_status: int = 400,
        model: str = "scripted-model",
    ) -> None:
        self.responder: Responder = responder or (lambda request: "ok")
        self.latency = latency
        self.refuse_json_schema = refuse_json_schema
        self.refuse_status = refuse_status
        self.model = model
        self.models_trickle = 0.0  # seconds between single bytes of the /v1/models answer (0: all at once)
        self.errors: list[str] = []  # tracebacks of responder/handler exceptions (tests assert it stays empty)
        self._lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._faults: list[tuple[Predicate, Fault]] = []
        self._completions = 0
        self._stop = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def fixed(cls, answer: Any, **kwargs: Any) -> ScriptedServer:
        """A server giving the same answer to every request, in the request's mode.

        ``answer`` is a str / dict / list / Reply / Fault, or a callable
        ``request -> any of those``.
        """
        if callable(answer) and not isinstance(answer, (Reply, Fault)):
            return cls(answer, **kwargs)
        return cls(lambda request: answer, **kwargs)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ScriptedServer:
        if self._httpd is not None:
            return self
        self._stop.clear()
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name=f"ScriptedServer:{self.port}", daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, wake sleeping handlers, drop connections, join threads, free the port."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stop.set()
        httpd.shutdown()  # ends serve_forever
        httpd.drop_connections()
        httpd.server_close()  # closes the listening socket
        httpd.join_handlers()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> ScriptedServer:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ addresses and records

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``, the ``base_url`` for an openai client."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def reset(self) -> None:
        """Forget recorded requests and queued faults."""
        with self._lock:
            self._requests.clear()
            self._faults.clear()

    # ------------------------------------------------------------------ scripting

    def queue_faults(
        self, faults: Iterable[Fault], when: str | Predicate | None = None
    ) -> None:
        """Queue faults, served first-in first-out before normal replies.

        Each request takes the oldest queued fault whose ``when`` matches it; a request
        that matches none gets the normal reply. ``when`` is None (any request), a string
        (a substring of ``request_text(request)``), or a predicate ``request -> bool``.
        """
        if when is None:
            predicate: Predicate = lambda request: True  # noqa: E731
        elif isinstance(when, str):
            needle = when
            predicate = lambda request: needle in request_text(request)  # noqa: E731
        else:
            predicate = when
        with self._lock:
            self._faults.extend((predicate, fault) for fault in faults)

    # ------------------------------------------------------------------ internals

    def _record(self, method: str, path: str, headers: dict[str, str], body: Any) -> RecordedRequest:
        record = RecordedRequest(method, path, {k.lower(): v for k, v in headers.items()}, body)
        with self._lock:
            self._requests.append(record)
        return record

    def _take_fault(self, request: dict) -> Fault | None:
        with self._lock:
            for index, (predicate, fault) in enumerate(self._faults):
                if predicate(request):
                    del self._faults[index]
                    return fault
        return None

    def _normal(self, request: dict) -> Reply | Fault:
        return _coerce(request, self.responder(request))

    def _answer(self, request: dict, headers: Mapping[str, str] | None = None) -> tuple[Reply, str]:
        """The reply to a chat request (``headers`` lower-cased) and the outcome label to record."""
        fmt = response_format(request)
        if self.refuse_json_schema and fmt and fmt.get("type") == "json_schema":
            return Reply.error(
                self.refuse_status, LLAMA_CPP_JSON_SCHEMA_MESSAGE,
                type="invalid_request_error" if self.refuse_status < 500 else "server_error",
                code=self.refuse_status,
            ), "refused"
        try:
            fault = self._take_fault(request)
            outcome = "reply"
            if fault is None:
                answer = self._normal(request)
                if isinstance(answer, Reply):
                    return answer, outcome
                fault = answer
            outcome = fault.kind

            def normal() -> Reply:
                answer = self._normal(request)
                return answer if isinstance(answer, Reply) else reply_for(request, "{}")

            return fault.resolve(request, normal, headers), outcome
        except Exception:  # a broken responder is a test bug: say so loudly
            trace = traceback.format_exc()
            with self._lock:
                self.errors.append(trace)
            return Reply.error(500, f"scripted responder raised:\n{trace}"), "responder_error"

    def _completion(self, request: Mapping[str, Any], reply: Reply) -> dict[str, Any]:
        with self._lock:
            self._completions += 1
            number = self._completions
        message = json.loads(json.dumps(reply.message))  # deep copy
        for index, call in enumerate(message.get("tool_calls") or []):
            call["id"] = call.get("id") or f"call_scripted_{number}_{index}"
        answer_text = (message.get("content") or "") + " ".join(
            call["function"]["arguments"] for call in message.get("tool_calls") or []
        )
        prompt_tokens = _words(request_text(request))
        completion_tokens = _words(answer_text)
        return {
            "id": f"chatcmpl-scripted-{number}",
            "object": "chat.completion",
            "created": CREATED,
            "model": request.get("model") or self.model,
            "system_fingerprint": None,
            "choices": [
                {"index": 0, "message": message, "finish_reason": reply.finish_reason,
                 "logprobs": None}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
