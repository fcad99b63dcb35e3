"""Scripted replies: answers a test queues for a deployment, the way respx stubs HTTP."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Answer", "Reply", "ToolCall"]


@dataclass(frozen=True)
class ToolCall:
    """A scripted function call: the model "calls" *name* with *arguments* (a JSON object)."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)


#: What a scripted reply may be: text, a JSON object (sent as its JSON text), or a tool call.
Answer = str | Mapping[str, Any] | list[Any] | ToolCall


@dataclass(eq=False)
class Reply:
    """One queued reply: an answer or a callable of the request body; ``times=None`` is forever."""

    answer: Answer | Callable[[dict[str, Any]], Answer]
    times: int | None = 1
    #: How many requests this reply has answered so far.
    used: int = 0

    def resolve(self, body: dict[str, Any]) -> Answer:
        """The answer for the request with this *body*."""
        return self.answer(body) if callable(self.answer) else self.answer
