"""samples/image_prompt.py on the in-process emulator: no network, no real sleeps."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from azure_ai_kit import AzureAIClient, Deployment
from azure_ai_kit.emulator import Emulator, Fault

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "image_prompt.py"
IDEA = "a fox reading a newspaper"
STEM = "a-fox-reading-a-newspaper-1"


@pytest.fixture
def emu() -> Emulator:
    return Emulator.default()


@pytest.fixture
def client(emu: Emulator) -> Iterator[AzureAIClient]:
    with AzureAIClient.for_emulator(emu, sleep=lambda s: None) as c:
        yield c


@pytest.fixture
def run(
    image_prompt: ModuleType,
    client: AzureAIClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., tuple[int, str, str]]:
    """Run the sample with `--out tmp_path/out`; returns (exit code, stdout, stderr)."""

    def _run(*argv: str, idea: str = IDEA, with_client: Any = client) -> tuple[int, str, str]:
        code = image_prompt.main([idea, "--out", str(tmp_path / "out"), *argv], client=with_client)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return _run


def files(tmp_path: Path) -> list[str]:
    out = tmp_path / "out"
    return sorted(p.name for p in out.iterdir()) if out.exists() else []


def test_saves_png_and_sidecar_and_prints_revised_prompt(
    run: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    code, out, err = run("--quality", "hd", "--style", "natural", "--no-enhance")

    assert code == 0, err
    png = tmp_path / "out" / f"{STEM}.png"
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    if sys.platform != "win32":
        assert stat.S_IMODE(png.stat().st_mode) == 0o644
    meta = json.loads((tmp_path / "out" / f"{STEM}.json").read_text(encoding="utf-8"))
    revised = f"{IDEA} (emulated natural hd rendering, 1024x1024)"
    assert meta["idea"] == IDEA
    assert meta["prompt"] == IDEA
    assert meta["revised_prompt"] == revised
    assert meta["deployment"] == "dall-e-3"
    assert meta["family"] == "dall-e-3"
    assert (meta["size"], meta["quality"], meta["style"]) == ("1024x1024", "hd", "natural")
    assert meta["file"] == f"{STEM}.png"
    assert datetime.fromisoformat(meta["created"]).tzinfo is not None
    assert meta["content_filter"]["prompt"]["jailbreak"] == {"filtered": False, "detected": False}
    assert meta["content_filter"]["image"]["violence"] == {"filtered": False, "severity": "safe"}
    assert str(png) in out
    assert f"revised prompt: {revised}" in out
    assert files(tmp_path) == [f"{STEM}.json", f"{STEM}.png"]


def test_no_enhance_sends_exactly_the_idea(
    run: Callable[..., tuple[int, str, str]], emu: Emulator
) -> None:
    assert run("--no-enhance")[0] == 0

    [request] = emu.requests
    assert request.operation == "image"
    assert request.body["prompt"] == IDEA


def test_enhance_asks_the_chat_model_first(
    image_prompt: ModuleType,
    run: Callable[..., tuple[int, str, str]],
    emu: Emulator,
    tmp_path: Path,
) -> None:
    code, out, _ = run()

    assert code == 0
    chat, image = emu.requests
    assert (chat.operation, image.operation) == ("chat", "image")
    assert chat.body["messages"][0] == {"role": "system", "content": image_prompt.ART_DIRECTOR}
    assert chat.body["messages"][1]["content"] == IDEA
    sent = image.body["prompt"]
    assert sent != IDEA
    assert IDEA in sent
    assert f"Prompt: {sent}" in out
    meta = json.loads((tmp_path / "out" / f"{STEM}.json").read_text(encoding="utf-8"))
    assert (meta["idea"], meta["prompt"]) == (IDEA, sent)


def test_gpt_image_1_writes_jpeg(
    run: Callable[..., tuple[int, str, str]], emu: Emulator, tmp_path: Path
) -> None:
    code, out, err = run("--model", "gpt-image-1", "--format", "jpeg", "--n", "2", "--no-enhance")

    assert code == 0, err
    stems = [STEM, STEM.replace("-1", "-2")]
    assert files(tmp_path) == sorted(f"{s}{ext}" for s in stems for ext in (".jpg", ".json"))
    for s in stems:
        assert (tmp_path / "out" / f"{s}.jpg").read_bytes().startswith(b"\xff\xd8")
        meta = json.loads((tmp_path / "out" / f"{s}.json").read_text(encoding="utf-8"))
        assert (meta["family"], meta["format"], meta["style"]) == ("gpt-image-1", "jpeg", None)
        assert meta["quality"] == "medium"
        assert meta["revised_prompt"] is None
    body = emu.requests[-1].body
    assert (body["n"], body["output_format"], body["quality"]) == (2, "jpeg", "medium")
    assert "style" not in body
    assert "response_format" not in body
    assert "revised prompt" not in out


@pytest.mark.parametrize(
    ("model", "family"),
    [("image", "dall-e-3"), ("gpt-image-1", "gpt-image-1"),
     ("dall-e-3", "dall-e-3")],
)  # fmt: skip
def test_family_is_inferred_from_the_deployment(
    image_prompt: ModuleType, client: AzureAIClient, model: str, family: str
) -> None:
    deployment = image_prompt.find_deployment(client, model)
    assert deployment is not None
    assert image_prompt.infer_family(deployment) == family


def test_family_prefers_the_base_model_and_defaults_to_dall_e_3(
    image_prompt: ModuleType, emu: Emulator
) -> None:
    pictures = Deployment("pictures", endpoint=emu.endpoint, model="gpt-image-1")
    assert image_prompt.infer_family(pictures) == "gpt-image-1"
    assert image_prompt.infer_family(Deployment("pictures", endpoint=emu.endpoint)) == "dall-e-3"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--n", "2"], "dall-e-3 makes 1 image per request; got --n 2"),
        (["--size", "1536x1024"], "choose one of: 1024x1024, 1792x1024, 1024x1792"),
        (["--quality", "high"], "choose one of: standard, hd"),
        (["--format", "jpeg"], "--format jpeg; choose one of: png"),
        (["--model", "gpt-image-1", "--style", "vivid"], "gpt-image-1 does not take --style"),
        (["--model", "gpt-image-1", "--quality", "hd"], "choose one of: low, medium, high"),
        (["--model", "gpt-image-1", "--n", "11"], "gpt-image-1 makes 1 to 10 images"),
        (["--family", "gpt-image-1", "--size", "1792x1024"], "1024x1024, 1024x1536, 1536x1024"),
        (["--n", "two"], "invalid int value"),
    ],
)
def test_invalid_options_are_usage_errors_and_send_nothing(
    run: Callable[..., tuple[int, str, str]],
    emu: Emulator,
    tmp_path: Path,
    argv: list[str],
    message: str,
) -> None:
    code, _, err = run(*argv)

    assert code == 2
    assert message in err
    assert emu.requests == []
    assert not (tmp_path / "out").exists()


def test_existing_file_is_kept_without_force_and_replaced_with_it(
    run: Callable[..., tuple[int, str, str]], emu: Emulator, tmp_path: Path
) -> None:
    png = tmp_path / "out" / f"{STEM}.png"
    png.parent.mkdir()
    png.write_bytes(b"original")

    code, _, err = run("--no-enhance")
    assert code == 1
    assert "--force" in err
    assert png.read_bytes() == b"original"
    assert emu.requests == []  # checked before paying for a generation

    code, _, err = run("--no-enhance", "--force")
    assert code == 0, err
    assert png.read_bytes().startswith(b"\x89PNG")


def test_failure_midway_removes_everything_this_run_wrote(
    image_prompt: ModuleType,
    run: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = image_prompt.write_atomic
    calls: list[Path] = []

    def flaky(path: Path, data: bytes, **kwargs: Any) -> Path:
        calls.append(path)
        if len(calls) == 4:  # image 1, sidecar 1, image 2, then sidecar 2 fails
            raise OSError(28, "No space left on device")
        return real(path, data, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(image_prompt, "write_atomic", flaky)
    code, out, err = run("--model", "gpt-image-1", "--n", "2", "--no-enhance")

    assert code == 1
    assert "No space left on device" in err
    assert [p.suffix for p in calls] == [".png", ".json", ".png", ".json"]
    assert files(tmp_path) == []  # no images, sidecars or temp files left
    assert out == ""


@pytest.mark.parametrize("enhance", ["--no-enhance", "--enhance"])
def test_blocked_prompt_exits_3_and_names_the_categories(
    run: Callable[..., tuple[int, str, str]], tmp_path: Path, enhance: str
) -> None:
    code, out, err = run(enhance, idea="a fox with a forbidden-word")

    assert code == 3
    assert "content filter" in err
    assert "violence" in err
    assert out == ""
    assert files(tmp_path) == []


def test_throttled_beyond_the_budget_exits_4(
    run: Callable[..., tuple[int, str, str]], emu: Emulator, tmp_path: Path
) -> None:
    emu.script("dall-e-3", Fault.throttle(retry_after=86400))

    code, _, err = run("--no-enhance")

    assert code == 4
    assert "throttled; try again in 300s" in err
    assert files(tmp_path) == []


def test_server_errors_beyond_the_budget_exit_4(
    run: Callable[..., tuple[int, str, str]], emu: Emulator
) -> None:
    emu.script("dall-e-3", Fault.server_error(), times=50)

    assert run("--no-enhance")[0] == 4


def test_a_prompt_over_the_model_limit_is_refused_before_any_request(
    run: Callable[..., tuple[int, str, str]], emu: Emulator, tmp_path: Path
) -> None:
    code, _, err = run("--no-enhance", idea="a fox " * 700)  # dall-e-3 takes 4,000 characters

    assert code == 2
    assert "dall-e-3 takes prompts of up to 4,000 characters; the idea has 4,200" in err
    assert emu.requests == []
    assert run("--no-enhance", idea="a fox " * 600)[0] == 0  # 3,600 characters is fine


def test_out_that_is_a_file_is_a_usage_error_before_any_request(
    run: Callable[..., tuple[int, str, str]], emu: Emulator, tmp_path: Path
) -> None:
    (tmp_path / "out").write_text("not a folder")

    code, _, err = run()

    assert code == 2
    assert "is a file; give a folder" in err
    assert emu.requests == []


def test_without_an_idea_it_draws_the_example(
    image_prompt: ModuleType,
    client: AzureAIClient,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert image_prompt.main(["--out", str(tmp_path), "--no-enhance"], client=client) == 0
    assert "no idea given" in capsys.readouterr().err
    assert (tmp_path / "a-watercolour-fox-reading-a-newspaper-1.png").exists()


def test_request_azure_rejects_exits_1_not_4(
    run: Callable[..., tuple[int, str, str]], emu: Emulator, tmp_path: Path
) -> None:
    body = {"error": {"code": "invalid_request_error", "message": "Invalid prompt."}}
    emu.script("dall-e-3", Fault(status=400, body=body))

    code, _, err = run("--no-enhance")

    assert code == 1
    assert "Azure rejected the request" in err
    assert files(tmp_path) == []


def test_wrong_key_exits_5(run: Callable[..., tuple[int, str, str]], emu: Emulator) -> None:
    with AzureAIClient.for_emulator(emu, credential="wrong", sleep=lambda s: None) as bad:
        code, _, err = run("--no-enhance", with_client=bad)

    assert code == 5
    assert "refused the credential" in err


def test_unknown_deployment_exits_5_before_any_request(
    run: Callable[..., tuple[int, str, str]], emu: Emulator
) -> None:
    code, _, err = run("--model", "midjourney")

    assert code == 5
    assert "no deployment matches --model midjourney" in err
    assert emu.requests == []


def test_deployment_gone_on_azure_exits_5(
    run: Callable[..., tuple[int, str, str]], emu: Emulator
) -> None:
    emu.script("dall-e-3", Fault(status=404))

    code, _, err = run("--no-enhance")

    assert code == 5
    assert "DeploymentNotFound" in err or "does not exist" in err


def test_help(image_prompt: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert image_prompt.main(["--help"]) == 0

    out = capsys.readouterr().out
    assert "usage:" in out
    assert "examples:" in out
    assert "--no-enhance" in out


def test_falls_back_to_the_emulator_without_an_endpoint(
    image_prompt: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name in ("AZURE_OPENAI_ENDPOINT", "AZURE_AI_KIT_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env here

    code = image_prompt.main(["a watercolour fox", "--no-enhance"])

    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "using the local emulator" in captured.err
    assert (tmp_path / "images" / "a-watercolour-fox-1.png").read_bytes().startswith(b"\x89PNG")
