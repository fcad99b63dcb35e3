"""The Responses API (``POST /openai/v1/responses``): input items, instructions, function tools,
reasoning, ``text.format`` json_schema, ``max_output_tokens`` and stored responses.

The answer is synthesised the way chat's is (an extract of the last user input, or a call to the
first function tool); the SSE form is built in ``_responses_stream``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from . import _errors
from ._chat import CACHE_MIN_TOKENS, CACHE_STEP, DEFAULT_MAX_TOKENS_ESTIMATE, REASONING_TOKENS
from ._responses_stream import stream
from ._scripted import ToolCall
from ._synth import estimate_tokens, extract, instance_from_schema, short_hash
from ._versions import is_reasoning_model, reported_model
from ._wire import Call, Delay, Outcome, StoredResponse, json_outcome

__all__ = ["MIN_OUTPUT_TOKENS", "estimate", "input_tokens", "respond"]

#: The smallest ``max_output_tokens`` the service takes.
MIN_OUTPUT_TOKENS = 16
#: Per-item overhead added to the estimated input tokens (role and separators).
ITEM_OVERHEAD = 4

Item = dict[str, Any]


def _items(value: Any) -> list[Item]:
    """The request's ``input`` as a list of items (a string is one user message)."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    if isinstance(value, list):
        return [dict(item) for item in value if isinstance(item, dict)]
    return []


def _text(item: Item) -> str:
    kind = item.get("type", "message")
    if kind == "function_call_output":
        output = item.get("output")
        return output if isinstance(output, str) else json.dumps(output)
    if kind == "function_call":
        return str(item.get("name", "")) + str(item.get("arguments", ""))
    content = item.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and "text" in p
        )
    return ""


def _conversation_tokens(items: list[Item]) -> int:
    return sum(ITEM_OVERHEAD + estimate_tokens(_text(item)) for item in items)


def _instructions(body: dict[str, Any]) -> str:
    value = body.get("instructions")
    return value if isinstance(value, str) else ""


def input_tokens(body: dict[str, Any], earlier: list[Item] | None = None) -> int:
    """Estimated input tokens: instructions, earlier turns, each input item (+4), tools' JSON."""
    total = _conversation_tokens([*(earlier or []), *_items(body.get("input"))])
    instructions = _instructions(body)
    if instructions:
        total += ITEM_OVERHEAD + estimate_tokens(instructions)
    if body.get("tools"):
        total += estimate_tokens(json.dumps(body["tools"], sort_keys=True))
    return total


def _max_output(body: dict[str, Any]) -> int | None:
    value = body.get("max_output_tokens")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def estimate(body: dict[str, Any]) -> int:
    """The admission estimate: input tokens + ``max_output_tokens`` (default 16)."""
    limit = _max_output(body)
    return input_tokens(body) + (DEFAULT_MAX_TOKENS_ESTIMATE if limit is None else limit)


def _format(body: dict[str, Any]) -> dict[str, Any]:
    text = body.get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    return fmt if isinstance(fmt, dict) else {"type": "text"}


def _effort(call: Call, reasoning: bool) -> str | None:
    if not reasoning:
        return None
    config = call.body.get("reasoning")
    effort = config.get("effort") if isinstance(config, dict) else None
    return str(effort) if effort is not None else "medium"


