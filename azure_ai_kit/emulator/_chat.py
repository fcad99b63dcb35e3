"""Chat completions: deterministic synthetic replies, filters, tools, JSON modes and SSE."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from . import _errors
from ._synth import estimate_tokens, extract, instance_from_schema, short_hash
from ._wire import Call, Delay, Outcome, Part, json_outcome

__all__ = ["DEFAULT_MAX_TOKENS_ESTIMATE", "estimate", "prompt_tokens", "respond"]

#: Tokens charged for the completion at admission when the request sets no ``max_tokens``
#: (the legacy Completions default).
DEFAULT_MAX_TOKENS_ESTIMATE = 16
#: Per-message overhead added to the estimated prompt tokens (role and separators).
MESSAGE_OVERHEAD = 4

_PIECE = re.compile(r"\s*\S+")


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
        )
    return ""


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    raw = body.get("messages")
    return [m for m in raw if isinstance(m, dict)] if isinstance(raw, list) else []


def prompt_tokens(body: dict[str, Any]) -> int:
    """Estimated prompt tokens: each message's text estimate plus 4, plus the tools' JSON."""
    total = sum(
        MESSAGE_OVERHEAD + estimate_tokens(_text_of(m.get("content"))) for m in _messages(body)
    )
    if body.get("tools"):
        total += estimate_tokens(json.dumps(body["tools"], sort_keys=True))
    return total


def _max_tokens(body: dict[str, Any]) -> int | None:
    for key in ("max_completion_tokens", "max_tokens"):
        value = body.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def estimate(body: dict[str, Any]) -> int:
    """Azure's admission estimate: prompt tokens + ``max_tokens`` (default 16)."""
    max_tokens = _max_tokens(body)
    return prompt_tokens(body) + (DEFAULT_MAX_TOKENS_ESTIMATE if max_tokens is None else max_tokens)


@dataclass
class _Choice:
    index: int
    content: str | None
    finish_reason: str
    filter_results: dict[str, Any]
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    def tokens(self) -> int:
        calls = "".join(c["function"]["name"] + c["function"]["arguments"] for c in self.tool_calls)
        return estimate_tokens((self.content or "") + calls)


def _reply(call: Call, messages: list[dict[str, Any]], index: int) -> str:
    name = call.deployment.name
    last = messages[-1]
    users = [m for m in messages if m.get("role") == "user"]
    source = last if last.get("role") == "tool" else (users[-1] if users else last)
    gist = extract(_text_of(source.get("content")))
    fmt = call.body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        return json.dumps({"emulated": True, "deployment": name, "reply": gist})
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema") or {}
        schema = spec.get("schema", {}) if isinstance(spec, dict) else {}
        return json.dumps(instance_from_schema(schema, seed=gist))
    tag = f"[emulated {name}]" if index == 0 else f"[emulated {name} #{index + 1}]"
    if source.get("role") == "tool":
        return f"{tag} Tool result received: {gist or '(empty)'}"
    return f"{tag} {gist or '(empty prompt)'}"


def _tool_call(call: Call) -> list[dict[str, Any]]:
    tools = [t for t in call.body.get("tools") or [] if isinstance(t, dict)]
    choice = call.body.get("tool_choice")
    messages = _messages(call.body)
    if not tools or choice == "none" or (messages and messages[-1].get("role") == "tool"):
        return []
    tool = tools[0]
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        tool = next((t for t in tools if (t.get("function") or {}).get("name") == wanted), tool)
    function = tool.get("function") or {}
    schema = function.get("parameters") or {"type": "object", "properties": {}}
    arguments = json.dumps(instance_from_schema(schema))
    call_id = "call_" + short_hash(call.request_id, function.get("name"), length=24)
    return [
        {
            "id": call_id,
            "type": "function",
            "function": {"name": str(function.get("name", "tool")), "arguments": arguments},
        }
    ]


