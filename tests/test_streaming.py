"""`ChatStream` over Azure's real SSE quirks (docs/wire.md, "Streaming"): the empty first
chunk with prompt annotations, per-chunk filter annotations, annotation-only chunks, the usage
chunk and `[DONE]`; and when `stream_options.include_usage` may be sent at all."""

from __future__ import annotations

import httpx
import openai
import pytest
from azure_wire import (
    CUT_COMPLETION_FILTER,
    SUCCESS_HEADERS,
    THROTTLED_429,
    V1_ENDPOINT,
    content_chunk,
    error,
    sse,
    sse_response,
    stream_chunks,
)

from azure_ai_kit import (
    ChatChunk,
    ChatStream,
    ContentFilteredError,
    RateLimitedError,
    RetryPolicy,
    ServiceError,
)

ASYNC_FILTER_ANNOTATION = {  # asynchronous filter mode: annotation-only, no delta
    "choices": [
        {
            "content_filter_offsets": {"check_offset": 0, "start_offset": 0, "end_offset": 11},
            "content_filter_results": {
                "hate": {"filtered": False, "severity": "safe"},
                "violence": {"filtered": False, "severity": "low"},
            },
            "finish_reason": None,
            "index": 0,
        }
    ],
    "created": 0,
    "id": "",
    "model": "",
    "object": "",
}


def _read_into(stream: ChatStream, texts: list[str]) -> None:
    """Read a stream the way a caller does, keeping each chunk's text."""
    with stream:
        for chunk in stream:
            texts.append(chunk.text)


def test_stream_folds_azure_chunks_into_a_result(make_client):
    """docs/wire.md: first chunk `choices: []` + prompt_filter_results; content chunks with
    content_filter_results; usage chunk `choices: []` + usage; then [DONE]."""
    client, rec = make_client(sse_response(stream_chunks()), endpoint=V1_ENDPOINT)
    with client.stream_chat([{"role": "user", "content": "Say hello"}]) as stream:
        chunks = list(stream)
    assert all(isinstance(c, ChatChunk) for c in chunks)
    assert [c.text for c in chunks] == ["", "", "Hello", " world", "", ""]
    assert [c.finish_reason for c in chunks][4] == "stop"
    result = stream.result
    assert result.text == "Hello world"
    assert result.finish_reason == "stop"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (27, 3)
    assert result.usage.total_tokens == 30
    assert result.model == "gpt-4o-2024-05-13"
    assert result.region == "East US 2"
    assert result.request_id == "apim-0001"
    assert result.deployment == "gpt-4o"
    assert result.prompt_filter is not None
    assert result.prompt_filter.categories["jailbreak"].detected is False
    assert result.completion_filter is not None
    assert result.completion_filter.categories["hate"].severity == "safe"
    assert result.completion_filter.filtered is False
    assert [a.status for a in result.attempts] == [200]
    assert len(rec.requests) == 1


def test_stream_without_usage_chunk_reports_zero_usage(make_client):
    client, _ = make_client(sse_response(stream_chunks(usage=False)))
    with client.stream_chat("hi") as stream:
        assert stream.text() == "Hello world"
    assert stream.result.usage.total_tokens == 0


def test_annotation_only_chunks_are_tolerated_and_keep_the_worst_severity(make_client):
    """docs/wire.md, "Streaming": the asynchronous filter adds annotation-only chunks
    (content_filter_offsets)."""
    chunks = stream_chunks()
    chunks.insert(4, ASYNC_FILTER_ANNOTATION)
    client, _ = make_client(sse_response(chunks))
    with client.stream_chat("hi") as stream:
        texts = [c.text for c in stream]
    assert "".join(texts) == "Hello world"
    report = stream.result.completion_filter
    assert report is not None
    assert report.categories["violence"].severity == "low"  # worse than the earlier "safe"
    assert report.filtered is False


# --- stream_options only where Azure accepts it ------------------------------------------------
def _stream_body(make_client, **client_kwargs):
    client, rec = make_client(sse_response(stream_chunks()), **client_kwargs)
    client.stream_chat("hi").text()
    return rec.requests[0], rec.body()


def test_classic_ga_stream_asks_for_the_usage_chunk(make_client):
    """docs/wire.md: stream_options is in the 2024-10-21 GA spec and every later version."""
    request, body = _stream_body(make_client)
    assert request.url.params["api-version"] == "2024-10-21"
    assert request.url.path == "/openai/deployments/gpt-4o/chat/completions"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("version", ["2024-06-01", "2024-08-01-preview", "2024-02-01"])
