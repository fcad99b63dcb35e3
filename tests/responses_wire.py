"""Canned Azure Responses API bodies and SSE streams (WIRE.md "Responses API"; the shapes of
openai-python's `types/responses/response.py` and its stream events), plus a two-resource
pool to test failover and `previous_response_id` pinning."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import httpx
from azure_wire import API_KEY, SUCCESS_HEADERS, Recorder

from azure_ai_kit import AsyncAzureAIClient, AzureAIClient, Deployment, RetryPolicy

EAST = "https://east-res.openai.azure.com"
WEST = "https://west-res.openai.azure.com"
USAGE = {
    "input_tokens": 12,
    "output_tokens": 5,
    "total_tokens": 17,
    "input_tokens_details": {"cached_tokens": 4},
    "output_tokens_details": {"reasoning_tokens": 2},
}


def message(*parts: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": list(parts),
    }


def output_text(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": []}


def refusal(text: str) -> dict[str, Any]:
    return {"type": "refusal", "refusal": text}


def function_call(name: str, arguments: str, call_id: str = "call_1") -> dict[str, Any]:
    return {
        "id": "fc_1",
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": "completed",
    }


def response(
    text: str | None = "Paris is the capital of France.",
    *,
    id: str = "resp_1",
    status: str = "completed",
    output: list[dict[str, Any]] | None = None,
    incomplete: str | None = None,
) -> dict[str, Any]:
    """A Responses API answer as Azure sends it."""
    items = output if output is not None else ([message(output_text(text))] if text else [])
    return {
        "id": id,
        "object": "response",
        "created_at": 1_700_000_000,
        "status": status,
        "model": "gpt-4o-2024-08-06",
        "output": items,
        "incomplete_details": {"reason": incomplete} if incomplete else None,
        "error": None,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": USAGE,
    }


def events(
    deltas: Iterable[str] = ("Hello", " world"), *, id: str = "resp_s", end: str = "completed"
) -> list[dict[str, Any]]:
    """The SSE events of a streamed response, from `response.created` to its end.

    `end` is "completed", "failed", "incomplete", "error" or "cut" (no terminal event).
    """
    deltas = list(deltas)
    text = "".join(deltas)
    created = {**response(None, id=id, status="in_progress"), "usage": None}
    where = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    out: list[dict[str, Any]] = [
        {"type": "response.created", "response": created},
        {"type": "response.in_progress", "response": created},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**message(), "status": "in_progress"},
        },
        {"type": "response.content_part.added", **where, "part": output_text("")},
    ]
    out += [
        {"type": "response.output_text.delta", **where, "delta": d, "logprobs": []} for d in deltas
    ]
    if end == "completed":
        out += [
            {"type": "response.output_text.done", **where, "text": text, "logprobs": []},
            {"type": "response.content_part.done", **where, "part": output_text(text)},
            {
                "type": "response.output_item.done",
                "output_index": 0,
                "item": message(output_text(text)),
            },
            {"type": "response.completed", "response": response(text, id=id)},
        ]
    elif end == "incomplete":
        out.append(
            {
                "type": "response.incomplete",
                "response": response(
                    text, id=id, status="incomplete", incomplete="max_output_tokens"
                ),
            }
        )
    elif end == "failed":
        failed = {
            **response(None, id=id, status="failed"),
            "error": {"code": "server_error", "message": "The server had an error."},
        }
        out.append({"type": "response.failed", "response": failed})
    elif end == "error":
        out.append(
            {"type": "error", "code": "server_error", "message": "Stream error.", "param": None}
        )
    return [{**event, "sequence_number": n} for n, event in enumerate(out)]


def sse(evts: Iterable[Mapping[str, Any]]) -> httpx.Response:
    """Azure's Responses SSE body: `event:` and `data:` lines, no `[DONE]`."""
    body = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in evts)
    return httpx.Response(
        200, headers={"content-type": "text/event-stream", **SUCCESS_HEADERS}, content=body.encode()
    )


def ok(body: Mapping[str, Any]) -> httpx.Response:
    return httpx.Response(200, json=body, headers=SUCCESS_HEADERS)


def pool() -> list[Deployment]:
    """One deployment on each of two resources; east first."""
    return [
        Deployment("gpt-4o", endpoint=EAST, aliases=("chat",), priority=0),
        Deployment("gpt-4o", endpoint=WEST, aliases=("chat",), priority=1),
    ]


def by_host(east: Any, west: Any) -> Recorder:
    """A recorder answering east's and west's requests from two scripts (lists repeat last)."""
    scripts = {"east-res.openai.azure.com": east, "west-res.openai.azure.com": west}
    counts = {host: 0 for host in scripts}

    def handler(request: httpx.Request) -> httpx.Response:
        host = request.url.host
        script = scripts[host]
        replies = script if isinstance(script, list) else [script]
        reply = replies[min(counts[host], len(replies) - 1)]
        counts[host] += 1
        if isinstance(reply, httpx.Response):
            return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)
        result: httpx.Response = reply(request)
        return result

    return Recorder(handler)


def pool_client(recorder: Recorder, clock: Any, *, asynchronous: bool = False) -> Any:
    """A pool client on the default routes (v1 for responses) over `recorder`."""
    options: dict[str, Any] = {
        "credential": API_KEY,
        "deployments": pool(),
        "clock": clock,
        "retry": RetryPolicy(jitter=0),
    }
    if asynchronous:
        http = httpx.AsyncClient(transport=httpx.MockTransport(recorder.asynchronous))
        return AsyncAzureAIClient(http_client=http, sleep=clock.asleep, **options)
    http_sync = httpx.Client(transport=httpx.MockTransport(recorder.sync))
    return AzureAIClient(http_client=http_sync, sleep=clock.sleep, **options)


def hosts(recorder: Recorder) -> list[str]:
    return [r.url.host.split(".")[0] for r in recorder.requests]
