"""Canned Azure responses, recorded once from the kit's emulator, replayed by a MockTransport.

Every client under test gets the very same bytes and headers, so the only difference between
them is the client-side work: building the request, parsing the response, and the wrapper.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from azure_ai_kit.emulator import Emulator

__all__ = ["API_KEY", "API_VERSION", "DEPLOYMENT", "ENDPOINT", "MESSAGES", "Canned", "record"]

ENDPOINT = "https://bench.openai.azure.com"
API_KEY = "bench-key"
API_VERSION = "2024-10-21"
DEPLOYMENT = "gpt-4o-mini"
MESSAGES: list[Any] = [
    {"role": "user", "content": "Summarise the quarterly report in one short sentence."}
]


@dataclass(frozen=True)
class Canned:
    """One recorded response: status, headers and body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def handler(self) -> Callable[[httpx.Request], httpx.Response]:
        """A MockTransport handler answering every request with this response."""
        status, headers, body = self.status, list(self.headers), self.body

        def handle(request: httpx.Request) -> httpx.Response:
            return httpx.Response(status, headers=headers, content=body)

        return handle

    def transport(self) -> httpx.MockTransport:
        """A fresh `httpx.MockTransport` replaying this response (sync and async)."""
        return httpx.MockTransport(self.handler())


def record(*, stream: bool) -> Canned:
    """Ask the in-process emulator for one chat completion (JSON or SSE) and keep the bytes."""
    emulator = Emulator.default()
    url = f"{emulator.endpoint}/openai/deployments/{DEPLOYMENT}/chat/completions"
    with httpx.Client(transport=emulator.transport()) as http:
        response = http.post(
            url,
            params={"api-version": API_VERSION},
            headers={"api-key": emulator.api_key or ""},
            json={"messages": MESSAGES, "stream": stream},
        )
    response.raise_for_status()
    keep = [
        (k, v)
        for k, v in response.headers.items()
        if k.lower() not in ("content-length", "transfer-encoding")
    ]
    return Canned(response.status_code, tuple(keep), response.content)
