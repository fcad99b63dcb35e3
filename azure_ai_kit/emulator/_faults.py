"""Scripted faults: what the next request(s) to a deployment should suffer."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from . import _errors
from ._wire import DROP, Outcome, json_outcome

__all__ = [
    "Fault",
    "FaultKind",
    "StreamErrorEvent",
    "break_chat_stream",
    "default_body",
    "outcome",
    "truncate",
]

FaultKind = Literal["status", "drop", "truncate", "malformed", "stream_error"]
StreamErrorEvent = Literal["response.failed", "error"]


@dataclass(frozen=True)
class Fault:
    """One scripted fault, consumed by one request to the deployment it is scripted on.

    ``kind``:
      - ``"status"``: answer ``status`` with ``headers`` and ``body`` (a dict is sent as JSON,
        a str as text, ``None`` picks Azure's body for that status). ``status=None`` means
        "no error": only wait ``delay`` seconds, then process the request normally.
      - ``"drop"``: the connection is reset; the transport raises ``httpx.RemoteProtocolError``.
      - ``"truncate"``: the SSE stream stops mid-way without ``[DONE]`` (a non-streaming body is
        cut in half).
      - ``"malformed"``: HTTP 200 whose body is not valid JSON.
      - ``"stream_error"``: a stream fails half-way with an error *event*: on the Responses API
        ``response.failed`` (status ``failed``, ``error.code`` ``server_error``) or an ``error``
        event (``event="error"``); on chat a ``data: {"error": {…}}`` line. Either way the
        stream then ends. A request that is not streamed gets a 500 instead.

    ``delay`` is waited first, with the emulator's injectable sleep.
    """

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | str | None = None
    delay: float = 0.0
    kind: FaultKind = "status"
    #: Which event a ``stream_error`` fault sends on the Responses API.
    event: StreamErrorEvent = "response.failed"

    @classmethod
    def throttle(cls, retry_after: float = 6, *, delay: float = 0.0) -> Fault:
        """A 429 with Azure's body and ``retry-after``/``retry-after-ms`` headers."""
        seconds = max(1, int(-(-retry_after // 1)))
        return cls(
            status=429,
            headers={"retry-after": str(seconds), "retry-after-ms": str(int(retry_after * 1000))},
            body=_errors.rate_limited("ChatCompletions_Create", "2024-10-21", seconds, tokens=True),
            delay=delay,
        )

    @classmethod
    def server_error(cls, status: int = 500, *, delay: float = 0.0) -> Fault:
        """A 5xx with Azure's ``server_error`` body."""
        return cls(status=status, body=_errors.server_error(), delay=delay)

    @classmethod
    def drop(cls, *, delay: float = 0.0) -> Fault:
        """A connection reset before any response."""
        return cls(kind="drop", delay=delay)

    @classmethod
    def truncate(cls, *, delay: float = 0.0) -> Fault:
        """A stream (or body) that stops mid-way."""
        return cls(kind="truncate", delay=delay)

    @classmethod
    def stream_error(
        cls, event: StreamErrorEvent = "response.failed", *, delay: float = 0.0
    ) -> Fault:
        """A stream that fails half-way with an error event (a 500 if not streamed)."""
        if event not in ("response.failed", "error"):
            raise ValueError(f"event must be 'response.failed' or 'error', not {event!r}")
        return cls(kind="stream_error", event=event, delay=delay)

    @classmethod
    def malformed(cls, *, delay: float = 0.0) -> Fault:
        """HTTP 200 with an invalid JSON body."""
        return cls(kind="malformed", delay=delay)

    @classmethod
    def slow(cls, delay: float) -> Fault:
        """No error: wait *delay* seconds, then answer normally."""
        return cls(delay=delay)


def default_body(status: int) -> dict[str, Any]:
    """Azure's body for a scripted *status* without an explicit body."""
    if status == 401:
        return _errors.unauthorized()
    if status == 404:
        return _errors.deployment_not_found()
    if status == 429:
        return _errors.rate_limited("ChatCompletions_Create", "2024-10-21", 6, tokens=True)
    if status == 403:
        return _errors.forbidden()
    if status >= 500:
        return _errors.server_error()
    return _errors.bad_request("Emulated fault.")


def truncate(outcome: Outcome) -> None:
    """Cut a stream half-way (so no ``[DONE]``) or a body in half."""
    data = [i for i, p in enumerate(outcome.parts) if isinstance(p, bytes)]
    if outcome.stream:
        keep = data[: max(1, len(data) // 2)]
        outcome.parts = outcome.parts[: keep[-1] + 1]
    elif data:
        last = data[-1]
        chunk = outcome.parts[last]
        assert isinstance(chunk, bytes)
        outcome.parts[last] = chunk[: len(chunk) // 2]


def break_chat_stream(outcome: Outcome) -> None:
    """Cut a chat SSE stream half-way and end it with an ``error`` data line (no ``[DONE]``)."""
    truncate(outcome)
    line = json.dumps({"error": _errors.server_error()["error"]}, separators=(",", ":"))
    outcome.parts.append(b"data: " + line.encode("utf-8") + b"\n\n")


def outcome(fault: Fault, *, streamed: bool) -> Outcome | None:
    """What *fault* answers instead of the request, or None to process it (then alter it)."""
    if fault.kind == "drop":
        return Outcome(200, [DROP])
    if fault.kind == "malformed":
        return Outcome(200, [b'{"id": "chatcmpl-emulated", "choices": [{"index": 0, "mess'])
    if fault.kind == "stream_error" and not streamed:
        return json_outcome(500, _errors.server_error())
    if fault.kind == "status" and fault.status is not None:
        body = fault.body if fault.body is not None else default_body(fault.status)
        if isinstance(body, str):
            return Outcome(fault.status, [body.encode("utf-8")], dict(fault.headers), "text/plain")
        return json_outcome(fault.status, body, fault.headers)
    return None
