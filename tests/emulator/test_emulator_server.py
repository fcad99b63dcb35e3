"""The loopback server (uvicorn on 127.0.0.1) and the ``azure-ai-kit emulator`` command."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from azure_ai_kit import cli
from azure_ai_kit.emulator import Emulator, Fault

from .conftest import KEY, USER, chat_path


def test_serve_with_plain_openai_and_httpx(emu: Emulator) -> None:
    with emu.serve(port=0) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        with httpx.Client() as http_client:
            client = openai.AzureOpenAI(
                azure_endpoint=base_url,
                api_key="emulator-key",
                api_version="2024-10-21",
                http_client=http_client,
                max_retries=0,
            )
            r = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
            assert r.choices[0].message.content
            stream = client.chat.completions.create(
                model="gpt-4o-mini",
                messages=USER,
                stream=True,
                stream_options={"include_usage": True},
            )
            text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
            assert text == r.choices[0].message.content
            img = client.images.generate(model="dall-e-3", prompt="a fox")
            assert img.data
            url = img.data[0].url or ""
            assert url.startswith(base_url + "/emulator/images/")
            fetched = http_client.get(url)
            assert fetched.content[:8] == b"\x89PNG\r\n\x1a\n"
            v1 = openai.OpenAI(
                base_url=base_url + "/openai/v1/",
                api_key="emulator-key",
                http_client=http_client,
                max_retries=0,
            )
            emb = v1.embeddings.create(model="text-embedding-3-small", input="x", dimensions=4)
            assert len(emb.data[0].embedding) == 4
            denied = http_client.post(base_url + chat_path(), json={"messages": USER})
            assert denied.status_code == 401
            assert denied.headers["x-ms-region"] == "East US 2"
    with pytest.raises(httpx.ConnectError), httpx.Client() as http_client:
        http_client.post(base_url + chat_path(), json={"messages": USER}, headers=KEY)


def test_serve_drop_fault_resets_the_connection(emu: Emulator) -> None:
    emu.script("gpt-4o-mini", Fault.drop())
    with emu.serve() as base_url, httpx.Client() as http_client:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            http_client.post(base_url + chat_path(), json={"messages": USER}, headers=KEY)
        ok = http_client.post(base_url + chat_path(), json={"messages": USER}, headers=KEY)
        assert ok.status_code == 200


def test_serve_refuses_non_loopback(emu: Emulator) -> None:
    from azure_ai_kit.emulator._server import serve

    with pytest.raises(ValueError, match="loopback"), serve(emu, host="0.0.0.0"):
        pass


def test_cli_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["emulator", "--help"]) == 0
    assert "--allow-remote" in capsys.readouterr().out
    assert cli.main([]) == 2
    assert cli.main(["no-such-command"]) == 2


def test_cli_refuses_remote_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["emulator", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "--allow-remote" in capsys.readouterr().err


def test_cli_prints_endpoint_and_serves(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from azure_ai_kit.emulator import _server

    served: list[Any] = []
    monkeypatch.setattr(
        _server, "run", lambda emulator, sock: served.append((emulator, sock.getsockname()))
    )
    assert cli.main(["emulator", "--port", "0"]) == 0
    out = capsys.readouterr().out
    ((_, (host, port)),) = served
    assert host == "127.0.0.1"
    assert f"export AZURE_OPENAI_ENDPOINT=http://127.0.0.1:{port}" in out
    assert "export AZURE_OPENAI_API_KEY=emulator-key" in out
    assert "gpt-4o-mini" in out


def test_cli_with_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from azure_ai_kit.emulator import _server

    config = tmp_path / "emulator.toml"
    config.write_text(
        'api_key = "local-key"\n[[deployments]]\nname = "chat"\nkind = "chat"\nmodel = "gpt-4o"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(_server, "run", lambda emulator, sock: None)
    assert cli.main(["emulator", "--port", "0", "--config", str(config)]) == 0
    assert "API key: local-key" in capsys.readouterr().out
    assert cli.main(["emulator", "--port", "0", "--config", str(tmp_path / "missing.toml")]) == 2


def test_from_toml(tmp_path: Path) -> None:
    config = tmp_path / "emulator.toml"
    config.write_text(
        """
[emulator]
api_key = "k"
tokens = ["t1"]
region = "Sweden Central"
blocked_words = ["kumquat"]

[[emulator.deployments]]
name = "chat"
kind = "chat"
model = "gpt-4o"
tpm = 100000
rpm = 600

[[emulator.deployments]]
name = "img"
kind = "image"
model = "gpt-image-1"
""",
        encoding="utf-8",
    )
    emu = Emulator.from_toml(config)
    assert sorted(emu.deployments) == ["chat", "img"]
    assert emu.deployments["chat"].tpm == 100_000
    with httpx.Client(transport=emu.transport(), base_url=emu.endpoint) as http:
        r = http.post(
            chat_path("chat"), json={"messages": USER}, headers={"authorization": "Bearer t1"}
        )
        assert r.status_code == 200
        assert r.headers["x-ms-region"] == "Sweden Central"
        assert r.json()["model"] == "gpt-4o-2024-11-20"
        body = {"messages": [{"role": "user", "content": "kumquat"}]}
        assert http.post(chat_path("chat"), json=body, headers={"api-key": "k"}).status_code == 400
        img = http.post(
            "/openai/deployments/img/images/generations?api-version=2025-04-01-preview",
            json={"prompt": "x"},
            headers={"api-key": "k"},
        )
        assert base64.b64decode(img.json()["data"][0]["b64_json"])[:4] == b"\x89PNG"


def test_from_toml_rejects_unknown_keys(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('apikey = "x"\n[[deployments]]\nname = "a"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown keys apikey"):
        Emulator.from_toml(config)
