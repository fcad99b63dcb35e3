"""`azure-ai-kit doctor`: driven against the in-process emulator (plus one loopback run).

No network: Azure is the emulator, DNS is a fake resolver, time is a fake clock.
"""

from __future__ import annotations

import io
import json
import socket
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from azure_ai_kit import Deployment, cli
from azure_ai_kit._auth import StaticToken
from azure_ai_kit._doctor import (
    DoctorConfig,
    closest_name,
    load_env_config,
    probe_kind,
    render_table,
    run_doctor,
)
from azure_ai_kit.emulator import Emulator, Fault
from azure_ai_kit.emulator import client_config as emulator_config
from azure_ai_kit.emulator._errors import chat_content_filter, filter_results

KEY = "emulator-key"
Config = DoctorConfig | Callable[[], DoctorConfig]
DEPLOYMENTS = {"chat": "gpt-4o-mini", "code": "gpt-4.1", "embedding": "text-embedding-3-small"}


class StepClock:
    """Advances 12 ms per reading, so every probe takes exactly 12 ms."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 0.012
        return self.now


class Resolver:
    """A fake `socket.getaddrinfo` that records hosts and fails (or not) on demand."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.hosts: list[str] = []

    def __call__(self, host: str, port: int) -> object:
        self.hosts.append(host)
        if self.fail:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("203.0.113.7", port))]


class Credential:
    """A `TokenCredential` stand-in: returns `token`, or raises when `token` is None."""

    def __init__(self, token: str | None) -> None:
        self.token = token
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.calls += 1
        if self.token is None:
            raise RuntimeError(
                "DefaultAzureCredential failed to retrieve a token from the included "
                "credentials.\nAttempted credentials:\n\tEnvironmentCredential: …"
            )
        return SimpleNamespace(token=self.token, expires_on=time.time() + 3600)


def doctor(config: Config, *, as_json: bool = False, **kwargs: Any) -> tuple[int, str]:
    out = io.StringIO()
    options: dict[str, Any] = {"resolver": Resolver(fail=False), "clock": StepClock()}
    code = run_doctor(config, out=out, json_output=as_json, **{**options, **kwargs})
    return code, out.getvalue()


def emulated(emu: Emulator, **overrides: Any) -> DoctorConfig:
    """The kit's emulator configuration (every default deployment), with overrides."""
    return DoctorConfig({**emulator_config(emu, asynchronous=False), **overrides}, "test", True)


def mapped(emu: Emulator, deployments: dict[str, str], **overrides: Any) -> DoctorConfig:
    """A from_env()-shaped configuration (endpoint + alias mapping) served by `emu`."""
    kwargs = {
        "endpoint": emu.endpoint,
        "credential": KEY,
        "deployments": deployments,
        "http_client": httpx.Client(transport=emu.transport()),
        **overrides,
    }
    return DoctorConfig(kwargs, "test", close_http=True)


@pytest.fixture
def emu() -> Emulator:
    return Emulator.default()


# --- healthy ---------------------------------------------------------------------------------
def test_healthy_emulator_lists_every_deployment_with_region_and_ok(emu: Emulator) -> None:
    code, text = doctor(emulated(emu))
    assert code == 0
    for name in ("gpt-4o-mini", "gpt-4.1", "dall-e-3", "gpt-image-1", "text-embedding-3-small"):
        row = next(line for line in text.splitlines() if line.startswith(name + " "))
        assert "East US 2" in row
        assert " ok " in row
        assert "12 ms" in row
    assert "All 6 deployments OK." in text
    assert "API key ****-key" in text
    assert KEY not in text


def test_image_probe_proves_the_deployment_without_generating_an_image(emu: Emulator) -> None:
    code, _ = doctor(emulated(emu))
    assert code == 0
    images = [r for r in emu.requests if r.operation == "image"]
    assert {r.deployment for r in images} == {"dall-e-3", "gpt-image-1"}
    assert all(r.status == 400 and r.auth == "key" for r in images)  # after auth and lookup


def test_json_report_parses_and_holds_no_secret(emu: Emulator) -> None:
    code, text = doctor(emulated(emu), as_json=True)
    doc = json.loads(text)
    assert code == 0
    assert doc["ok"] is True
    assert doc["exit_code"] == 0
    assert doc["config"]["auth"] == [{"kind": "key", "auth": "API key ****-key"}]
    assert doc["config"]["endpoints"] == [emu.endpoint]
    checks = {c["deployment"]: c for c in doc["checks"]}
    assert checks["gpt-4o-mini"]["region"] == "East US 2"
    assert checks["gpt-4o-mini"]["remaining_tokens"] > 0
    assert checks["gpt-image-1"]["kind"] == "image"  # no alias: guessed from the model name
    assert checks["gpt-image-1"]["api"] == "2025-04-01-preview"
    assert all(c["ok"] and c["status"] == "ok" for c in doc["checks"])
    assert KEY not in text


