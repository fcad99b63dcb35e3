"""Keyword arguments that wire an `AzureAIClient` / `AsyncAzureAIClient` to an emulator.

Lives with the emulator so that the production client never imports it: the kit reaches
here only from `for_emulator()` and from `from_env(fallback="emulator")`.
"""

from __future__ import annotations

from typing import Any

import httpx

from .._deployment import Deployment
from ._core import Emulator

__all__ = ["EMULATOR_DEPLOYMENTS", "client_config"]


#: The emulator's default deployments, by alias (see `azure_ai_kit.emulator.Emulator.default`).
EMULATOR_DEPLOYMENTS = {
    "chat": "gpt-4o-mini",
    "code": "gpt-4.1",
    "image": "dall-e-3",
    "embedding": "text-embedding-3-small",
}


def client_config(emulator: Emulator | None = None, *, asynchronous: bool) -> dict[str, Any]:
    """Client keyword arguments for an in-process emulator (a new default one if not given).

    The aliases map as `EMULATOR_DEPLOYMENTS`; `gpt-image-1` is there too, by name, on the
    preview api-version it needs (docs/wire.md, "Images").
    """
    emu = emulator if emulator is not None else Emulator.default()
    http: httpx.Client | httpx.AsyncClient
    if asynchronous:
        http = httpx.AsyncClient(transport=emu.async_transport())
    else:
        http = httpx.Client(transport=emu.transport())
    deployments = [
        Deployment(name, endpoint=emu.endpoint, aliases=(alias,), model=name)
        for alias, name in EMULATOR_DEPLOYMENTS.items()
    ]
    deployments.append(
        Deployment(
            "gpt-image-1",
            endpoint=emu.endpoint,
            model="gpt-image-1",
            api_version="2025-04-01-preview",
        )
    )
    return {"credential": emu.api_key, "deployments": deployments, "http_client": http}
