"""`respond` / `stream_respond` against Azure's Responses API bodies (mocked HTTP), both twins:
routes, conversion, failover before the first event, `previous_response_id` pinning, stream
failures, the usage ledger."""

from __future__ import annotations

import json

import pytest
from azure_wire import SERVER_ERROR_500, error
from responses_wire import (
    by_host,
    events,
    function_call,
    hosts,
    message,
    ok,
    output_text,
    pool_client,
    response,
    sse,
)

from azure_ai_kit import (
    ContentFilteredError,
    DeploymentNotFoundError,
    ResponseResult,
    ServiceError,
)


# --- respond ------------------------------------------------------------------------------
def test_respond_sends_the_v1_request_and_converts_the_answer(make_client):
    client, recorder = make_client(ok(response()), api_version=None)
    result = client.respond(
        "Capital of France?", instructions="Be brief.", max_output_tokens=50, store=True
    )
    request = recorder.requests[-1]
    assert request.url.path == "/openai/v1/responses"
    assert recorder.body() == {
        "model": "gpt-4o",
        "input": "Capital of France?",
        "instructions": "Be brief.",
        "max_output_tokens": 50,
        "store": True,
    }
    assert isinstance(result, ResponseResult)
    assert result.text == "Paris is the capital of France."
    assert (result.id, result.status, result.model) == ("resp_1", "completed", "gpt-4o-2024-08-06")
    assert result.usage.prompt_tokens == 12
    assert result.usage.completion_tokens == 5
    assert (result.usage.cached_tokens, result.usage.reasoning_tokens) == (4, 2)
    assert (result.deployment, result.region, result.request_id) == (
        "gpt-4o",
        "East US 2",
        "apim-0001",
    )
    assert result.output[0].type == "message"
    assert result.tool_calls == []
    assert result.parsed is None
    assert result.refusal is None


async def test_async_respond_sends_the_v1_request_and_converts_the_answer(make_async_client):
    client, recorder = make_async_client(ok(response()), api_version=None)
    result = await client.respond([{"role": "user", "content": "Capital of France?"}])
    assert recorder.requests[-1].url.path == "/openai/v1/responses"
    assert recorder.body()["input"] == [{"role": "user", "content": "Capital of France?"}]
    assert result.text == "Paris is the capital of France."
    assert result.usage.total_tokens == 17


def test_a_dated_api_version_takes_the_classic_preview_route(make_client):
    client, recorder = make_client(ok(response()), api_version="2025-04-01-preview")
    client.respond("hi")
    url = recorder.requests[-1].url
    assert url.path == "/openai/responses"
    assert url.params["api-version"] == "2025-04-01-preview"
    assert recorder.body()["model"] == "gpt-4o"


def test_text_is_every_output_text_part_and_tool_calls_are_the_function_calls(make_client):
    body = response(
        output=[
            {"id": "rs_1", "type": "reasoning", "summary": []},
            message(output_text("Hello"), output_text(" world")),
            function_call("get_weather", '{"city":"Paris"}'),
        ]
    )
    client, _ = make_client(ok(body), api_version=None)
    result = client.respond("hi", tools=[{"type": "function", "name": "get_weather"}])
    assert result.text == "Hello world"
    [call] = result.tool_calls
    assert (call.name, json.loads(call.arguments), call.call_id) == (
        "get_weather",
        {"city": "Paris"},
        "call_1",
    )


def test_a_response_cut_by_the_content_filter_raises_with_the_partial_text(make_client):
    body = response("Partial", status="incomplete", incomplete="content_filter")
    client, _ = make_client(ok(body), api_version=None)
    with pytest.raises(ContentFilteredError) as info:
        client.respond("hi")
    assert info.value.source == "completion"
    assert info.value.partial_text == "Partial"
    assert info.value.request_id == "apim-0001"


def test_an_unstructured_reply_cut_by_max_output_tokens_is_returned_as_incomplete(make_client):
    body = response("Par", status="incomplete", incomplete="max_output_tokens")
    client, _ = make_client(ok(body), api_version=None)
    result = client.respond("hi", max_output_tokens=1)
    assert (result.status, result.incomplete_reason, result.text) == (
        "incomplete",
        "max_output_tokens",
        "Par",
    )


