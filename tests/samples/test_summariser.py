"""End-to-end tests of samples/summariser.py on the in-process emulator: no network, no sleeps."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import re
import sys
import types
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from azure_ai_kit import AsyncAzureAIClient, RetryPolicy
from azure_ai_kit.emulator import EmulatedDeployment, Emulator, Fault

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "samples" / "data" / "summariser"


CONTEXT_LENGTH_EXCEEDED = {
    "error": {
        "message": "This model's maximum context length is 4096 tokens. However, you requested "
        "4201 tokens (3177 in the messages, 1024 in the completion).",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "context_length_exceeded",
    }
}


class Sleeps:
    """The client's retry sleep: records, never sleeps."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No .env, no Azure settings, and no tiktoken (so token counts are deterministic)."""
    monkeypatch.chdir(tmp_path)
    for name in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_AI_KIT_CONFIG",
                 "AZURE_OPENAI_CHAT_DEPLOYMENT", "AZURE_OPENAI_CHAT_DEPLOYMENT_NAME"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(sys.modules, "tiktoken", None)


@pytest.fixture
def emu() -> Emulator:
    return Emulator.default()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(emu: Emulator, sleeps: Sleeps) -> AsyncAzureAIClient:
    return AsyncAzureAIClient.for_emulator(emu, sleep=sleeps)


Runner = Callable[[list[str], AsyncAzureAIClient], int]


@pytest.fixture
def run(summariser: ModuleType) -> Runner:
    """`run(argv, client)`: the summariser's exit code."""

    def _run(argv: list[str], client: AsyncAzureAIClient) -> int:
        code: int = summariser.main(argv, client=client)
        return code

    return _run


def chat_requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.operation == "chat"]


def system_of(record: Any) -> str:
    content: str = record.body["messages"][0]["content"]
    return content


def user_of(record: Any) -> str:
    content: str = record.body["messages"][-1]["content"]
    return content


def long_text(marked: int | None = None) -> str:
    """Twelve distinct paragraphs of ~120 tokens; paragraph `marked` holds a blocked word."""
    paragraphs = []
    for n in range(12):
        word = "forbidden-word" if n == marked else "quota"
        sentences = [
            f"Paragraph {n} sentence {i} talks about {word} and regions." for i in range(9)
        ]
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


