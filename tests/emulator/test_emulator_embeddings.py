"""Embeddings: deterministic unit vectors, dimensions, encodings and usage."""

from __future__ import annotations

import base64
import math
import struct

import httpx
import openai
import pytest

from azure_ai_kit.emulator import EmulatedDeployment, Emulator
from azure_ai_kit.testing import FakeClock

from .conftest import KEY

PATH = "/openai/deployments/text-embedding-3-small/embeddings?api-version=2024-10-21"


def norm(vector: list[float]) -> float:
    return math.sqrt(sum(v * v for v in vector))


def test_unit_vectors_deterministic(client: openai.AzureOpenAI) -> None:
    r = client.embeddings.create(model="text-embedding-3-small", input=["fox", "cat", "fox"])
    vectors = [d.embedding for d in r.data]
    assert all(len(v) == 1536 for v in vectors)
    assert all(norm(v) == pytest.approx(1.0, abs=1e-5) for v in vectors)
    assert vectors[0] == vectors[2]
    assert vectors[0] != vectors[1]
    assert r.usage.prompt_tokens == r.usage.total_tokens == 3
    assert r.model == "text-embedding-3-small"


@pytest.mark.parametrize("dims", [1, 256, 1536])
def test_dimensions(client: openai.AzureOpenAI, dims: int) -> None:
    r = client.embeddings.create(model="text-embedding-3-small", input="fox", dimensions=dims)
    assert len(r.data[0].embedding) == dims
    assert norm(r.data[0].embedding) == pytest.approx(1.0, abs=1e-5)


def test_float_and_base64_agree(http: httpx.Client) -> None:
    floats = http.post(PATH, json={"input": "fox", "encoding_format": "float"}, headers=KEY).json()
    encoded = http.post(
        PATH, json={"input": "fox", "encoding_format": "base64"}, headers=KEY
    ).json()
    raw = base64.b64decode(encoded["data"][0]["embedding"])
    decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert decoded == pytest.approx(floats["data"][0]["embedding"], abs=1e-6)
    assert floats["object"] == "list"
    assert floats["data"][0]["object"] == "embedding"


def test_large_model_has_3072_dimensions(clock: FakeClock) -> None:
    deployment = EmulatedDeployment("big", kind="embedding", model="text-embedding-3-large")
    emu = Emulator([deployment], clock=clock)
    with httpx.Client(transport=emu.transport(), base_url=emu.endpoint) as http:
        r = http.post(
            "/openai/deployments/big/embeddings?api-version=2024-10-21",
            json={"input": "x"},
            headers=KEY,
        )
        assert len(r.json()["data"][0]["embedding"]) == 3072


def test_token_input(http: httpx.Client) -> None:
    r = http.post(PATH, json={"input": [1, 2, 3]}, headers=KEY).json()
    assert r["usage"]["prompt_tokens"] == 3


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "input"),
        ({"input": ""}, "input"),
        ({"input": "x", "dimensions": 4000}, "dimensions"),
        ({"input": "x", "encoding_format": "hex"}, "encoding_format"),
    ],
)
def test_invalid_requests(http: httpx.Client, body: dict[str, object], param: str) -> None:
    r = http.post(PATH, json=body, headers=KEY)
    assert r.status_code == 400
    assert r.json()["error"]["param"] == param