def test_respond_fails_over_to_the_next_resource_after_a_500(clock):
    recorder = by_host(error(500, SERVER_ERROR_500), ok(response()))
    client = pool_client(recorder, clock)
    result = client.respond("hi")
    assert hosts(recorder) == ["east-res", "west-res"]
    assert result.endpoint == "https://west-res.openai.azure.com"
    assert [a.status for a in result.attempts] == [500, 200]
    assert clock.slept == []  # failover is immediate


async def test_async_respond_fails_over_to_the_next_resource_after_a_500(clock):
    recorder = by_host(error(500, SERVER_ERROR_500), ok(response()))
    client = pool_client(recorder, clock, asynchronous=True)
    result = await client.respond("hi")
    assert hosts(recorder) == ["east-res", "west-res"]
    assert result.endpoint.startswith("https://west-res")


def test_the_usage_ledger_counts_respond_calls(make_client):
    client, _ = make_client(ok(response()), api_version=None)
    client.respond("one")
    client.respond("two")
    report = client.usage()
    assert report.total.calls == 2
    assert report.by_alias["chat"].prompt_tokens == 24
    assert report.by_alias["chat"].completion_tokens == 10


# --- previous_response_id pins the follow-up to the deployment storing the response --------
def test_a_follow_up_turn_stays_on_its_deployment_and_does_not_fail_over(clock):
    recorder = by_host(
        [ok(response(id="resp_east")), error(500, SERVER_ERROR_500)], ok(response(id="resp_west"))
    )
    client = pool_client(recorder, clock)
    first = client.respond("Remember 42.")
    assert first.id == "resp_east"
    with pytest.raises(ServiceError) as info:
        client.respond("What number?", previous_response_id="resp_east")
    # Every attempt went to east: the stored response does not exist on west.
    assert set(hosts(recorder)) == {"east-res"}
    assert len(recorder.requests) > 2
    message_ = str(info.value)
    assert "resp_east" in message_
    assert "gpt-4o@east-res.openai.azure.com" in message_
    assert "does not fail over" in message_
    assert recorder.body()["previous_response_id"] == "resp_east"


async def test_async_follow_up_waits_for_its_cooling_deployment_within_the_deadline(clock):
    recorder = by_host(
        [ok(response(id="resp_east")), error(500, SERVER_ERROR_500), ok(response(id="resp_2"))],
        ok(response(id="resp_west")),
    )
    client = pool_client(recorder, clock, asynchronous=True)
    await client.respond("Remember 42.")
    result = await client.respond("What number?", previous_response_id="resp_east")
    assert result.id == "resp_2"
    assert hosts(recorder) == ["east-res", "east-res", "east-res"]
    assert clock.slept  # waited for east's cooldown instead of going to west


def test_a_follow_up_to_a_broken_deployment_raises_at_once_naming_it(clock):
    recorder = by_host(
        [
            ok(response(id="resp_east")),
            error(404, {"error": {"code": "DeploymentNotFound", "message": "gone"}}),
        ],
        ok(response()),
    )
    client = pool_client(recorder, clock)
    client.respond("Remember 42.")
    with pytest.raises(DeploymentNotFoundError, match="previous_response_id resp_east"):
        client.respond("What number?", previous_response_id="resp_east")
    assert hosts(recorder) == ["east-res", "east-res"]
    assert clock.slept == []


def test_an_unknown_previous_response_id_uses_the_normal_candidates(clock):
    recorder = by_host(error(500, SERVER_ERROR_500), ok(response()))
    client = pool_client(recorder, clock)
    client.respond("hi", previous_response_id="resp_from_another_process")
    assert hosts(recorder) == ["east-res", "west-res"]


def test_a_streamed_response_is_remembered_for_follow_ups(clock):
    recorder = by_host(
        [sse(events(id="resp_streamed")), error(500, SERVER_ERROR_500)], ok(response())
    )
    client = pool_client(recorder, clock)
    with client.stream_respond("hi") as stream:
        stream.text()
    with pytest.raises(ServiceError, match="resp_streamed"):
        client.respond("again", previous_response_id="resp_streamed")
    assert set(hosts(recorder)) == {"east-res"}


