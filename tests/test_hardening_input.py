"""Bad input, odd error bodies and crashes: each fails clearly, before any request where the
kit can tell, with a kit error that survives pickling; and nothing is left half done."""

from __future__ import annotations

import asyncio
import base64
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure.core.exceptions import ClientAuthenticationError
from azure_wire import (
    DEPLOYMENT_NOT_FOUND_404,
    IMAGE_POLICY_VIOLATION_400,
    PROMPT_FILTERED_400,
    SERVER_ERROR_500,
    chat_completion,
    error,
    image_response,
    ok,
)
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import azure_ai_kit
from azure_ai_kit import (
    Attempt,
    AuthenticationError,
    AzureAIClient,
    AzureAIKitError,
    CategoryResult,
    ConfigurationError,
    ContentFilteredError,
    Deployment,
    DeploymentNotFoundError,
    InvalidRequestError,
    ServiceError,
    write_atomic,
)
from azure_ai_kit import _exceptions as exceptions
from azure_ai_kit import _telemetry as telemetry

# --- 15. bad input fails before any request --------------------------------------------------


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda c: c.chat("hi", model=""), "model="),
        (lambda c: c.chat({"role": "user", "content": "hi"}), "list of messages"),
        (lambda c: c.chat(b"hi"), "decode"),
        (lambda c: c.chat(["hi", "there"]), "messages[0] is a str"),
        (lambda c: c.chat([1, 2]), "messages[0] is a int"),
        (lambda c: c.chat("hi", system=["be brief"]), "system= must be a string"),
        (lambda c: c.chat("hi", stream=True), "stream_chat"),
        (lambda c: c.chat("hi", max_tokens=-5), "max_tokens= must be a positive integer"),
        (lambda c: c.chat("hi", max_tokens="100"), "max_tokens= must be a positive integer"),
        (lambda c: c.chat("hi", n=0), "n= must be a positive integer"),
        (lambda c: c.chat("hi", n=1.5), "n= must be a positive integer"),
        (lambda c: c.stream_chat("hi", max_tokens=True), "max_tokens="),
        (lambda c: c.generate_image(None), "generate_image() takes"),
        (lambda c: c.generate_image("a fox", n=-1), "n= must be a positive integer"),
        (lambda c: c.embed("x", model=""), "model="),
        (lambda c: c.embed(b"bytes"), "embed() takes"),
    ],
)
def test_bad_arguments_fail_before_any_request_with_a_kit_error(
    make_client: Any, call: Any, says: str
) -> None:
    client, recorder = make_client()
    with pytest.raises(InvalidRequestError) as info:
        call(client)
    assert says in str(info.value)
    assert isinstance(info.value, ValueError)  # code catching ValueError keeps working
    assert recorder.requests == []


async def test_the_async_twin_checks_the_same_arguments(make_async_client: Any) -> None:
    client, recorder = make_async_client()
    with pytest.raises(InvalidRequestError, match="stream_chat"):
        await client.chat("hi", stream=True)
    with pytest.raises(InvalidRequestError, match="model="):
        await client.embed("x", model="")
    assert recorder.requests == []


@pytest.mark.parametrize(
    "endpoint", [" https://res.openai.azure.com", "https://res.openai.azure.com\n", 42]
)
def test_an_endpoint_with_whitespace_or_not_a_string_is_refused(endpoint: Any) -> None:
    with pytest.raises(ConfigurationError, match="endpoint"):
        AzureAIClient(endpoint, "key-0123456789", deployments={"chat": "gpt-4o"})
    with pytest.raises(ConfigurationError, match="endpoint"):
        AzureAIClient(
            credential="key-0123456789", deployments=[Deployment("gpt-4o", endpoint=endpoint)]
        )


def test_invalid_request_error_is_exported_and_in_the_error_tree() -> None:
    assert azure_ai_kit.InvalidRequestError is InvalidRequestError
    assert issubclass(InvalidRequestError, AzureAIKitError)
    assert "InvalidRequestError" in (exceptions.__doc__ or "")


