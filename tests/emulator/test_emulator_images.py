"""Image generation: model rules, Azure's 400 bodies and real (tiny) PNG/JPEG bytes."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import Any

import httpx
import openai
import pytest

from azure_ai_kit.emulator import Emulator

from .conftest import KEY


def path(deployment: str, version: str = "2025-04-01-preview") -> str:
    return f"/openai/deployments/{deployment}/images/generations?api-version={version}"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, tag = struct.unpack(">I4s", data[8:16])
    assert tag == b"IHDR"
    assert length == 13
    width, height = struct.unpack(">II", data[16:24])
    assert zlib.crc32(data[12:29]) == struct.unpack(">I", data[29:33])[0]
    return width, height


def png_pixels(data: bytes) -> bytes:
    chunks, offset = [], 8
    while offset < len(data):
        length, tag = struct.unpack(">I4s", data[offset : offset + 8])
        if tag == b"IDAT":
            chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    return zlib.decompress(b"".join(chunks))


@pytest.mark.parametrize(
    ("size", "dims"), [("1024x1024", (64, 64)), ("1792x1024", (112, 64)), ("1024x1792", (64, 112))]
)
def test_dalle3_png_b64(client: openai.AzureOpenAI, size: str, dims: tuple[int, int]) -> None:
    r = client.images.generate(
        model="dall-e-3", prompt="a fox", size=size, response_format="b64_json"
    )
    assert r.data
    item = r.data[0]
    data = base64.b64decode(item.b64_json or "")
    assert png_size(data) == dims
    assert len(png_pixels(data)) == dims[1] * (1 + 3 * dims[0])
    assert item.revised_prompt
    assert "a fox" in item.revised_prompt


def test_images_are_deterministic_and_prompt_dependent(client: openai.AzureOpenAI) -> None:
    def image(prompt: str) -> bytes:
        r = client.images.generate(model="dall-e-3", prompt=prompt, response_format="b64_json")
        assert r.data
        return base64.b64decode(r.data[0].b64_json or "")

    assert image("a fox") == image("a fox")
    assert image("a fox") != image("a cat")


def test_url_is_served_by_the_emulator(
    client: openai.AzureOpenAI, http: httpx.Client, emu: Emulator
) -> None:
    r = client.images.generate(
        model="dall-e-3", prompt="a lighthouse", quality="hd", style="natural"
    )
    assert r.data
    url = r.data[0].url or ""
    assert url.startswith(emu.endpoint + "/emulator/images/")
    assert "se=" in url
    fetched = http.get(url)
    assert fetched.status_code == 200
    assert fetched.headers["content-type"] == "image/png"
    assert png_size(fetched.content) == (64, 64)
    assert http.get(emu.endpoint + "/emulator/images/0123abcd.png").status_code == 404


def test_annotations(http: httpx.Client) -> None:
    data = http.post(path("dall-e-3"), json={"prompt": "a fox"}, headers=KEY).json()
    item = data["data"][0]
    assert isinstance(data["created"], int)
    assert isinstance(item["prompt_filter_results"], dict)
    assert item["prompt_filter_results"]["jailbreak"] == {"filtered": False, "detected": False}
    assert item["content_filter_results"]["violence"] == {"filtered": False, "severity": "safe"}


def test_gpt_image_1_jpeg_and_n(preview: openai.AzureOpenAI) -> None:
    r = preview.images.generate(
        model="gpt-image-1",
        prompt="a fox",
        n=3,
        size="1536x1024",
        quality="low",
        output_format="jpeg",
        output_compression=50,
    )
    assert r.data
    assert len(r.data) == 3
    for item in r.data:
        assert item.url is None
        assert item.revised_prompt is None
        data = base64.b64decode(item.b64_json or "")
        assert data[:2] == b"\xff\xd8"
        assert data[-2:] == b"\xff\xd9"
        sof = data.index(b"\xff\xc0")
        height, width = struct.unpack(">HH", data[sof + 5 : sof + 9])
        assert (width, height) == (96, 64)
    assert r.usage is not None
    assert r.usage.output_tokens == 3 * 272


def test_gpt_image_1_default_png(preview: openai.AzureOpenAI) -> None:
    r = preview.images.generate(model="gpt-image-1", prompt="a fox", size="1024x1536")
    assert r.data
    assert png_size(base64.b64decode(r.data[0].b64_json or "")) == (64, 96)
    assert r.quality == "high"  # Azure's default for gpt-image-1
    assert r.usage is not None
    assert r.usage.output_tokens == 4160


@pytest.mark.parametrize("quality", ["low", "medium", "high"])
def test_gpt_image_1_qualities(preview: openai.AzureOpenAI, quality: str) -> None:
    r = preview.images.generate(model="gpt-image-1", prompt="a fox", quality=quality)  # type: ignore[arg-type]
    assert r.quality == quality


def test_gpt_image_1_before_its_first_version_is_400(client: openai.AzureOpenAI) -> None:
    """On 2024-10-21 (the `client` fixture) gpt-image-1 is not served."""
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(model="gpt-image-1", prompt="a fox")
    assert info.value.body == {
        "code": "BadRequest",
        "message": "Model gpt-image-1 is enabled only for api versions 2025-04-01-preview "
        "and later",
    }


def test_filtered_dall_e_3_prompt_has_inner_error(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(model="dall-e-3", prompt="a forbidden-word fox")
    body = info.value.body
    assert isinstance(body, dict)
    assert body["code"] == "content_policy_violation"
    assert body["type"] == "invalid_request_error"
    inner = body["inner_error"]
    assert inner["code"] == "ResponsibleAIPolicyViolation"
    assert inner["content_filter_results"]["violence"] == {"filtered": True, "severity": "high"}
    assert inner["revised_prompt"] == "a forbidden-word fox"


INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("dall-e-3", {"n": 2}, "n", "invalid_request_error"),
    ("dall-e-3", {"size": "512x512"}, "size", "invalid_size"),
    ("dall-e-3", {"size": "1024x1536"}, "size", "invalid_size"),
    ("dall-e-3", {"quality": "low"}, "quality", "invalid_request_error"),
    ("dall-e-3", {"style": "cartoon"}, "style", "invalid_request_error"),
    ("dall-e-3", {"response_format": "png"}, "response_format", "invalid_request_error"),
    ("dall-e-3", {"prompt": "x" * 4001}, "prompt", "invalid_request_error"),
    ("dall-e-3", {"prompt": ""}, "prompt", "invalid_request_error"),
    ("gpt-image-1", {"n": 11}, "n", "invalid_request_error"),
    ("gpt-image-1", {"size": "1792x1024"}, "size", "invalid_size"),
    ("gpt-image-1", {"quality": "hd"}, "quality", "invalid_request_error"),
    ("gpt-image-1", {"output_format": "webp"}, "output_format", "invalid_request_error"),
    ("gpt-image-1", {"output_compression": 101}, "output_compression", "invalid_request_error"),
    ("gpt-image-1", {"response_format": "url"}, "response_format", "invalid_request_error"),
]


@pytest.mark.parametrize(("deployment", "extra", "param", "code"), INVALID)
def test_invalid_combinations(
    http: httpx.Client, deployment: str, extra: dict[str, Any], param: str, code: str
) -> None:
    r = http.post(path(deployment), json={"prompt": "a fox", **extra}, headers=KEY)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["param"] == param
    assert error["code"] == code
    assert error["type"] == "invalid_request_error"
    if param in ("size", "quality", "style", "output_format"):
        assert "Allowed" in error["message"]


def test_invalid_size_lists_allowed_values(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        client.images.generate(model="dall-e-3", prompt="a fox", size="256x256")
    body = info.value.body
    assert isinstance(body, dict)
    assert body["code"] == "invalid_size"
    assert "1024x1024, 1792x1024, 1024x1792" in body["message"]


def test_image_content_policy_body(http: httpx.Client) -> None:
    r = http.post(path("dall-e-3"), json={"prompt": "a forbidden-word scene"}, headers=KEY)
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "content_policy_violation"
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith(
        "Your request was rejected as a result of our safety system."
    )
    inner = error["inner_error"]
    assert inner["code"] == "ResponsibleAIPolicyViolation"
    assert inner["content_filter_results"]["violence"] == {"filtered": True, "severity": "high"}
    assert "innererror" not in error
