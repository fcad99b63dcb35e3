"""Secrets and fetched URLs: keys are cleaned or refused without being shown, no chained error
or log line carries a key or a SAS signature, and image URLs are fetched only when safe."""

from __future__ import annotations

import io
import json
import logging
import traceback
from typing import Any

import httpx
import pytest
from azure.core.credentials import AzureKeyCredential
from azure_wire import (
    API_KEY,
    BLOB_URL,
    ENDPOINT,
    PNG_BYTES,
    SERVER_ERROR_500,
    V1_ENDPOINT,
    FakeTokenCredential,
    error,
    image_response,
    ok,
)

from azure_ai_kit import (
    AuthenticationError,
    AzureAIClient,
    ConfigurationError,
    ImageDownloads,
    ServiceError,
)
from azure_ai_kit._doctor import DoctorConfig, run_doctor

# --- 8. keys from files and k8s secrets ------------------------------------------------------


@pytest.mark.parametrize("suffix", ["\n", "\r\n", " ", "\t\n"])
def test_a_key_with_surrounding_whitespace_is_sent_stripped(make_client: Any, suffix: str) -> None:
    client, recorder = make_client(credential=f" {API_KEY}{suffix}")
    assert client.chat("hi").text
    assert recorder.requests[0].headers["api-key"] == API_KEY


@pytest.mark.parametrize(
    "key",
    [f"{API_KEY[:10]}\x07{API_KEY[10:]}", f"{API_KEY[:10]}\n{API_KEY[10:]}", f"{API_KEY}é"],
    ids=["control", "inner-newline", "non-ascii"],
)
def test_a_key_with_control_or_non_ascii_characters_is_refused_without_showing_it(
    key: str,
) -> None:
    with pytest.raises(ConfigurationError) as info:
        AzureAIClient(ENDPOINT, key, deployments={"chat": "gpt-4o"})
    text = f"{info.value} {info.value!r}"
    assert API_KEY[:10] not in text
    assert API_KEY[10:] not in text
    assert "AZURE_OPENAI_API_KEY" in text


def test_a_rotated_azure_key_credential_is_stripped_and_a_bad_one_refused(
    make_client: Any,
) -> None:
    credential = AzureKeyCredential(API_KEY + "\n")
    client, recorder = make_client(credential=credential)
    client.chat("hi")
    assert recorder.requests[-1].headers["api-key"] == API_KEY
    bad = "rotated-\x00-0123456789abcdef"
    credential.update(bad)
    with pytest.raises(ConfigurationError) as info:
        client.chat("hi")
    assert "control character" in str(info.value)
    assert bad not in str(info.value)
    assert "0123456789abcdef" not in str(info.value)
    assert len(recorder.requests) == 1  # the bad key never went out


# --- 9. chained errors and messages carry no secret ------------------------------------------


def _chain_text(exc: BaseException) -> str:
    """Everything a traceback or an error reporter would show of `exc` and what it chains."""
    parts = ["".join(traceback.format_exception(exc))]
    seen: BaseException | None = exc
    while seen is not None:
        parts += [repr(seen), str(seen), repr(vars(seen))]
        for holder in (seen, getattr(seen, "response", None)):
            request = getattr(holder, "request", None) if holder is not None else None
            if request is not None:
                parts += [repr(request.headers), str(dict(request.headers))]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


def test_the_chained_openai_error_does_not_show_the_api_key_header(make_client: Any) -> None:
    client, recorder = make_client(error(500, SERVER_ERROR_500))
    with pytest.raises(ServiceError) as info:
        client.chat("hi")
    cause = info.value.__cause__
    assert cause is not None
    assert cause.request.headers["api-key"] == "****"  # type: ignore[attr-defined]
    assert API_KEY not in _chain_text(info.value)
    assert recorder.requests[0].headers["api-key"] == API_KEY  # what was sent is untouched


def test_a_key_echoed_by_a_gateway_is_masked_in_the_message_and_the_chain(
    make_client: Any,
) -> None:
    echo = {"error": {"code": "401", "message": f"Access denied for key {API_KEY}."}}
    client, _ = make_client(error(401, echo))
    with pytest.raises(AuthenticationError) as info:
        client.chat("hi")
    assert "Access denied for key ****" in str(info.value)
    assert API_KEY not in _chain_text(info.value)


def test_a_bearer_token_echoed_back_is_masked(make_client: Any) -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        return error(400, {"detail": f"token {token} is not valid here"})

    credential = FakeTokenCredential(prefix="entra-secret-token")
    client, _ = make_client(echo, endpoint=V1_ENDPOINT, credential=credential, api_version=None)
    with pytest.raises(ServiceError) as info:
        client.chat("hi")
    assert "token **** is not valid here" in str(info.value)
    assert "entra-secret-token" not in _chain_text(info.value)


def test_doctor_json_scrubs_a_key_that_json_escaping_would_disguise() -> None:
    key = 'k"ey\\with-quote-0123456789abcdef'
    blocked = {"error": {"code": "Forbidden", "message": f"Your resource is blocked for {key}"}}
    http = httpx.Client(transport=httpx.MockTransport(lambda r: error(403, blocked)))
    config = DoctorConfig(
        {"endpoint": ENDPOINT, "credential": key, "deployments": {"chat": "gpt-4o"},
         "http_client": http},
        "test",
        close_http=True,
    )  # fmt: skip
    out = io.StringIO()
    run_doctor(config, out=out, json_output=True, resolver=lambda host, port: None)
    text = out.getvalue()
    assert json.dumps(key)[1:-1] not in text  # the escaped form
    assert all(key not in value for value in _strings(json.loads(text)))
    assert "0123456789abcdef" not in text
    assert "blocked for ****" in text


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


