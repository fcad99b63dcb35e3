"""Scripted replies: a test stubs the model's answer, the way respx stubs HTTP."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from azure_ai_kit.emulator import Emulator, ToolCall

from .conftest import USER


def ask(client: openai.AzureOpenAI, model: str = "gpt-4o-mini", **kwargs: Any) -> Any:
    return client.chat.completions.create(model=model, messages=USER, **kwargs)


def test_text_reply_by_alias_then_back_to_synthetic(
    emu: Emulator, client: openai.AzureOpenAI
) -> None:
    queued = emu.reply("chat", "```python\nprint('fixed')\n```")
    assert ask(client).choices[0].message.content == "```python\nprint('fixed')\n```"
    assert queued.used == 1
    assert ask(client).choices[0].message.content.startswith("[emulated gpt-4o-mini]")


def test_replies_queue_in_order_and_times_counts(emu: Emulator, client: openai.AzureOpenAI) -> None:
    emu.reply("gpt-4o-mini", "first", times=2)
    emu.reply("gpt-4o-mini", "second")
    texts = [ask(client).choices[0].message.content for _ in range(4)]
    assert texts[:3] == ["first", "first", "second"]
    assert texts[3].startswith("[emulated")


def test_reply_only_answers_its_deployment(emu: Emulator, client: openai.AzureOpenAI) -> None:
    emu.reply("code", "from gpt-4.1")
    assert ask(client).choices[0].message.content.startswith("[emulated gpt-4o-mini]")
    assert ask(client, "gpt-4.1").choices[0].message.content == "from gpt-4.1"


def test_tool_call_reply(emu: Emulator, client: openai.AzureOpenAI) -> None:
    emu.reply("chat", ToolCall("get_weather", {"city": "Paris"}))
    choice = ask(client).choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}


def test_json_object_reply(emu: Emulator, client: openai.AzureOpenAI) -> None:
    emu.reply("chat", {"verdict": "ok", "issues": []})
    text = ask(client).choices[0].message.content
    assert json.loads(text) == {"verdict": "ok", "issues": []}


def test_callable_reply_sees_the_request(emu: Emulator, client: openai.AzureOpenAI) -> None:
    seen: list[dict[str, Any]] = []

    def answer(body: dict[str, Any]) -> str:
        seen.append(body)
        return "you said: " + body["messages"][-1]["content"]

    emu.reply("chat", answer)
    assert ask(client).choices[0].message.content == "you said: " + USER[0]["content"]
    assert seen[0]["model"] == "gpt-4o-mini"


def test_streams_stream_the_scripted_text(emu: Emulator, client: openai.AzureOpenAI) -> None:
    text = "The scripted answer arrives in several pieces."
    emu.reply("chat", text)
    deltas = [
        c.choices[0].delta.content
        for c in ask(client, stream=True)
        if c.choices and c.choices[0].delta.content
    ]
    assert len(deltas) > 3
    assert "".join(deltas) == text


def test_a_refused_request_leaves_the_reply_queued(
    emu: Emulator, client: openai.AzureOpenAI
) -> None:
    emu.reply("reasoning", "thought it through")
    with pytest.raises(openai.BadRequestError):
        ask(client, "o4-mini", max_tokens=10)
    assert ask(client, "o4-mini").choices[0].message.content == "thought it through"


def test_replying_lasts_for_the_block(emu: Emulator, client: openai.AzureOpenAI) -> None:
    with emu.replying("chat", "stubbed") as queued:
        assert [ask(client).choices[0].message.content for _ in range(3)] == ["stubbed"] * 3
    assert queued.used == 3
    assert ask(client).choices[0].message.content.startswith("[emulated")


def test_clear_replies_and_reset(emu: Emulator, client: openai.AzureOpenAI) -> None:
    emu.reply("chat", "a", times=None)
    emu.clear_replies()
    assert ask(client).choices[0].message.content.startswith("[emulated")
    emu.reply("chat", "b", times=None)
    emu.reset()
    assert ask(client).choices[0].message.content.startswith("[emulated")


def test_unknown_target_lists_what_exists(emu: Emulator) -> None:
    with pytest.raises(ValueError, match=r"unknown deployment or alias .chta.; known: .*chat"):
        emu.reply("chta", "x")


@pytest.mark.parametrize("times", [0, -2, True])
def test_times_must_be_positive(emu: Emulator, times: int) -> None:
    with pytest.raises(ValueError, match="times must be a positive count"):
        emu.reply("chat", "x", times=times)
