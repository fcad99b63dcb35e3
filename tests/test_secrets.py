"""Secrets never leak: not in `repr()` of the client, settings, auth or deployments, not in
`str()`/`repr()` of any error, and not in log output at DEBUG (the kit's, openai's and httpx's)
across a run that includes Azure's error responses (docs/wire.md, "Error bodies")."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from azure.core.credentials import AzureKeyCredential
from azure_wire import (
    API_KEY,
    CONTEXT_LENGTH_400,
    DEPLOYMENT_NOT_FOUND_404,
    PROMPT_FILTERED_400,
    SERVER_ERROR_500,
    THROTTLED_429,
    UNAUTHORIZED_401,
    V1_ENDPOINT,
    FakeTokenCredential,
    Recorder,
    error,
)

from azure_ai_kit import AzureAIKitError, ConfigurationError, RetryPolicy, Settings
from azure_ai_kit._auth import StaticToken, make_auth

TOKEN_PREFIX = "entra-token"


def _scripted(request: httpx.Request) -> httpx.Response:
    """Answer by the prompt text, so one client sees every kind of failure."""
    text = request.content.decode()
    for word, response in (
        ("unauthorized", error(401, UNAUTHORIZED_401)),
        ("throttle", error(429, THROTTLED_429)),
        ("server", error(500, SERVER_ERROR_500)),
        ("filtered", error(400, PROMPT_FILTERED_400)),
        ("toolong", error(400, CONTEXT_LENGTH_400)),
    ):
        if word in text:
            return response
    if "timeout" in text:
        raise httpx.ReadTimeout("timed out", request=request)
    if "/gone/" in request.url.path or '"model":"gone"' in text:
        return error(404, DEPLOYMENT_NOT_FOUND_404)
    return Recorder.default(request)


def _run_everything(client: Any) -> list[BaseException]:
    """Successes of every kind plus each failure; returns the errors raised."""
    client.chat("hello")
    client.stream_chat("hello").text()
    client.generate_image("a fox")
    client.embed(["a", "b"])
    errors: list[BaseException] = []
    for prompt, model in (
        ("unauthorized", "chat"),
        ("throttle", "chat"),
        ("server", "code"),
        ("filtered", "chat"),
        ("toolong", "chat"),
        ("timeout", "code"),
        ("hello", "gone"),
        ("hello", "nonexistent-alias"),
    ):
        with pytest.raises(AzureAIKitError) as info:
            client.chat(prompt, model=model)
        errors.append(info.value)
    return errors


def _assert_clean(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    for name in ("azure_ai_kit", "openai", "httpx", "httpcore"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def _all_log_text(caplog: pytest.LogCaptureFixture) -> str:
    parts = [caplog.text]
    for record in caplog.records:
        parts.append(record.getMessage())
        parts.append(repr(record.args))
        parts.append(repr(record.__dict__))
    return "\n".join(parts)


@pytest.mark.parametrize(
    ("credential", "endpoint"),
    [
        (API_KEY, "https://res.openai.azure.com"),
        (AzureKeyCredential(API_KEY), "https://res.openai.azure.com"),
        (API_KEY, V1_ENDPOINT),
    ],
    ids=["key-classic", "azure-key-credential", "key-v1"],
)
def test_key_never_in_reprs_errors_or_debug_logs(make_client, debug_logs, credential, endpoint):
    deployments = {"chat": "gpt-4o", "code": "gpt-41", "image": "dall-e-3",
                   "embedding": "text-embedding-3-small", "gone": "gone"}  # fmt: skip
    client, rec = make_client(
        _scripted,
        credential=credential,
        endpoint=endpoint,
        deployments=deployments,
        retry=RetryPolicy(max_attempts=2, jitter=0),
    )
    errors = _run_everything(client)
    # The key really was used, so its absence below means something.
    assert any(
        API_KEY in r.headers.get("api-key", "") + r.headers.get("authorization", "")
        for r in rec.requests
    )
    assert len(errors) == 8
    log_text = _all_log_text(debug_logs)
    assert any(
        r.name.startswith("openai") and r.levelno == logging.DEBUG for r in debug_logs.records
    )
    assert any(r.name == "azure_ai_kit" and r.levelno == logging.DEBUG for r in debug_logs.records)
    _assert_clean(log_text, API_KEY)
    for exc in errors:
        chain: BaseException | None = exc
        while chain is not None:  # the kit error and the openai error it wraps
            _assert_clean(str(chain) + repr(chain) + repr(getattr(chain, "attempts", "")), API_KEY)
            chain = chain.__cause__
    _assert_clean(repr(client) + repr(client.status()) + repr(client.deployments), API_KEY)
    for d in client.deployments:
        _assert_clean(repr(client._auth_for(d)), API_KEY)


def test_bearer_token_never_in_debug_logs(make_client, debug_logs):
    credential = FakeTokenCredential()
    client, rec = make_client(
        _scripted,
        credential=credential,
        deployments={"chat": "gpt-4o", "code": "gpt-41", "image": "dall-e-3",
                     "embedding": "text-embedding-3-small", "gone": "gone"},
        retry=RetryPolicy(max_attempts=2, jitter=0),
    )  # fmt: skip
    errors = _run_everything(client)
    assert any(r.headers.get("authorization", "").startswith("Bearer entra") for r in rec.requests)
    _assert_clean(_all_log_text(debug_logs), TOKEN_PREFIX)
    for exc in errors:
        _assert_clean(str(exc) + repr(exc), TOKEN_PREFIX)
    _assert_clean(repr(client), TOKEN_PREFIX)


def test_settings_and_auth_reprs(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    _assert_clean(repr(Settings()) + str(Settings()), API_KEY)
    _assert_clean(repr(make_auth(API_KEY, asynchronous=False)), API_KEY)
    _assert_clean(repr(make_auth(AzureKeyCredential(API_KEY), asynchronous=True)), API_KEY)
    from pydantic import SecretStr

    static = StaticToken(SecretStr("eyJ-static"))
    _assert_clean(repr(static) + repr(make_auth(static, asynchronous=False)), "eyJ-static")


def test_configuration_errors_do_not_echo_the_key(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o")
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "http://res.openai.azure.com")
    from azure_ai_kit import AzureAIClient

    with pytest.raises(ConfigurationError) as info:
        AzureAIClient.from_env()
    _assert_clean(str(info.value) + repr(info.value), API_KEY)
    # A key pasted in the wrong variable is not echoed back either.
    monkeypatch.setenv("AZURE_AI_KIT_TIMEOUT", API_KEY)
    with pytest.raises(ConfigurationError) as info:
        Settings.load()
    assert "AZURE_AI_KIT_TIMEOUT" in str(info.value)
    _assert_clean(str(info.value), API_KEY)