# --- 15. a call's span ends however the call ends --------------------------------------------


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    histogram = type("H", (), {"record": lambda self, *a, **k: None})()
    tools = (provider.get_tracer("azure_ai_kit"), histogram, histogram)
    monkeypatch.setattr(telemetry, "instruments", lambda: tools)
    monkeypatch.setattr(telemetry, "enabled", lambda: True)
    yield exporter
    provider.shutdown()


def test_a_call_interrupted_while_waiting_to_retry_still_ends_its_span(
    make_client: Any, spans: InMemorySpanExporter
) -> None:
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    client, _ = make_client(error(500, SERVER_ERROR_500), sleep=interrupted)
    with pytest.raises(KeyboardInterrupt):
        client.chat("hi")
    call = next(s for s in spans.get_finished_spans() if s.name == "chat chat")
    assert call.status.status_code.name == "ERROR"
    assert call.attributes["error.type"] == "KeyboardInterrupt"


async def test_a_call_cancelled_while_waiting_to_retry_still_ends_its_span(
    make_async_client: Any, spans: InMemorySpanExporter
) -> None:
    async def cancelled(seconds: float) -> None:
        raise asyncio.CancelledError

    client, _ = make_async_client(error(500, SERVER_ERROR_500), sleep=cancelled)
    with pytest.raises(asyncio.CancelledError):
        await client.chat("hi")
    names = [s.name for s in spans.get_finished_spans()]
    assert "chat chat" in names


# --- 14. only Azure's filter codes make ContentFilteredError ---------------------------------


def test_an_unrelated_400_with_innererror_is_not_a_content_filter(make_client: Any) -> None:
    body = {
        "error": {
            "code": "invalid_payload",
            "message": "The 'tools' array is malformed.",
            "innererror": {"code": "InvalidPayload", "detail": "tools[0].type is required"},
        }
    }
    client, _ = make_client(error(400, body))
    with pytest.raises(ServiceError) as info:
        client.chat("hi")
    assert not isinstance(info.value, ContentFilteredError)
    assert "The 'tools' array is malformed." in str(info.value)


@pytest.mark.parametrize("body", [PROMPT_FILTERED_400, IMAGE_POLICY_VIOLATION_400])
def test_azure_filter_codes_still_make_content_filtered_error(
    make_client: Any, body: dict[str, Any]
) -> None:
    client, _ = make_client(error(400, body))
    with pytest.raises(ContentFilteredError):
        client.chat("hi")


def test_the_inner_policy_code_alone_is_a_content_filter(make_client: Any) -> None:
    body = {"error": {"code": "BadRequest", "message": "blocked", "innererror": {
        "code": "ResponsibleAIPolicyViolation",
        "content_filter_result": {"violence": {"filtered": True, "severity": "high"}},
    }}}  # fmt: skip
    client, _ = make_client(error(400, body))
    with pytest.raises(ContentFilteredError) as info:
        client.chat("hi")
    assert info.value.filtered_categories == ["violence"]


# --- 14. every kit error survives pickling ---------------------------------------------------


def _instances() -> list[AzureAIKitError]:
    common: dict[str, Any] = {
        "attempts": (Attempt("gpt-4o@res", 400, "ServiceError", 0.5),),
        "status_code": 400,
        "request_id": "req-1",
        "deployment": "gpt-4o@res",
        "code": "content_filter",
    }
    made: list[AzureAIKitError] = []
    for name in exceptions.__all__:
        cls = getattr(exceptions, name)
        if cls is ContentFilteredError:
            made.append(
                cls(
                    "blocked",
                    source="completion",
                    categories={"hate": CategoryResult(filtered=True, severity="high")},
                    partial_text="Once upon",
                    **common,
                )
            )
        elif cls is DeploymentNotFoundError:
            made.append(cls("missing", model="chta", **common))
        elif name == "RateLimitedError":
            made.append(cls("slow down", retry_after=6.0, **common))
        elif name == "StructuredOutputError":
            made.append(cls("cut", text='{"city": "Par', reason="length", **common))
        else:
            made.append(cls(f"{name} happened", **common))
    return made


@pytest.mark.parametrize("error", _instances(), ids=lambda e: type(e).__name__)
def test_every_kit_error_survives_a_pickle_round_trip(error: AzureAIKitError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)


