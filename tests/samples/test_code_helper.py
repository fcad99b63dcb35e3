"""samples/code_helper.py end to end through `main()`, on the in-process emulator (no network).

Where a test needs a particular model answer (a fix, some tests, review findings), it scripts
the emulator's reply: `emu.reply("code", text_or_json)`, as an app's own tests would.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from azure_ai_kit import AzureAIClient
from azure_ai_kit.emulator import Emulator, Fault
from azure_ai_kit.testing import FakeClock

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "samples" / "data" / "code_helper"


FIXED_STATS = (
    (DATA / "stats.py")
    .read_text()
    .replace(
        "    return sum(values) / len(values)\n",
        "    if not values:\n        return 0.0\n    return sum(values) / len(values)\n",
    )
)


def completion(text: str, refusal: str | None = None) -> dict[str, Any]:
    """An Azure chat completion (docs/wire.md shape) whose answer is `text` (or a refusal)."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-4.1",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": {}}],
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": text or None, "refusal": refusal},
                "content_filter_results": {},
            }
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
    }


def answer_with(code: str, language: str = "python") -> str:
    code = code.rstrip("\n")
    return f"`mean` divides by zero on an empty list (L8).\n\n```{language}\n{code}\n```\n"


@pytest.fixture
def emu() -> Emulator:
    return Emulator.default()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(emu: Emulator, clock: FakeClock) -> Iterator[AzureAIClient]:
    with AzureAIClient.for_emulator(emu, clock=clock, sleep=clock.sleep) as c:
        yield c


@pytest.fixture
def stats(tmp_path: Path) -> Path:
    return Path(shutil.copy(DATA / "stats.py", tmp_path / "stats.py"))


def reply(emu: Emulator, text: str) -> None:
    """Make the emulator's next `code` answer be `text`."""
    emu.reply("code", text)


def user_message(emu: Emulator) -> str:
    messages = emu.requests[-1].body["messages"]
    return str(next(m["content"] for m in messages if m["role"] == "user"))


def system_message(emu: Emulator) -> str:
    return str(emu.requests[-1].body["messages"][0]["content"])


def test_help_lists_the_commands_and_examples(
    code_helper: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    assert code_helper.main(["--help"]) == 0
    out = capsys.readouterr().out
    for word in (
        "explain",
        "review",
        "fix",
        "ask",
        "tests",
        "examples:",
        "exit codes",
        "nothing written",
    ):
        assert word in out
    assert code_helper.main(["fix", "--help"]) == 0
    assert "--apply" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [["explain"], ["fix", "x.py"], ["nope"]])
def test_bad_arguments_exit_2(
    code_helper: ModuleType, argv: list[str], client: AzureAIClient, emu: Emulator
) -> None:
    assert code_helper.main(argv, client=client) == 2
    assert emu.requests == []


