"""The clients compared, each built over a given httpx transport, plus optional-import probes.

`openai-priority-loadbalancer` and LiteLLM come from the `bench` extra. Each is measured only
when it imports; the report says which were present.

Every client makes the same request: streams ask for their usage chunk
(`stream_options={"include_usage": True}`), as the kit does so that a streamed call reports
its tokens. Asking for it costs `openai` itself about 0.8 % more per streamed call (it
transforms the extra parameter); a baseline that did not ask would bill that to the kit.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Awaitable, Callable, Iterator
from functools import cache
from typing import Any

import httpx
import openai

from azure_ai_kit import AsyncAzureAIClient, AzureAIClient

from ._canned import API_KEY, API_VERSION, DEPLOYMENT, ENDPOINT, MESSAGES

__all__ = [
    "ASYNC_BUILDERS",
    "SYNC_BUILDERS",
    "AsyncCall",
    "SyncCall",
    "has_litellm",
    "has_loadbalancer",
    "litellm_module",
]

SyncCall = Callable[[], object]
AsyncCall = Callable[[], Awaitable[None]]


def has_loadbalancer() -> bool:
    """True when `openai-priority-loadbalancer` is installed."""
    return importlib.util.find_spec("openai_priority_loadbalancer") is not None


def has_litellm() -> bool:
    """True when LiteLLM is installed."""
    return importlib.util.find_spec("litellm") is not None


@cache
def litellm_module() -> Any:
    """Import LiteLLM offline: its bundled cost map, no telemetry, no debug banners."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    litellm: Any = importlib.import_module("litellm")
    litellm.telemetry = False
    litellm.suppress_debug_info = True
    return litellm


def legacy_http(http: httpx.Client | httpx.AsyncClient) -> Any:
    """openai 3.x is typed for httpx2 but accepts a legacy httpx client, as the kit passes it."""
    return http


#: What a streamed request carries besides `stream=True`, for every client (see above).
STREAM_USAGE: dict[str, Any] = {"stream_options": {"include_usage": True}}


def _drain(chunks: Iterator[Any]) -> None:
    for _ in chunks:
        pass


# --- azure-ai-kit ------------------------------------------------------------------------------
def kit_sync(transport: httpx.MockTransport, stream: bool) -> SyncCall:
    client = AzureAIClient(
        endpoint=ENDPOINT,
        credential=API_KEY,
        deployments={"chat": DEPLOYMENT},
        api_version=API_VERSION,
        http_client=httpx.Client(transport=transport),
    )
    if stream:

        def call() -> None:
            with client.stream_chat(MESSAGES) as chunks:
                _drain(iter(chunks))

        return call
    return lambda: client.chat(MESSAGES)


def kit_async(transport: httpx.MockTransport, stream: bool) -> AsyncCall:
    client = AsyncAzureAIClient(
        endpoint=ENDPOINT,
        credential=API_KEY,
        deployments={"chat": DEPLOYMENT},
        api_version=API_VERSION,
        http_client=httpx.AsyncClient(transport=transport),
    )

    async def call() -> None:
        if stream:
            async with client.stream_chat(MESSAGES) as chunks:
                async for _ in chunks:
                    pass
        else:
            await client.chat(MESSAGES)

    return call


# --- plain openai ------------------------------------------------------------------------------
def _openai_sync_client(http: httpx.Client, endpoint: str = ENDPOINT) -> openai.AzureOpenAI:
    return openai.AzureOpenAI(
        azure_endpoint=endpoint,
        api_key=API_KEY,
        api_version=API_VERSION,
        http_client=legacy_http(http),
        max_retries=0,
    )


def _openai_async_client(
    http: httpx.AsyncClient, endpoint: str = ENDPOINT
) -> openai.AsyncAzureOpenAI:
    return openai.AsyncAzureOpenAI(
        azure_endpoint=endpoint,
        api_key=API_KEY,
        api_version=API_VERSION,
        http_client=legacy_http(http),
        max_retries=0,
    )


def _openai_call_sync(client: openai.AzureOpenAI, stream: bool) -> SyncCall:
    create = client.chat.completions.create
    if stream:
        return lambda: _drain(
            iter(create(model=DEPLOYMENT, messages=MESSAGES, stream=True, **STREAM_USAGE))
        )
    return lambda: create(model=DEPLOYMENT, messages=MESSAGES)


