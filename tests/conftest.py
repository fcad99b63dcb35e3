"""Shared fixtures: a clean environment for every test, a fake clock, recorded sleeps, and
client factories wired to an `httpx.MockTransport` (no network, no real sleeps).

The factories pin the classic route (`api_version="2024-10-21"`), whose URLs name the
deployment; tests of the default routes pass `api_version=None`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from azure_wire import API_KEY, DEPLOYMENTS, ENDPOINT, Recorder

from azure_ai_kit import DEFAULT_API_VERSION, AsyncAzureAIClient, AzureAIClient, RetryPolicy
from azure_ai_kit.testing import FakeClock


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No AZURE_* / OPENAI_* variable leaks into any test (tests that read `.env` chdir too)."""
    for name in list(os.environ):
        if name.startswith(("AZURE_", "OPENAI_")):
            monkeypatch.delenv(name)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


SyncFactory = Callable[..., tuple[AzureAIClient, Recorder]]
AsyncFactory = Callable[..., tuple[AsyncAzureAIClient, Recorder]]


@pytest.fixture
def make_client(clock: FakeClock) -> Iterator[SyncFactory]:
    """`make_client(replies, **client_kwargs)` → (AzureAIClient, Recorder)."""
    made: list[httpx.Client] = []

    def factory(replies: Any = None, **kwargs: Any) -> tuple[AzureAIClient, Recorder]:
        recorder = replies if isinstance(replies, Recorder) else Recorder(replies)
        http = httpx.Client(transport=httpx.MockTransport(recorder.sync))
        made.append(http)
        options: dict[str, Any] = {
            "endpoint": ENDPOINT,
            "credential": API_KEY,
            "deployments": dict(DEPLOYMENTS),
            "clock": clock,
            "sleep": clock.sleep,
            "retry": RetryPolicy(jitter=0),
            "api_version": DEFAULT_API_VERSION,
        }
        options.update(kwargs)
        return AzureAIClient(http_client=http, **options), recorder

    yield factory
    for http in made:
        http.close()


@pytest.fixture
async def make_async_client(clock: FakeClock) -> Any:
    """`make_async_client(replies, **client_kwargs)` → (AsyncAzureAIClient, Recorder)."""
    made: list[httpx.AsyncClient] = []

    def factory(replies: Any = None, **kwargs: Any) -> tuple[AsyncAzureAIClient, Recorder]:
        recorder = replies if isinstance(replies, Recorder) else Recorder(replies)
        http = httpx.AsyncClient(transport=httpx.MockTransport(recorder.asynchronous))
        made.append(http)
        options: dict[str, Any] = {
            "endpoint": ENDPOINT,
            "credential": API_KEY,
            "deployments": dict(DEPLOYMENTS),
            "clock": clock,
            "sleep": clock.asleep,
            "retry": RetryPolicy(jitter=0),
            "api_version": DEFAULT_API_VERSION,
        }
        options.update(kwargs)
        return AsyncAzureAIClient(http_client=http, **options), recorder

    yield factory
    for http in made:
        await http.aclose()
