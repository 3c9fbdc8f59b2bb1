"""The scripted OpenAI-compatible server, exercised through the real openai client and instructor.

Everything here talks HTTP to 127.0.0.1; nothing is mocked. Clients use ``max_retries=0`` so each
call is exactly one request, unless a test is about retrying.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import time
from pathlib import Path

import instructor
import openai
import pytest
from instructor.core import IncompleteOutputException, InstructorRetryException
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).parent))  # conftest does this too; keep the file standalone

from scripted_server import (  # noqa: E402
    LLAMA_CPP_JSON_SCHEMA_MESSAGE,
    Fault,
    Reply,
    ScriptedServer,
    reply_for,
    request_mode,
    request_text,
    response_format,
    tool_names,
)

KEY = "test-key"


def client_for(server: ScriptedServer, timeout: float = 5.0, max_retries: int = 0) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url, api_key=KEY, max_retries=max_retries, timeout=timeout)


def ask(client: openai.OpenAI, text: str = "Quote the minister in DOC-1 please", **kwargs):
    return client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": text}], **kwargs
    )


# --------------------------------------------------------------------------- plain round trips


def test_fixed_completion_round_trip_with_usage():
    with ScriptedServer.fixed("The minister said talks went well") as server:
        with client_for(server) as client:
            completion = ask(client)
    choice = completion.choices[0]
    assert choice.message.content == "The minister said talks went well"
    assert choice.message.tool_calls is None
    assert choice.finish_reason == "stop"
    assert completion.id == "chatcmpl-scripted-1"
    assert completion.model == "gpt-4o-mini"  # echoes the requested model
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 6  # whitespace words of the messages
    assert completion.usage.completion_tokens == 6
    assert completion.usage.total_tokens == 12
    assert server.errors == []


def test_models_endpoint():
    with ScriptedServer(model="tiny-gguf") as server, client_for(server) as client:
        assert [model.id for model in client.models.list()] == ["tiny-gguf"]


def test_requests_are_recorded_with_body_and_api_key_header():
    with ScriptedServer.fixed("ok") as server, client_for(server) as client:
        ask(client, "first DOC-1", temperature=0)
        ask(client, "second DOC-2")
        assert server.request_count == 2
        first, second = server.requests
    assert first.method == "POST" and first.path == "/v1/chat/completions"
    assert first.body["model"] == "gpt-4o-mini"
    assert first.body["temperature"] == 0
    assert first.body["messages"] == [{"role": "user", "content": "first DOC-1"}]
    assert request_text(second.body) == "second DOC-2"
    # Later tests assert that this key never reaches the store or an export.
    assert first.headers["authorization"] == f"Bearer {KEY}"
    assert first.outcome == second.outcome == "reply"


def test_responder_sees_the_request():
    def responder(request: dict) -> Reply:
        return Reply.content(request_text(request, role="user").upper())

    with ScriptedServer(responder) as server, client_for(server) as client:
        completion = client.chat.completions.create(
            model="m",
            messages=[{"role": "system", "content": "be terse"}, {"role": "user", "content": "doc-9 text"}],
        )
    assert completion.choices[0].message.content == "DOC-9 TEXT"


def test_tool_call_reply():
    with ScriptedServer.fixed(Reply.tool_call("Quote", {"speaker": "Sheikho"})) as server:
        with client_for(server) as client:
            completion = ask(client)
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "Quote"
    assert json.loads(call.function.arguments) == {"speaker": "Sheikho"}
    assert call.id == "call_scripted_1_0"


def test_request_helpers():
    request = {
        "messages": [
            {"role": "system", "content": "schema here"},
            {"role": "user", "content": [{"type": "text", "text": "DOC-7 body"}]},
        ],
        "tools": [{"type": "function", "function": {"name": "A"}},
                  {"type": "function", "function": {"name": "B"}}],
        "tool_choice": {"type": "function", "function": {"name": "B"}},
    }
    assert request_text(request) == "schema here\nDOC-7 body"
    assert request_text(request, role="user") == "DOC-7 body"
    assert tool_names(request) == ["B", "A"]
    assert request_mode(request) == "tools"
    assert reply_for(request, {"x": 1}) == Reply.tool_call("B", '{"x": 1}')
    plain = {"messages": [], "response_format": {"type": "json_object"}}
    assert response_format(plain) == {"type": "json_object"}
    assert request_mode(plain) == "json_object"
    assert reply_for(plain, "{}") == Reply.content("{}")


# --------------------------------------------------------------------------- faults


def test_rate_limit_surfaces_with_retry_after_then_recovers():
    with ScriptedServer.fixed("fine") as server, client_for(server) as client:
        server.queue_faults([Fault.rate_limit(retry_after=0.2)])
        with pytest.raises(openai.RateLimitError) as caught:
            ask(client)
        error = caught.value
        assert error.status_code == 429
        assert error.response.headers["retry-after"] == "0.2"
        assert error.code == "rate_limit_exceeded"
        assert ask(client).choices[0].message.content == "fine"  # the queue is drained
        assert [r.outcome for r in server.requests] == ["rate_limit", "reply"]


def test_openai_client_retries_after_429_using_retry_after():
    with ScriptedServer.fixed("fine") as server, client_for(server, max_retries=2) as client:
        server.queue_faults([Fault.rate_limit(retry_after=0.1)])
        started = time.perf_counter()
        assert ask(client).choices[0].message.content == "fine"
        assert time.perf_counter() - started >= 0.1
        assert server.request_count == 2
        assert server.requests[1].headers["x-stainless-retry-count"] == "1"


@pytest.mark.parametrize("status", [500, 503])
def test_server_error(status):
    with ScriptedServer.fixed("fine") as server, client_for(server) as client:
        server.queue_faults([Fault.server_error(status)])
        with pytest.raises(openai.InternalServerError) as caught:
            ask(client)
        assert caught.value.status_code == status
        assert caught.value.body["type"] == "server_error"


def test_timeout_raises_and_close_stays_prompt():
    server = ScriptedServer.fixed("late").start()
    try:
        server.queue_faults([Fault.timeout(30)])
        with client_for(server, timeout=0.3) as client:
            started = time.perf_counter()
            with pytest.raises(openai.APITimeoutError):
                ask(client)
            assert time.perf_counter() - started < 2
    finally:
        started = time.perf_counter()
        server.close()  # the handler is still "sleeping" 30 s: close must wake it
        assert time.perf_counter() - started < 1


def test_slow_reply_within_client_timeout():
    with ScriptedServer.fixed(Reply.content("slow but fine").delayed(0.1)) as server:
        with client_for(server, timeout=2) as client:
            assert ask(client).choices[0].message.content == "slow but fine"


def test_disconnect_is_a_connection_error():
    with ScriptedServer.fixed("fine") as server, client_for(server) as client:
        server.queue_faults([Fault.disconnect()])
        with pytest.raises(openai.APIConnectionError) as caught:
            ask(client)
        assert not isinstance(caught.value, openai.APITimeoutError)
        assert ask(client).choices[0].message.content == "fine"


@pytest.mark.parametrize("status", [401, 403])
def test_auth_error_masks_the_key_unless_asked_to_echo_it(status):
    with ScriptedServer.fixed("fine") as server, client_for(server) as client:
        server.queue_faults([Fault.auth_error(status), Fault.auth_error(status, echo_key=True)])
        expected = openai.AuthenticationError if status == 401 else openai.PermissionDeniedError
        with pytest.raises(expected) as masked:
            ask(client)
        with pytest.raises(expected) as echoed:
            ask(client)
    assert masked.value.status_code == status and masked.value.code == "invalid_api_key"
    assert KEY not in str(masked.value) and "tes***-key" in str(masked.value)
    assert f"Incorrect API key provided: {KEY}." in str(echoed.value)


def test_trickle_sends_the_whole_answer_one_byte_at_a_time():
    with ScriptedServer.fixed("ok") as server, client_for(server) as client:
        server.queue_faults([Fault.trickle(interval=0.002)])
        started = time.perf_counter()
        completion = ask(client)
        elapsed = time.perf_counter() - started
    assert completion.choices[0].message.content == "ok"  # the responder's normal answer
    assert elapsed > 0.002 * 300  # a completion body is several hundred bytes


def test_a_trickle_outlasts_a_timeout_that_each_byte_resets():
    # httpx's timeout is per read: a byte every 0.1 s never trips a 0.5 s timeout. (The llm engine
    # puts one deadline over the whole request for this reason.)
    server = ScriptedServer.fixed(Fault.trickle(interval=0.1)).start()
    client = client_for(server, timeout=0.5)
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(ask(client))
        except openai.APIError as error:
            outcome.append(error)

    thread = threading.Thread(target=call)
    thread.start()
    try:
        thread.join(1.5)
        assert thread.is_alive() and outcome == []  # three times the timeout, still reading
    finally:
        server.close()  # ends the trickle mid-body
        thread.join(5)
        client.close()
    assert len(outcome) == 1 and isinstance(outcome[0], openai.APIConnectionError)


@pytest.mark.parametrize("declare_length", [True, False])
def test_huge_answer(declare_length):
    with ScriptedServer.fixed(Fault.huge_answer(2_000_000, declare_length=declare_length)) as server:
        with client_for(server) as client:
            completion = ask(client, response_format={"type": "json_object"})
    text = completion.choices[0].message.content
    assert len(text) > 2_000_000 and json.loads(text)["items"][0]["text"] == "x" * 2_000_000


def test_echo_key_puts_the_request_key_in_the_answer():
    with ScriptedServer.fixed(Fault.echo_key({"items": [{"text": "key is {key}"}]})) as server:
        with client_for(server) as client:
            completion = ask(client)
    assert json.loads(completion.choices[0].message.content) == {"items": [{"text": f"key is {KEY}"}]}


def test_malformed_json_is_returned_as_is():
    with ScriptedServer.fixed('{"quotes": []}') as server, client_for(server) as client:
        server.queue_faults([Fault.malformed_json(), Fault.malformed_json("no JSON here")])
        content = ask(client).choices[0].message.content
        assert content.startswith("Sure! Here are the quotes:")
        with pytest.raises(json.JSONDecodeError):
            json.loads(content)
        tools = [{"type": "function", "function": {"name": "Quotes", "parameters": {"type": "object"}}}]
        call = ask(client, tools=tools).choices[0].message.tool_calls[0]  # tools: prose arguments
        assert call.function.name == "Quotes" and call.function.arguments == "no JSON here"


def test_truncated_json_cuts_the_normal_answer():
    answer = json.dumps({"quotes": [{"speaker": "Ahmed Sheikho", "text": "We fled at night."}]})
    with ScriptedServer.fixed(answer) as server, client_for(server) as client:
        server.queue_faults([Fault.truncated_json(), Fault.truncated_json('{"a": "bcdefgh"}')])
        choice = ask(client).choices[0]
        assert choice.finish_reason == "length"
        assert choice.message.content == answer[: len(answer) // 2]
        with pytest.raises(json.JSONDecodeError):
            json.loads(choice.message.content)
        assert ask(client).choices[0].message.content == '{"a": "b'
        assert ask(client).choices[0].message.content == answer


def test_faults_keyed_by_document_leave_the_others_alone():
    with ScriptedServer(lambda request: Reply.content("ok:" + request_text(request))) as server:
        server.queue_faults([Fault.server_error(), Fault.server_error()], when="DOC-7")
        server.queue_faults([Fault.rate_limit(0.1)], when=lambda request: "DOC-3" in request_text(request))
        results = {}
        with client_for(server) as client:
            for attempt in range(3):
                for doc in range(1, 9):
                    try:
                        results[(attempt, doc)] = ask(client, f"DOC-{doc}").choices[0].message.content
                    except openai.APIStatusError as error:
                        results[(attempt, doc)] = error.status_code
        assert server.pending_faults == 0
    assert [results[(0, doc)] for doc in range(1, 9)] == [
        "ok:DOC-1", "ok:DOC-2", 429, "ok:DOC-4", "ok:DOC-5", "ok:DOC-6", 500, "ok:DOC-8"]
    assert results[(1, 7)] == 500 and results[(1, 3)] == "ok:DOC-3"
    assert results[(2, 7)] == "ok:DOC-7"


def test_responder_can_fail_one_document_every_time():
    def responder(request: dict):
        if "DOC-7" in request_text(request):
            return Fault.server_error(502)
        return {"ok": True}

    with ScriptedServer(responder) as server, client_for(server) as client:
        for _ in range(3):
            with pytest.raises(openai.InternalServerError):
                ask(client, "DOC-7")
        assert json.loads(ask(client, "DOC-8").choices[0].message.content) == {"ok": True}


def test_responder_exception_is_a_500_and_recorded():
    def responder(request: dict):
        raise KeyError("oops")

    with ScriptedServer(responder) as server, client_for(server) as client:
        with pytest.raises(openai.InternalServerError):
            ask(client)
        assert len(server.errors) == 1 and "KeyError" in server.errors[0]


def test_refuse_json_schema_like_llama_cpp_while_json_object_works():
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    with ScriptedServer.fixed('{"n": 1}', refuse_json_schema=True) as server, client_for(server) as client:
        server.queue_faults([Fault.server_error()])
        with pytest.raises(openai.BadRequestError) as caught:
            ask(client, response_format={"type": "json_schema", "json_schema": {"name": "N", "schema": schema}})
        assert caught.value.status_code == 400
        assert LLAMA_CPP_JSON_SCHEMA_MESSAGE in str(caught.value)
        assert server.pending_faults == 1  # refusal happens before faults are consumed
        server.reset()
        completion = ask(client, response_format={"type": "json_object", "schema": schema})
        assert json.loads(completion.choices[0].message.content) == {"n": 1}
        assert server.requests[0].body["response_format"]["schema"] == schema


# --------------------------------------------------------------------------- concurrency and shutdown


def test_32_concurrent_async_requests_overlap():
    """The benchmark depends on this: latency is per request, not serialised."""

    async def run(server: ScriptedServer) -> tuple[float, list[str]]:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key=KEY, max_retries=0, timeout=5) as client:
            started = time.perf_counter()
            completions = await asyncio.gather(*(
                client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": f"DOC-{i}"}])
                for i in range(32)
            ))
            return time.perf_counter() - started, [c.choices[0].message.content for c in completions]

    with ScriptedServer(lambda request: request_text(request), latency=0.2) as server:
        elapsed, contents = asyncio.run(run(server))
        assert server.request_count == 32
    assert contents == [f"DOC-{i}" for i in range(32)]
    assert 0.2 <= elapsed < 1.5, elapsed


def test_close_frees_the_port_and_leaves_no_threads():
    before = set(threading.enumerate())
    with ScriptedServer.fixed("ok") as server:
        port = server.port
        client = client_for(server)  # left open: its keep-alive connection must not block close()
        ask(client)
        client.models.list()
    leftover = [t for t in threading.enumerate() if t not in before]
    assert leftover == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    probe = socket.socket()
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    probe.bind(("127.0.0.1", port))
    probe.close()
    client.close()


# --------------------------------------------------------------------------- instructor on top


class Quote(BaseModel):
    speaker: str
    text: str


def quote_responder(request: dict):
    """Answer like a model would: in the mode asked for, from the user message.

    Only the first line: MD_JSON merges its own "Return the correct JSON ..." into the user message.
    """
    speaker, _, said = request_text(request, role="user").splitlines()[0].partition(": ")
    return reply_for(request, {"speaker": speaker, "text": said})


@pytest.mark.parametrize(
    ("mode", "expected_format", "expects_tools"),
    [
        (instructor.Mode.JSON_SCHEMA, "json_schema", False),
        (instructor.Mode.TOOLS, None, True),
        (instructor.Mode.JSON, "json_object", False),
        (instructor.Mode.MD_JSON, None, False),
    ],
)
def test_instructor_modes(mode, expected_format, expects_tools):
    with ScriptedServer(quote_responder) as server, client_for(server) as raw:
        client = instructor.from_openai(raw, mode=mode)
        quote = client.chat.completions.create(
            model="gpt-4o-mini",
            response_model=Quote,
            messages=[{"role": "user", "content": "Ahmed Sheikho: We fled at night."}],
            max_retries=0,
        )
        (request,) = [r.body for r in server.requests]
    assert quote.model_dump() == {"speaker": "Ahmed Sheikho", "text": "We fled at night."}
    fmt = response_format(request)
    assert (fmt or {}).get("type") == expected_format
    assert bool(request.get("tools")) == expects_tools
    if mode == instructor.Mode.JSON_SCHEMA:
        assert fmt["json_schema"]["name"] == "Quote"
        assert fmt["json_schema"]["schema"] == Quote.model_json_schema()
        assert "strict" not in fmt["json_schema"]
    if mode == instructor.Mode.TOOLS:
        assert request["tools"][0]["function"]["name"] == "Quote"
        assert request["tool_choice"] == {"type": "function", "function": {"name": "Quote"}}
    if mode in (instructor.Mode.JSON, instructor.Mode.MD_JSON):
        assert request["messages"][0]["role"] == "system"  # schema goes into a system message
        assert '"speaker"' in request["messages"][0]["content"]


def test_instructor_async_with_fallback_from_refused_json_schema():
    async def run(server: ScriptedServer) -> Quote:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key=KEY, max_retries=0) as raw:
            strict = instructor.from_openai(raw, mode=instructor.Mode.JSON_SCHEMA)
            messages = [{"role": "user", "content": "Sheikho: Nobody came."}]
            try:
                return await strict.chat.completions.create(
                    model="m", response_model=Quote, messages=messages, max_retries=0)
            except InstructorRetryException as error:
                assert isinstance(error.__cause__, openai.BadRequestError)
            loose = instructor.from_openai(raw, mode=instructor.Mode.JSON)
            return await loose.chat.completions.create(
                model="m", response_model=Quote, messages=messages, max_retries=0)

    with ScriptedServer(quote_responder, refuse_json_schema=True) as server:
        assert asyncio.run(run(server)).model_dump() == {"speaker": "Sheikho", "text": "Nobody came."}
        assert [r.outcome for r in server.requests] == ["refused", "reply"]


def test_instructor_reasks_after_malformed_json_and_stops_on_truncation():
    with ScriptedServer(quote_responder) as server, client_for(server) as raw:
        client = instructor.from_openai(raw, mode=instructor.Mode.TOOLS)
        messages = [{"role": "user", "content": "Sheikho: Nobody came."}]
        server.queue_faults([Fault.malformed_json()])
        quote = client.chat.completions.create(
            model="m", response_model=Quote, messages=messages, max_retries=1)
        assert quote.speaker == "Sheikho"
        first, second = (r.body for r in server.requests)
        assert len(second["messages"]) > len(first["messages"])  # the reask carries the error back
        assert second["messages"][-1]["role"] == "tool"

        server.reset()
        server.queue_faults([Fault.truncated_json()])
        with pytest.raises(IncompleteOutputException):
            client.chat.completions.create(
                model="m", response_model=Quote, messages=messages, max_retries=3)
        assert server.request_count == 1  # truncation is not retried by instructor


def test_instructor_wraps_http_errors():
    with ScriptedServer(quote_responder) as server, client_for(server) as raw:
        client = instructor.from_openai(raw, mode=instructor.Mode.TOOLS)
        server.queue_faults([Fault.rate_limit(0.5)])
        with pytest.raises(InstructorRetryException) as caught:
            client.chat.completions.create(
                model="m", response_model=Quote,
                messages=[{"role": "user", "content": "A: b"}], max_retries=3)
        assert isinstance(caught.value.__cause__, openai.RateLimitError)
        assert caught.value.__cause__.response.headers["retry-after"] == "0.5"
        assert server.request_count == 1  # instructor retries parse errors only, never HTTP errors


def test_instructor_json_mode_can_send_llama_cpp_schema_via_extra_body():
    """Mode.JSON sends a bare {"type": "json_object"}; extra_body replaces it with llama.cpp's form."""
    llama_format = {"type": "json_object", "schema": Quote.model_json_schema()}
    with ScriptedServer(quote_responder, refuse_json_schema=True) as server, client_for(server) as raw:
        client = instructor.from_openai(raw, mode=instructor.Mode.JSON)
        quote = client.chat.completions.create(
            model="m", response_model=Quote, max_retries=0,
            messages=[{"role": "user", "content": "Sheikho: Nobody came."}],
            extra_body={"response_format": llama_format},
        )
        assert quote.speaker == "Sheikho"
        assert server.requests[0].body["response_format"] == llama_format
