"""`azure-ai-kit new`, `--version` and the emulator command's first hour; the starters from a
built wheel, installed in a fresh venv (no repository on the path), each run on the emulator."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import sysconfig
import threading
import venv
from pathlib import Path
from typing import Any

import pytest

from azure_ai_kit import __version__
from azure_ai_kit._new import TEMPLATES
from azure_ai_kit.cli import main

ROOT = Path(__file__).resolve().parents[2]
CODE_LINES_MAX = 50
# What a starter prints on the emulator when it did its job, beyond "something".
SHOWS = {
    "structured": "  email: emulated email\n",  # result.parsed is a Contact
    "responses": "(same deployment: True)",  # the follow-up stayed on its deployment
}


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"azure-ai-kit {__version__}"


def test_new_list_names_every_starter(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "--list"]) == 0
    names = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert names == list(TEMPLATES)


def test_new_writes_app_env_example_and_readme(tmp_path: Path) -> None:
    assert main(["new", "chat", str(tmp_path / "bot")]) == 0
    assert sorted(p.name for p in (tmp_path / "bot").iterdir()) == [
        ".env.example",
        "README.md",
        "app.py",
    ]
    assert "AZURE_OPENAI_CHAT_DEPLOYMENT=" in (tmp_path / "bot" / ".env.example").read_text()
    assert "python app.py" in (tmp_path / "bot" / "README.md").read_text()


def test_new_refuses_a_non_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mine.txt").write_text("keep me")
    assert main(["new", "chat", str(tmp_path)]) == 1
    assert "not an empty folder; nothing written" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["mine.txt"]


def test_new_unknown_name_lists_the_known_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "chta", str(tmp_path / "x")]) == 2
    assert "unknown template 'chta'; known: chat, streaming" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize(
    "name", [n for n in TEMPLATES if not TEMPLATES[n].summary.startswith("sample")]
)
def test_each_concept_starter_is_short_and_uses_from_env_once(name: str) -> None:
    text = (ROOT / "azure_ai_kit" / "templates" / f"{name}.py").read_text()
    body = text.split('"""', 2)[2]  # after the module docstring
    code = [line for line in body.splitlines() if line.strip() and not line.strip().startswith("#")]
    assert len(code) <= CODE_LINES_MAX
    assert text.count("AzureAIClient.from_env(") == 1


def test_emulator_without_uvicorn_says_so_before_any_banner(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)
    assert main(["emulator", "--port", "0"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "pip install 'azure-ai-kit[server]'" in err
    assert "Traceback" not in err


def test_the_emulator_banners_export_lines_make_doctor_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`azure-ai-kit emulator` in one shell, its export lines pasted into another, `doctor`."""
    pytest.importorskip("uvicorn")
    from azure_ai_kit.emulator import _server

    servers: list[Any] = []  # the real server the command runs, to stop it at the end
    make_server = _server._server

    banner_printed = threading.Event()  # the server is made after the banner is printed

    def recorded(emulator: Any) -> Any:
        servers.append(make_server(emulator))
        banner_printed.set()
        return servers[-1]

    monkeypatch.setattr(_server, "_server", recorded)
    exit_codes: list[int] = []
    command = threading.Thread(
        target=lambda: exit_codes.append(main(["emulator", "--port", "0"])), daemon=True
    )
    command.start()
    try:
        # The socket listens before the banner: requests wait in its backlog until uvicorn runs.
        assert banner_printed.wait(timeout=10), "the emulator command did not start a server"
        banner = capsys.readouterr().out
        exports = dict(
            shlex.split(line)[1].split("=", 1)  # as a shell reads `export NAME=value`
            for line in banner.splitlines()
            if line.startswith("export ")
        )
        for name in list(os.environ):  # a fresh shell: only what was pasted
            if name.startswith(("AZURE_", "OPENAI_")):
                monkeypatch.delenv(name)
        for name, value in exports.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)  # no .env here
        assert main(["doctor", "--json", "--timeout", "5"]) == 0
        report = json.loads(capsys.readouterr().out)
    finally:
        for server in servers:
            server.should_exit = True
        command.join(timeout=10)
    assert exit_codes == [0]
    assert report["ok"] is True, report
    endpoint = exports["AZURE_OPENAI_ENDPOINT"]
    assert endpoint.startswith("http://127.0.0.1:")
    checked = {c["deployment"]: (c["ok"], c["endpoint"]) for c in report["checks"]}
    assert checked == {  # every alias the banner exported, probed on the running server
        exports[f"AZURE_OPENAI_{alias}_DEPLOYMENT"]: (True, endpoint)
        for alias in ("CHAT", "CODE", "IMAGE", "EMBEDDING")
    }
    assert "emulator-key" not in json.dumps(report)  # the pasted key stays masked


def _fresh_venv_with_the_wheel(tmp_path: Path) -> Path:
    """Build the wheel, install it into a new venv; the venv sees this venv's dependencies
    through a .pth line (not processed recursively, so an editable install stays invisible)."""
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", wheels, ROOT],
        check=True,
        capture_output=True,
    )
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    wheel = next(wheels.glob("azure_ai_kit-*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps",
         "--no-index", wheel],
        check=True,
        capture_output=True,
    )  # fmt: skip
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env_dir


@pytest.mark.skipif(sys.platform == "win32", reason="venv layout and pty are POSIX here")
def test_every_starter_runs_from_an_installed_wheel_on_the_emulator(tmp_path: Path) -> None:
    env_dir = _fresh_venv_with_the_wheel(tmp_path)
    python, cli = env_dir / "bin" / "python", env_dir / "bin" / "azure-ai-kit"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "OPENAI_"))}
    env.pop("PYTHONPATH", None)
    env["AZURE_AI_KIT_EMULATOR"] = "1"
    where = subprocess.run(
        [python, "-c", "import azure_ai_kit; print(azure_ai_kit.__file__)"],
        cwd=tmp_path, env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    assert where.startswith(str(env_dir)), where  # the wheel, not the repository

    listed = subprocess.run([cli, "new", "--list"], env=env, capture_output=True, text=True)
    assert listed.returncode == 0
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert names == list(TEMPLATES)

    # A terminal on stdin, as for a person typing `python app.py` (the summariser reads a pipe).
    primary, terminal = os.openpty()
    running = {}
    for name in names:
        folder = tmp_path / "starters" / name
        made = subprocess.run([cli, "new", name, folder], env=env, capture_output=True)
        assert made.returncode == 0, made.stderr
        running[name] = subprocess.Popen(
            [python, "app.py"], cwd=folder, env=env, stdin=terminal,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
    try:
        for name, process in running.items():
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, f"{name}: {out}\n{err}"
            assert out.strip(), f"{name} printed nothing"
            assert SHOWS.get(name, "") in out, f"{name}: {out}"
    finally:
        os.close(primary)
        os.close(terminal)
