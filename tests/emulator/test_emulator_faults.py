"""Scripted faults of every kind, on both transports."""

from __future__ import annotations

import json

import httpx
import openai
import pytest

from azure_ai_kit.emulator import Emulator, Fault
from azure_ai_kit.testing import FakeClock

from .conftest import KEY, USER, chat_path


def test_throttle_fault(client: openai.AzureOpenAI, emu: Emulator) -> None:
    emu.script("gpt-4o-mini", Fault.throttle(retry_after=6), times=2)
    for _ in range(2):
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(model="gpt-4o-mini", messages=USER)
        assert info.value.response.headers["retry-after"] == "6"
        assert info.value.response.headers["retry-after-ms"] == "6000"
        assert isinstance(info.value.body, dict)
        assert "Please retry after 6 seconds" in info.value.body["message"]
    client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert [r.status for r in emu.requests] == [429, 429, 200]
    assert emu.requests[0].fault == "status:429"


def test_faults_are_per_deployment_and_in_order(http: httpx.Client, emu: Emulator) -> None:
    emu.script("gpt-4o-mini", Fault.server_error())
    emu.script("gpt-4o-mini", Fault(status=403))
    emu.script("gpt-4o-mini", Fault(status=418, headers={"x-custom": "1"}, body="teapot"))
    assert http.post(chat_path("gpt-4.1"), json={"messages": USER}, headers=KEY).status_code == 200
    first = http.post(chat_path(), json={"messages": USER}, headers=KEY)
    assert first.status_code == 500
    assert first.json()["error"]["type"] == "server_error"
    assert first.json()["error"]["code"] is None
    second = http.post(chat_path(), json={"messages": USER}, headers=KEY)
    assert second.status_code == 403
    assert second.json()["error"]["code"] == "Forbidden"
    third = http.post(chat_path(), json={"messages": USER}, headers=KEY)
    assert (third.status_code, third.text, third.headers["x-custom"]) == (418, "teapot", "1")
    assert http.post(chat_path(), json={"messages": USER}, headers=KEY).status_code == 200


def test_server_error_through_openai(client: openai.AzureOpenAI, emu: Emulator) -> None:
    emu.script("gpt-4o-mini", Fault.server_error())
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)


def test_drop_raises_remote_protocol_error(http: httpx.Client, emu: Emulator) -> None:
    emu.script("gpt-4o-mini", Fault.drop())
    with pytest.raises(httpx.RemoteProtocolError):
        http.post(chat_path(), json={"messages": USER}, headers=KEY)
    assert http.post(chat_path(), json={"messages": USER}, headers=KEY).status_code == 200


def test_drop_through_openai_is_connection_error(client: openai.AzureOpenAI, emu: Emulator) -> None:
    emu.script("gpt-4o-mini", Fault.drop())
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)


async def test_drop_async(emu: Emulator) -> None:
    emu.script("gpt-4o-mini", Fault.drop())
    async with httpx.AsyncClient(transport=emu.async_transport(), base_url=emu.endpoint) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            await http.post(chat_path(), json={"messages": USER}, headers=KEY)


def test_truncated_stream_has_no_done(http: httpx.Client, emu: Emulator) -> None:
    emu.script("gpt-4o-mini", Fault.truncate())
    body = {
        "messages": [{"role": "user", "content": "one two three four five six seven eight"}],
        "stream": True,
    }
    with http.stream("POST", chat_path(), json=body, headers=KEY) as r:
        raw = r.read().decode()
    assert r.status_code == 200
    assert raw.startswith("data: ")
    assert "[DONE]" not in raw
    assert '"finish_reason":"stop"' not in raw


def test_truncated_non_stream_body_is_invalid_json(http: httpx.Client, emu: Emulator) -> None:
    emu.script("gpt-4o-mini", Fault.truncate())
    r = http.post(chat_path(), json={"messages": USER}, headers=KEY)
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)


def test_malformed_json(client: openai.AzureOpenAI, emu: Emulator) -> None:
    emu.script("gpt-4o-mini", Fault.malformed())
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=USER)
    assert raw.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw.content)


def test_delay_uses_injected_sleep(http: httpx.Client, emu: Emulator, clock: FakeClock) -> None:
    emu.script("gpt-4o-mini", Fault.server_error(delay=2.5))
    emu.script("gpt-4o-mini", Fault.slow(1.5))
    assert http.post(chat_path(), json={"messages": USER}, headers=KEY).status_code == 500
    assert http.post(chat_path(), json={"messages": USER}, headers=KEY).status_code == 200
    assert clock.slept == [2.5, 1.5]


async def test_async_delay_uses_injected_async_sleep(emu: Emulator, clock: FakeClock) -> None:
    emu.script("gpt-4o-mini", Fault.throttle(retry_after=3, delay=0.75))
    async with httpx.AsyncClient(transport=emu.async_transport(), base_url=emu.endpoint) as http:
        r = await http.post(chat_path(), json={"messages": USER}, headers=KEY)
    assert r.status_code == 429
    assert clock.slept == [0.75]


def test_reset_clears_faults(http: httpx.Client, emu: Emulator) -> None:
    emu.script("gpt-4o-mini", Fault.server_error(), times=5)
    emu.reset()
    assert http.post(chat_path(), json={"messages": USER}, headers=KEY).status_code == 200


def test_fault_responses_carry_rate_limit_headers(http: httpx.Client, emu: Emulator) -> None:
    emu.script("gpt-4o-mini", Fault.server_error())
    r = http.post(chat_path(), json={"messages": USER}, headers=KEY)
    assert r.status_code == 500
    assert r.headers["x-ratelimit-remaining-requests"] == "6000"
    assert r.headers["x-ms-region"] == "East US 2"
    assert r.headers["x-request-id"]


def test_faults_work_for_unknown_deployments_too(http: httpx.Client, emu: Emulator) -> None:
    emu.script("future", Fault.server_error(status=503))
    assert http.post(chat_path("future"), json={"messages": USER}, headers=KEY).status_code == 503
    assert http.post(chat_path("future"), json={"messages": USER}, headers=KEY).status_code == 404
