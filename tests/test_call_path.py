"""The call path's shape: one openai client per resource, the HTTP stack, tenacity waits,
a deployment given back when an attempt ends in something that is not an HTTP outcome."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import httpx2
import pytest
import tenacity
from azure_wire import ENDPOINT, THROTTLED_429, Recorder, chat_completion, error, ok

from azure_ai_kit import AsyncAzureAIClient, AzureAIClient, Deployment, RetryPolicy
from azure_ai_kit.testing import FakeClock


def test_pool_on_one_resource_shares_one_openai_client(make_client: Any) -> None:
    client, _ = make_client(deployments={"chat": "gpt-4o", "code": "gpt-4.1"})
    assert client.openai("chat") is client.openai("code")


def test_resources_and_routes_get_their_own_openai_client(clock: FakeClock) -> None:
    east, west = "https://east.openai.azure.com", "https://west.openai.azure.com"
    pool = [
        Deployment("a", endpoint=east, aliases=("chat",)),  # default route for chat: v1
        Deployment("b", endpoint=west, aliases=("code",)),
        Deployment("c", endpoint=east, aliases=("classic",), api_version="2024-10-21"),
        Deployment("d", endpoint=east, aliases=("v1",), api_version="v1"),
    ]
    client = AzureAIClient(deployments=pool, credential="k" * 32, clock=clock)
    clients = {alias: client.openai(alias) for alias in ("chat", "code", "classic", "v1")}
    assert len({id(c) for c in clients.values()}) == 3
    assert clients["chat"] is clients["v1"]  # same resource, route and credential
    client.close()


def test_default_http_client_is_openais_own_stack() -> None:
    client = AzureAIClient(ENDPOINT, "k" * 32, deployments={"chat": "gpt-4o"})
    assert isinstance(client._http, httpx2.Client)
    client.close()


async def test_async_default_http_client_is_openais_own_stack() -> None:
    client = AsyncAzureAIClient(ENDPOINT, "k" * 32, deployments={"chat": "gpt-4o"})
    assert isinstance(client._http, httpx2.AsyncClient)
    await client.close()


_NO_LEGACY = """
import json, sys, httpx2
from azure_ai_kit import AzureAIClient

def answer(request):
    message = {"role": "assistant", "content": "hi"}
    body = {"id": "x", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": message}]}
    return httpx2.Response(200, json=body)

http = httpx2.Client(transport=httpx2.MockTransport(answer))
c = AzureAIClient("https://r.openai.azure.com", "k" * 32, deployments={"chat": "d"},
                  http_client=http)
assert c.chat("x").text == "hi"
print("httpx" in sys.modules)
"""


def test_building_and_calling_a_client_never_loads_legacy_httpx() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _NO_LEGACY], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


def test_legacy_httpx_client_is_accepted_and_its_errors_are_retried(make_client: Any) -> None:
    # A transport error from a legacy httpx client is a connection failure, retried.
    client, recorder = make_client([httpx.ConnectError("refused"), ok(chat_completion("after"))])
    assert client.chat("hi").text == "after"
    assert len(recorder.requests) == 2


def test_tenacity_wait_strategy_replaces_the_builtin_backoff(
    make_client: Any, clock: FakeClock
) -> None:
    policy = RetryPolicy(wait=tenacity.wait_incrementing(start=0.25, increment=0.5))
    no_hint = error(429, {"error": {"code": "429", "message": "Too many requests."}})
    client, _ = make_client([no_hint, no_hint, ok(chat_completion())], retry=policy)
    client.chat("hi")
    assert clock.slept == [pytest.approx(0.25), pytest.approx(0.75)]


def test_a_cancelled_attempt_gives_the_deployment_back(make_client: Any, clock: FakeClock) -> None:
    # A 500 opens the breaker; after its cooldown the next attempt is the single probe.
    # If that probe ends in KeyboardInterrupt, the probe slot must be freed, not leaked.
    client, _ = make_client(
        [error(500, {"error": {"message": "boom"}}), KeyboardInterrupt(), ok(chat_completion())],
        retry=RetryPolicy(max_attempts=1, jitter=0),
    )
    with pytest.raises(Exception, match="failed"):
        client.chat("hi")
    clock.advance(120)  # past any cooldown
    with pytest.raises(KeyboardInterrupt):
        client.chat("hi")
    slept = len(clock.slept)
    assert client.chat("hi").text  # at once: no "every deployment is cooling", no wait
    assert len(clock.slept) == slept


def test_throttle_without_hints_uses_policy_backoff(make_client: Any, clock: FakeClock) -> None:
    client, recorder = make_client([error(429, THROTTLED_429), ok(chat_completion())])
    client.chat("hi")
    assert len(recorder.requests) == 2


def test_recorder_default_routes_still_serve_streams(make_client: Any) -> None:
    client, _ = make_client(Recorder())
    with client.stream_chat("hi") as stream:
        assert "".join(chunk.text for chunk in stream)


async def test_a_cancelled_async_probe_gives_the_deployment_back(
    make_async_client: Any, clock: FakeClock
) -> None:
    import asyncio

    # The probe after the breaker's cooldown is cancelled mid-request (the task is cancelled).
    client, _ = make_async_client(
        [
            error(500, {"error": {"message": "boom"}}),
            asyncio.CancelledError(),
            ok(chat_completion("back")),
        ],
        retry=RetryPolicy(max_attempts=1, jitter=0),
    )
    with pytest.raises(Exception, match="failed"):
        await client.chat("hi")
    clock.advance(120)
    with pytest.raises(asyncio.CancelledError):
        await client.chat("hi")
    slept = len(clock.slept)
    assert (await client.chat("hi")).text == "back"  # not "every deployment is cooling"
    assert len(clock.slept) == slept


def test_status_prints_as_a_table(make_client: Any) -> None:
    client, _ = make_client()
    client.chat("hi")
    text = str(client.status())
    assert text.splitlines()[0].split()[:2] == ["deployment", "state"]
    assert "healthy" in text
    assert "DeploymentStatus(" not in text
    assert client.status()[0].state == "healthy"  # still a list of DeploymentStatus
