"""Routes, api-versions, auth and the request log."""

from __future__ import annotations

import httpx
import openai
import pytest

from azure_ai_kit.emulator import Emulator, bodies

from .conftest import KEY, USER, chat_path

UNAUTHORIZED = bodies.UNAUTHORIZED


def test_classic_routes_with_plain_openai(client: openai.AzureOpenAI) -> None:
    chat = client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert chat.choices[0].message.content
    assert chat.choices[0].message.content.startswith("[emulated gpt-4o-mini]")
    assert chat.object == "chat.completion"
    assert chat.model == "gpt-4o-mini-2024-07-18"  # Azure reports the dated model version
    assert chat.system_fingerprint
    emb = client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert len(emb.data[0].embedding) == 1536
    img = client.images.generate(model="dall-e-3", prompt="a fox", response_format="b64_json")
    assert img.data
    assert img.data[0].b64_json


def test_v1_routes_with_plain_openai(v1: openai.OpenAI, emu: Emulator) -> None:
    chat = v1.chat.completions.create(model="gpt-4.1", messages=USER)
    assert chat.choices[0].message.content
    assert chat.choices[0].message.content.startswith("[emulated gpt-4.1]")
    emb = v1.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert [d.index for d in emb.data] == [0, 1]
    img = v1.images.generate(model="gpt-image-1", prompt="a fox")
    assert img.data
    assert img.data[0].b64_json
    paths = [r.path for r in emu.requests]
    assert paths == [
        "/openai/v1/chat/completions",
        "/openai/v1/embeddings",
        "/openai/v1/images/generations",
    ]
    assert [r.deployment for r in emu.requests] == [
        "gpt-4.1",
        "text-embedding-3-small",
        "gpt-image-1",
    ]
    assert all(r.auth == "key" for r in emu.requests)


def test_v1_accepts_v1_and_preview_versions_only(http: httpx.Client) -> None:
    body = {"model": "gpt-4o-mini", "messages": USER}
    for version in ("v1", "preview"):
        r = http.post(f"/openai/v1/chat/completions?api-version={version}", json=body, headers=KEY)
        assert r.status_code == 200
    r = http.post("/openai/v1/chat/completions?api-version=2024-10-21", json=body, headers=KEY)
    assert r.status_code == 400


def test_v1_without_model_is_400(http: httpx.Client) -> None:
    r = http.post("/openai/v1/chat/completions", json={"messages": USER}, headers=KEY)
    assert r.status_code == 400
    assert r.json()["error"]["param"] == "model"


def test_missing_api_version_is_resource_not_found(http: httpx.Client) -> None:
    r = http.post(chat_path(version=None), json={"messages": USER}, headers=KEY)
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "404", "message": "Resource not found"}}


@pytest.mark.parametrize(
    "version",
    ["latest", "2024-13-01", "2024-10-21-beta", "2030-01-01", "2024-10-22", "2024-11-01-preview"],
)
def test_unknown_api_version_is_400(http: httpx.Client, version: str) -> None:
    r = http.post(chat_path(version=version), json={"messages": USER}, headers=KEY)
    assert r.status_code == 400
    assert r.json() == bodies.API_VERSION_NOT_SUPPORTED


@pytest.mark.parametrize(
    "version",
    ["2022-12-01", "2023-05-15", "2024-10-21", "2024-12-01-preview", "2025-04-01-preview"],
)
def test_known_api_versions(http: httpx.Client, version: str) -> None:
    r = http.post(chat_path(version=version), json={"messages": USER}, headers=KEY)
    assert r.status_code == 200


def test_unknown_path_is_404(http: httpx.Client) -> None:
    r = http.post(
        "/openai/deployments/gpt-4o-mini/audio/speech?api-version=2024-10-21", headers=KEY
    )
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "404", "message": "Resource not found"}}


def test_unknown_deployment(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="nope", messages=USER)
    assert info.value.body == {
        "code": "DeploymentNotFound",
        "message": "The API deployment for this resource does not exist. If you created the "
        "deployment within the last 5 minutes, please wait a moment and try again.",
    }


@pytest.mark.parametrize(
    ("deployment", "route", "operation", "model"),
    [
        ("text-embedding-3-small", "chat/completions", "chatCompletion", "text-embedding-3-small"),
        ("gpt-4o-mini", "embeddings", "embeddings", "gpt-4o-mini"),
        ("gpt-4o-mini", "images/generations", "imageGeneration", "gpt-4o-mini"),
    ],
)
def test_wrong_kind_is_operation_not_supported(
    http: httpx.Client, deployment: str, route: str, operation: str, model: str
) -> None:
    body = {"messages": USER, "input": "x", "prompt": "x"}
    r = http.post(
        f"/openai/deployments/{deployment}/{route}?api-version=2024-10-21", json=body, headers=KEY
    )
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "OperationNotSupported"
    assert error["message"].startswith(
        f"The {operation} operation does not work with the specified model, {model}. "
        "Please choose different model and try again."
    )


