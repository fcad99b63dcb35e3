"""Chat completions: deterministic synthetic replies, filters, tools, JSON modes, reasoning models.

The SSE form of an answer is built in ``_chat_stream``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import _errors
from ._chat_stream import stream
from ._scripted import ToolCall
from ._synth import estimate_tokens, extract, instance_from_schema, short_hash
from ._versions import (
    STREAM_OPTIONS_FIRST_VERSION,
    is_reasoning_model,
    reported_model,
    supports,
)
from ._wire import Call, Delay, Outcome, json_outcome

__all__ = ["DEFAULT_MAX_TOKENS_ESTIMATE", "Choice", "estimate", "prompt_tokens", "respond"]

#: Tokens charged for the completion at admission when the request sets no ``max_tokens``
#: (the legacy Completions default).
DEFAULT_MAX_TOKENS_ESTIMATE = 16
#: Per-message overhead added to the estimated prompt tokens (role and separators).
MESSAGE_OVERHEAD = 4
#: Reasoning tokens a reasoning model "spends" per effort (deterministic stand-ins).
REASONING_TOKENS = {"minimal": 0, "low": 64, "medium": 192, "high": 448}
#: Prompt caching starts at 1,024 tokens and counts in steps of 128.
CACHE_MIN_TOKENS, CACHE_STEP = 1024, 128


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


def _message_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(MESSAGE_OVERHEAD + estimate_tokens(_text_of(m.get("content"))) for m in messages)


def prompt_tokens(body: dict[str, Any]) -> int:
    """Estimated prompt tokens: each message's text estimate plus 4, plus the tools' JSON."""
    total = _message_tokens(_messages(body))
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
class Choice:
    """One synthesised choice, before it is rendered as JSON or SSE."""

    index: int
    content: str | None
    finish_reason: str
    filter_results: dict[str, Any]
    tool_calls: list[dict[str, Any]] = field(default_factory=list)

    def tokens(self) -> int:
        """Estimated completion tokens of the visible output."""
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


def _call_id(call: Call, name: str) -> str:
    return "call_" + short_hash(call.request_id, name, length=24)


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
    name = str(function.get("name", "tool"))
    arguments = json.dumps(instance_from_schema(schema))
    return [
        {
            "id": _call_id(call, name),
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }
    ]


def _scripted(call: Call) -> tuple[str | None, list[dict[str, Any]]]:
    """The scripted answer as (content, tool calls)."""
    answer = call.scripted
    if isinstance(answer, ToolCall):
        arguments = json.dumps(answer.arguments)
        function = {"name": answer.name, "arguments": arguments}
        return None, [{"id": _call_id(call, answer.name), "type": "function", "function": function}]
    if isinstance(answer, str):
        return answer, []
    return json.dumps(answer), []


def _choices(call: Call, messages: list[dict[str, Any]], budget: int | None) -> list[Choice]:
    n = call.body.get("n", 1)
    n = n if isinstance(n, int) and n > 0 else 1
    prompt = " ".join(_text_of(m.get("content")) for m in messages)
    filtered = call.policy.blocks_completion(prompt)
    stops = call.body.get("stop")
    stops = [stops] if isinstance(stops, str) else [s for s in stops or [] if isinstance(s, str)]
    out: list[Choice] = []
    for index in range(n):
        if call.scripted is not None:
            text, tool_calls = _scripted(call)
        else:
            text, tool_calls = None, ([] if filtered else _tool_call(call))
        if tool_calls:
            out.append(Choice(index, None, "tool_calls", _errors.filter_results(), tool_calls))
            continue
        text, reason = (text if text is not None else _reply(call, messages, index)), "stop"
        for stop in stops:
            if stop and stop in text:
                text = text[: text.index(stop)]
        if budget is not None and estimate_tokens(text) > budget:
            text, reason = text[: max(0, budget) * 4], "length"
        results = _errors.filter_results()
        if filtered:
            # Streams have sent part of the text before the filter cut in; a whole response
            # carries none of it.
            cut = text[: len(text) // 2] if call.body.get("stream") is True else None
            text, reason = cut, "content_filter"
            results = _errors.filter_results(filtered=call.policy.category)
        out.append(Choice(index, text, reason, results))
    return out


def _check_version(call: Call) -> Outcome | None:
    if supports(call.api_version, STREAM_OPTIONS_FIRST_VERSION):
        return None
    for param in ("stream_options", "max_completion_tokens"):
        if param in call.body:
            return json_outcome(400, _errors.unknown_parameter(param))
    return None


def _check_reasoning(call: Call, reasoning: bool) -> Outcome | None:
    body = call.body
    effort = body.get("reasoning_effort")
    if not reasoning:
        if effort is not None:
            return json_outcome(400, _errors.unsupported_parameter("reasoning_effort"))
        return None
    if "max_tokens" in body:
        error = _errors.unsupported_parameter("max_tokens", "max_completion_tokens")
        return json_outcome(400, error)
    for param in ("temperature", "top_p"):
        value = body.get(param)
        if value is not None and value != 1:
            return json_outcome(400, _errors.unsupported_value(param, value))
    allowed = ["low", "medium", "high"]
    if call.deployment.model_name.startswith("gpt-5"):
        allowed.insert(0, "minimal")
    if effort is not None and effort not in allowed:
        message = f"Invalid value: '{effort}'. Supported values are: {', '.join(allowed)}."
        return json_outcome(400, _errors.bad_request(message, param="reasoning_effort"))
    return None


def _validate(call: Call, messages: list[dict[str, Any]], reasoning: bool) -> Outcome | None:
    if not messages:
        return json_outcome(
            400, _errors.bad_request("'messages' is a required property", param="messages")
        )
    refused = _check_version(call) or _check_reasoning(call, reasoning)
    if refused is not None:
        return refused
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


def _cached_tokens(call: Call, messages: list[dict[str, Any]]) -> int:
    """Tokens of the longest message prefix this deployment has seen before (prompt caching)."""
    cached = 0
    for end in range(1, len(messages) + 1):
        key = short_hash(call.deployment.name, json.dumps(messages[:end], sort_keys=True))
        if call.remember_prefix(key):
            cached = _message_tokens(messages[:end])
    if cached < CACHE_MIN_TOKENS:
        return 0
    return cached - cached % CACHE_STEP


def respond(call: Call) -> Outcome:
    """Answer one chat completion request (JSON or SSE)."""
    messages = _messages(call.body)
    model = call.deployment.model_name
    reasoning = is_reasoning_model(model)
    error = _validate(call, messages, reasoning)
    if error is not None:
        return error
    max_tokens = _max_tokens(call.body)
    thinking = 0
    if reasoning:
        thinking = REASONING_TOKENS.get(str(call.body.get("reasoning_effort") or "medium"), 192)
        if max_tokens is not None:
            thinking = min(thinking, max_tokens)
    budget = None if max_tokens is None else max_tokens - thinking
    choices = _choices(call, messages, budget)
    prompt = prompt_tokens(call.body)
    completion = sum(c.tokens() for c in choices) + thinking * len(choices)
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {
            "audio_tokens": 0,
            "cached_tokens": _cached_tokens(call, messages),
        },
        "completion_tokens_details": {
            "accepted_prediction_tokens": 0,
            "audio_tokens": 0,
            "reasoning_tokens": thinking * len(choices),
            "rejected_prediction_tokens": 0,
        },
    }
    header = {
        "id": "chatcmpl-" + short_hash(call.request_id, length=29),
        "created": call.created,
        "model": reported_model(model),
        "system_fingerprint": "fp_" + short_hash(model, length=10),
    }
    prompt_filter = [
        {"prompt_index": 0, "content_filter_results": _errors.filter_results(jailbreak=False)}
    ]
    if call.body.get("stream") is True:
        return stream(call, header, prompt_filter, choices, usage)
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


def _message_choice(choice: Choice) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": choice.content, "refusal": None}
    if choice.finish_reason == "content_filter":
        message = {"role": "assistant"}
    if choice.tool_calls:
        message["tool_calls"] = choice.tool_calls
    return {
        "index": choice.index,
        "finish_reason": choice.finish_reason,
        "logprobs": None,
        "message": message,
        "content_filter_results": choice.filter_results,
    }
