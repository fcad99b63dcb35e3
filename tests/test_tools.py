"""`run_tools` / `arun_tools`: schemas from type hints, the loop through the pool, bounded
rounds, and arguments the model gets wrong."""

from __future__ import annotations

import json
from typing import Literal

import pytest
from azure_wire import chat_completion, ok

from azure_ai_kit import ToolLoopError, arun_tools, function_tool, run_tools


def get_weather(city: str, unit: Literal["C", "F"] = "C") -> dict[str, object]:
    """Current weather for a city.

    More detail the model does not need.
    """
    return {"city": city, "temperature": 21 if unit == "C" else 70, "unit": unit}


def asks_for(name: str, arguments: str, call_id: str = "call_1") -> dict:
    body = chat_completion(finish_reason="tool_calls")
    body["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        ],
    }
    return body


def test_the_schema_comes_from_the_type_hints():
    spec = function_tool(get_weather)
    function = spec["function"]
    assert spec["type"] == "function"
    assert function["name"] == "get_weather"
    assert function["description"] == "Current weather for a city."
    assert function["strict"] is True
    parameters = function["parameters"]
    assert parameters["properties"]["city"]["type"] == "string"
    assert parameters["properties"]["unit"]["enum"] == ["C", "F"]
    assert parameters["required"] == ["city", "unit"]
    assert parameters["additionalProperties"] is False


def test_functions_without_hints_or_names_are_refused():
    def untyped(city):  # type: ignore[no-untyped-def]
        return city

    with pytest.raises(TypeError, match="type hint on 'city'"):
        function_tool(untyped)
    with pytest.raises(TypeError, match="named functions"):
        function_tool(lambda: None)


def test_run_tools_runs_the_call_and_returns_the_final_answer(make_client):
    replies = [
        ok(asks_for("get_weather", '{"city": "Paris", "unit": "C"}')),
        ok(chat_completion("It is 21 °C in Paris.")),
    ]
    client, recorder = make_client(replies)
    result = run_tools(client, "Weather in Paris?", tools=[get_weather], system="Be brief.")
    assert result.text == "It is 21 °C in Paris."
    assert result.rounds == 2
    assert recorder.body(0)["tools"] == [function_tool(get_weather)]
    second = recorder.body(1)["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "tool"]
    assert second[2]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert second[3]["tool_call_id"] == "call_1"
    assert json.loads(second[3]["content"]) == {"city": "Paris", "temperature": 21, "unit": "C"}
    assert [m["role"] for m in result.messages][-1] == "assistant"


def test_arguments_that_do_not_validate_are_reported_to_the_model(make_client):
    calls = []

    def add(a: int, b: int) -> int:
        """Add two numbers."""
        calls.append((a, b))
        return a + b

    replies = [ok(asks_for("add", '{"a": "one", "b": 2}')), ok(chat_completion("Sorry."))]
    client, recorder = make_client(replies)
    run_tools(client, "1 + 2?", tools=[add])
    assert calls == []
    tool_message = recorder.body(1)["messages"][-1]
    assert tool_message["content"].startswith("error: invalid arguments")


def test_running_out_of_rounds_raises_with_the_transcript(make_client):
    client, recorder = make_client(ok(asks_for("get_weather", '{"city": "Paris", "unit": "C"}')))
    with pytest.raises(ToolLoopError, match="after 2 round") as info:
        run_tools(client, "Weather?", tools=[get_weather], max_rounds=2)
    assert len(recorder.requests) == 2
    assert [m["role"] for m in info.value.messages] == ["user", "assistant", "tool", "assistant"]


def test_an_async_tool_needs_arun_tools(make_client):
    async def slow(city: str) -> str:
        """Slow."""
        return city

    client, _ = make_client(ok(asks_for("slow", '{"city": "Paris"}')))
    with pytest.raises(TypeError, match="arun_tools"):
        run_tools(client, "hi", tools=[slow])


async def test_arun_tools_awaits_async_tools(make_async_client):
    async def lookup(city: str) -> str:
        """Look a city up."""
        return f"{city}: 2.1M people"

    replies = [ok(asks_for("lookup", '{"city": "Paris"}')), ok(chat_completion("2.1 million."))]
    client, recorder = make_async_client(replies)
    result = await arun_tools(client, "Population of Paris?", tools=[lookup, get_weather])
    assert result.text == "2.1 million."
    assert recorder.body(1)["messages"][-1]["content"] == "Paris: 2.1M people"
    assert len(recorder.body(0)["tools"]) == 2


def test_on_the_emulator_the_loop_calls_the_tool_and_ends_in_text():
    from azure_ai_kit import AzureAIClient

    seen = []

    def weather(city: str) -> str:
        """Weather for a city."""
        seen.append(city)
        return f"sunny in {city}"

    result = run_tools(AzureAIClient.for_emulator(), "Weather in Paris?", tools=[weather])
    assert len(seen) == 1
    assert result.rounds == 2
    assert "sunny" in result.text