def test_versions_before_stream_options_do_not_get_it(make_client, version):
    _, body = _stream_body(make_client, api_version=version)
    assert "stream_options" not in body


@pytest.mark.parametrize(
    "client_kwargs",
    [
        {"endpoint": V1_ENDPOINT},
        {"api_version": "v1"},
        {"api_version": "2024-09-01-preview"},
        {"api_version": "2025-04-01-preview"},
    ],
    ids=["v1-endpoint", "v1-api-version", "2024-09-01-preview", "2025-04-01-preview"],
)
def test_v1_and_recent_previews_ask_for_the_usage_chunk(make_client, client_kwargs):
    _, body = _stream_body(make_client, **client_kwargs)
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_older_preview_does_not_send_stream_options(make_client):
    _, body = _stream_body(make_client, api_version="2024-08-01-preview")
    assert "stream_options" not in body


def test_caller_stream_options_win(make_client):
    client, rec = make_client(sse_response(stream_chunks()), endpoint=V1_ENDPOINT)
    client.stream_chat("hi", stream_options={"include_usage": False}).text()
    assert rec.body()["stream_options"] == {"include_usage": False}


def test_stream_passes_system_and_max_tokens(make_client):
    client, rec = make_client(sse_response(stream_chunks()))
    client.stream_chat("hi", system="terse", max_tokens=5, model="code").text()
    body = rec.body()
    assert rec.requests[0].url.path == "/openai/deployments/gpt-41/chat/completions"
    assert body["messages"][0] == {"role": "system", "content": "terse"}
    assert body["max_completion_tokens"] == 5  # 2024-10-21 takes it, and every chat model does
    assert "max_tokens" not in body


# --- failures -----------------------------------------------------------------------------------
def test_completion_cut_mid_stream_raises_with_partial_text(make_client):
    chunks = [
        *stream_chunks(usage=False)[:3],  # first, role, "Hello"
        content_chunk(None, finish_reason="content_filter", choice_filter=CUT_COMPLETION_FILTER),
    ]
    client, _ = make_client(sse_response(chunks))
    stream = client.stream_chat("hi")
    seen: list[str] = []
    with pytest.raises(ContentFilteredError) as info:
        _read_into(stream, seen)
    assert "Hello" in seen  # the text before the cut reached the caller
    exc = info.value
    assert exc.source == "completion"
    assert exc.partial_text == "Hello"
    assert exc.filtered_categories == ["violence"]
    assert stream.result.finish_reason == "content_filter"


def test_error_chunk_mid_stream_is_a_service_error(make_client):
    """docs/wire.md: a chunk with an `error` key is an error."""
    chunks = [
        *stream_chunks(usage=False)[:3],
        {"error": {"code": "server_error", "message": "The server had an error"}},
    ]
    client, rec = make_client(sse_response(chunks))
    with pytest.raises(ServiceError) as info:
        _read_into(client.stream_chat("hi"), [])
    assert "not retried" in str(info.value)
    assert len(rec.requests) == 1


def test_connection_drop_mid_stream_is_not_retried(make_client):
    class Broken(httpx.SyncByteStream):
        def __iter__(self):
            yield sse(stream_chunks()[:3], done=False)
            raise httpx.RemoteProtocolError("peer closed connection")

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream", **SUCCESS_HEADERS}, stream=Broken()
        )

    client, rec = make_client(handler)
    texts: list[str] = []
    with pytest.raises(ServiceError) as info:
        _read_into(client.stream_chat("hi"), texts)
    assert "Hello" in texts
    assert "broke after it started" in str(info.value)
    assert isinstance(info.value.__cause__, openai.APIConnectionError)
    assert [a.status for a in info.value.attempts] == [200]
    assert len(rec.requests) == 1


def test_throttled_before_the_first_chunk_raises_on_open(make_client):
    client, rec = make_client(
        error(429, THROTTLED_429),
        retry=RetryPolicy(max_attempts=1, max_throttled_attempts=0, jitter=0),
    )
    stream = client.stream_chat("hi")
    assert rec.requests == []  # nothing is sent until the stream is opened
    with pytest.raises(RateLimitedError) as info, stream:
        pass
    assert info.value.retry_after == pytest.approx(6.0)
    assert len(rec.requests) == 1


def test_result_before_the_end_is_an_error(make_client):
    client, _ = make_client(sse_response(stream_chunks()))
    with client.stream_chat("hi") as stream:
        with pytest.raises(RuntimeError, match="not finished"):
            _ = stream.result
        next(iter(stream))
        with pytest.raises(RuntimeError, match="not finished"):
            _ = stream.result