def _choices(call: Call, messages: list[dict[str, Any]]) -> list[_Choice]:
    n = call.body.get("n", 1)
    n = n if isinstance(n, int) and n > 0 else 1
    prompt = " ".join(_text_of(m.get("content")) for m in messages)
    filtered = call.policy.blocks_completion(prompt)
    max_tokens = _max_tokens(call.body)
    stops = call.body.get("stop")
    stops = [stops] if isinstance(stops, str) else [s for s in stops or [] if isinstance(s, str)]
    out: list[_Choice] = []
    for index in range(n):
        tool_calls = [] if filtered else _tool_call(call)
        if tool_calls:
            out.append(_Choice(index, None, "tool_calls", _errors.filter_results(), tool_calls))
            continue
        text, reason = _reply(call, messages, index), "stop"
        for stop in stops:
            if stop and stop in text:
                text = text[: text.index(stop)]
        if max_tokens is not None and estimate_tokens(text) > max_tokens:
            text, reason = text[: max_tokens * 4], "length"
        results = _errors.filter_results()
        if filtered:
            text, reason = text[: len(text) // 2], "content_filter"
            results = _errors.filter_results(filtered=call.policy.category)
        out.append(_Choice(index, text, reason, results))
    return out


def _validate(call: Call, messages: list[dict[str, Any]]) -> Outcome | None:
    if not messages:
        return json_outcome(
            400, _errors.bad_request("'messages' is a required property", param="messages")
        )
    n = call.body.get("n", 1)
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= 128:
        return json_outcome(
            400,
            _errors.bad_request(
                f"{n!r} is not valid for 'n'. Allowed values: 1 to 128.", param="n"
            ),
        )
    prompt = " ".join(_text_of(m.get("content")) for m in messages)
    fmt = call.body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_object" and "json" not in prompt.lower():
        message = (
            "'messages' must contain the word 'json' in some form, to use 'response_format' "
            "of type 'json_object'."
        )
        return json_outcome(400, _errors.bad_request(message, param="messages"))
    category, jailbreak = call.policy.check(prompt)
    if category or jailbreak:
        results = _errors.filter_results(filtered=category, jailbreak=jailbreak)
        return json_outcome(400, _errors.chat_content_filter(results))
    tokens, max_tokens = prompt_tokens(call.body), _max_tokens(call.body)
    if tokens + (max_tokens or 0) > call.deployment.context_window:
        body = _errors.context_length_exceeded(call.deployment.context_window, tokens, max_tokens)
        return json_outcome(400, body)
    return None


def respond(call: Call) -> Outcome:
    """Answer one chat completion request (JSON or SSE)."""
    messages = _messages(call.body)
    error = _validate(call, messages)
    if error is not None:
        return error
    choices = _choices(call, messages)
    prompt = prompt_tokens(call.body)
    completion = sum(c.tokens() for c in choices)
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    header = {
        "id": "chatcmpl-" + short_hash(call.request_id, length=29),
        "created": call.created,
        "model": call.deployment.model_name,
        "system_fingerprint": "fp_" + short_hash(call.deployment.model_name, length=10),
    }
    prompt_filter = [
        {"prompt_index": 0, "content_filter_results": _errors.filter_results(jailbreak=False)}
    ]
    if call.body.get("stream") is True:
        return _stream(call, header, prompt_filter, choices, usage)
    body = {
        **header,
        "object": "chat.completion",
        "prompt_filter_results": prompt_filter,
        "choices": [_message_choice(c) for c in choices],
        "usage": usage,
    }
    dep = call.deployment
    outcome = json_outcome(200, body)
    latency = dep.first_token_latency + dep.per_token_latency * completion
    if latency > 0:
        outcome.parts.insert(0, Delay(latency))
    return outcome


def _message_choice(choice: _Choice) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": choice.content, "refusal": None}
    if choice.tool_calls:
        message["tool_calls"] = choice.tool_calls
    return {
        "index": choice.index,
        "finish_reason": choice.finish_reason,
        "logprobs": None,
        "message": message,
        "content_filter_results": choice.filter_results,
    }


def _sse(data: Any) -> bytes:
    return b"data: " + json.dumps(data, separators=(",", ":")).encode("utf-8") + b"\n\n"


def _stream(
    call: Call,
    header: dict[str, Any],
    prompt_filter: list[dict[str, Any]],
    choices: list[_Choice],
    usage: dict[str, int],
) -> Outcome:
    dep = call.deployment
    first = {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": prompt_filter,
    }
    parts: list[Part] = [_sse(first)]
    if dep.first_token_latency > 0:
        parts.append(Delay(dep.first_token_latency))

    def chunk(
        index: int, delta: dict[str, Any], finish: str | None, results: dict[str, Any]
    ) -> bytes:
        choice = {
            "index": index,
            "delta": delta,
            "finish_reason": finish,
            "logprobs": None,
            "content_filter_results": results,
        }
        return _sse({**header, "object": "chat.completion.chunk", "choices": [choice]})

    safe = _errors.filter_results()
    for c in choices:
        if c.tool_calls:
            tc = c.tool_calls[0]
            opening = {
                **tc,
                "index": 0,
                "function": {"name": tc["function"]["name"], "arguments": ""},
            }
            parts.append(
                chunk(
                    c.index,
                    {"role": "assistant", "content": None, "tool_calls": [opening]},
                    None,
                    safe,
                )
            )
            pieces = _PIECE.findall(tc["function"]["arguments"]) or [""]
            for piece in pieces:
                parts.append(
                    chunk(
                        c.index,
                        {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]},
                        None,
                        safe,
                    )
                )
        else:
            parts.append(chunk(c.index, {"role": "assistant", "content": ""}, None, safe))
            for number, piece in enumerate(_PIECE.findall(c.content or "")):
                if number and dep.per_token_latency > 0:
                    parts.append(Delay(dep.per_token_latency * estimate_tokens(piece)))
                parts.append(chunk(c.index, {"content": piece}, None, safe))
        final_results = c.filter_results if c.finish_reason == "content_filter" else {}
        parts.append(chunk(c.index, {}, c.finish_reason, final_results))
    options = call.body.get("stream_options")
    if isinstance(options, dict) and options.get("include_usage"):
        parts.append(
            _sse({**header, "object": "chat.completion.chunk", "choices": [], "usage": usage})
        )
    parts.append(b"data: [DONE]\n\n")
    return Outcome(200, parts, content_type="text/event-stream; charset=utf-8", stream=True)