def test_key_in_api_key_header_or_bearer(http: httpx.Client, emu: Emulator) -> None:
    body = {"messages": USER}
    assert http.post(chat_path(), json=body, headers=KEY).status_code == 200
    bearer_key = {"authorization": "Bearer emulator-key"}
    assert http.post(chat_path(), json=body, headers=bearer_key).status_code == 200
    token = {"authorization": "Bearer emulator-token"}
    assert http.post(chat_path(), json=body, headers=token).status_code == 200
    assert [r.auth for r in emu.requests] == ["key", "key", "bearer"]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"api-key": "wrong"},
        {"authorization": "Basic x"},
    ],
)
def test_bad_credentials_get_azure_401(
    http: httpx.Client, emu: Emulator, headers: dict[str, str]
) -> None:
    r = http.post(chat_path(), json={"messages": USER}, headers=headers)
    assert r.status_code == 401
    assert r.json() == UNAUTHORIZED
    assert emu.requests[-1].auth is None
    assert emu.requests[-1].status == 401


def test_wrong_key_through_openai_is_authentication_error(emu: Emulator) -> None:
    with httpx.Client(transport=emu.transport()) as http_client:
        bad = openai.AzureOpenAI(
            azure_endpoint=emu.endpoint,
            api_key="wrong",
            api_version="2024-10-21",
            http_client=http_client,
            max_retries=0,
        )
        with pytest.raises(openai.AuthenticationError) as info:
            bad.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert info.value.body == UNAUTHORIZED["error"]


def test_entra_token_through_openai(emu: Emulator) -> None:
    with httpx.Client(transport=emu.transport()) as http_client:
        entra = openai.AzureOpenAI(
            azure_endpoint=emu.endpoint,
            azure_ad_token_provider=lambda: "emulator-token",
            api_version="2024-10-21",
            http_client=http_client,
            max_retries=0,
        )
        entra.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert emu.requests[-1].auth == "bearer"


def test_request_log_never_holds_the_secret(http: httpx.Client, emu: Emulator) -> None:
    http.post(chat_path(), json={"messages": USER}, headers=KEY)
    record = emu.requests[0]
    assert record.method == "POST"
    assert record.path == "/openai/deployments/gpt-4o-mini/chat/completions"
    assert record.api_version == "2024-10-21"
    assert record.status == 200
    assert record.body == {"messages": USER}
    assert "emulator-key" not in repr(record)
    assert "emulator-key" not in repr(emu)


def test_every_response_has_ids_and_region(http: httpx.Client) -> None:
    ok = http.post(chat_path(), json={"messages": USER}, headers=KEY)
    denied = http.post(chat_path(), json={"messages": USER})
    for r in (ok, denied):
        assert r.headers["x-ms-region"] == "East US 2"
        assert r.headers["x-request-id"] == r.headers["apim-request-id"]
    assert ok.headers["x-request-id"] != denied.headers["x-request-id"]
    assert int(ok.headers["x-ratelimit-remaining-requests"]) > 0
    assert int(ok.headers["x-ratelimit-remaining-tokens"]) > 0


def test_request_id_reaches_openai_errors(client: openai.AzureOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        client.chat.completions.create(model="nope", messages=USER)
    assert info.value.request_id


def test_invalid_json_body_is_400(http: httpx.Client) -> None:
    r = http.post(
        chat_path(), content=b"{not json", headers={**KEY, "content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"


def test_reset_clears_log_and_state(http: httpx.Client, emu: Emulator) -> None:
    http.post(chat_path(), json={"messages": USER}, headers=KEY)
    emu.reset()
    assert emu.requests == []


TOKEN_401 = bodies.TOKEN_REJECTED


@pytest.mark.parametrize("token", ["eyJhbGciOiJSUzI1NiJ9.e30.sig", "not-a-token"])
def test_rejected_bearer_token_gets_the_bare_gateway_body(http: httpx.Client, token: str) -> None:
    """Azure's gateway refuses a bad or expired token with no `error` wrapper."""
    r = http.post(
        chat_path(), json={"messages": USER}, headers={"authorization": f"Bearer {token}"}
    )
    assert r.status_code == 401
    assert r.json() == TOKEN_401


def test_expired_token_through_plain_openai(emu: Emulator) -> None:
    with httpx.Client(transport=emu.transport()) as http_client:
        stale = openai.AzureOpenAI(
            azure_endpoint=emu.endpoint,
            azure_ad_token="expired-token",
            api_version="2024-10-21",
            http_client=http_client,
            max_retries=0,
        )
        with pytest.raises(openai.AuthenticationError) as info:
            stale.chat.completions.create(model="gpt-4o-mini", messages=USER)  # type: ignore[arg-type]
    assert info.value.body == TOKEN_401


def test_tokens_are_configurable() -> None:
    emu = Emulator.default(api_key=None, tokens=("t-1", "t-2"))
    with httpx.Client(transport=emu.transport(), base_url=emu.endpoint) as http:
        for token, status in (("t-2", 200), ("emulator-token", 401), ("emulator-key", 401)):
            r = http.post(
                chat_path(), json={"messages": USER}, headers={"authorization": f"Bearer {token}"}
            )
            assert r.status_code == status
        assert http.post(chat_path(), json={"messages": USER}, headers=KEY).status_code == 401