def _openai_call_async(client: openai.AsyncAzureOpenAI, stream: bool) -> AsyncCall:
    create = client.chat.completions.create

    async def call() -> None:
        if stream:
            chunks = await create(model=DEPLOYMENT, messages=MESSAGES, stream=True, **STREAM_USAGE)
            async for _ in chunks:
                pass
        else:
            await create(model=DEPLOYMENT, messages=MESSAGES)

    return call


def openai_sync(transport: httpx.MockTransport, stream: bool) -> SyncCall:
    return _openai_call_sync(_openai_sync_client(httpx.Client(transport=transport)), stream)


def openai_async(transport: httpx.MockTransport, stream: bool) -> AsyncCall:
    return _openai_call_async(_openai_async_client(httpx.AsyncClient(transport=transport)), stream)


# --- openai-priority-loadbalancer (one backend) ------------------------------------------------
_BACKEND = httpx.URL(ENDPOINT).host


def loadbalancer_sync(transport: httpx.MockTransport, stream: bool) -> SyncCall:
    lb = importlib.import_module("openai_priority_loadbalancer")
    balancer = lb.LoadBalancer([lb.Backend(_BACKEND, 1, api_key=API_KEY)])
    # The balancer forwards through an httpx.Client it builds itself; give that one our mock.
    balancer._transport = httpx.Client(transport=transport)
    return _openai_call_sync(_openai_sync_client(httpx.Client(transport=balancer)), stream)


def loadbalancer_async(transport: httpx.MockTransport, stream: bool) -> AsyncCall:
    lb = importlib.import_module("openai_priority_loadbalancer")
    balancer = lb.AsyncLoadBalancer([lb.Backend(_BACKEND, 1, api_key=API_KEY)])
    balancer._transport = httpx.AsyncClient(transport=transport)
    return _openai_call_async(_openai_async_client(httpx.AsyncClient(transport=balancer)), stream)


# --- LiteLLM's Azure path, given the same openai client ----------------------------------------
def _litellm_kwargs(client: Any, stream: bool) -> dict[str, Any]:
    return {
        "model": f"azure/{DEPLOYMENT}",
        "messages": MESSAGES,
        "api_base": ENDPOINT,
        "api_key": API_KEY,
        "api_version": API_VERSION,
        "client": client,
        "max_retries": 0,
        "stream": stream,
        **(STREAM_USAGE if stream else {}),
    }


def litellm_sync(transport: httpx.MockTransport, stream: bool) -> SyncCall:
    litellm = litellm_module()
    kwargs = _litellm_kwargs(_openai_sync_client(httpx.Client(transport=transport)), stream)
    if stream:
        return lambda: _drain(iter(litellm.completion(**kwargs)))
    return lambda: litellm.completion(**kwargs)


def litellm_async(transport: httpx.MockTransport, stream: bool) -> AsyncCall:
    litellm = litellm_module()
    http = httpx.AsyncClient(transport=transport)
    kwargs = _litellm_kwargs(_openai_async_client(http), stream)

    async def call() -> None:
        response = await litellm.acompletion(**kwargs)
        if stream:
            async for _ in response:
                pass

    return call


SyncBuilder = Callable[[httpx.MockTransport, bool], SyncCall]
AsyncBuilder = Callable[[httpx.MockTransport, bool], AsyncCall]


def _available() -> list[tuple[str, SyncBuilder, AsyncBuilder]]:
    rows: list[tuple[str, SyncBuilder, AsyncBuilder]] = [
        ("openai", openai_sync, openai_async),
        ("azure-ai-kit", kit_sync, kit_async),
    ]
    if has_loadbalancer():
        rows.append(("openai-priority-loadbalancer", loadbalancer_sync, loadbalancer_async))
    if has_litellm():
        rows.append(("litellm", litellm_sync, litellm_async))
    return rows


SYNC_BUILDERS: dict[str, SyncBuilder] = {name: s for name, s, _ in _available()}
ASYNC_BUILDERS: dict[str, AsyncBuilder] = {name: a for name, _, a in _available()}
