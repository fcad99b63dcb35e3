"""The `respond` rows: the kit's `respond()` against plain openai's `responses.create`.

Measured only once both sides exist: the client has a `respond` method and the emulator
serves `/openai/v1/responses` (the canned reply is recorded from it, like the chat ones).
Otherwise `builders()` says why, and the report shows the row as skipped with that note.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import openai

from azure_ai_kit import AsyncAzureAIClient, AzureAIClient

from ._canned import API_KEY, DEPLOYMENT, ENDPOINT, PROMPT, Canned, record_responses
from .contenders import AsyncCall, SyncCall, legacy_http

__all__ = ["Builders", "builders"]

# (sync builders, async builders) by client name, each taking a transport as in contenders.py.
Builders = tuple[
    dict[str, Callable[[httpx.MockTransport], SyncCall]],
    dict[str, Callable[[httpx.MockTransport], AsyncCall]],
]


def _kit_kwargs() -> dict[str, Any]:
    # No api_version: the kit takes the v1 route for responses, as openai does below.
    return {"endpoint": ENDPOINT, "credential": API_KEY, "deployments": {"chat": DEPLOYMENT}}


def _openai_v1(http: Any) -> dict[str, Any]:
    # The Responses API lives on Azure's v1 route, which plain `openai.OpenAI` calls directly.
    return {
        "base_url": f"{ENDPOINT}/openai/v1/",
        "api_key": API_KEY,
        "http_client": legacy_http(http),
        "max_retries": 0,
    }


def openai_sync(transport: httpx.MockTransport) -> SyncCall:
    create = openai.OpenAI(**_openai_v1(httpx.Client(transport=transport))).responses.create
    return lambda: create(model=DEPLOYMENT, input=PROMPT)


def openai_async(transport: httpx.MockTransport) -> AsyncCall:
    http = httpx.AsyncClient(transport=transport)
    create = openai.AsyncOpenAI(**_openai_v1(http)).responses.create

    async def call() -> None:
        await create(model=DEPLOYMENT, input=PROMPT)

    return call


def kit_sync(transport: httpx.MockTransport) -> SyncCall:
    client: Any = AzureAIClient(**_kit_kwargs(), http_client=httpx.Client(transport=transport))
    return lambda: client.respond(PROMPT)


def kit_async(transport: httpx.MockTransport) -> AsyncCall:
    http = httpx.AsyncClient(transport=transport)
    client: Any = AsyncAzureAIClient(**_kit_kwargs(), http_client=http)

    async def call() -> None:
        await client.respond(PROMPT)

    return call


def builders() -> tuple[Canned, Builders] | str:
    """The canned reply and the builders, or a note saying why the rows are skipped."""
    if not hasattr(AzureAIClient, "respond"):
        return "skipped: the client has no `respond()` yet"
    canned = record_responses()
    if isinstance(canned, str):
        return f"skipped: {canned}"
    try:  # a signature the bench does not know yet is a note, not a crash
        kit_sync(canned.transport())()
    except Exception as exc:
        return f"skipped: `respond()` failed on the canned reply ({type(exc).__name__}: {exc})"
    return canned, (
        {"openai": openai_sync, "azure-ai-kit": kit_sync},
        {"openai": openai_async, "azure-ai-kit": kit_async},
    )
