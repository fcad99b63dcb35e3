"""Structured outputs from pydantic models: the strict schema sent, `parsed` back, refusals,
cut and invalid replies, streams — for chat and the Responses API, on both twins."""

from __future__ import annotations

import json

import pytest
from azure_wire import chat_completion, content_chunk, ok, sse_response, stream_chunks
from pydantic import BaseModel
from responses_wire import events, message, output_text, refusal, response, sse

from azure_ai_kit import StructuredOutputError
from azure_ai_kit._structured import _strict, strict_schema


class Address(BaseModel):
    street: str
    zip: str | None = None


class City(BaseModel):
    name: str
    population: int
    address: Address


CITY = {"name": "Paris", "population": 2_100_000, "address": {"street": "Rue", "zip": None}}


def refused_completion() -> dict:
    body = chat_completion()
    body["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "refusal": "I can't help.",
    }
    return body


# --- the schema ---------------------------------------------------------------------------
def test_the_strict_schema_closes_every_object_and_requires_every_property():
    schema = strict_schema(City)
    assert schema["additionalProperties"] is False
    assert schema["required"] == ["name", "population", "address"]
    nested = schema["$defs"]["Address"]
    assert nested["additionalProperties"] is False
    assert nested["required"] == ["street", "zip"]  # a default does not make it optional
    assert "default" not in nested["properties"]["zip"]


def test_the_fallback_transform_gives_what_openai_gives_on_the_keys_azure_checks():
    ours = _strict(City.model_json_schema())
    theirs = strict_schema(City)
    for a, b in ((ours, theirs), (ours["$defs"]["Address"], theirs["$defs"]["Address"])):
        assert (a["additionalProperties"], a["required"]) == (
            b["additionalProperties"],
            b["required"],
        )
        assert set(a["properties"]) == set(b["properties"])


# --- chat ---------------------------------------------------------------------------------
def test_chat_sends_the_strict_schema_and_parses_the_reply(make_client):
    client, recorder = make_client(ok(chat_completion(json.dumps(CITY))))
    result = client.chat("Describe Paris.", response_format=City)
    sent = recorder.body()["response_format"]
    assert sent["type"] == "json_schema"
    assert sent["json_schema"]["name"] == "City"
    assert sent["json_schema"]["strict"] is True
    assert sent["json_schema"]["schema"] == strict_schema(City)
    assert isinstance(result.parsed, City)
    assert result.parsed.address.street == "Rue"
    assert result.refusal is None


async def test_async_chat_parses_the_reply(make_async_client):
    client, _ = make_async_client(ok(chat_completion(json.dumps(CITY))))
    result = await client.chat("Describe Paris.", response_format=City)
    assert result.parsed == City.model_validate(CITY)


def test_a_plain_dict_response_format_passes_through_unparsed(make_client):
    client, recorder = make_client(ok(chat_completion('{"a": 1}')))
    result = client.chat("hi", response_format={"type": "json_object"})
    assert recorder.body()["response_format"] == {"type": "json_object"}
    assert result.parsed is None


def test_a_chat_refusal_sets_refusal_and_no_parsed(make_client):
    client, _ = make_client(ok(refused_completion()))
    result = client.chat("Something bad.", response_format=City)
    assert result.refusal == "I can't help."
    assert result.parsed is None


def test_a_structured_chat_reply_cut_by_length_raises_with_the_raw_text(make_client):
    cut = '{"name": "Paris", "popul'
    client, _ = make_client(ok(chat_completion(cut, finish_reason="length")))
    with pytest.raises(StructuredOutputError) as info:
        client.chat("Describe Paris.", response_format=City, max_tokens=5)
    assert (info.value.reason, info.value.text) == ("length", cut)
    assert info.value.request_id == "apim-0001"
    assert "max_tokens" in str(info.value)


async def test_async_an_invalid_structured_reply_raises_with_the_raw_text(make_async_client):
    client, _ = make_async_client(ok(chat_completion('{"name": "Paris"}')))
    with pytest.raises(StructuredOutputError) as info:
        await client.chat("Describe Paris.", response_format=City)
    assert (info.value.reason, info.value.text) == ("invalid", '{"name": "Paris"}')
    assert info.value.validation_error is not None
    assert "population" in str(info.value)


