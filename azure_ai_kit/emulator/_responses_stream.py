"""The SSE form of a Responses API answer: ``event:`` lines, typed events, sequence numbers.

Order: ``response.created``, ``response.in_progress``, then per output item
``response.output_item.added`` … ``response.output_item.done`` (a message's text in
``response.content_part.added``, ``response.output_text.delta``…, ``response.output_text.done``,
``response.content_part.done``; a function call's arguments in
``response.function_call_arguments.delta``…, ``.done``), and last ``response.completed`` or
``response.incomplete`` with the whole response. A scripted ``Fault.stream_error()`` ends it
half-way with ``response.failed`` (or an ``error`` event).
"""

from __future__ import annotations

import json
import re
from typing import Any

from . import _errors
from ._synth import estimate_tokens
from ._wire import Call, Delay, Outcome, Part

__all__ = ["event", "stream"]

_PIECE = re.compile(r"\s*\S+")


def event(kind: str, sequence: int, payload: dict[str, Any]) -> bytes:
    """One SSE event: an ``event:`` line and its JSON ``data:`` (with ``type`` and number)."""
    data = {"type": kind, "sequence_number": sequence, **payload}
    text = json.dumps(data, separators=(",", ":"))
    return f"event: {kind}\ndata: {text}\n\n".encode()


class _Writer:
    """Numbers events in order and spaces text pieces by the deployment's per-token latency."""

    def __init__(self, call: Call) -> None:
        self.parts: list[Part] = []
        self.sequence = 0
        self.per_token = call.deployment.per_token_latency

    def emit(self, kind: str, **payload: Any) -> None:
        self.parts.append(event(kind, self.sequence, payload))
        self.sequence += 1

    def pieces(self, text: str) -> list[str]:
        return _PIECE.findall(text) or [text]

    def wait(self, piece: str) -> None:
        if self.per_token > 0:
            self.parts.append(Delay(self.per_token * estimate_tokens(piece)))


def _message(w: _Writer, item: dict[str, Any], index: int, stop: int | None) -> bool:
    """Stream a message item; False when a scripted fault stopped it after *stop* pieces."""
    ids = {"item_id": item["id"], "output_index": index}
    text = item["content"][0]["text"]
    w.emit(
        "response.output_item.added",
        output_index=index,
        item={**item, "status": "in_progress", "content": []},
    )
    empty = {"type": "output_text", "text": "", "annotations": []}
    w.emit("response.content_part.added", **ids, content_index=0, part=empty)
    for number, piece in enumerate(w.pieces(text)):
        if stop is not None and number >= stop:
            return False
        if number:
            w.wait(piece)
        w.emit("response.output_text.delta", **ids, content_index=0, delta=piece, logprobs=[])
    w.emit("response.output_text.done", **ids, content_index=0, text=text, logprobs=[])
    w.emit("response.content_part.done", **ids, content_index=0, part=item["content"][0])
    w.emit("response.output_item.done", output_index=index, item=item)
    return True


def _function_call(w: _Writer, item: dict[str, Any], index: int, stop: int | None) -> bool:
    ids = {"item_id": item["id"], "output_index": index}
    opening = {**item, "arguments": "", "status": "in_progress"}
    w.emit("response.output_item.added", output_index=index, item=opening)
    for number, piece in enumerate(w.pieces(item["arguments"])):
        if stop is not None and number >= stop:
            return False
        w.emit("response.function_call_arguments.delta", **ids, delta=piece)
    w.emit(
        "response.function_call_arguments.done",
        **ids,
        name=item["name"],
        arguments=item["arguments"],
    )
    w.emit("response.output_item.done", output_index=index, item=item)
    return True


def _stop(w: _Writer, item: dict[str, Any]) -> int:
    if item["type"] == "message":
        return len(w.pieces(item["content"][0]["text"])) // 2
    return len(w.pieces(item.get("arguments", ""))) // 2


def _fail(w: _Writer, body: dict[str, Any], done: list[dict[str, Any]], how: str) -> None:
    error = _errors.server_error()["error"]
    if how == "error":
        w.emit("error", code="server_error", message=error["message"], param=None)
        return
    failed = {
        **body,
        "status": "failed",
        "output": done,
        "error": {"code": "server_error", "message": error["message"]},
        "incomplete_details": None,
        "usage": None,
    }
    w.emit("response.failed", response=failed)


def stream(call: Call, body: dict[str, Any]) -> Outcome:
    """The SSE outcome for a finished response *body* (its ``status`` picks the last event)."""
    w = _Writer(call)
    opening = {**body, "status": "in_progress", "output": [], "usage": None}
    opening["incomplete_details"] = None
    w.emit("response.created", response=opening)
    w.emit("response.in_progress", response=opening)
    if call.deployment.first_token_latency > 0:
        w.parts.append(Delay(call.deployment.first_token_latency))
    done: list[dict[str, Any]] = []
    for index, item in enumerate(body["output"]):
        breaks = call.stream_error is not None and item["type"] != "reasoning"
        stop = _stop(w, item) if breaks else None
        if item["type"] == "message":
            finished = _message(w, item, index, stop)
        elif item["type"] == "function_call":
            finished = _function_call(w, item, index, stop)
        else:
            w.emit("response.output_item.added", output_index=index, item=item)
            w.emit("response.output_item.done", output_index=index, item=item)
            finished = True
        if not finished:
            _fail(w, body, done, call.stream_error or "response.failed")
            break
        done.append(item)
    else:
        if call.stream_error is not None:
            _fail(w, body, done, call.stream_error)
        else:
            final = "response.completed" if body["status"] == "completed" else "response.incomplete"
            w.emit(final, response=body)
    return Outcome(200, w.parts, content_type="text/event-stream; charset=utf-8", stream=True)