# --- credentials -----------------------------------------------------------------------------
def test_wrong_key_fails_and_the_fix_names_the_key(emu: Emulator) -> None:
    wrong = "0123456789abcdef0123456789abcdef"
    code, text = doctor(mapped(emu, DEPLOYMENTS, credential=wrong))
    assert code == 1
    assert "AuthenticationError" in text
    assert text.count("fix: the API key was refused") == 1  # one fix for every deployment
    assert "AZURE_OPENAI_API_KEY" in text
    assert wrong not in text
    assert "****cdef" in text


def test_entra_id_without_a_token_hints_az_login_and_skips_the_calls(emu: Emulator) -> None:
    credential = Credential(token=None)
    code, text = doctor(mapped(emu, DEPLOYMENTS, credential=credential))
    assert code == 1
    assert "Entra ID via Credential" in text
    assert "token       FAILED: RuntimeError: DefaultAzureCredential failed" in text
    assert "az login" in text
    assert "skipped" in text
    assert emu.requests == []  # no call is made without a token


def test_entra_id_token_without_the_role_hints_the_rbac_role(emu: Emulator) -> None:
    code, text = doctor(mapped(emu, {"chat": "gpt-4o-mini"}, credential=Credential("eyJhbGc")))
    assert code == 1
    assert "token       ok" in text
    assert "'Cognitive Services OpenAI User' role" in text


def test_entra_id_healthy_never_shows_the_token(emu: Emulator) -> None:
    code, text = doctor(
        mapped(emu, DEPLOYMENTS, credential=Credential("emulator-token")), as_json=True
    )
    assert code == 0
    assert "emulator-token" not in text
    assert json.loads(text)["config"]["auth"][0]["token_ok"] is True


def test_static_token_refused_suggests_it_expired(emu: Emulator) -> None:
    static = StaticToken(SecretStr("stale-static-token"))
    code, text = doctor(mapped(emu, {"chat": "gpt-4o-mini"}, credential=static))
    assert code == 1
    assert "unset it to sign in with DefaultAzureCredential" in text
    assert "stale-static-token" not in text


# --- deployments, versions, network ----------------------------------------------------------
def test_misspelt_deployment_suggests_the_closest_name(emu: Emulator) -> None:
    code, text = doctor(mapped(emu, {**DEPLOYMENTS, "chat": "gpt-4o-mnii"}), as_json=True)
    assert code == 1
    check = next(c for c in json.loads(text)["checks"] if c["deployment"] == "gpt-4o-mnii")
    assert check["status"] == "DeploymentNotFoundError"
    assert check["http_status"] == 404
    assert check["problem"] == "deployment_typo"
    assert "did you mean 'gpt-4o-mini'?" in check["fix"]
    assert "AZURE_OPENAI_CHAT_DEPLOYMENT" in check["fix"]


def test_unknown_api_version_gets_the_api_version_fix(emu: Emulator) -> None:
    code, text = doctor(mapped(emu, {"chat": "gpt-4o-mini"}, api_version="2023-01-01"))
    assert code == 1
    assert "api-version 2023-01-01 is not supported" in text
    assert "AZURE_OPENAI_API_VERSION" in text


def test_alias_pointing_at_the_wrong_kind_of_model(emu: Emulator) -> None:
    code, text = doctor(mapped(emu, {"chat": "text-embedding-3-small"}), as_json=True)
    check = json.loads(text)["checks"][0]
    assert code == 1
    assert check["problem"] == "wrong_model_kind"
    assert "AZURE_OPENAI_CHAT_DEPLOYMENT" in check["fix"]


def _unreachable(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)


def _offline_config() -> DoctorConfig:
    http = httpx.Client(transport=httpx.MockTransport(_unreachable))
    kwargs = {
        "endpoint": "https://my-resourse.openai.azure.com",
        "credential": "k" * 32,
        "deployments": {"chat": "gpt-4o-mini", "embedding": "text-embedding-3-small"},
        "http_client": http,
    }
    return DoctorConfig(kwargs, "test", close_http=True)


def test_connection_error_with_failing_dns_suggests_an_endpoint_typo() -> None:
    resolver = Resolver(fail=True)
    code, text = doctor(_offline_config(), resolver=resolver)
    assert code == 1
    assert "ServiceError" in text
    assert "cannot resolve my-resourse.openai.azure.com" in text
    assert "https://<resource>.openai.azure.com" in text
    assert resolver.hosts == ["my-resourse.openai.azure.com"]  # once per host, cached


