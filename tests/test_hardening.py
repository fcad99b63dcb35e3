"""Reliability regressions: each test names the behaviour a user relies on."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from azure_wire import (
    STREAM_FIRST_CHUNK,
    chat_completion,
    embedding_response,
    error,
    ok,
    sse,
    stream_chunks,
)

from azure_ai_kit import AzureAIClient, Deployment, RetryPolicy, ServiceError
from azure_ai_kit.testing import FakeClock

SERVER_ERROR = {"error": {"message": "The server had an error.", "type": "server_error"}}


def test_backoff_settings_are_what_a_failing_deployment_costs(
    make_client: Any, clock: FakeClock
) -> None:
    policy = RetryPolicy(max_attempts=4, backoff_base=0.1, backoff_cap=0.2, jitter=0)
    client, recorder = make_client(error(500, SERVER_ERROR), retry=policy)
    with pytest.raises(ServiceError):
        client.chat("hi")
    assert len(recorder.requests) == 4
    assert clock.slept == [pytest.approx(0.1), pytest.approx(0.2), pytest.approx(0.2)]


def test_default_policy_bounds_an_always_failing_deployment(
    make_client: Any, clock: FakeClock
) -> None:
    client, _ = make_client(error(500, SERVER_ERROR))  # RetryPolicy(jitter=0) otherwise default
    with pytest.raises(ServiceError):
        client.chat("hi")
    assert sum(clock.slept) == pytest.approx(0.5 + 1 + 2 + 4 + 8)


def test_recovered_deployment_serves_after_the_policy_backoff(
    make_client: Any, clock: FakeClock
) -> None:
    client, _ = make_client([error(500, SERVER_ERROR), ok(chat_completion("back"))])
    assert client.chat("hi").text == "back"
    assert clock.slept == [pytest.approx(0.5)]


# --- a pool of two resources on a mocked transport ------------------------------------------
EAST, WEST = "https://east-res.openai.azure.com", "https://west-res.openai.azure.com"


def two_resources(
    east: Any, west: Any, clock: FakeClock, **kwargs: Any
) -> tuple[AzureAIClient, list[str]]:
    """A client on two resources (east first); each answers from its own reply (a Response,
    a list of them in turn, or a function). Returns the client and the hosts hit, in order."""
    hits: list[str] = []
    scripts = {"east-res.openai.azure.com": east, "west-res.openai.azure.com": west}
    counts: dict[str, int] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        hits.append(host.split(".")[0])
        reply = scripts[host]
        if isinstance(reply, list):
            n = counts[host] = counts.get(host, -1) + 1
            reply = reply[min(n, len(reply) - 1)]
        if callable(reply):
            return reply(request)
        return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)

    pool = [
        Deployment("gpt-4o", endpoint=EAST, aliases=("chat", "embedding"), priority=0),
        Deployment("gpt-4o", endpoint=WEST, aliases=("chat", "embedding"), priority=1),
    ]
    options: dict[str, Any] = {"retry": RetryPolicy(jitter=0), **kwargs}
    client = AzureAIClient(
        deployments=pool,
        credential="k" * 32,
        clock=clock,
        sleep=clock.sleep,
        http_client=httpx.Client(transport=httpx.MockTransport(answer)),
        **options,
    )
    return client, hits


def html_page() -> httpx.Response:
    return httpx.Response(
        200, content=b"<html>gateway</html>", headers={"content-type": "text/html"}
    )


MALFORMED_200S = {
    "html": html_page(),
    "empty": httpx.Response(200, content=b"", headers={"content-type": "application/json"}),
    "error body": httpx.Response(200, json={"error": {"message": "upstream failed"}}),
    "no choices": ok({**chat_completion(), "choices": []}),
    "wrong types": ok({**chat_completion(), "choices": "abc"}),
}


@pytest.mark.parametrize("name", list(MALFORMED_200S))
def test_a_200_without_a_usable_answer_fails_over(name: str, clock: FakeClock) -> None:
    client, hits = two_resources(MALFORMED_200S[name], ok(chat_completion("west")), clock)
    result = client.chat("hi")
    assert result.text == "west"
    assert hits == ["east-res", "west-res"]
    assert result.attempts[0].error == "ServiceError"


def test_a_malformed_200_everywhere_is_a_service_error_naming_it(clock: FakeClock) -> None:
    client, _ = two_resources(html_page(), html_page(), clock, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(ServiceError, match="malformed response"):
        client.chat("hi")


def embeddings_body(indexes: list[int]) -> httpx.Response:
    return ok(embedding_response({i: [float(i), 1.0] for i in indexes}))


@pytest.mark.parametrize("indexes", [[0], [0, 0], [0, 2], [1, 1]])
def test_vectors_that_do_not_pair_with_the_inputs_fail_over(
    indexes: list[int], clock: FakeClock
) -> None:
    client, hits = two_resources(embeddings_body(indexes), embeddings_body([1, 0]), clock)
    result = client.embed(["first", "second"])
    assert hits == ["east-res", "west-res"]
    assert result.vectors == ([0.0, 1.0], [1.0, 1.0])


# --- streams ------------------------------------------------------------------------------------
def stream(chunks: list[dict[str, Any]], *, done: bool = True) -> httpx.Response:
    return httpx.Response(
        200, headers={"content-type": "text/event-stream"}, content=sse(chunks, done=done)
    )


def test_a_stream_with_no_content_fails_over(clock: FakeClock) -> None:
    empty = stream([STREAM_FIRST_CHUNK])  # the prompt annotations, then [DONE]
    client, hits = two_resources(empty, stream(stream_chunks()), clock)
    with client.stream_chat("hi") as s:
        assert "".join(c.text for c in s) == "Hello world"
    assert hits == ["east-res", "west-res"]


def test_a_stream_without_finish_reason_keeps_its_text(clock: FakeClock) -> None:
    unfinished = stream(stream_chunks(usage=False)[:4])  # "Hello world", [DONE], no finish
    client, _ = two_resources(unfinished, unfinished, clock)
    s = client.stream_chat("hi")
    with pytest.raises(ServiceError, match="no finish_reason") as info:
        s.text()
    assert info.value.partial_text == "Hello world"
    assert s.result.text == "Hello world"  # what arrived stays readable
    assert s.result.finish_reason is None


def test_streams_cut_after_their_first_chunk_reach_the_router(clock: FakeClock) -> None:
    cut = stream(stream_chunks(usage=False)[:3], done=False)  # "Hello", then the end
    client, hits = two_resources(cut, stream(stream_chunks()), clock)
    with pytest.raises(ServiceError):
        client.stream_chat("hi").text()
    east = client.status()[0]
    assert east.state == "cooling"
    assert east.consecutive_failures == 1
    # The next stream goes where streams work, at once.
    assert client.stream_chat("hi").text() == "Hello world"
    assert hits == ["east-res", "west-res"]
