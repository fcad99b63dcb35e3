"""TPM/RPM admission with a fake clock, Azure's 429 body and rate-limit headers."""

from __future__ import annotations

import re

import httpx
import openai
import pytest

from azure_ai_kit.emulator import EmulatedDeployment, Emulator
from azure_ai_kit.testing import FakeClock

from .conftest import KEY, chat_path

SHORT = [{"role": "user", "content": "hi"}]  # 4 + 1 = 5 prompt tokens


@pytest.fixture
def http(limited: Emulator) -> httpx.Client:
    return httpx.Client(transport=limited.transport(), base_url=limited.endpoint)


def post(http: httpx.Client, max_tokens: int = 10) -> httpx.Response:
    return http.post(chat_path(), json={"messages": SHORT, "max_tokens": max_tokens}, headers=KEY)


def test_rpm_per_second_window(http: httpx.Client, clock: FakeClock) -> None:
    ok = [post(http) for _ in range(3)]  # 180 RPM -> 3 per second
    assert [r.status_code for r in ok] == [200, 200, 200]
    remaining = [int(r.headers["x-ratelimit-remaining-requests"]) for r in ok]
    assert remaining == [179, 178, 177]
    denied = post(http)
    assert denied.status_code == 429
    assert denied.headers["retry-after"] == "1"
    assert denied.headers["retry-after-ms"] == "1000"
    message = denied.json()["error"]["message"]
    assert denied.json()["error"]["code"] == "429"
    assert message.startswith(
        "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
        "2024-10-21 have exceeded call rate limit of your current OpenAI S0 pricing tier. "
        "Please retry after 1 second."
    )
    assert denied.headers["x-ms-region"] == "East US 2"
    assert "x-ratelimit-remaining-tokens" in denied.headers
    clock.advance(0.4)
    again = post(http)
    assert again.status_code == 429
    assert again.headers["retry-after-ms"] == "600"
    clock.advance(0.6)
    assert post(http).status_code == 200


def test_rpm_ten_second_window(http: httpx.Client, clock: FakeClock) -> None:
    statuses = []
    for _ in range(40):
        statuses.append(post(http).status_code)
        clock.advance(0.25)  # 4 per second: the 1 s window allows 3, the 10 s window 30
    assert statuses.count(200) <= 30
    assert 429 in statuses
    clock.advance(10)
    assert post(http).status_code == 200


def test_tpm_token_bucket(http: httpx.Client, clock: FakeClock) -> None:
    first = post(http, max_tokens=20_000)
    assert first.status_code == 200
    assert int(first.headers["x-ratelimit-remaining-tokens"]) == 30_000 - 20_005
    clock.advance(1)
    denied = post(http, max_tokens=20_000)
    assert denied.status_code == 429
    error = denied.json()["error"]
    assert "exceeded token rate limit" in error["message"]
    # 500 tokens/s refill: deficit 20,005 - (9,995 + 500) = 9,510 tokens -> 19.02 s
    assert denied.headers["retry-after"] == "20"
    assert denied.headers["retry-after-ms"] == "19020"
    assert re.search(r"Please retry after 20 seconds\.", error["message"])
    clock.advance(19.02)
    assert post(http, max_tokens=20_000).status_code == 200


def test_default_max_tokens_estimate(http: httpx.Client) -> None:
    r = http.post(chat_path(), json={"messages": SHORT}, headers=KEY)
    assert int(r.headers["x-ratelimit-remaining-tokens"]) == 30_000 - 5 - 16


def test_rate_limit_error_through_openai(limited: Emulator) -> None:
    with httpx.Client(transport=limited.transport()) as http_client:
        client = openai.AzureOpenAI(
            azure_endpoint=limited.endpoint,
            api_key="emulator-key",
            api_version="2024-10-21",
            http_client=http_client,
            max_retries=0,
        )
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o-mini", messages=SHORT)
        with pytest.raises(openai.RateLimitError) as info:
            client.chat.completions.create(model="gpt-4o-mini", messages=SHORT)
    assert info.value.response.headers["retry-after"] == "1"
    assert isinstance(info.value.body, dict)
    assert info.value.body["code"] == "429"


def test_limits_are_per_deployment(clock: FakeClock) -> None:
    a = EmulatedDeployment("a", rpm=60)
    b = EmulatedDeployment("b", rpm=60)
    emu = Emulator([a, b], clock=clock)
    with httpx.Client(transport=emu.transport(), base_url=emu.endpoint) as http:
        assert http.post(chat_path("a"), json={"messages": SHORT}, headers=KEY).status_code == 200
        assert http.post(chat_path("a"), json={"messages": SHORT}, headers=KEY).status_code == 429
        assert http.post(chat_path("b"), json={"messages": SHORT}, headers=KEY).status_code == 200
        emu.reset()
        assert http.post(chat_path("a"), json={"messages": SHORT}, headers=KEY).status_code == 200


def test_embeddings_and_images_operation_names(clock: FakeClock) -> None:
    emb = EmulatedDeployment("e", kind="embedding", rpm=6)
    img = EmulatedDeployment("i", kind="image", model="dall-e-3", rpm=6)
    emu = Emulator([emb, img], clock=clock)
    with httpx.Client(transport=emu.transport(), base_url=emu.endpoint) as http:
        for name, route, body, op in [
            ("e", "embeddings", {"input": "x"}, "Embeddings_Create"),
            (
                "i",
                "images/generations",
                {"prompt": "x", "response_format": "b64_json"},
                "ImageGenerations_Create",
            ),
        ]:
            url = f"/openai/deployments/{name}/{route}?api-version=2024-10-21"
            assert http.post(url, json=body, headers=KEY).status_code == 200
            denied = http.post(url, json=body, headers=KEY)
            assert denied.status_code == 429
            assert f"Requests to the {op} Operation" in denied.json()["error"]["message"]
