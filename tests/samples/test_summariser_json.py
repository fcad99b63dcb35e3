"""samples/summariser.py --json: each summary comes back as a typed `Summary` (structured
outputs) and is printed as JSON. On the in-process emulator: no network, no sleeps."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from azure_ai_kit import AsyncAzureAIClient
from azure_ai_kit.emulator import Emulator, Fault

DATA = Path(__file__).resolve().parents[2] / "samples" / "data" / "summariser"
PINNED = {
    "title": "Contoso and Fabrikam partner",
    "summary": "A two-year reseller deal, Europe first.",
    "key_points": ["1,200 retail customers", "70/30 revenue split"],
    "open_questions": ["Who owns customer data?"],
}


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env, no Azure settings, and no tiktoken (so chunking is deterministic)."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("AZURE_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setitem(sys.modules, "tiktoken", None)


@pytest.fixture
def emu() -> Emulator:
    return Emulator.default()


@pytest.fixture
def client(emu: Emulator) -> AsyncAzureAIClient:
    async def no_sleep(seconds: float) -> None:
        pass

    return AsyncAzureAIClient.for_emulator(emu, sleep=no_sleep)


def chat_bodies(emu: Emulator) -> list[dict[str, Any]]:
    return [r.body for r in emu.requests if r.operation == "chat"]


def completion(message: dict[str, Any], finish_reason: str = "stop") -> dict[str, Any]:
    """An Azure chat completion (docs/wire.md shape) with this assistant message."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4o-mini",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {"role": "assistant", **message},
                "content_filter_results": {},
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
    }


def long_text() -> str:
    return "\n\n".join(
        " ".join(f"Paragraph {n} sentence {i} is about quota in regions." for i in range(9))
        for n in range(12)
    )


def test_a_short_document_prints_the_models_summary_as_json(
    summariser: ModuleType,
    client: AsyncAzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu.reply("chat", PINNED)
    assert summariser.main([str(DATA / "partnership.md"), "--json"], client=client) == 0
    out, err = capsys.readouterr()
    assert json.loads(out) == [{"document": "partnership.md", **PINNED, "notes": []}]
    (body,) = chat_bodies(emu)
    schema = body["response_format"]["json_schema"]
    assert body["response_format"]["type"] == "json_schema"
    assert schema["name"] == "Summary"
    assert schema["strict"] is True
    assert sorted(schema["schema"]["required"]) == sorted(PINNED)
    assert "short title" in body["messages"][0]["content"]
    assert "done: 1 call" in err


def test_a_long_document_maps_in_text_and_only_the_last_call_is_structured(
    summariser: ModuleType,
    client: AsyncAzureAIClient,
    emu: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "long.txt").write_text(long_text())
    argv = ["long.txt", "--json", "--chunk-tokens", "400", "--overlap", "0"]
    assert summariser.main(argv, client=client) == 0
    bodies = chat_bodies(emu)
    assert len(bodies) > 2
    assert [("response_format" in b) for b in bodies] == [False] * (len(bodies) - 1) + [True]
    (item,) = json.loads(capsys.readouterr().out)
    summary = summariser.Summary.model_validate({k: item[k] for k in PINNED})
    assert summary.title  # the emulator answers with a schema-valid instance
    assert summary.key_points


def test_json_out_writes_a_file_and_refuses_to_overwrite_it(
    summariser: ModuleType, client: AsyncAzureAIClient, emu: Emulator, tmp_path: Path
) -> None:
    out = tmp_path / "summaries.json"
    emu.reply("chat", PINNED)
    argv = [str(DATA / "partnership.md"), "--json", "--out", str(out)]
    assert summariser.main(argv, client=client) == 0
    assert json.loads(out.read_text())[0]["key_points"] == PINNED["key_points"]
    assert summariser.main(argv, client=client) == 1
    assert len(chat_bodies(emu)) == 1  # the existing file was refused before any request


def test_a_refusal_is_a_note_and_nothing_else_is_invented(
    summariser: ModuleType,
    client: AsyncAzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    refused = {"content": None, "refusal": "I can't help with that."}
    emu.script("gpt-4o-mini", Fault(status=200, body=completion(refused)))
    assert summariser.main([str(DATA / "partnership.md"), "--json"], client=client) == 1
    out, err = capsys.readouterr()
    (item,) = json.loads(out)
    assert item["title"] is None
    assert item["summary"] is None
    assert item["notes"] == ["> [declined: I can't help with that.]"]
    assert "declined to summarise" in err


def test_a_reply_cut_by_the_token_limit_exits_1_and_says_why(
    summariser: ModuleType,
    client: AsyncAzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cut = completion({"content": '{"title": "Contoso and Fab'}, finish_reason="length")
    emu.script("gpt-4o-mini", Fault(status=200, body=cut))
    assert summariser.main([str(DATA / "partnership.md"), "--json"], client=client) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "error: the model's JSON summary was cut at its token limit (raise --max-words)" in err


def test_a_blocked_document_is_null_with_its_note_and_the_others_go_on(
    summariser: ModuleType,
    client: AsyncAzureAIClient,
    emu: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "a.md").write_text("Foxes hunt at dusk in the forbidden-word valley.")
    (tmp_path / "b.md").write_text("Northwind moved its nightly jobs to the batch API.")
    assert summariser.main([str(tmp_path), "--json"], client=client) == 0
    blocked, ok = json.loads(capsys.readouterr().out)
    assert blocked["document"] == "a.md"
    assert blocked["summary"] is None
    assert "blocked by the content filter: violence" in blocked["notes"][0]
    assert ok["document"] == "b.md"
    assert ok["summary"]


@pytest.mark.parametrize("extra", [["--stream"], ["--batch", "requests.jsonl"]])
def test_json_with_stream_or_batch_is_a_usage_error(
    summariser: ModuleType,
    extra: list[str],
    client: AsyncAzureAIClient,
    emu: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert summariser.main([str(DATA / "partnership.md"), "--json", *extra], client=client) == 2
    assert "--json writes whole summaries" in capsys.readouterr().err
    assert emu.requests == []
    assert not (tmp_path / "requests.jsonl").exists()


def test_a_reply_that_is_not_a_summary_exits_1(
    summariser: ModuleType,
    client: AsyncAzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu.reply("chat", {"title": "only a title"})
    assert summariser.main([str(DATA / "partnership.md"), "--json"], client=client) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "JSON summary did not validate; nothing written" in err