# --- command line -----------------------------------------------------------------------------
def test_help_exits_zero_with_examples(
    summariser: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert summariser.main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out
    assert "--style" in out
    assert "exit codes" in out


def test_bad_option_is_a_usage_error(run: Runner, client: AsyncAzureAIClient) -> None:
    assert run([str(DATA / "partnership.md"), "--style", "haiku"], client) == 2
    assert run([str(DATA / "partnership.md"), "--overlap", "900"], client) == 2


@pytest.mark.parametrize(
    ("style", "marker"),
    [("bullets", "bullet points"), ("tldr", "TL;DR:"), ("brief", "## Key points")],
)
def test_each_style_asks_for_its_shape_and_prints_markdown(
    run: Runner,
    style: str,
    marker: str,
    client: AsyncAzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run([str(DATA / "partnership.md"), "--style", style], client) == 0
    out, err = capsys.readouterr()
    (request,) = chat_requests(emu)  # a short document is one call
    assert marker in system_of(request)
    assert "Contoso" in user_of(request)
    assert out.startswith("[emulated gpt-4o-mini]")
    assert "Contoso Health" in out
    assert "tokens" in err
    assert "(gpt-4o-mini ×" in err


def test_max_words_and_language_shape_the_request(
    run: Runner, client: AsyncAzureAIClient, emu: Emulator
) -> None:
    argv = [str(DATA / "partnership.md"), "--max-words", "60", "--language", "French"]
    assert run(argv, client) == 0
    (request,) = chat_requests(emu)
    assert "at most 60 words" in system_of(request)
    assert "Write in French." in system_of(request)
    assert request.body["max_completion_tokens"] == 140


# --- input ------------------------------------------------------------------------------------
def test_stdin_is_read_when_no_file_is_given(
    run: Runner,
    client: AsyncAzureAIClient,
    emu: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Fabrikam moved nightly jobs to batch."))
    assert run(["--style", "tldr"], client) == 0
    assert "Fabrikam moved nightly jobs to batch." in capsys.readouterr().out
    assert user_of(chat_requests(emu)[0]) == "Fabrikam moved nightly jobs to batch."


def test_dash_reads_stdin(
    run: Runner,
    client: AsyncAzureAIClient,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("Northwind cut max_tokens to 400."))
    assert run(["-"], client) == 0
    assert "Northwind cut max_tokens to 400." in capsys.readouterr().out


def test_no_input_on_a_terminal_summarises_the_built_in_example(
    run: Runner,
    client: AsyncAzureAIClient,
    emu: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tty = io.StringIO()
    monkeypatch.setattr(tty, "isatty", lambda: True)
    monkeypatch.setattr(sys, "stdin", tty)
    assert run([], client) == 0
    assert "Contoso and Fabrikam" in user_of(chat_requests(emu)[0])
    assert "summarising a built-in example" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["stdin", "file"])
def test_an_empty_input_is_refused_before_any_request(
    run: Runner,
    where: str,
    client: AsyncAzureAIClient,
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "empty.md").write_text(" \n\n")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert run(["-"] if where == "stdin" else [str(tmp_path / "empty.md")], client) == 2
    assert emu.requests == []


def test_html_on_stdin_is_read_as_html(
    run: Runner, client: AsyncAzureAIClient, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = "<!DOCTYPE html><html><head><style>p {}</style></head><body><p>Hello &amp; bye</p>"
    monkeypatch.setattr(sys, "stdin", io.StringIO(page))
    assert run(["-"], client) == 0
    sent = user_of(chat_requests(emu)[0])
    assert "Hello & bye" in sent
    assert "<p>" not in sent
    assert "p {}" not in sent


def test_html_is_stripped_of_markup_script_and_style(
    run: Runner, client: AsyncAzureAIClient, emu: Emulator
) -> None:
    assert run([str(DATA / "article.html")], client) == 0
    sent = user_of(chat_requests(emu)[0])
    assert sent.startswith("Why your AI bill spikes on Mondays\n\nBy Priya Natarajan")
    assert "max_tokens to 4,000 “just in case”" in sent  # entities decoded, tags gone
    for leftover in ("<", "analytics", "font-family", "getFullYear", "Home"):
        assert leftover not in sent


def test_html_to_text_keeps_blocks_as_paragraphs(summariser: ModuleType) -> None:
    markup = "<h1>Title</h1><p>One <b>bold</b>\n word.</p><script>x()</script><li>Item &amp; more"
    assert summariser.html_to_text(markup) == "Title\n\nOne bold word.\n\nItem & more"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("slides.pdf", b"%PDF-1.7", "unsupported file type"),
        ("blob.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        ("latin1.md", "Café".encode("latin-1"), "not UTF-8"),
        ("empty.txt", b"  \n", "nothing to summarise"),
    ],
)
def test_bad_input_is_a_clear_usage_error(
    run: Runner,
    name: str,
    content: bytes,
    message: str,
    tmp_path: Path,
    client: AsyncAzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / name).write_bytes(content)
    assert run([name], client) == 2
    assert message in capsys.readouterr().err
    assert emu.requests == []


def test_missing_file_is_a_usage_error(
    run: Runner, client: AsyncAzureAIClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["nope.txt"], client) == 2
    assert "cannot read nope.txt" in capsys.readouterr().err


def test_a_folder_is_summarised_file_by_file_in_order(
    run: Runner, client: AsyncAzureAIClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run([str(DATA)], client) == 0
    out = capsys.readouterr().out
    headings = [line for line in out.splitlines() if line.startswith("## ")]
    assert headings == ["## article.html", "## partnership.md", "## report.txt"]


# --- chunking ---------------------------------------------------------------------------------
def test_chunks_respect_the_limit_overlap_and_cover_everything(summariser: ModuleType) -> None:
    count, how = summariser.token_counter()
    assert "estimated" in how
    text = long_text()
    chunks = summariser.chunk_text(text, 300, 60, count)
    assert len(chunks) >= 5
    assert all(count(chunk) <= 300 for chunk in chunks)
    for sentence in text.replace("\n\n", " ").split(". "):
        assert any(sentence.strip(".") in chunk for chunk in chunks)
    for previous, chunk in itertools.pairwise(chunks):
        last_sentence = previous.rsplit(". ", 1)[-1]
        carried = chunk[: chunk.index(last_sentence) + len(last_sentence)]
        assert " ".join(previous.split()).endswith(" ".join(carried.split()))
        assert carried[0] == "P"  # whole sentences carried over, not fragments
        assert 0 < count(carried) <= 60


def test_a_huge_sentence_is_cut_between_words(summariser: ModuleType) -> None:
    count, _ = summariser.token_counter()
    chunks = summariser.chunk_text("word " * 2000, 100, 0, count)
    assert len(chunks) > 10
    assert all(count(chunk) <= 100 for chunk in chunks)


def test_long_document_maps_concurrently_then_reduces_once(
    run: Runner,
    summariser: ModuleType,
    client: AsyncAzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run([str(DATA / "report.txt"), "--style", "brief"], client) == 0
    requests = chat_requests(emu)
    maps = [r for r in requests if system_of(r) == summariser.MAP_PROMPT]
    reduces = [r for r in requests if system_of(r) != summariser.MAP_PROMPT]
    assert len(maps) >= 4
    assert len(reduces) == 1
    assert requests[-1] is reduces[0]
    assert "## Key points" in system_of(reduces[0])
    assert user_of(reduces[0]).count("Part ") == len(maps)
    out, err = capsys.readouterr()
    assert out.startswith("[emulated gpt-4o-mini]")
    assert f"done: {len(requests)} calls," in err


@pytest.mark.parametrize("limit", [1, 3])
def test_concurrency_is_bounded(run: Runner, limit: int) -> None:
    in_flight = peak = 0

    async def slow_reply(seconds: float) -> None:  # the emulator's latency: yields, never sleeps
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(5):
            await asyncio.sleep(0)
        in_flight -= 1

    deployment = EmulatedDeployment("gpt-4o-mini", first_token_latency=1.0)
    emu = Emulator([deployment], async_sleep=slow_reply)
    client = AsyncAzureAIClient.for_emulator(emu, sleep=Sleeps())
    argv = [str(DATA / "report.txt"), "--chunk-tokens", "300", "--concurrency", str(limit)]
    assert run(argv, client) == 0
    assert len(chat_requests(emu)) > 6
    assert peak == limit


def test_tiktoken_is_used_when_it_works(
    summariser: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Encoding:
        def encode(self, text: str) -> list[str]:
            return text.split()

    fake = types.SimpleNamespace(get_encoding=lambda name: Encoding())
    monkeypatch.setitem(sys.modules, "tiktoken", fake)
    count, how = summariser.token_counter()
    assert how == "counted with tiktoken"
    assert count("three little words") == 3


def test_a_failing_tiktoken_falls_back_to_the_estimate(
    run: Runner,
    summariser: ModuleType,
    monkeypatch: pytest.MonkeyPatch,
    client: AsyncAzureAIClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def offline(name: str) -> Any:
        raise ConnectionError("could not download o200k_base")

    monkeypatch.setitem(sys.modules, "tiktoken", types.SimpleNamespace(get_encoding=offline))
    count, _ = summariser.token_counter()
    assert count("12345678") == 2
    assert run([str(DATA / "partnership.md")], client) == 0
    assert "tokens estimated at 4 characters per token" in capsys.readouterr().err


# --- output -----------------------------------------------------------------------------------
def test_out_writes_the_file_and_refuses_to_overwrite_without_force(
    run: Runner,
    client: AsyncAzureAIClient,
    emu: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = str(DATA / "partnership.md")
    assert run([source, "--out", "summary.md"], client) == 0
    assert capsys.readouterr().out == ""
    written = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert written.startswith("[emulated gpt-4o-mini] Contoso Health")
    (tmp_path / "summary.md").write_text("keep me", encoding="utf-8")
    calls = len(emu.requests)
    assert run([source, "--out", "summary.md"], client) == 1  # nothing written, nothing sent
    assert "exists; nothing written. Pass --force" in capsys.readouterr().err
    assert (tmp_path / "summary.md").read_text(encoding="utf-8") == "keep me"
    assert len(emu.requests) == calls  # refused before spending any tokens
    assert run([source, "--out", "summary.md", "--force"], client) == 0
    assert (tmp_path / "summary.md").read_text(encoding="utf-8") == written
    assert [p.name for p in tmp_path.iterdir()] == ["summary.md"]  # no temp files left


def test_a_failed_run_leaves_no_output_file(
    run: Runner, client: AsyncAzureAIClient, emu: Emulator, tmp_path: Path
) -> None:
    emu.script("gpt-4o-mini", Fault.throttle(retry_after=86400), times=20)
    assert run([str(DATA / "report.txt"), "--out", "summary.md"], client) == 4
    assert list(tmp_path.iterdir()) == []


def test_stream_prints_a_short_document_as_it_arrives(
    run: Runner, client: AsyncAzureAIClient, emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run([str(DATA / "partnership.md"), "--stream", "--style", "tldr"], client) == 0
    out, err = capsys.readouterr()
    assert out.startswith("[emulated gpt-4o-mini] Contoso Health")
    assert chat_requests(emu)[0].body["stream"] is True
    assert "(gpt-4o-mini ×" in err
    # The stream asked for its usage chunk, so the run reports real tokens, not 0.
    assert chat_requests(emu)[0].body["stream_options"] == {"include_usage": True}
    tokens = re.search(r"done: 1 call, ([\d,]+) tokens", err)
    assert tokens is not None, err
    assert int(tokens.group(1).replace(",", "")) > 0


# --- content filter, context length -----------------------------------------------------------
def test_a_blocked_chunk_is_marked_and_the_rest_summarised(
    run: Runner,
    summariser: ModuleType,
    client: AsyncAzureAIClient,
    emu: Emulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "mixed.txt").write_text(long_text(marked=6), encoding="utf-8")
    argv = ["mixed.txt", "--chunk-tokens", "300", "--overlap", "0"]
    assert run(argv, client) == 0
    out, err = capsys.readouterr()
    count, _ = summariser.token_counter()
    chunks = summariser.chunk_text(long_text(marked=6), 300, 0, count)
    (n,) = [n for n, chunk in enumerate(chunks, 1) if "forbidden-word" in chunk]
    assert [r.status for r in chat_requests(emu)].count(400) == 1
    assert len(chat_requests(emu)) == len(chunks) + 1
    assert f"> [chunk {n} of {len(chunks)} was blocked by the content filter: violence]" in out
    assert out.startswith("[emulated gpt-4o-mini]")
    assert f"chunk {n} of {len(chunks)} was blocked" in err
    assert f"Part {n}:" not in user_of(chat_requests(emu)[-1])
    assert f"Part {n + 1}:" in user_of(chat_requests(emu)[-1])


def test_everything_blocked_exits_3(
    run: Runner, client: AsyncAzureAIClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.md").write_text("This note contains a forbidden-word.", encoding="utf-8")
    assert run(["bad.md"], client) == 3
    out, err = capsys.readouterr()
    assert "> [chunk 1 of 1 was blocked by the content filter: violence]" in out
    assert "blocked every part" in err


def test_a_chunk_over_the_context_window_is_split_and_retried(
    run: Runner, client: AsyncAzureAIClient, emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emu.script("gpt-4o-mini", Fault(status=400, body=CONTEXT_LENGTH_EXCEEDED), times=1)
    assert run([str(DATA / "partnership.md")], client) == 0
    statuses = [r.status for r in chat_requests(emu)]
    assert statuses == [400, 200, 200, 200]  # the whole text; its two halves; the combination
    halves = [user_of(r) for r in chat_requests(emu)[1:3]]
    assert "".join(halves).replace(" ", "") == user_of(chat_requests(emu)[0]).replace(" ", "")
    assert "Contoso" in capsys.readouterr().out


def test_a_small_context_window_splits_map_chunks(run: Runner, summariser: ModuleType) -> None:
    emu = Emulator([EmulatedDeployment("gpt-4o-mini", context_window=1300)])
    client = AsyncAzureAIClient.for_emulator(emu, sleep=Sleeps())
    assert run([str(DATA / "report.txt"), "--max-words", "100"], client) == 0
    requests = chat_requests(emu)
    failed_maps = [r for r in requests if r.status == 400 and system_of(r) == summariser.MAP_PROMPT]
    assert failed_maps  # chunks that did not fit were halved and retried
    assert requests[-1].status == 200
    assert system_of(requests[-1]) != summariser.MAP_PROMPT


# --- Azure errors -----------------------------------------------------------------------------
def test_throttling_beyond_the_budget_exits_4(
    run: Runner,
    client: AsyncAzureAIClient,
    emu: Emulator,
    sleeps: Sleeps,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu.script("gpt-4o-mini", Fault.throttle(retry_after=86400), times=20)
    assert run([str(DATA / "partnership.md")], client) == 4
    err = capsys.readouterr().err
    assert "throttled; try again in 300s" in err  # hints are clamped to MAX_COOLDOWN
    assert err.strip().splitlines()[-1].startswith("summariser: error:")
    assert sleeps.waits == []  # never waits a day


def test_server_errors_exit_4(
    run: Runner, client: AsyncAzureAIClient, emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emu.script("gpt-4o-mini", Fault.server_error(), times=20)
    assert run([str(DATA / "partnership.md")], client) == 4
    assert "summariser: error:" in capsys.readouterr().err


def test_a_wrong_key_exits_5(
    run: Runner, emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    client = AsyncAzureAIClient.for_emulator(emu, credential="wrong", sleep=Sleeps())
    assert run([str(DATA / "partnership.md")], client) == 5
    assert "refused the credential" in capsys.readouterr().err


def test_an_unknown_deployment_exits_5(
    run: Runner, client: AsyncAzureAIClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run([str(DATA / "partnership.md"), "--deployment", "gpt-5-nope"], client) == 5
    assert "gpt-5-nope" in capsys.readouterr().err


# --- batch ------------------------------------------------------------------------------------
def test_batch_writes_jsonl_and_calls_nothing(
    run: Runner,
    client: AsyncAzureAIClient,
    emu: Emulator,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o-mini-batch")
    assert run([str(DATA), "--batch", "requests.jsonl"], client) == 0
    assert emu.requests == []
    lines = [json.loads(line) for line in (tmp_path / "requests.jsonl").read_text().splitlines()]
    ids = [line["custom_id"] for line in lines]
    assert ids[:2] == ["article.html#1", "partnership.md#1"]
    assert ids[2:] == [f"report.txt#{n}" for n in range(1, len(ids) - 1)]
    assert len(ids) >= 6
    for line in lines:
        assert line["method"] == "POST"
        assert line["url"] == "/chat/completions"
        assert line["body"]["model"] == "gpt-4o-mini-batch"
        assert [m["role"] for m in line["body"]["messages"]] == ["system", "user"]
    err = capsys.readouterr().err
    assert "purpose=batch" in err
    assert '"completion_window": "24h"' in err


def test_batch_deployment_option_and_missing_deployment(
    run: Runner, client: AsyncAzureAIClient, tmp_path: Path
) -> None:
    source = str(DATA / "partnership.md")
    assert run([source, "--batch", "a.jsonl"], client) == 5
    assert not (tmp_path / "a.jsonl").exists()
    assert run([source, "--batch", "a.jsonl", "--deployment", "batch-dep"], client) == 0
    (line,) = (tmp_path / "a.jsonl").read_text().splitlines()
    assert json.loads(line)["body"]["model"] == "batch-dep"
    assert run([source, "--batch", "a.jsonl", "--deployment", "other"], client) == 1
    assert "batch-dep" in (tmp_path / "a.jsonl").read_text()


def test_the_documents_of_a_folder_are_summarised_concurrently(run: Runner, tmp_path: Path) -> None:
    in_flight = peak = 0

    async def slow_reply(seconds: float) -> None:  # the emulator's latency: yields, never sleeps
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        for _ in range(1_000):  # until the other documents' requests arrive, if they run at once
            if in_flight >= 3:
                break
            await asyncio.sleep(0)
        in_flight -= 1

    folder = tmp_path / "docs"
    folder.mkdir()
    for n in range(3):  # three short documents: one request each
        (folder / f"note{n}.md").write_text(f"Note {n}. The budget was approved on Monday.")
    deployment = EmulatedDeployment("gpt-4o-mini", first_token_latency=1.0)
    emu = Emulator([deployment], async_sleep=slow_reply)
    client = AsyncAzureAIClient.for_emulator(emu, sleep=Sleeps())
    assert run([str(folder), "--concurrency", "4"], client) == 0
    assert peak == 3


def test_progress_is_a_line_every_few_seconds_when_stderr_is_not_a_terminal(
    summariser: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    now = [0.0]
    console = summariser.Console("summariser", clock=lambda: now[0], progress_every=5.0)
    for done in range(1, 11):
        now[0] += 1.0
        console.progress("report.txt chunks", done, 10)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "summariser: report.txt chunks: 1/10 done",
        "summariser: report.txt chunks: 6/10 done",
        "summariser: report.txt chunks: 10/10 done",
    ]


def test_a_one_second_retry_after_never_reads_as_0s(
    run: Runner, emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    emu.script("gpt-4o-mini", Fault.throttle(retry_after=0.4), times=50)
    client = AsyncAzureAIClient.for_emulator(emu, sleep=Sleeps(), retry=RetryPolicy(max_attempts=1))
    assert run([str(DATA / "partnership.md")], client) == 4
    err = capsys.readouterr().err
    assert "try again in 1s" in err
    assert "in 0s" not in err