# --- 10. SAS URLs: only host and path in logs and chained errors -----------------------------


def _images_then(blob: Any) -> Any:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.host.endswith(".blob.core.windows.net") or request.url.host not in (
            "res.openai.azure.com",
        ):
            return blob(request) if callable(blob) else blob
        return ok(image_response(url=True))

    return route


def test_an_image_download_logs_no_sas_signature(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = make_client(_images_then(httpx.Response(200, content=PNG_BYTES)))
    with caplog.at_level(logging.DEBUG):
        result = client.generate_image("a fox", response_format="url")
    assert result.images[0].data == PNG_BYTES
    assert "sig=SASSIG" not in caplog.text
    assert "dalleprodsec.blob.core.windows.net/private/images/abc/generated_00.png" in caplog.text


async def test_an_async_image_download_logs_no_sas_signature(
    make_async_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    client, _ = make_async_client(_images_then(httpx.Response(200, content=PNG_BYTES)))
    with caplog.at_level(logging.DEBUG):
        result = await client.generate_image("a fox", response_format="url")
    assert result.images[0].data == PNG_BYTES
    assert "sig=SASSIG" not in caplog.text


def test_a_failed_download_chains_no_sas_signature(make_client: Any) -> None:
    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"could not connect to {request.url}", request=request)

    client, _ = make_client(_images_then(unreachable))
    with pytest.raises(ServiceError) as info:
        client.generate_image("a fox", response_format="url")
    text = _chain_text(info.value)
    assert "SASSIG" not in text
    assert "dalleprodsec.blob.core.windows.net/private/images/abc/generated_00.png" in text


def test_an_expired_link_names_host_and_path_and_the_status(make_client: Any) -> None:
    client, _ = make_client(_images_then(httpx.Response(403, text="signature expired")))
    with pytest.raises(ServiceError) as info:
        client.generate_image("a fox", response_format="url")
    assert info.value.status_code == 403
    assert "dalleprodsec.blob.core.windows.net/private/images" in str(info.value)
    assert "SASSIG" not in _chain_text(info.value)


# --- 13. image URLs are fetched only when safe -----------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://dalleprodsec.blob.core.windows.net/images/a.png?sig=x",
        "https://169.254.169.254/metadata/identity/oauth2/token",
        "https://127.0.0.1/a.png",
        "https://[::1]/a.png",
        "https://10.0.0.5/a.png",
        "https://192.168.1.1/a.png",
        "https://evil.example.com/a.png",
        "https://dalleprodsec.blob.core.windows.net.evil.example.com/a.png",
        "file:///etc/passwd",
    ],
)
def test_an_unsafe_image_url_is_refused_without_fetching_it(make_client: Any, url: str) -> None:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.host == "res.openai.azure.com":
            body = image_response(url=True)
            body["data"][0]["url"] = url
            return ok(body)
        return httpx.Response(200, content=b"internal secret")

    client, recorder = make_client(route)
    with pytest.raises(ServiceError, match="refused to download") as info:
        client.generate_image("a fox", response_format="url")
    assert [r.url.host for r in recorder.requests] == ["res.openai.azure.com"]
    assert "sig=x" not in str(info.value)


def test_a_host_the_user_trusts_is_fetched(make_client: Any) -> None:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.host == "res.openai.azure.com":
            body = image_response(url=True)
            body["data"][0]["url"] = "https://images.contoso.com/fox.png?token=t"
            return ok(body)
        return httpx.Response(200, content=PNG_BYTES)

    client, recorder = make_client(route, image_downloads=ImageDownloads(hosts=["*.contoso.com"]))
    assert client.generate_image("a fox", response_format="url").images[0].data == PNG_BYTES
    assert recorder.requests[-1].url.host == "images.contoso.com"


def test_a_redirect_from_storage_is_not_followed(make_client: Any) -> None:
    moved = httpx.Response(302, headers={"location": "https://169.254.169.254/metadata"})
    client, recorder = make_client(_images_then(moved))
    with pytest.raises(ServiceError, match="302"):
        client.generate_image("a fox", response_format="url")
    assert all(r.url.host != "169.254.169.254" for r in recorder.requests)


@pytest.mark.parametrize("declared", [True, False])
def test_an_image_larger_than_the_cap_is_refused(make_client: Any, declared: bool) -> None:
    def huge(request: httpx.Request) -> httpx.Response:
        if declared:
            return httpx.Response(200, content=bytes(4096))
        return httpx.Response(200, content=iter([bytes(1024)] * 4))  # chunked: no length

    client, _ = make_client(_images_then(huge), image_downloads=ImageDownloads(max_bytes=1000))
    with pytest.raises(ServiceError, match="larger than 1000 bytes"):
        client.generate_image("a fox", response_format="url")


def test_the_default_cap_is_50_mib() -> None:
    assert ImageDownloads().max_bytes == 50 * 1024 * 1024


@pytest.mark.parametrize(
    "kwargs",
    [{"hosts": "images.contoso.com"}, {"hosts": ["https://x.com/a"]}, {"max_bytes": 0}],
)
def test_a_bad_download_policy_is_a_configuration_error(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError):
        ImageDownloads(**kwargs)


def test_image_urls_from_the_emulator_still_download() -> None:
    with AzureAIClient.for_emulator() as client:
        result = client.generate_image("a fox", model="dall-e-3", response_format="url")
    image = result.images[0]
    assert image.url is not None
    assert "sig=" in image.url
    assert image.format == "png"
    assert len(image.data) > 0


def test_the_storage_url_azure_sends_is_allowed(make_client: Any) -> None:
    client, recorder = make_client(_images_then(httpx.Response(200, content=PNG_BYTES)))
    client.generate_image("a fox", response_format="url")
    assert str(recorder.requests[-1].url) == BLOB_URL
