"""Typed results: parsing Azure's filter annotations (docs/wire.md, "Content-filter annotations on
success"), usage, image bytes and the atomic `save()`."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from azure_wire import FILTER_UNAVAILABLE, PNG_BYTES, PROMPT_FILTER_RESULTS, chat_completion, ok
from hypothesis import given, settings
from hypothesis import strategies as st

from azure_ai_kit import (
    CategoryResult,
    ChatResult,
    ContentFilterReport,
    GeneratedImage,
    ImageResult,
    Usage,
)
from azure_ai_kit._results import prompt_filter_from, write_atomic


def test_category_results_parse_severity_and_detection_shapes():
    """docs/wire.md: severity categories use {filtered, severity}; detections {filtered, detected}
    (protected_material_code also carries `citation`)."""
    report = ContentFilterReport.from_json(
        {
            "hate": {"filtered": False, "severity": "safe"},
            "violence": {"filtered": True, "severity": "medium"},
            "jailbreak": {"filtered": False, "detected": False},
            "protected_material_code": {
                "filtered": False,
                "detected": True,
                "citation": {"URL": "https://github.com/x/y", "license": "MIT"},
            },
        }
    )
    assert report is not None
    assert report.categories["hate"] == CategoryResult(filtered=False, severity="safe")
    assert report.categories["violence"].severity == "medium"
    assert report.categories["jailbreak"].detected is False
    assert report.categories["protected_material_code"].citation == {
        "URL": "https://github.com/x/y",
        "license": "MIT",
    }
    assert report.filtered is True
    assert report.filtered_categories == ["violence"]
    assert report.error is None


def test_filter_unavailable_sets_error_and_no_categories():
    report = ContentFilterReport.from_json(FILTER_UNAVAILABLE)
    assert report is not None
    assert report.error == "The contents are not filtered"
    assert dict(report.categories) == {}
    assert report.filtered is False


@pytest.mark.parametrize("data", [None, [], "text", 3])
def test_missing_or_odd_annotations_give_none(data):
    assert ContentFilterReport.from_json(data) is None


def test_prompt_filter_from_list_for_chat_and_object_for_images():
    chat = prompt_filter_from({"prompt_filter_results": PROMPT_FILTER_RESULTS})
    image = prompt_filter_from(
        {"prompt_filter_results": {"jailbreak": {"filtered": True, "detected": True}}}
    )
    assert chat is not None
    assert chat.categories["jailbreak"].detected is False
    assert image is not None
    assert image.filtered_categories == ["jailbreak"]
    assert prompt_filter_from({"prompt_filter_results": []}) is None
    assert prompt_filter_from(None) is None


def test_usage_from_openai():
    assert Usage.from_openai(None) == Usage(0, 0, 0)
    assert Usage.from_openai(SimpleNamespace(prompt_tokens=4, total_tokens=4)) == Usage(4, 0, 4)
    # A missing total is the sum, as Azure's fields are all optional.
    assert Usage.from_openai(
        SimpleNamespace(prompt_tokens=3, completion_tokens=2, total_tokens=None)
    ) == Usage(3, 2, 5)


def test_results_are_immutable():
    result = ChatResult(text="x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.text = "y"  # type: ignore[misc]


def test_a_converted_result_is_the_dataclass_it_claims_to_be(make_client):
    """Results are filled without their `__init__` on the hot path: every field must be there,
    equal to what the constructor would give, and still frozen, hashable and replaceable."""
    client, _ = make_client(ok(chat_completion("hello")))
    result = client.chat("hi")
    names = [f.name for f in dataclasses.fields(ChatResult)]
    assert sorted(vars(result)) == sorted(names)
    assert result == ChatResult(**{name: getattr(result, name) for name in names})
    for part in (result.usage, result.choices[0], result.prompt_filter, result.completion_filter):
        cls = type(part)
        assert part == cls(**{f.name: getattr(part, f.name) for f in dataclasses.fields(cls)})
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.text = "y"  # type: ignore[misc]
    assert dataclasses.replace(result, text="y").text == "y"
    assert hash(result.usage) == hash(Usage(*dataclasses.astuple(result.usage)))


def test_tool_calls_are_read_from_the_raw_completion(make_client):
    body = chat_completion("")
    body["choices"][0]["finish_reason"] = "tool_calls"
    body["choices"][0]["message"] = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
            }
        ],
    }
    client, _ = make_client(ok(body))
    result = client.chat(
        "Weather in Paris?", tools=[{"type": "function", "function": {"name": "get_weather"}}]
    )
    assert result.text == ""
    assert result.finish_reason == "tool_calls"
    assert [c.function.name for c in result.tool_calls] == ["get_weather"]
    assert ChatResult(text="x").tool_calls == []


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (PNG_BYTES, "png"),
        (b"\xff\xd8\xff\xe0rest", "jpeg"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"GIF89a", "bin"),
    ],
)
def test_image_format_is_sniffed(data, fmt):
    assert GeneratedImage(data=data).format == fmt


def test_image_repr_does_not_dump_bytes():
    assert "PNG" not in repr(GeneratedImage(data=PNG_BYTES, revised_prompt="fox"))


# --- save() ----------------------------------------------------------------------------------
def test_save_creates_folders_and_replaces(tmp_path):
    target = tmp_path / "a" / "b" / "fox.png"
    GeneratedImage(data=b"first").save(target)
    GeneratedImage(data=PNG_BYTES).save(str(target))
    assert target.read_bytes() == PNG_BYTES
    assert sorted(p.name for p in target.parent.iterdir()) == ["fox.png"]


def test_save_without_overwrite_keeps_the_existing_file(tmp_path):
    target = tmp_path / "fox.png"
    target.write_bytes(b"keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        GeneratedImage(data=PNG_BYTES).save(target, overwrite=False)
    assert target.read_bytes() == b"keep me"
    new = tmp_path / "new.png"
    GeneratedImage(data=PNG_BYTES).save(new, overwrite=False)
    assert new.read_bytes() == PNG_BYTES
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fox.png", "new.png"]


def test_save_is_atomic_when_the_final_rename_fails(tmp_path, monkeypatch):
    """A reader never sees half a file: the old file stays whole and no temp file is left."""
    target = tmp_path / "fox.png"
    target.write_bytes(b"old image")

    def fail(src: str, dst: str) -> None:
        # The new bytes are complete in the temp file before the rename.
        assert Path(src).read_bytes() == PNG_BYTES
        assert Path(src).parent == tmp_path
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        GeneratedImage(data=PNG_BYTES).save(target)
    assert target.read_bytes() == b"old image"
    assert [p.name for p in tmp_path.iterdir()] == ["fox.png"]


@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=2048))
def test_save_round_trips_any_bytes(tmp_path_factory, data):
    target = tmp_path_factory.mktemp("img") / "x.bin"
    assert write_atomic(target, data).read_bytes() == data


# --- downloads -----------------------------------------------------------------------------
def test_with_downloads_fetches_only_url_only_images():
    result = ImageResult(
        images=(
            GeneratedImage(data=b"", url="https://blob/1"),
            GeneratedImage(data=PNG_BYTES, url="https://blob/2"),
        )
    )
    assert result.needs_download
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return b"downloaded"

    done = result.with_downloads(fetch)
    assert fetched == ["https://blob/1"]
    assert [i.data for i in done.images] == [b"downloaded", PNG_BYTES]
    assert not done.needs_download
    assert result.images[0].data == b""  # the original is unchanged


async def test_with_downloads_async():
    result = ImageResult(images=(GeneratedImage(data=b"", url="https://blob/1"),))

    async def fetch(url: str) -> bytes:
        return url.encode()

    done = await result.with_downloads_async(fetch)
    assert done.images[0].data == b"https://blob/1"