def test_a_pickled_content_filter_error_keeps_what_users_read() -> None:
    error = next(e for e in _instances() if isinstance(e, ContentFilteredError))
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.source, copy.filtered_categories, copy.partial_text) == (
        "completion",
        ["hate"],
        "Once upon",
    )
    assert copy.attempts[0].status == 400


# --- 14. a credential that cannot get a token ------------------------------------------------


class BrokenCredential:
    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        raise ClientAuthenticationError("DefaultAzureCredential failed to retrieve a token")


def test_a_credential_failure_is_an_authentication_error_chained_to_it(make_client: Any) -> None:
    client, recorder = make_client(credential=BrokenCredential())
    with pytest.raises(AuthenticationError) as info:
        client.chat("hi")
    assert isinstance(info.value.__cause__, ClientAuthenticationError)
    assert "az login" in str(info.value)
    assert recorder.requests == []
    assert all(s.state == "healthy" for s in client.status())  # not the deployment's fault


async def test_an_async_credential_failure_is_an_authentication_error(
    make_async_client: Any,
) -> None:
    client, _ = make_async_client(credential=BrokenCredential())
    with pytest.raises(AuthenticationError) as info:
        await client.chat("hi")
    assert isinstance(info.value.__cause__, ClientAuthenticationError)


# --- 14. what a non-Azure body or a bare 404 says ----------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(400, json={"detail": "model gpt-4o is not allowed by policy"}),
        httpx.Response(400, json={"error": "model gpt-4o is not allowed by policy"}),
        httpx.Response(400, text="model gpt-4o is not allowed by policy"),
    ],
    ids=["detail", "error-string", "plain-text"],
)
def test_a_gateway_body_keeps_its_text_in_the_message(make_client: Any, reply: Any) -> None:
    client, _ = make_client(reply)
    with pytest.raises(ServiceError, match="not allowed by policy"):
        client.chat("hi")


def test_a_404_without_deployment_not_found_does_not_blame_the_api_version(
    make_client: Any,
) -> None:
    body = {"error": {"code": "404", "message": "Resource not found"}}
    client, _ = make_client(error(404, body))
    with pytest.raises(DeploymentNotFoundError) as info:
        client.chat("hi")
    message = str(info.value)
    assert "Resource not found" in message
    assert "api-version" not in message
    assert "endpoint" in message


def test_deployment_not_found_still_points_at_the_deployment_name(make_client: Any) -> None:
    client, _ = make_client(error(404, DEPLOYMENT_NOT_FOUND_404))
    with pytest.raises(DeploymentNotFoundError, match="deployment name"):
        client.chat("hi")


# --- 11 (images). garbage base64 is an error, not a 0-byte image -----------------------------


@pytest.mark.parametrize("b64", ["!!!not base64!!!", "", "QUJD$$$"])
def test_garbage_image_base64_is_a_kit_error(make_client: Any, b64: str) -> None:
    body = image_response()
    body["data"][0]["b64_json"] = b64
    client, _ = make_client(ok(body))
    with pytest.raises(ServiceError, match="not valid base64"):
        client.generate_image("a fox")


def test_wrapped_base64_lines_still_decode(make_client: Any) -> None:
    body = image_response()
    text = body["data"][0]["b64_json"]
    body["data"][0]["b64_json"] = "\n".join(text[i : i + 76] for i in range(0, len(text), 76))
    client, _ = make_client(ok(body))
    image = client.generate_image("a fox").images[0]
    assert image.data == base64.b64decode(text)


# --- 16. save() reaches the disk before the rename -------------------------------------------


def test_write_atomic_fsyncs_the_file_before_renaming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync")
        real_fsync(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append("replace")
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    target = write_atomic(tmp_path / "fox.png", b"\x89PNG data")
    assert target.read_bytes() == b"\x89PNG data"
    assert events[:2] == ["fsync", "replace"]


def test_write_atomic_without_overwrite_fsyncs_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append(fd), real_fsync(fd))[1])
    write_atomic(tmp_path / "a.bin", b"x", overwrite=False)
    assert len(calls) >= 1


def test_a_successful_chat_is_unchanged(make_client: Any) -> None:
    client, _ = make_client(ok(chat_completion("fine")))
    assert client.chat("hi", max_tokens=10, n=1).text == "fine"
