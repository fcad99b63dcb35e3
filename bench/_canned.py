"""Canned Azure responses, recorded once from the kit's emulator, replayed by a MockTransport.

Every client under test gets the very same bytes and headers, so the only difference between
them is the client-side work: building the request, parsing the response, and the wrapper.

Streams are recorded with `stream_options.include_usage` (the kit asks for it on this API
version, as a user counting tokens would) and then resized: `stream(chunks=N)` keeps the
recorded opening (the prompt-filter event and the role chunk) and closing (finish and usage
chunks) and repeats the recorded content chunks until the stream has N JSON events, so a
20-chunk and a 1,000-chunk stream differ only in how many content chunks they carry.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx

from azure_ai_kit.emulator import Emulator

__all__ = [
    "API_KEY",
    "API_VERSION",
    "DEPLOYMENT",
    "ENDPOINT",
    "MESSAGES",
    "PROMPT",
    "STREAM_CHUNKS",
    "Canned",
    "record",
    "record_responses",
    "stream",
    "stream_of_size",
]

ENDPOINT = "https://bench.openai.azure.com"
API_KEY = "bench-key"
API_VERSION = "2024-10-21"
DEPLOYMENT = "gpt-4o-mini"
PROMPT = "Summarise the quarterly report in one short sentence."
MESSAGES: list[Any] = [{"role": "user", "content": PROMPT}]
#: JSON events in the standard streamed rows (a short answer, as most chat replies are).
STREAM_CHUNKS = 20


@dataclass(frozen=True)
class Canned:
    """One recorded response: status, headers and body bytes."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def events(self) -> int:
        """JSON events in an SSE body (what a client yields as chunks); 0 for a JSON body."""
        return sum(1 for e in self.body.split(b"\n\n") if e.startswith(b"data: {"))

    def handler(self) -> Callable[[httpx.Request], httpx.Response]:
        """A MockTransport handler answering every request with this response."""
        status, headers, body = self.status, list(self.headers), self.body

        def handle(request: httpx.Request) -> httpx.Response:
            return httpx.Response(status, headers=headers, content=body)

        return handle

    def transport(self) -> httpx.MockTransport:
        """A fresh `httpx.MockTransport` replaying this response (sync and async)."""
        return httpx.MockTransport(self.handler())


def _post(path: str, body: dict[str, Any], params: dict[str, str] | None = None) -> httpx.Response:
    emulator = Emulator.default()
    with httpx.Client(transport=emulator.transport()) as http:
        return http.post(
            f"{emulator.endpoint}{path}",
            params=params or {},
            headers={"api-key": emulator.api_key or ""},
            json=body,
        )


#: Dropped from the recording: framing headers, and the quota limits, which would turn on the
#: kit's client-side pacing (replayed thousands of times a second, the emulator's 1M TPM is
#: soon spent): these rows measure the call path, the pacing section measures pacing.
_DROPPED = (
    "content-length",
    "transfer-encoding",
    "x-ratelimit-limit-tokens",
    "x-ratelimit-limit-requests",
)


def _canned(response: httpx.Response) -> Canned:
    keep = [(k, v) for k, v in response.headers.items() if k.lower() not in _DROPPED]
    return Canned(response.status_code, tuple(keep), response.content)


@cache
def record(*, stream: bool) -> Canned:
    """Ask the in-process emulator for one chat completion (JSON or SSE) and keep the bytes."""
    body: dict[str, Any] = {"messages": MESSAGES, "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    response = _post(
        f"/openai/deployments/{DEPLOYMENT}/chat/completions", body, {"api-version": API_VERSION}
    )
    response.raise_for_status()
    return _canned(response)


def _is_content(event: bytes) -> bool:
    if not event.startswith(b"data: {"):
        return False
    choices = json.loads(event[len(b"data: ") :]).get("choices") or []
    return any((c.get("delta") or {}).get("content") for c in choices)


@cache
def stream(*, chunks: int = STREAM_CHUNKS) -> Canned:
    """The recorded stream resized to `chunks` JSON events by repeating its content chunks."""
    recorded = record(stream=True)
    events = [e for e in recorded.body.split(b"\n\n") if e]
    content = [i for i, e in enumerate(events) if _is_content(e)]
    head, body, tail = (
        events[: content[0]],
        events[content[0] : content[-1] + 1],
        events[content[-1] + 1 :],
    )
    fixed = sum(1 for e in head + tail if e.startswith(b"data: {"))
    if chunks <= fixed:
        raise ValueError(f"a stream needs more than {fixed} chunks to carry any content")
    middle = [body[i % len(body)] for i in range(chunks - fixed)]
    data = b"".join(e + b"\n\n" for e in head + middle + tail)
    return Canned(recorded.status, recorded.headers, data)


def stream_of_size(kib: int) -> Canned:
    """The shortest resized stream whose body is at least `kib` KiB."""
    small = stream(chunks=STREAM_CHUNKS)
    per_chunk = (len(stream(chunks=STREAM_CHUNKS + 10).body) - len(small.body)) / 10
    chunks = STREAM_CHUNKS + max(0, int((kib * 1024 - len(small.body)) / per_chunk))
    while len(stream(chunks=chunks).body) < kib * 1024:
        chunks += 1
    return stream(chunks=chunks)


def record_responses() -> Canned | str:
    """One `/openai/v1/responses` reply from the emulator, or why there is none (yet)."""
    response = _post("/openai/v1/responses", {"model": DEPLOYMENT, "input": PROMPT})
    if response.status_code != 200:
        return f"the emulator answers /openai/v1/responses with {response.status_code}"
    return _canned(response)
