"""Keyword arguments that wire an `AzureAIClient` / `AsyncAzureAIClient` to an emulator.

Lives with the emulator so that the production client never imports it: the kit reaches
here only from `for_emulator()` and from `from_env(fallback="emulator")`.
"""

from __future__ import annotations

from typing import Any

import httpx

from .._deployment import Deployment
from ._core import Emulator

__all__ = ["client_config"]


def client_config(emulator: Emulator | None = None, *, asynchronous: bool) -> dict[str, Any]:
    """Client keyword arguments for an in-process emulator (a new default one if not given).

    Every emulated deployment becomes a kit `Deployment` with the same aliases and model, on
    the default routes (docs/wire.md, "Which route the kit takes by default"), so the kit
    calls the emulator exactly as it calls Azure.
    """
    emu = emulator if emulator is not None else Emulator.default()
    http: httpx.Client | httpx.AsyncClient
    if asynchronous:
        http = httpx.AsyncClient(transport=emu.async_transport())
    else:
        http = httpx.Client(transport=emu.transport())
    # A deployment without aliases answers to its kind's default alias ("chat", "image",
    # "embedding") when no other deployment claims it, so `Emulator([EmulatedDeployment(
    # "gpt-4o-mini")])` serves `client.chat()` as the default emulator does.
    taken = {alias for d in emu.deployments.values() for alias in d.aliases}
    deployments = []
    for d in emu.deployments.values():
        aliases = d.aliases
        if not aliases and d.kind not in taken:
            aliases = (d.kind,)
            taken.add(d.kind)
        deployments.append(
            Deployment(d.name, endpoint=emu.endpoint, aliases=aliases, model=d.model_name)
        )
    return {"credential": emu.api_key, "deployments": deployments, "http_client": http}
