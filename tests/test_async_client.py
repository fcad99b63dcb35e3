"""`AsyncAzureAIClient`: the same wire behaviour as the sync client, awaited — and a parity
test that runs identical calls through both twins against one handler (docs/wire.md bodies)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import httpx
import openai
import pytest
from azure_wire import (
    API_KEY,
    BLOB_URL,
    CONTEXT_LENGTH_400,
    CUT_COMPLETION_FILTER,
    DEPLOYMENT_NOT_FOUND_404,
    FORBIDDEN_403,
    PNG_BYTES,
    PROMPT_FILTERED_400,
    PROMPT_FILTERED_400_SPEC,
    SERVER_ERROR_500,
    THROTTLED_429,
    V1_ENDPOINT,
    Recorder,
    chat_completion,
    content_chunk,
    embedding_response,
    error,
    image_response,
    ok,
    sse_response,
    stream_chunks,
)

from azure_ai_kit import (
    AsyncChatStream,
    AuthenticationError,
    AzureAIKitError,
    ContentFilteredError,
    ContextLengthError,
    DeploymentNotFoundError,
    RateLimitedError,
    RetryPolicy,
    ServiceError,
)

ONE_SHOT = RetryPolicy(max_attempts=1, max_throttled_attempts=0, jitter=0)


async def test_classic_chat_url_and_key(make_async_client):
    """docs/wire.md: classic URL, api-version query, `api-key` header."""
    client, rec = make_async_client()
    result = await client.chat("hi")
    (request,) = rec.requests
    assert str(request.url) == (
        "https://res.openai.azure.com/openai/deployments/gpt-4o/chat/completions"
        "?api-version=2024-10-21"
    )
    assert request.headers["api-key"] == API_KEY
    assert "authorization" not in request.headers
    assert request.headers["x-stainless-async"] != "false"
    assert result.text == "Paris is the capital of France."
    assert result.region == "East US 2"


async def test_v1_chat_url_model_and_bearer(make_async_client):
    client, rec = make_async_client(endpoint=V1_ENDPOINT)
    await client.chat("hi", model="code")
    request = rec.requests[0]
    assert str(request.url) == "https://res.openai.azure.com/openai/v1/chat/completions"
    assert rec.body()["model"] == "gpt-41"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"


async def test_unknown_alias_raises_before_any_request(make_async_client):
    client, rec = make_async_client()
    with pytest.raises(
        DeploymentNotFoundError, match="known aliases: chat, code, embedding, image"
    ):
        await client.chat("hi", model="chta")
    assert rec.requests == []


async def test_stream_with_azure_chunks(make_async_client):
    """docs/wire.md "Streaming": empty first chunk, annotations, usage chunk, [DONE]."""
    client, rec = make_async_client(sse_response(stream_chunks()), endpoint=V1_ENDPOINT)
    stream = client.stream_chat("hi")
    assert isinstance(stream, AsyncChatStream)
    async with stream:
        texts = [chunk.text async for chunk in stream]
    assert "".join(texts) == "Hello world"
    assert rec.body()["stream_options"] == {"include_usage": True}
    result = stream.result
    assert result.usage.total_tokens == 30
    assert result.prompt_filter is not None
    assert result.prompt_filter.categories["jailbreak"].detected is False
    assert result.finish_reason == "stop"


async def test_classic_ga_stream_asks_for_usage(make_async_client):
    client, rec = make_async_client(sse_response(stream_chunks()))
    stream = client.stream_chat("hi")
    assert await stream.text() == "Hello world"
    assert rec.body()["stream_options"] == {"include_usage": True}
    assert rec.requests[0].url.params["api-version"] == "2024-10-21"
    assert stream.result.usage.total_tokens > 0


async def test_stream_cut_by_filter(make_async_client):
    chunks = [
        *stream_chunks(usage=False)[:3],
        content_chunk(None, finish_reason="content_filter", choice_filter=CUT_COMPLETION_FILTER),
    ]
    client, _ = make_async_client(sse_response(chunks))
    with pytest.raises(ContentFilteredError) as info:
        await client.stream_chat("hi").text()
    assert info.value.source == "completion"
    assert info.value.partial_text == "Hello"


async def test_image_url_only_is_downloaded_without_the_key(make_async_client, tmp_path):
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.host.endswith("blob.core.windows.net"):
            return httpx.Response(200, content=PNG_BYTES)
        return ok(image_response(url=True))

    client, rec = make_async_client(route)
    result = await client.generate_image("a fox", response_format="url")
    blob = rec.requests[1]
    assert str(blob.url) == BLOB_URL
    assert "api-key" not in blob.headers
    assert "authorization" not in blob.headers
    assert result.images[0].save(tmp_path / "fox.png").read_bytes() == PNG_BYTES


async def test_image_b64(make_async_client):
    client, rec = make_async_client(ok(image_response()))
    result = await client.generate_image("a fox", size="1792x1024")
    assert rec.body()["response_format"] == "b64_json"
    assert rec.body()["size"] == "1792x1024"
    assert result.images[0].data == PNG_BYTES


async def test_embeddings_in_input_order(make_async_client):
    client, _ = make_async_client(ok(embedding_response({1: [2.0], 2: [3.0], 0: [1.0]})))
    result = await client.embed(["a", "b", "c"])
    assert result.vectors == ([1.0], [2.0], [3.0])


@pytest.mark.parametrize(
    ("response", "kind", "cause", "status"),
    [
        (error(400, PROMPT_FILTERED_400), ContentFilteredError, openai.BadRequestError, 400),
        (error(400, PROMPT_FILTERED_400_SPEC), ContentFilteredError, openai.BadRequestError, 400),
        (error(400, CONTEXT_LENGTH_400), ContextLengthError, openai.BadRequestError, 400),
        (error(404, DEPLOYMENT_NOT_FOUND_404), DeploymentNotFoundError, openai.NotFoundError, 404),
        (error(403, FORBIDDEN_403), AuthenticationError, openai.PermissionDeniedError, 403),
        (error(429, THROTTLED_429), RateLimitedError, openai.RateLimitError, 429),
        (error(500, SERVER_ERROR_500), ServiceError, openai.InternalServerError, 500),
    ],
    ids=["filter", "filter-spec", "context", "404", "403", "429", "500"],
)
async def test_error_mapping(make_async_client, response, kind, cause, status):
    client, rec = make_async_client(response, retry=ONE_SHOT)
    with pytest.raises(kind) as info:
        await client.chat("hi")
    exc = info.value
    assert type(exc) is kind
    assert isinstance(exc.__cause__, cause)
    assert [(a.status, a.error) for a in exc.attempts] == [(status, kind.__name__)]
    assert len(rec.requests) == 1
    if kind is ContentFilteredError:
        assert exc.filtered_categories == ["jailbreak"]
        assert exc.source == "prompt"
    if kind is AuthenticationError:  # a blocked resource: the portal, not the role
        assert "Azure portal" in str(exc)
    if kind is RateLimitedError:
        assert exc.retry_after == pytest.approx(6.0)


async def test_timeout_is_a_service_error(make_async_client):
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client, _ = make_async_client(handler, retry=ONE_SHOT)
    with pytest.raises(ServiceError, match="timed out") as info:
        await client.chat("hi")
    assert isinstance(info.value.__cause__, openai.APITimeoutError)


async def test_throttle_wait_uses_the_injected_sleep(make_async_client, clock):
    client, rec = make_async_client([error(429, THROTTLED_429), ok(chat_completion("ok"))])
    assert (await client.chat("hi")).text == "ok"
    assert clock.slept == [pytest.approx(6.0)]
    assert len(rec.requests) == 2


async def test_async_context_manager_keeps_a_passed_http_client_open(make_async_client):
    client, _ = make_async_client()
    async with client as same:
        assert same is client
        await client.chat("hi")
    assert not client._http.is_closed


# --- parity -----------------------------------------------------------------------------------
def _parity_handler(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content) if request.content else {}
    if "blocked" in json.dumps(body):
        return error(400, PROMPT_FILTERED_400)
    return Recorder.default(request)


def _fields(result: Any) -> dict[str, Any]:
    return {f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.name != "raw"}


def _wire(requests: list[httpx.Request]) -> list[tuple[Any, ...]]:
    return [
        (
            r.method,
            str(r.url),
            r.headers.get("api-key"),
            r.headers.get("authorization"),
            r.headers.get("content-type"),
            json.loads(r.content) if r.content else None,
        )
        for r in requests
    ]


def _error_fields(exc: AzureAIKitError) -> tuple[Any, ...]:
    return (type(exc), str(exc), exc.attempts, exc.status_code, type(exc.__cause__))


@pytest.mark.parametrize("endpoint", ["https://res.openai.azure.com", V1_ENDPOINT])
async def test_sync_and_async_twins_send_and_return_the_same(
    make_client, make_async_client, endpoint
):
    """Same handler, same calls → equal result fields and identical requests on the wire."""
    sync_client, sync_rec = make_client(_parity_handler, endpoint=endpoint)
    async_client, async_rec = make_async_client(_parity_handler, endpoint=endpoint)

    sync_results = [
        sync_client.chat("hi", system="sys", max_tokens=10, temperature=0),
        sync_client.chat([{"role": "user", "content": "code please"}], model="code"),
        sync_client.generate_image("a fox", size="1024x1024"),
        sync_client.embed(["a", "b"]),
    ]
    with sync_client.stream_chat("stream me") as stream:
        sync_chunks = [c.text for c in stream]
    sync_results.append(stream.result)
    with pytest.raises(ContentFilteredError) as sync_error:
        sync_client.chat("blocked")

    async_results = [
        await async_client.chat("hi", system="sys", max_tokens=10, temperature=0),
        await async_client.chat([{"role": "user", "content": "code please"}], model="code"),
        await async_client.generate_image("a fox", size="1024x1024"),
        await async_client.embed(["a", "b"]),
    ]
    async with async_client.stream_chat("stream me") as astream:
        async_chunks = [c.text async for c in astream]
    async_results.append(astream.result)
    with pytest.raises(ContentFilteredError) as async_error:
        await async_client.chat("blocked")

    assert [_fields(r) for r in async_results] == [_fields(r) for r in sync_results]
    assert async_chunks == sync_chunks
    assert _error_fields(async_error.value) == _error_fields(sync_error.value)
    assert _wire(async_rec.requests) == _wire(sync_rec.requests)
    assert len(sync_rec.requests) == 6
    assert [s.state for s in async_client.status()] == [s.state for s in sync_client.status()]
