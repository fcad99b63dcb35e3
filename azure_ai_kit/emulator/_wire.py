"""Types shared by the emulator's core, its operations and its two doors (transport, server)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ._scripted import Answer

__all__ = [
    "DROP",
    "Call",
    "Delay",
    "Drop",
    "EmuRequest",
    "EmulatedDeployment",
    "Outcome",
    "Part",
    "Policy",
    "RequestRecord",
    "StoredResponse",
    "json_outcome",
]

DeploymentKind = Literal["chat", "image", "embedding"]


@dataclass(frozen=True)
class EmulatedDeployment:
    """One deployment of the emulated resource.

    ``kind`` picks the routes it serves; ``model`` is the base model (defaults to the name;
    responses report its dated version, e.g. ``gpt-4o-mini-2024-07-18``); ``tpm``/``rpm`` feed
    the rate limiter; latencies are waited with the injected sleep; ``context_window`` bounds
    estimated prompt + ``max_tokens`` for chat; ``aliases`` are the logical names
    (``"chat"``, ``"reasoning"``…) that :meth:`Emulator.reply` and the kit's emulator
    configuration accept for this deployment.
    """

    name: str
    kind: DeploymentKind = "chat"
    model: str | None = None
    tpm: int = 1_000_000
    rpm: int = 6_000
    first_token_latency: float = 0.0
    per_token_latency: float = 0.0
    context_window: int = 128_000
    aliases: tuple[str, ...] = ()

    @property
    def model_name(self) -> str:
        """The model reported in responses."""
        return self.model or self.name


@dataclass(frozen=True)
class RequestRecord:
    """One entry of ``Emulator.requests``. Holds the auth *kind*, never the secret."""

    method: str
    path: str
    deployment: str | None
    operation: str | None
    api_version: str | None
    status: int
    auth: Literal["key", "bearer"] | None
    body: Any
    fault: str | None = None


@dataclass(frozen=True)
class Delay:
    """Wait this long (with the door's sleep) before the next part."""

    seconds: float


class Drop:
    """Reset the connection at this point."""


DROP = Drop()

Part = bytes | Delay | Drop


@dataclass
class Outcome:
    """What the core answers; the doors turn it into an httpx or ASGI response."""

    status: int
    parts: list[Part]
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    stream: bool = False


def json_outcome(status: int, body: Any, headers: dict[str, str] | None = None) -> Outcome:
    """An :class:`Outcome` with a JSON body."""
    data = json.dumps(body, separators=(",", ":")).encode("utf-8")
    return Outcome(status, [data], dict(headers or {}))


@dataclass(frozen=True)
class EmuRequest:
    """A door-neutral request: header names are lower-case; ``origin`` is ``scheme://host``."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    origin: str


@dataclass(frozen=True)
class Policy:
    """Content-filter triggers (matched case-insensitively as substrings)."""

    blocked_words: tuple[str, ...] = ("forbidden-word",)
    completion_blocked_words: tuple[str, ...] = ("emulator-completion-block",)
    jailbreak_phrases: tuple[str, ...] = (
        "ignore all previous instructions",
        "ignore previous instructions",
    )
    category: str = "violence"

    def check(self, text: str) -> tuple[str | None, bool]:
        """Return (filtered severity category or None, jailbreak detected) for a prompt."""
        lowered = text.lower()
        hit = any(w.lower() in lowered for w in self.blocked_words if w)
        jailbreak = any(p.lower() in lowered for p in self.jailbreak_phrases if p)
        return (self.category if hit else None), jailbreak

    def blocks_completion(self, text: str) -> bool:
        """Whether the completion for this prompt gets filtered."""
        lowered = text.lower()
        return any(w.lower() in lowered for w in self.completion_blocked_words if w)


@dataclass(frozen=True)
class StoredResponse:
    """A Responses API answer the resource keeps (``store`` not false), for follow-up turns."""

    deployment: str
    body: dict[str, Any]
    #: Every item of the conversation so far: earlier turns, this turn's input, its output.
    conversation: list[dict[str, Any]]


def _recall_nothing(response_id: str) -> StoredResponse | None:
    return None


def _keep_nothing(stored: StoredResponse) -> None:
    return None


@dataclass
class Call:
    """Everything an operation handler needs for one admitted request."""

    deployment: EmulatedDeployment
    body: dict[str, Any]
    api_version: str
    origin: str
    policy: Policy
    request_id: str
    created: int
    store_image: Callable[[str, bytes], None]
    #: The scripted answer for this request, if a test queued one (see ``Emulator.reply``).
    scripted: Answer | None = None
    #: Record a prompt-prefix key; True when it was seen before (prompt caching).
    remember_prefix: Callable[[str], bool] = field(default=lambda key: False)
    #: Look up a stored response by id (Responses API ``previous_response_id``).
    recall_response: Callable[[str], StoredResponse | None] = field(default=_recall_nothing)
    #: Keep a response for later turns (bounded per deployment by the core).
    keep_response: Callable[[StoredResponse], None] = field(default=_keep_nothing)
    #: A scripted ``Fault.stream_error()``: the event that breaks a Responses stream half-way
    #: (``"response.failed"`` or ``"error"``).
    stream_error: str | None = None
