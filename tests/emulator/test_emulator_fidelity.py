"""Today's Azure through plain openai: versions, reasoning models, n>1, usage details."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from azure_ai_kit.emulator import Emulator

from .conftest import KEY, USER, chat_path, classic


@pytest.fixture
def old(emu: Emulator) -> Iterator[openai.AzureOpenAI]:
    """2024-06-01: the last GA before `stream_options` and `max_completion_tokens`."""
    with classic(emu, "2024-06-01") as c:
        yield c


MAX_TOKENS_REFUSED = {
    "message": "Unsupported parameter: 'max_tokens' is not supported with this model. "
    "Use 'max_completion_tokens' instead.",
    "type": "invalid_request_error",
    "param": "max_tokens",
    "code": "unsupported_parameter",
}


@pytest.mark.parametrize("param", ["stream_options", "max_completion_tokens"])
def test_features_before_their_version_are_unknown_parameters(
    old: openai.AzureOpenAI, param: str
) -> None:
    extra: dict[str, Any] = {
        "stream_options": {"stream": True, "stream_options": {"include_usage": True}},
        "max_completion_tokens": {"max_completion_tokens": 50},
    }[param]
    with pytest.raises(openai.BadRequestError) as info:
        old.chat.completions.create(model="gpt-4o-mini", messages=USER, **extra)  # type: ignore[arg-type]
    assert info.value.body == {
        "message": f"Unknown parameter: '{param}'.",
        "type": "invalid_request_error",
        "param": param,
        "code": "unknown_parameter",
    }


def test_ga_2024_10_21_streams_usage(client: openai.AzureOpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=USER,  # type: ignore[arg-type]
            stream=True,
            stream_options={"include_usage": True},
            max_completion_tokens=200,
        )
    )
    last = chunks[-1]
    assert last.choices == []
    assert last.usage is not None
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    assert last.usage.completion_tokens > 0
    assert all(c.usage is None for c in chunks[:-1])


def test_reasoning_model_refuses_max_tokens(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="o4-mini", messages=USER, max_tokens=100)  # type: ignore[arg-type]
    assert info.value.body == MAX_TOKENS_REFUSED


@pytest.mark.parametrize(("param", "value"), [("temperature", 0.2), ("top_p", 0.5)])
def test_reasoning_model_refuses_sampling_settings(
    client: openai.AzureOpenAI, param: str, value: float
) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model="o4-mini", messages=USER, **{param: value})  # type: ignore[call-overload]
    body = info.value.body
    assert isinstance(body, dict)
    assert (body["code"], body["param"]) == ("unsupported_value", param)
    assert "Only the default (1) value is supported" in body["message"]


def test_reasoning_model_answers_with_reasoning_tokens(client: openai.AzureOpenAI) -> None:
    r = client.chat.completions.create(
        model="o4-mini",
        messages=USER,  # type: ignore[arg-type]
        max_completion_tokens=2000,
        reasoning_effort="high",
        temperature=1,
    )
    assert r.model == "o4-mini-2025-04-16"
    assert r.choices[0].message.content
    assert r.usage is not None
    details = r.usage.completion_tokens_details
    assert details is not None
    assert details.reasoning_tokens == 448
    low = client.chat.completions.create(
        model="o4-mini",
        messages=USER,  # type: ignore[arg-type]
        reasoning_effort="low",
    )
    assert low.usage is not None
    assert low.usage.completion_tokens_details is not None
    assert low.usage.completion_tokens_details.reasoning_tokens == 64
    # max_completion_tokens counts the reasoning too.
    assert r.usage.completion_tokens > details.reasoning_tokens


def test_reasoning_budget_spent_on_thinking_leaves_no_text(client: openai.AzureOpenAI) -> None:
    r = client.chat.completions.create(
        model="o4-mini",
        messages=USER,  # type: ignore[arg-type]
        max_completion_tokens=100,
    )
    assert r.choices[0].finish_reason == "length"
    assert r.choices[0].message.content == ""


def test_reasoning_effort_on_a_chat_model_is_refused(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=USER,  # type: ignore[arg-type]
            reasoning_effort="low",
        )
    assert isinstance(info.value.body, dict)
    assert info.value.body["code"] == "unsupported_parameter"


def test_usage_details_on_every_chat_answer(client: openai.AzureOpenAI) -> None:
    r = client.chat.completions.create(model="gpt-4o-mini", messages=USER)  # type: ignore[arg-type]
    assert r.usage is not None
    assert r.usage.prompt_tokens_details is not None
    assert r.usage.prompt_tokens_details.cached_tokens == 0
    assert r.usage.completion_tokens_details is not None
    assert r.usage.completion_tokens_details.reasoning_tokens == 0


def test_a_repeated_long_prompt_is_cached_in_steps_of_128(client: openai.AzureOpenAI) -> None:
    system = {"role": "system", "content": "Context sentence number one. " * 200}
    first = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[system, {"role": "user", "content": "First question?"}],
    )
    second = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[system, {"role": "user", "content": "Second question?"}],
    )
    assert first.usage is not None
    assert first.usage.prompt_tokens_details is not None
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    assert second.usage is not None
    assert second.usage.prompt_tokens_details is not None
    cached = second.usage.prompt_tokens_details.cached_tokens
    assert cached is not None
    assert 1024 <= cached <= second.usage.prompt_tokens
    assert cached % 128 == 0


def test_n_choices_keyed_by_index(client: openai.AzureOpenAI) -> None:
    r = client.chat.completions.create(model="gpt-4o-mini", messages=USER, n=3)  # type: ignore[arg-type]
    assert [c.index for c in r.choices] == [0, 1, 2]
    texts = [c.message.content for c in r.choices]
    assert len(set(texts)) == 3


def test_n_choices_streamed_interleave(client: openai.AzureOpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=USER,  # type: ignore[arg-type]
        n=2,
        stream=True,
        stream_options={"include_usage": True},
    )
    order: list[int] = []
    texts: dict[int, str] = {0: "", 1: ""}
    for chunk in stream:
        for choice in chunk.choices:
            order.append(choice.index)
            texts[choice.index] += choice.delta.content or ""
    whole = client.chat.completions.create(model="gpt-4o-mini", messages=USER, n=2)  # type: ignore[arg-type]
    assert texts == {c.index: c.message.content for c in whole.choices}
    # The two choices alternate instead of arriving one after the other.
    assert order[:4] == [0, 1, 0, 1]


def test_v1_routes_need_no_api_version(v1: openai.OpenAI) -> None:
    r = v1.chat.completions.create(model="o4-mini", messages=USER)  # type: ignore[arg-type]
    assert r.model == "o4-mini-2025-04-16"
    emb = v1.embeddings.create(model="text-embedding-3-small", input="hi")
    assert len(emb.data[0].embedding) == 1536


def test_raw_usage_chunk_shape(http: httpx.Client) -> None:
    body = {"messages": USER, "stream": True, "stream_options": {"include_usage": True}}
    r = http.post(chat_path(), json=body, headers=KEY)
    events = [line[6:] for line in r.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    usage_chunk = json.loads(events[-2])
    assert usage_chunk["choices"] == []
    assert set(usage_chunk["usage"]) >= {"prompt_tokens_details", "completion_tokens_details"}