def test_not_json_at_all_raises_invalid(make_client):
    client, _ = make_client(ok(chat_completion("Paris is nice.")))
    with pytest.raises(StructuredOutputError, match="not a valid City") as info:
        client.chat("Describe Paris.", response_format=City)
    assert info.value.text == "Paris is nice."


def test_a_structured_chat_stream_parses_at_the_end(make_client):
    text = json.dumps(CITY)
    chunks = [content_chunk(text[:10], role="assistant"), content_chunk(text[10:])]
    chunks.append(content_chunk(None, finish_reason="stop"))
    client, recorder = make_client(sse_response(chunks))
    with client.stream_chat("Describe Paris.", response_format=City) as stream:
        assert stream.text() == text
    assert recorder.body()["response_format"]["type"] == "json_schema"
    assert stream.result.parsed == City.model_validate(CITY)


async def test_async_a_structured_chat_stream_refusal(make_async_client):
    chunks = stream_chunks(usage=False)
    chunks[2] = content_chunk(None)
    chunks[2]["choices"][0]["delta"]["refusal"] = "I can't "
    chunks[3] = content_chunk(None)
    chunks[3]["choices"][0]["delta"]["refusal"] = "help."
    client, _ = make_async_client(sse_response(chunks))
    async with client.stream_chat("Bad.", response_format=City) as stream:
        await stream.text()
    assert stream.result.refusal == "I can't help."
    assert stream.result.parsed is None


# --- responses ----------------------------------------------------------------------------
def test_respond_sends_text_format_and_parses_the_reply(make_client):
    client, recorder = make_client(ok(response(json.dumps(CITY))), api_version=None)
    result = client.respond("Describe Paris.", text_format=City, text={"verbosity": "low"})
    text = recorder.body()["text"]
    assert text["verbosity"] == "low"
    assert text["format"] == {
        "type": "json_schema",
        "name": "City",
        "schema": strict_schema(City),
        "strict": True,
    }
    assert result.parsed == City.model_validate(CITY)


async def test_async_respond_refusal_sets_refusal_and_no_parsed(make_async_client):
    body = response(output=[message(refusal("I can't help."))])
    client, _ = make_async_client(ok(body), api_version=None)
    result = await client.respond("Bad.", text_format=City)
    assert (result.refusal, result.parsed, result.text) == ("I can't help.", None, "")


def test_respond_cut_by_max_output_tokens_raises_with_the_raw_text(make_client):
    body = response('{"name": "Pa', status="incomplete", incomplete="max_output_tokens")
    client, _ = make_client(ok(body), api_version=None)
    with pytest.raises(StructuredOutputError) as info:
        client.respond("Describe Paris.", text_format=City, max_output_tokens=4)
    assert (info.value.reason, info.value.text) == ("length", '{"name": "Pa')


async def test_async_respond_invalid_json_raises(make_async_client):
    body = response(output=[message(output_text("{not json"))])
    client, _ = make_async_client(ok(body), api_version=None)
    with pytest.raises(StructuredOutputError) as info:
        await client.respond("Describe Paris.", text_format=City)
    assert info.value.reason == "invalid"


def test_a_structured_response_stream_parses_at_the_end(make_client):
    text = json.dumps(CITY)
    client, _ = make_client(sse(events([text[:7], text[7:]])), api_version=None)
    with client.stream_respond("Describe Paris.", text_format=City) as stream:
        stream.text()
    assert stream.result.parsed == City.model_validate(CITY)


def test_text_format_must_be_a_pydantic_model(make_client):
    client, recorder = make_client(ok(response()), api_version=None)
    with pytest.raises(TypeError, match="pydantic BaseModel subclass"):
        client.respond("hi", text_format={"type": "json_schema"})
    assert recorder.requests == []


def test_on_the_emulator_both_apis_answer_with_a_valid_instance():
    from azure_ai_kit import AzureAIClient

    client = AzureAIClient.for_emulator()
    assert isinstance(client.chat("Describe Paris.", response_format=City).parsed, City)
    assert isinstance(client.respond("Describe Paris.", text_format=City).parsed, City)
    with client.stream_respond("Describe Paris.", text_format=City) as stream:
        stream.text()
    assert isinstance(stream.result.parsed, City)
