"""Scripted faults: what the next request(s) to a deployment should suffer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from . import _errors
from ._wire import Outcome

__all__ = ["Fault", "FaultKind", "default_body", "truncate"]

FaultKind = Literal["status", "drop", "truncate", "malformed"]


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

    ``delay`` is waited first, with the emulator's injectable sleep.
    """

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | str | None = None
    delay: float = 0.0
    kind: FaultKind = "status"

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
