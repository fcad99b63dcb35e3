"""The SSE form of a chat completion: Azure's empty first chunk, interleaved choices, usage."""

from __future__ import annotations

import json
import re
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from . import _errors
from ._synth import estimate_tokens
from ._wire import Call, Delay, Outcome, Part

if TYPE_CHECKING:
    from ._chat import Choice

__all__ = ["sse", "stream"]

_PIECE = re.compile(r"\s*\S+")


def sse(data: Any) -> bytes:
    """One ``data:`` event."""
    return b"data: " + json.dumps(data, separators=(",", ":")).encode("utf-8") + b"\n\n"


def _events(call: Call, header: dict[str, Any], c: Choice) -> list[list[Part]]:
    """The chunks of one choice, each with the wait that precedes it."""
    per_token = call.deployment.per_token_latency
    safe = _errors.filter_results()

    def chunk(delta: dict[str, Any], finish: str | None, results: dict[str, Any]) -> bytes:
        choice = {
            "index": c.index,
            "delta": delta,
            "finish_reason": finish,
            "logprobs": None,
            "content_filter_results": results,
        }
        return sse({**header, "object": "chat.completion.chunk", "choices": [choice]})

    events: list[list[Part]] = []
    if c.tool_calls:
        tc = c.tool_calls[0]
        opening = {**tc, "index": 0, "function": {"name": tc["function"]["name"], "arguments": ""}}
        events.append(
            [chunk({"role": "assistant", "content": None, "tool_calls": [opening]}, None, safe)]
        )
        for piece in _PIECE.findall(tc["function"]["arguments"]) or [""]:
            delta = {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
            events.append([chunk(delta, None, safe)])
    else:
        events.append([chunk({"role": "assistant", "content": ""}, None, safe)])
        for number, piece in enumerate(_PIECE.findall(c.content or "")):
            wait: list[Part] = []
            if number and per_token > 0:
                wait.append(Delay(per_token * estimate_tokens(piece)))
            events.append([*wait, chunk({"content": piece}, None, safe)])
    final_results = c.filter_results if c.finish_reason == "content_filter" else {}
    events.append([chunk({}, c.finish_reason, final_results)])
    return events


def stream(
    call: Call,
    header: dict[str, Any],
    prompt_filter: list[dict[str, Any]],
    choices: list[Choice],
    usage: dict[str, Any],
) -> Outcome:
    """An SSE outcome; with ``n`` > 1 the chunks of the choices interleave, as Azure's do."""
    first = {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": prompt_filter,
    }
    parts: list[Part] = [sse(first)]
    if call.deployment.first_token_latency > 0:
        parts.append(Delay(call.deployment.first_token_latency))
    for row in zip_longest(*(_events(call, header, c) for c in choices)):
        for event in row:
            if event is not None:
                parts.extend(event)
    options = call.body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        parts.append(
            sse({**header, "object": "chat.completion.chunk", "choices": [], "usage": usage})
        )
    parts.append(b"data: [DONE]\n\n")
    return Outcome(200, parts, content_type="text/event-stream; charset=utf-8", stream=True)