def test_explain_range_sends_exactly_those_lines(
    code_helper: ModuleType,
    stats: Path,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert code_helper.main(["explain", f"{stats}:6-8"], client=client) == 0
    out, err = capsys.readouterr()
    assert out.startswith("[emulated gpt-4.1]")
    assert "answered by gpt-4.1" in err
    request = emu.requests[-1]
    assert request.deployment == "gpt-4.1"
    assert "senior software engineer" in system_message(emu)
    code = user_message(emu).split("```python\n")[1].split("\n```")[0]
    lines = stats.read_text().splitlines()
    assert code.splitlines() == [f"{n}  {lines[n - 1]}" for n in (6, 7, 8)]


def test_explain_whole_file(
    code_helper: ModuleType, stats: Path, client: AzureAIClient, emu: Emulator
) -> None:
    assert code_helper.main(["explain", str(stats)], client=client) == 0
    assert "22  " in user_message(emu)


@pytest.mark.parametrize("span", ["0-3", "5-4", "1-23", "30-40", "2-", "1-2-3"])
def test_explain_invalid_range_is_a_usage_error(
    code_helper: ModuleType,
    span: str,
    stats: Path,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert code_helper.main(["explain", f"{stats}:{span}"], client=client) == 2
    assert "error:" in capsys.readouterr().err
    assert emu.requests == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"caf\xe9 = 1\n", "not UTF-8"),
        (b"x = 1\n" * 100, "larger than --max-bytes=500"),
    ],
)
def test_binary_undecodable_and_oversize_files_are_refused(
    code_helper: ModuleType,
    content: bytes,
    message: str,
    tmp_path: Path,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "input.py"
    path.write_bytes(content)
    argv = ["review", str(path), "--max-bytes", "500"]
    assert code_helper.main(argv, client=client) == 2
    assert message in capsys.readouterr().err
    assert emu.requests == []


def test_missing_file_is_a_usage_error(
    code_helper: ModuleType,
    tmp_path: Path,
    client: AzureAIClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert code_helper.main(["review", str(tmp_path / "gone.py")], client=client) == 2
    assert "cannot read" in capsys.readouterr().err


FINDINGS = [
    {"file": "stats.py", "line": 12, "severity": "nit", "message": "name `xs` -> `values`"},
    {"file": "stats.py", "line": 8, "severity": "major", "message": "empty list -> guard it"},
    {"file": "stats.py", "line": 3, "severity": "minor", "message": "no docstring -> add one"},
]


def test_review_file_prints_typed_findings_most_severe_first(
    code_helper: ModuleType,
    stats: Path,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu.reply("code", {"findings": FINDINGS})
    assert code_helper.main(["review", str(stats)], client=client) == 0
    assert "Review the code like a pull request" in system_message(emu)
    assert "sum(values) / len(values)" in user_message(emu)
    response_format = emu.requests[-1].body["response_format"]
    assert response_format["json_schema"]["name"] == "Review"
    assert response_format["json_schema"]["strict"] is True
    out, err = capsys.readouterr()
    assert out.splitlines() == [  # file:line: as compilers print, with the path as typed
        f"{stats}:8: major: empty list -> guard it",
        f"{stats}:3: minor: no docstring -> add one",
        f"{stats}:12: nit: name `xs` -> `values`",
    ]
    assert "3 finding(s) (1 major, 1 minor, 1 nit)" in err


def test_review_json_is_the_list_of_findings(
    code_helper: ModuleType,
    stats: Path,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu.reply("code", {"findings": FINDINGS[:2]})
    assert code_helper.main(["review", str(stats), "--json"], client=client) == 0
    findings = json.loads(capsys.readouterr().out)
    assert [(f["line"], f["severity"]) for f in findings] == [(8, "major"), (12, "nit")]
    assert {f["file"] for f in findings} == {str(stats)}


def test_review_with_no_findings_says_so(
    code_helper: ModuleType,
    stats: Path,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    emu.reply("code", {"findings": []})
    assert code_helper.main(["review", str(stats)], client=client) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "0 finding(s)\n" in err


def test_review_on_the_emulator_gets_a_schema_valid_finding(
    code_helper: ModuleType, stats: Path, client: AzureAIClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert code_helper.main(["review", str(stats)], client=client) == 0
    assert capsys.readouterr().out == f"{stats}:1: blocker: emulated message\n"


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"findings": [{"file": "x", "line": "eight"}]}, "the review did not validate"),
        (completion("", refusal="I can't review this."), "the model declined (I can't review"),
    ],
)
def test_review_without_usable_findings_exits_1(
    code_helper: ModuleType,
    answer: dict[str, Any],
    message: str,
    stats: Path,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if "choices" in answer:
        emu.script("gpt-4.1", Fault(status=200, body=answer))
    else:
        emu.reply("code", answer)
    assert code_helper.main(["review", str(stats)], client=client) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert message in err


def test_review_diff_from_stdin_keeps_the_files_the_model_names(
    code_helper: ModuleType,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    diff = (DATA / "change.diff").read_text()
    finding = {"file": "samples/data/code_helper/stats.py", "line": 21, "severity": "minor",
               "message": "median of an empty list -> raise ValueError"}  # fmt: skip
    emu.reply("code", {"findings": [finding]})
    assert code_helper.main(["review", "--diff"], client=client, stdin=io.StringIO(diff)) == 0
    assert "```diff\n" + diff.rstrip() + "\n```" in user_message(emu)
    assert "Review only the change" in system_message(emu)
    assert capsys.readouterr().out == (
        "samples/data/code_helper/stats.py:21: minor: median of an empty list -> raise ValueError\n"
    )


@pytest.mark.parametrize(("argv", "stdin"), [(["review", "--diff"], ""), (["review"], "x")])
def test_review_needs_a_file_or_a_diff(
    code_helper: ModuleType, argv: list[str], stdin: str, client: AzureAIClient, emu: Emulator
) -> None:
    assert code_helper.main(argv, client=client, stdin=io.StringIO(stdin)) == 2
    assert emu.requests == []


def test_ask_sends_every_context_file(
    code_helper: ModuleType, tmp_path: Path, client: AzureAIClient, emu: Emulator
) -> None:
    (tmp_path / "cache.py").write_text("CACHE = {}\n")
    (tmp_path / "api.go").write_text("package api\n")
    files = [str(tmp_path / "cache.py"), str(tmp_path / "api.go")]
    assert code_helper.main(["ask", "Where is the cache?", "--context", *files], client=client) == 0
    message = user_message(emu)
    assert "Where is the cache?" in message
    assert "```python\n1  CACHE = {}\n```" in message
    assert "```go\n1  package api\n```" in message


def test_tests_to_stdout_names_the_framework(
    code_helper: ModuleType,
    stats: Path,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert code_helper.main(["tests", str(stats)], client=client) == 0
    assert "pytest" in system_message(emu)
    assert "Import it as `stats`" in user_message(emu)
    assert capsys.readouterr().out.startswith("[emulated gpt-4.1]")


def test_tests_out_writes_and_refuses_to_overwrite(
    code_helper: ModuleType, stats: Path, tmp_path: Path, client: AzureAIClient, emu: Emulator
) -> None:
    out = tmp_path / "tests" / "test_stats.py"
    body = "from stats import mean\n\n\ndef test_mean():\n    assert mean([1, 3]) == 2\n"
    reply(emu, answer_with(body))
    assert code_helper.main(["tests", str(stats), "--out", str(out)], client=client) == 0
    assert out.read_text() == body

    assert code_helper.main(["tests", str(stats), "--out", str(out)], client=client) == 1
    assert len(emu.requests) == 1  # an existing output is refused (1) before asking
    reply(emu, answer_with("def test_other():\n    pass\n"))
    argv = ["tests", str(stats), "--out", str(out), "--force"]
    assert code_helper.main(argv, client=client) == 0
    assert out.read_text() == "def test_other():\n    pass\n"


def test_fix_without_apply_prints_a_diff_and_writes_nothing(
    code_helper: ModuleType,
    stats: Path,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    original = stats.read_text()
    reply(emu, answer_with(FIXED_STATS))
    traceback = (DATA / "traceback.txt").read_text()
    assert code_helper.main(["fix", str(stats), "--error", traceback], client=client) == 0
    out, err = capsys.readouterr()
    label = str(stats).lstrip("/")
    assert out.startswith(f"--- a/{label}\n+++ b/{label}\n@@ ")
    assert "+    if not values:\n" in out
    assert "divides by zero" in err
    assert "--apply" in err
    assert stats.read_text() == original
    assert not stats.with_name("stats.py.orig").exists()
    assert "ZeroDivisionError: division by zero" in user_message(emu)


def test_fix_apply_round_trip(
    code_helper: ModuleType,
    stats: Path,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    original = stats.read_bytes()
    stats.chmod(0o640)
    argv = ["fix", str(stats), "--error", "-", "--apply"]
    fix = "`mean` divides by zero on an empty list (L8).\n\n```python\n" + FIXED_STATS + "```\n"
    with emu.replying("code", fix) as scripted:  # the model's answer, as an app's test stubs it
        assert code_helper.main(argv, client=client, stdin=io.StringIO("ZeroDivisionError")) == 0
    assert scripted.used == 1
    assert stats.read_text() == FIXED_STATS
    assert stats.with_name("stats.py.orig").read_bytes() == original
    assert stats.stat().st_mode & 0o777 == 0o640
    assert "updated" in capsys.readouterr().err
    assert sorted(p.name for p in stats.parent.iterdir()) == ["stats.py", "stats.py.orig"]

    # A second --apply would clobber the backup: refused before asking, unless --force.
    assert code_helper.main(argv, client=client, stdin=io.StringIO("again")) == 1
    assert len(emu.requests) == 1


def test_fix_apply_keeps_a_missing_final_newline(
    code_helper: ModuleType,
    tmp_path: Path,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "tool.sh"
    path.write_text("echo $1\nrm -rf $DIR/")
    reply(emu, answer_with('echo "$1"\nrm -rf "${DIR:?}/"\n', "bash"))
    assert code_helper.main(["fix", str(path), "--error", "x", "--apply"], client=client) == 0
    assert path.read_text() == 'echo "$1"\nrm -rf "${DIR:?}/"'
    assert "\\ No newline at end of file" in capsys.readouterr().out


def test_fix_apply_refuses_when_the_file_changed_meanwhile(
    code_helper: ModuleType, stats: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited = stats.read_text() + "# edited while the model was thinking\n"

    def handler(request: httpx.Request) -> httpx.Response:
        stats.write_text(edited)  # someone saves the file before the answer arrives
        return httpx.Response(200, json=completion(answer_with(FIXED_STATS)))

    client = AzureAIClient(
        endpoint="https://t.openai.azure.com",
        credential="k",
        deployments={"code": "gpt-4.1"},
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    with client:
        argv = ["fix", str(stats), "--error", "boom", "--apply"]
        assert code_helper.main(argv, client=client) == 1
    assert "changed since it was read" in capsys.readouterr().err
    assert stats.read_text() == edited
    assert not stats.with_name("stats.py.orig").exists()


def test_fix_with_no_usable_code_writes_nothing(
    code_helper: ModuleType,
    stats: Path,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    original = stats.read_text()
    argv = ["fix", str(stats), "--error", "ZeroDivisionError", "--apply"]
    assert code_helper.main(argv, client=client) == 1  # prose only: --apply wrote nothing
    out, err = capsys.readouterr()
    assert out == ""
    assert "no usable fix" in err
    assert "[emulated gpt-4.1]" in err
    assert stats.read_text() == original
    assert not stats.with_name("stats.py.orig").exists()


def test_fix_with_the_file_unchanged_says_so(
    code_helper: ModuleType,
    stats: Path,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reply(emu, answer_with(stats.read_text().rstrip("\n")))
    assert code_helper.main(["fix", str(stats), "--error", "x", "--apply"], client=client) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "no change proposed" in err


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("Use this:\n```python\nx = 1\n```\n", "x = 1\n"),
        ("```diff\n-x\n+y\n```\nThen:\n```py\nfull = True\n```", "full = True\n"),
        ("````python\ns = '```'\n````", "s = '```'\n"),
        ("```python\nshort\n```\n```python\nthe longer one\n```", "the longer one\n"),
        ("No code here.", None),
        ("```python\ncut off mid-way", None),
    ],
)
def test_split_answer_finds_the_code(
    code_helper: ModuleType, answer: str, expected: str | None
) -> None:
    assert code_helper.split_answer(answer, "python")[1] == expected


def test_apply_patch_rejects_a_diff_that_does_not_match(code_helper: ModuleType) -> None:
    patch = ["--- a/x\n", "+++ b/x\n", "@@ -1 +1 @@\n", "-old\n", "+new\n"]
    assert code_helper.apply_patch("old\n", patch) == "new\n"
    with pytest.raises(ValueError, match="does not match"):
        code_helper.apply_patch("other\n", patch)


def test_falls_back_to_chat_when_there_is_no_code_deployment(
    code_helper: ModuleType, stats: Path, emu: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    with AzureAIClient(
        endpoint=emu.endpoint,
        credential=emu.api_key,
        deployments={"chat": "gpt-4o-mini"},
        http_client=httpx.Client(transport=emu.transport()),
    ) as chat_only:
        assert code_helper.main(["explain", f"{stats}:1-3"], client=chat_only) == 0
    assert capsys.readouterr().err.count("using 'chat'") == 1
    assert emu.requests[-1].deployment == "gpt-4o-mini"


def test_explicit_model_wins(
    code_helper: ModuleType, stats: Path, client: AzureAIClient, emu: Emulator
) -> None:
    assert code_helper.main(["review", str(stats), "--model", "chat"], client=client) == 0
    assert emu.requests[-1].deployment == "gpt-4o-mini"


def test_content_filter_exits_3(
    code_helper: ModuleType,
    tmp_path: Path,
    client: AzureAIClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("This mentions the forbidden-word.\n")
    assert code_helper.main(["explain", str(path)], client=client) == 3
    assert "content filter" in capsys.readouterr().err


def test_throttled_for_a_day_exits_4_without_waiting(
    code_helper: ModuleType, stats: Path, client: AzureAIClient, emu: Emulator, clock: FakeClock
) -> None:
    emu.script("gpt-4.1", Fault.throttle(retry_after=86400))
    assert code_helper.main(["review", str(stats)], client=client) == 4
    assert clock.slept == []


def test_wrong_key_exits_5(
    code_helper: ModuleType,
    stats: Path,
    emu: Emulator,
    clock: FakeClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with AzureAIClient.for_emulator(
        emu, credential="wrong-key", clock=clock, sleep=clock.sleep
    ) as bad:
        assert code_helper.main(["review", str(stats)], client=bad) == 5
    assert "settings" in capsys.readouterr().err


def test_without_a_client_it_falls_back_to_the_emulator_loudly(
    code_helper: ModuleType,
    stats: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in list(os.environ):
        if name.startswith(("AZURE_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no .env here
    assert code_helper.main(["explain", f"{stats}:1-2"]) == 0
    out, err = capsys.readouterr()
    assert "local emulator" in err
    assert out.startswith("[emulated gpt-4.1]")


def test_no_command_explains_the_top_of_its_own_file(
    code_helper: ModuleType,
    client: AzureAIClient,
    emu: Emulator,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert code_helper.main([], client=client) == 0
    assert "code_helper.py" in user_message(emu)
    assert "no command given" in capsys.readouterr().err


def test_tests_out_that_writes_nothing_exits_1(
    code_helper: ModuleType, stats: Path, tmp_path: Path, client: AzureAIClient, emu: Emulator
) -> None:
    out = tmp_path / "test_stats.py"
    assert code_helper.main(["tests", str(stats), "--out", str(out)], client=client) == 1
    assert not out.exists()  # the emulator answered in prose: no code block, nothing written


def test_an_empty_file_is_refused_before_any_request(
    code_helper: ModuleType, tmp_path: Path, client: AzureAIClient, emu: Emulator
) -> None:
    empty = tmp_path / "empty.py"
    empty.write_text("  \n")
    for argv in (["explain", str(empty)], ["review", str(empty)], ["tests", str(empty)]):
        assert code_helper.main(argv, client=client) == 2
    assert emu.requests == []


def test_a_filter_cut_mid_stream_starts_its_message_on_a_new_line(
    code_helper: ModuleType,
    stats: Path,
    client: AzureAIClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = stats.with_name("cut.py")  # the emulator's trigger for a completion cut part-way
    source.write_text("# emulator-completion-block\nx = 1\n")
    assert code_helper.main(["explain", str(source)], client=client) == 3
    out, err = capsys.readouterr()
    assert out.endswith("\n")  # the partial answer's line is closed before the message
    assert "\ncode_helper: error: Azure's content filter blocked the completion" in "\n" + err


def test_a_blocked_prompt_prints_no_usage_line(
    code_helper: ModuleType,
    tmp_path: Path,
    client: AzureAIClient,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = tmp_path / "bad.py"
    source.write_text("x = 'forbidden-word'\n")
    assert code_helper.main(["explain", str(source)], client=client) == 3
    err = capsys.readouterr().err
    assert "blocked the prompt" in err
    assert "0 calls" not in err
    assert "usage:" not in err