# --- stream_respond -----------------------------------------------------------------------
def test_stream_respond_yields_text_and_a_result(make_client):
    client, recorder = make_client(sse(events()), api_version=None)
    with client.stream_respond("hi", instructions="Greet.") as stream:
        chunks = list(stream)
    assert recorder.body()["stream"] is True
    assert "".join(c.text for c in chunks) == "Hello world"
    assert [c.type for c in chunks if c.text] == ["response.output_text.delta"] * 2
    result = stream.result
    assert (result.text, result.id, result.status) == ("Hello world", "resp_s", "completed")
    assert result.usage.prompt_tokens == 12
    assert result.deployment == "gpt-4o"
    assert client.usage().total.calls == 1


async def test_async_stream_respond_yields_text_and_a_result(make_async_client):
    client, _ = make_async_client(sse(events()), api_version=None)
    async with client.stream_respond("hi") as stream:
        texts = [chunk.text async for chunk in stream]
    assert "".join(texts) == "Hello world"
    assert stream.result.text == "Hello world"


def test_response_failed_after_text_raises_with_the_partial_text(make_client):
    client, _ = make_client(sse(events(["Hel"], end="failed")), api_version=None)
    seen = []

    def read() -> None:
        with client.stream_respond("hi") as stream:
            seen.extend(chunk.text for chunk in stream)

    with pytest.raises(ServiceError) as info:
        read()
    assert "".join(seen) == "Hel"
    assert info.value.partial_text == "Hel"
    assert "server_error" in str(info.value)


async def test_async_error_event_after_text_raises(make_async_client):
    client, _ = make_async_client(sse(events(["Hel"], end="error")), api_version=None)
    with pytest.raises(ServiceError, match="Stream error") as info:
        async with client.stream_respond("hi") as stream:
            await stream.text()
    assert info.value.partial_text == "Hel"


def test_a_stream_cut_before_its_terminal_event_raises(make_client):
    client, _ = make_client(sse(events(end="cut")), api_version=None)
    stream = client.stream_respond("hi")
    with pytest.raises(ServiceError, match=r"ended before response\.completed") as info:
        stream.text()
    assert info.value.partial_text == "Hello world"
    # What arrived stays readable: the result holds the text, with no final status.
    assert (stream.result.text, stream.result.status) == ("Hello world", None)


def test_a_stream_failing_before_its_first_text_fails_over(clock):
    recorder = by_host(sse(events([], end="failed")), sse(events()))
    client = pool_client(recorder, clock)
    with client.stream_respond("hi") as stream:
        assert stream.text() == "Hello world"
    assert hosts(recorder) == ["east-res", "west-res"]
    assert stream.result.endpoint.startswith("https://west-res")


async def test_async_stream_500_before_the_first_event_fails_over(clock):
    recorder = by_host(error(500, SERVER_ERROR_500), sse(events()))
    client = pool_client(recorder, clock, asynchronous=True)
    async with client.stream_respond("hi") as stream:
        assert await stream.text() == "Hello world"
    assert hosts(recorder) == ["east-res", "west-res"]


def test_a_stream_incomplete_for_length_returns_an_incomplete_result(make_client):
    client, _ = make_client(sse(events(["Hel"], end="incomplete")), api_version=None)
    with client.stream_respond("hi", max_output_tokens=1) as stream:
        stream.text()
    assert (stream.result.status, stream.result.incomplete_reason) == (
        "incomplete",
        "max_output_tokens",
    )


# --- against the emulator -----------------------------------------------------------------
def test_on_the_emulator_a_conversation_streams_and_continues():
    from azure_ai_kit import AzureAIClient

    client = AzureAIClient.for_emulator()
    first = client.respond("Capital of France?", instructions="Be brief.")
    assert first.status == "completed"
    assert first.id.startswith("resp_")
    assert first.usage.total_tokens > 0
    follow_up = client.respond("And of Spain?", previous_response_id=first.id)
    assert follow_up.deployment == first.deployment
    with client.stream_respond("Tell me a story") as stream:
        text = "".join(chunk.text for chunk in stream)
    assert text
    assert stream.result.text == text
    assert client.usage().total.calls == 3


async def test_on_the_emulator_async_respond_and_function_calls():
    from azure_ai_kit import AsyncAzureAIClient

    tool = {
        "type": "function",
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
            "additionalProperties": False,
        },
    }
    async with AsyncAzureAIClient.for_emulator() as client:
        result = await client.respond("Weather in Paris?", tools=[tool])
        [call] = result.tool_calls
        assert call.name == "get_weather"
        assert "city" in json.loads(call.arguments)
        async with client.stream_respond("hi") as stream:
            assert await stream.text() == stream.result.text
