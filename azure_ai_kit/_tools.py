"""Function calling with plain Python functions: `run_tools` / `arun_tools`.

Each function's parameters become a strict JSON schema through pydantic (from its type
hints); the loop sends a chat call through the client's pool, runs the tool calls the model
asks for, appends their results as `tool` messages, and stops when the model answers in
text. Users who run their own loop keep `ChatResult.tool_calls`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, get_type_hints

import pydantic
import pydantic_core

from ._base import build_messages
from ._exceptions import ToolLoopError
from ._results import ChatResult
from ._structured import strict_schema

__all__ = ["ToolsResult", "arun_tools", "function_tool", "run_tools"]


@dataclass(frozen=True)
class ToolsResult(ChatResult):
    """The final answer of `run_tools`: a `ChatResult` plus the whole transcript.

    `messages` is every message sent and received (assistant tool calls and `tool`
    results included), ready to continue the conversation; `rounds` counts the chat calls.
    """

    messages: tuple[Mapping[str, Any], ...] = ()
    rounds: int = 0


@dataclass(frozen=True)
class _Tool:
    function: Callable[..., Any]
    arguments: type[pydantic.BaseModel]
    spec: dict[str, Any] = field(repr=False)


def function_tool(function: Callable[..., Any]) -> dict[str, Any]:
    """The chat `tools=` entry for a Python function: its name, the first line of its
    docstring, and a strict JSON schema of its parameters built from the type hints."""
    return _tool(function).spec


def _tool(function: Callable[..., Any]) -> _Tool:
    name = getattr(function, "__name__", "")
    if not name or name == "<lambda>":
        raise TypeError("tools= takes named functions (def …), not lambdas or callables")
    hints = get_type_hints(function)
    fields: dict[str, Any] = {}
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"tool {name}() cannot take *args or **kwargs; name each parameter")
        if parameter.name not in hints:
            raise TypeError(
                f"tool {name}() needs a type hint on {parameter.name!r}: the model is told "
                "each parameter's JSON type"
            )
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[parameter.name] = (hints[parameter.name], default)
    arguments = pydantic.create_model(f"{name}_arguments", **fields)
    doc = inspect.getdoc(function) or ""
    spec: dict[str, Any] = {
        "type": "function",
        "function": {
            "name": name,
            "description": doc.strip().splitlines()[0] if doc.strip() else name,
            "parameters": strict_schema(arguments),
            "strict": True,
        },
    }
    return _Tool(function, arguments, spec)


class _Loop:
    """The loop's state, shared by the twins: the transcript and the tools by name."""

    def __init__(
        self,
        prompt: str | Sequence[Mapping[str, Any]],
        tools: Sequence[Callable[..., Any]],
        system: str | None,
        max_rounds: int,
    ) -> None:
        if not tools:
            raise ValueError("tools= is empty; pass at least one function")
        if max_rounds < 1:
            raise ValueError("max_rounds must be at least 1")
        self.tools = {t.spec["function"]["name"]: t for t in map(_tool, tools)}
        self.specs = [t.spec for t in self.tools.values()]
        self.messages: list[Any] = build_messages(prompt, system)
        self.max_rounds = max_rounds
        self.rounds = 0

    def answered(self, result: ChatResult) -> bool:
        """Record one chat reply; True when it is the final (text) answer."""
        self.rounds += 1
        calls = result.tool_calls
        if not calls:
            self.messages.append({"role": "assistant", "content": result.text})
            return True
        self.messages.append(
            {
                "role": "assistant",
                "content": result.text or None,
                "tool_calls": [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.function.name, "arguments": c.function.arguments},
                    }
                    for c in calls
                ],
            }
        )
        if self.rounds >= self.max_rounds:
            names = ", ".join(sorted({c.function.name for c in calls}))
            raise ToolLoopError(
                f"the model still asked for tools ({names}) after {self.rounds} round(s); raise "
                "max_rounds, or read .messages to see what it kept asking for",
                messages=self.messages,
                deployment=result.deployment,
                attempts=result.attempts,
            )
        return False

    def runnable(self, result: ChatResult) -> list[tuple[str, Callable[..., Any], Any]]:
        """The tool calls to run, as (call id, function, validated arguments). A call of an
        unknown tool, or with arguments that do not validate, is answered here with the
        error, which the model can correct in the next round."""
        out: list[tuple[str, Callable[..., Any], Any]] = []
        for call in result.tool_calls:
            tool = self.tools.get(call.function.name)
            if tool is None:
                self.add_output(call.id, f"error: no tool named {call.function.name!r}")
                continue
            try:
                arguments = tool.arguments.model_validate_json(call.function.arguments or "{}")
            except pydantic.ValidationError as exc:
                self.add_output(call.id, f"error: invalid arguments: {exc}")
                continue
            values = {k: getattr(arguments, k) for k in tool.arguments.model_fields}
            out.append((call.id, tool.function, values))
        return out

    def add_output(self, call_id: str, value: Any) -> None:
        """Append a tool's result as a `tool` message (JSON unless it is a string)."""
        content = value if isinstance(value, str) else pydantic_core.to_json(value).decode()
        self.messages.append({"role": "tool", "tool_call_id": call_id, "content": content})

    def result(self, result: ChatResult) -> ToolsResult:
        fields = {name: getattr(result, name) for name in ChatResult.__dataclass_fields__}
        return ToolsResult(**fields, messages=tuple(self.messages), rounds=self.rounds)


def run_tools(
    client: Any,
    prompt: str | Sequence[Mapping[str, Any]],
    *,
    tools: Sequence[Callable[..., Any]],
    model: str | None = None,
    system: str | None = None,
    max_rounds: int = 5,
    **kwargs: Any,
) -> ToolsResult:
    """Chat with `tools` (plain functions) until the model answers in text.

    Each round is one `client.chat` call (routing, retries, failover); the functions the
    model calls run here and their results go back as `tool` messages. Raises
    `ToolLoopError` after `max_rounds` rounds that still ask for tools. Arguments that fail
    validation are reported to the model; an exception inside a tool propagates.
    """
    loop = _Loop(prompt, tools, system, max_rounds)
    while True:
        result = client.chat(loop.messages, model=model, tools=loop.specs, **kwargs)
        if loop.answered(result):
            return loop.result(result)
        for call_id, function, arguments in loop.runnable(result):
            if inspect.iscoroutinefunction(function):
                raise TypeError(
                    f"tool {function.__name__}() is async; use arun_tools with AsyncAzureAIClient"
                )
            loop.add_output(call_id, function(**arguments))


async def arun_tools(
    client: Any,
    prompt: str | Sequence[Mapping[str, Any]],
    *,
    tools: Sequence[Callable[..., Any]],
    model: str | None = None,
    system: str | None = None,
    max_rounds: int = 5,
    **kwargs: Any,
) -> ToolsResult:
    """The asyncio form of `run_tools` (for `AsyncAzureAIClient`); tools may be sync or async."""
    loop = _Loop(prompt, tools, system, max_rounds)
    while True:
        result = await client.chat(loop.messages, model=model, tools=loop.specs, **kwargs)
        if loop.answered(result):
            return loop.result(result)
        for call_id, function, arguments in loop.runnable(result):
            value = function(**arguments)
            loop.add_output(call_id, await value if inspect.isawaitable(value) else value)