def _validate(call: Call, items: list[Item], reasoning: bool) -> Outcome | None:
    body = call.body
    if "messages" in body:
        message = (
            "Unsupported parameter: 'messages'. In the Responses API, this parameter has moved "
            "to 'input'. Try again with the new parameter."
        )
        return json_outcome(400, _errors.bad_request(message, code="unsupported_parameter"))
    if not items:
        message = "Missing required parameter: 'input'."
        return json_outcome(400, _errors.bad_request(message, param="input"))
    limit = _max_output(body)
    if limit is not None and limit < MIN_OUTPUT_TOKENS:
        message = (
            "Invalid 'max_output_tokens': integer below minimum value. Expected a value >= "
            f"{MIN_OUTPUT_TOKENS}, but got {limit} instead."
        )
        error = _errors.bad_request(
            message, param="max_output_tokens", code="integer_below_min_value"
        )
        return json_outcome(400, error)
    config = body.get("reasoning")
    effort = config.get("effort") if isinstance(config, dict) else None
    if effort is not None and not reasoning:
        return json_outcome(400, _errors.unsupported_parameter("reasoning.effort"))
    allowed = ["low", "medium", "high"]
    if call.deployment.model_name.startswith("gpt-5"):
        allowed.insert(0, "minimal")
    if effort is not None and effort not in allowed:
        message = f"Invalid value: '{effort}'. Supported values are: {', '.join(allowed)}."
        return json_outcome(400, _errors.bad_request(message, param="reasoning.effort"))
    if reasoning:
        for param in ("temperature", "top_p"):
            value = body.get(param)
            if value is not None and value != 1:
                return json_outcome(400, _errors.unsupported_parameter(param))
    prompt = " ".join([_instructions(body), *(_text(i) for i in items)])
    fmt = _format(body)
    if fmt.get("type") == "json_schema" and not fmt.get("name"):
        message = "Missing required parameter: 'text.format.name'."
        return json_outcome(400, _errors.bad_request(message, param="text.format.name"))
    if fmt.get("type") == "json_object" and "json" not in prompt.lower():
        message = (
            "Response input messages must contain the word 'json' in some form to use "
            "'text.format' of type 'json_object'."
        )
        return json_outcome(400, _errors.bad_request(message, param="input"))
    category, jailbreak = call.policy.check(prompt)
    if category or jailbreak:
        results = _errors.filter_results(filtered=category, jailbreak=jailbreak)
        return json_outcome(400, _errors.chat_content_filter(results))
    return None


def _item_id(call: Call, prefix: str, index: int) -> str:
    return f"{prefix}_" + short_hash(call.request_id, prefix, index, length=48)


def _function_call(call: Call, name: str, arguments: str, index: int) -> Item:
    return {
        "id": _item_id(call, "fc", index),
        "type": "function_call",
        "status": "completed",
        "arguments": arguments,
        "call_id": "call_" + short_hash(call.request_id, name, length=24),
        "name": name,
    }


def _tool_call(call: Call, conversation: list[Item], index: int) -> Item | None:
    """A call to the first function tool (or ``tool_choice``'s), unless a tool just answered."""
    tools = [t for t in call.body.get("tools") or [] if isinstance(t, dict)]
    tools = [t for t in tools if t.get("type") == "function"]
    choice = call.body.get("tool_choice")
    if not tools or choice == "none" or conversation[-1].get("type") == "function_call_output":
        return None
    tool = tools[0]
    if isinstance(choice, dict) and choice.get("type") == "function":
        tool = next((t for t in tools if t.get("name") == choice.get("name")), tool)
    schema = tool.get("parameters") or {"type": "object", "properties": {}}
    name = str(tool.get("name", "tool"))
    return _function_call(call, name, json.dumps(instance_from_schema(schema)), index)


def _synthesised(call: Call, conversation: list[Item]) -> str:
    name = call.deployment.name
    last = conversation[-1]
    users = [i for i in conversation if i.get("role") == "user"]
    tool_answer = last.get("type") == "function_call_output"
    source = last if tool_answer else (users[-1] if users else last)
    gist = extract(_text(source))
    fmt = _format(call.body)
    if fmt.get("type") == "json_schema":
        return json.dumps(instance_from_schema(fmt.get("schema") or {}, seed=gist))
    if fmt.get("type") == "json_object":
        return json.dumps({"emulated": True, "deployment": name, "reply": gist})
    if tool_answer:
        return f"[emulated {name}] Tool result received: {gist or '(empty)'}"
    return f"[emulated {name}] {gist or '(empty prompt)'}"


@dataclass
class Turn:
    """The synthesised output of one request, before it is rendered as JSON or SSE."""

    output: list[Item] = field(default_factory=list)
    status: str = "completed"
    reason: str | None = None
    visible_tokens: int = 0
    reasoning_tokens: int = 0