def test_connection_error_with_working_dns_points_at_the_network() -> None:
    code, text = doctor(_offline_config(), resolver=Resolver(fail=False))
    assert code == 1
    assert "resolves but the connection failed" in text


def test_throttled_deployment_reports_retry_after_and_quota(emu: Emulator) -> None:
    emu.script("gpt-4o-mini", Fault.throttle(retry_after=6))
    code, text = doctor(emulated(emu), as_json=True)
    check = next(c for c in json.loads(text)["checks"] if c["deployment"] == "gpt-4o-mini")
    assert code == 1
    assert check["status"] == "RateLimitedError"
    assert check["retry_after"] == 6
    assert check["remaining_tokens"] == 1_000_000
    assert "retry after 6s" in check["fix"]
    assert len([r for r in emu.requests if r.deployment == "gpt-4o-mini"]) == 1  # no retry


def test_content_filter_on_ping_is_reported(emu: Emulator) -> None:
    body = chat_content_filter(filter_results(filtered="violence"))
    emu.script("gpt-4o-mini", Fault(status=400, body=body))
    code, text = doctor(mapped(emu, {"chat": "gpt-4o-mini"}))
    assert code == 1
    assert "ContentFilteredError" in text
    assert "content filter blocked the probe 'ping' (violence)" in text


# --- configuration and CLI -------------------------------------------------------------------
def test_missing_endpoint_exits_5_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the repository
    code, text = doctor(load_env_config)
    assert code == 5
    assert text.startswith("configuration error: no Azure OpenAI endpoint configured")
    assert "AZURE_OPENAI_ENDPOINT" in text
    assert "AZURE_AI_KIT_EMULATOR=1" in text


def test_cli_doctor_json_on_the_emulator(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AZURE_AI_KIT_EMULATOR", "1")
    assert cli.main(["doctor", "--json", "--timeout", "5"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert doc["config"]["source"] == "in-process emulator (AZURE_AI_KIT_EMULATOR=1)"
    assert len(doc["checks"]) == 6
    assert "local emulator" in captured.err
    assert KEY not in captured.out + captured.err


def test_cli_doctor_missing_endpoint_json(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["doctor", "--json"]) == 5
    doc = json.loads(capsys.readouterr().out)
    assert doc["exit_code"] == 5
    assert "AZURE_OPENAI_ENDPOINT" in doc["config_error"]


@pytest.mark.parametrize("argv", [["doctor", "--timeout", "0"], ["doctor", "--bogus"]])
def test_cli_doctor_usage_errors_exit_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(argv) == 2


def test_cli_emulator_subcommand_still_wired(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["emulator", "--host", "0.0.0.0"]) == 2  # refused before binding
    assert "refusing to bind" in capsys.readouterr().err


def test_loopback_emulator_server(emu: Emulator) -> None:
    with emu.serve(port=0) as base_url:
        kwargs = {"endpoint": base_url, "credential": KEY, "deployments": dict(DEPLOYMENTS)}
        code, text = doctor(DoctorConfig(kwargs, "loopback"))
    assert code == 0, text
    assert "All 3 deployments OK." in text


# --- pure helpers ----------------------------------------------------------------------------
def test_mask_secret_shows_at_most_four_characters() -> None:
    from azure_ai_kit._auth import make_auth

    assert make_auth("0123456789abcdef0123456789abcdef", asynchronous=False).masked() == "****cdef"
    assert make_auth("short-key", asynchronous=False).masked() == "****"


def test_closest_name_uses_configured_and_common_names() -> None:
    assert closest_name("gpt-4o-mnii", []) == "gpt-4o-mini"
    assert closest_name("summariser-prd", ["summariser-prod"]) == "summariser-prod"
    assert closest_name("zzzz", []) is None


def test_probe_kind_from_alias_then_model_name() -> None:
    endpoint = "https://r.openai.azure.com"
    assert probe_kind(Deployment("anything", endpoint=endpoint, aliases=("code",))) == "chat"
    assert probe_kind(Deployment("pics", endpoint=endpoint, model="dall-e-3")) == "image"
    assert probe_kind(Deployment("text-embedding-3-large", endpoint=endpoint)) == "embedding"
    assert probe_kind(Deployment("gpt-4o", endpoint=endpoint)) == "chat"


def test_render_table_aligns_columns() -> None:
    table = render_table(("A", "BB"), [("xxx", "y"), ("z", "")])
    assert table.splitlines() == ["A    BB", "xxx  y", "z"]