def _message(call: Call, text: str, status: str, index: int) -> Item:
    return {
        "id": _item_id(call, "msg", index),
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def _turn(call: Call, conversation: list[Item], effort: str | None) -> Turn:
    turn = Turn()
    limit = _max_output(call.body)
    if effort is not None:
        turn.reasoning_tokens = REASONING_TOKENS.get(effort, REASONING_TOKENS["medium"])
        if limit is not None:
            turn.reasoning_tokens = min(turn.reasoning_tokens, limit)
        turn.output.append({"id": _item_id(call, "rs", 0), "type": "reasoning", "summary": []})
    index = len(turn.output)
    text: str | None = None
    prompt = " ".join(
        [_instructions(call.body), *(_text(i) for i in _items(call.body.get("input")))]
    )
    filtered = call.policy.blocks_completion(prompt)
    answer = call.scripted
    if isinstance(answer, ToolCall):
        turn.output.append(_function_call(call, answer.name, json.dumps(answer.arguments), index))
    elif answer is not None:
        text = answer if isinstance(answer, str) else json.dumps(answer)
    elif not filtered and (tool := _tool_call(call, conversation, index)) is not None:
        turn.output.append(tool)
    else:
        text = _synthesised(call, conversation)
    if text is not None:
        budget = None if limit is None else limit - turn.reasoning_tokens
        status = "completed"
        if budget is not None and estimate_tokens(text) > budget:
            text, status, turn.reason = (
                text[: max(0, budget) * 4],
                "incomplete",
                "max_output_tokens",
            )
        if filtered:
            # The filter cut in half-way: what was produced before it stays in the output.
            text, status, turn.reason = text[: len(text) // 2], "incomplete", "content_filter"
        if text or status == "completed":
            turn.output.append(_message(call, text, status, index))
        turn.status = status
    for item in turn.output[index:]:
        if item["type"] == "function_call":
            turn.visible_tokens += estimate_tokens(item["name"] + item["arguments"])
        else:
            turn.visible_tokens += estimate_tokens(item["content"][0]["text"])
    return turn


def _cached_tokens(call: Call, conversation: list[Item]) -> int:
    """Tokens of the longest item prefix this deployment has seen before (prompt caching)."""
    cached = 0
    instructions = _instructions(call.body)
    for end in range(1, len(conversation) + 1):
        prefix = json.dumps([instructions, conversation[:end]], sort_keys=True)
        if call.remember_prefix(short_hash(call.deployment.name, "responses", prefix)):
            cached = _conversation_tokens(conversation[:end])
    if cached < CACHE_MIN_TOKENS:
        return 0
    return cached - cached % CACHE_STEP


def _echo_tools(body: dict[str, Any]) -> list[Item]:
    tools = [dict(t) for t in body.get("tools") or [] if isinstance(t, dict)]
    for tool in tools:
        if tool.get("type") == "function":
            tool.setdefault("description", None)
            tool.setdefault("strict", True)
    return tools


def _body(call: Call, turn: Turn, effort: str | None, usage: dict[str, Any]) -> dict[str, Any]:
    body = call.body
    incomplete = {"reason": turn.reason} if turn.reason else None
    return {
        "id": "resp_" + short_hash(call.request_id, "response", length=48),
        "object": "response",
        "created_at": call.created,
        "status": turn.status,
        "background": False,
        "error": None,
        "incomplete_details": incomplete,
        "instructions": body.get("instructions"),
        "max_output_tokens": _max_output(body),
        "model": reported_model(call.deployment.model_name),
        "output": turn.output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": effort, "summary": None},
        "store": body.get("store", True) is not False,
        "temperature": body.get("temperature", 1.0),
        "text": {"format": _format(body)},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": _echo_tools(body),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": usage,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


def respond(call: Call) -> Outcome:
    """Answer one Responses API request (JSON, or SSE when ``stream`` is true)."""
    reasoning = is_reasoning_model(call.deployment.model_name)
    items = _items(call.body.get("input"))
    refused = _validate(call, items, reasoning)
    if refused is not None:
        return refused
    earlier: list[Item] = []
    previous_id = call.body.get("previous_response_id")
    if previous_id is not None:
        previous = call.recall_response(str(previous_id))
        if previous is None:
            return json_outcome(400, _errors.previous_response_not_found(str(previous_id)))
        earlier = previous.conversation
    conversation = [*earlier, *items]
    effort = _effort(call, reasoning)
    turn = _turn(call, conversation, effort)
    prompt = input_tokens(call.body, earlier)
    output = turn.visible_tokens + turn.reasoning_tokens
    usage = {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": _cached_tokens(call, conversation)},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": turn.reasoning_tokens},
        "total_tokens": prompt + output,
    }
    body = _body(call, turn, effort, usage)
    if body["store"] and call.stream_error is None:
        call.keep_response(
            StoredResponse(call.deployment.name, body, [*conversation, *turn.output])
        )
    if call.body.get("stream") is True:
        return stream(call, body)
    dep = call.deployment
    outcome = json_outcome(200, body)
    latency = dep.first_token_latency + dep.per_token_latency * output
    if latency > 0:
        outcome.parts.insert(0, Delay(latency))
    return outcome
