"""Credentials on the wire (docs/wire.md, "Authentication"): a key as `api-key`, a rotating
`AzureKeyCredential`, and Entra ID bearer tokens with the cognitiveservices scope, cached until
near expiry and refreshed once after a 401."""

from __future__ import annotations

import pytest
from azure.core.credentials import AccessToken, AzureKeyCredential
from azure_wire import (
    API_KEY,
    PERMISSION_DENIED_401,
    SCOPE,
    V1_ENDPOINT,
    FakeAsyncTokenCredential,
    FakeTokenCredential,
    chat_completion,
    error,
    ok,
)
from pydantic import SecretStr

from azure_ai_kit import AuthenticationError, ConfigurationError
from azure_ai_kit._auth import SCOPE as KIT_SCOPE
from azure_ai_kit._auth import AsyncTokenProvider, TokenProvider, make_auth
from azure_ai_kit.testing import FakeClock


def test_scope_is_the_cognitive_services_scope():
    assert KIT_SCOPE == SCOPE == "https://cognitiveservices.azure.com/.default"


# --- keys ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("credential", [API_KEY, SecretStr(API_KEY), AzureKeyCredential(API_KEY)])
def test_key_forms_send_the_api_key_header(make_client, credential):
    client, rec = make_client(credential=credential)
    client.chat("hi")
    assert rec.requests[0].headers["api-key"] == API_KEY
    assert "authorization" not in rec.requests[0].headers


def test_azure_key_credential_update_is_used_on_the_next_request(make_client):
    """Rotating the key with `.update()` needs no new client."""
    credential = AzureKeyCredential("old-key")
    client, rec = make_client(credential=credential)
    client.chat("one")
    credential.update("new-key")
    client.chat("two")
    client.embed("three")
    assert [r.headers["api-key"] for r in rec.requests] == ["old-key", "new-key", "new-key"]


def test_azure_key_credential_update_on_v1_bearer(make_client):
    credential = AzureKeyCredential("old-key")
    client, rec = make_client(credential=credential, endpoint=V1_ENDPOINT)
    client.chat("one")
    credential.update("new-key")
    client.chat("two")
    assert [r.headers["authorization"] for r in rec.requests] == [
        "Bearer old-key",
        "Bearer new-key",
    ]


async def test_azure_key_credential_update_async(make_async_client):
    credential = AzureKeyCredential("old-key")
    client, rec = make_async_client(credential=credential)
    await client.chat("one")
    credential.update("new-key")
    await client.chat("two")
    assert [r.headers["api-key"] for r in rec.requests] == ["old-key", "new-key"]


@pytest.mark.parametrize("key", ["", "   "])
def test_empty_key_names_the_variable(make_client, key):
    with pytest.raises(ConfigurationError, match="AZURE_OPENAI_API_KEY"):
        make_client(credential=key)


# --- Entra ID tokens -------------------------------------------------------------------------
def test_token_credential_sends_bearer_with_the_scope(make_client):
    credential = FakeTokenCredential()
    client, rec = make_client(credential=credential)
    client.chat("hi")
    request = rec.requests[0]
    assert request.headers["authorization"] == "Bearer entra-token-1"
    assert "api-key" not in request.headers
    assert credential.calls == [(SCOPE,)]


def test_token_is_reused_until_near_expiry(make_client):
    credential = FakeTokenCredential(lifetime=3600)
    client, rec = make_client(credential=credential)
    client.chat("one")
    client.chat("two")
    client.stream_chat("three").text()
    assert len(credential.calls) == 1
    assert {r.headers["authorization"] for r in rec.requests} == {"Bearer entra-token-1"}


def test_one_credential_fetches_one_token_across_deployments(make_client):
    credential = FakeTokenCredential(lifetime=3600)
    client, _ = make_client(credential=credential)
    client.chat("one")
    client.embed("two")
    client.generate_image("three")
    assert len(credential.calls) == 1


def test_token_close_to_expiry_is_fetched_again(make_client):
    """A token within the refresh margin (5 min, as azure-core) is not reused."""
    credential = FakeTokenCredential(lifetime=60)
    client, rec = make_client(credential=credential)
    client.chat("one")
    client.chat("two")
    assert len(credential.calls) == 2
    assert [r.headers["authorization"] for r in rec.requests] == [
        "Bearer entra-token-1",
        "Bearer entra-token-2",
    ]


def test_token_provider_refreshes_exactly_at_the_margin():
    clock = FakeClock(start=0.0)

    class Credential:
        calls = 0

        def get_token(self, *scopes: str, **kwargs: object) -> AccessToken:
            Credential.calls += 1
            return AccessToken(f"t{Credential.calls}", 1000)

    provider = TokenProvider(Credential(), clock=clock)
    assert provider() == "t1"
    clock.now = 699.0  # 301 s before expiry: still fresh
    assert provider() == "t1"
    clock.now = 700.0  # 300 s before expiry: refresh
    assert provider() == "t2"
    provider.invalidate()
    assert provider() == "t3"


async def test_async_token_provider_awaits_an_async_credential():
    clock = FakeClock(start=0.0)
    credential = FakeAsyncTokenCredential()
    provider = AsyncTokenProvider(credential, clock=clock)
    assert await provider() == "entra-token-1"
    assert await provider() == "entra-token-1"
    assert credential.calls == [(SCOPE,)]


def test_token_on_v1_is_a_bearer_token(make_client):
    credential = FakeTokenCredential()
    client, rec = make_client(credential=credential, endpoint=V1_ENDPOINT)
    client.chat("hi")
    client.chat("again")
    assert rec.requests[0].url.path == "/openai/v1/chat/completions"
    assert rec.requests[0].headers["authorization"] == "Bearer entra-token-1"
    assert len(credential.calls) == 1


def test_401_with_a_token_refreshes_it_once_then_succeeds(make_client, clock):
    """DESIGN.md: 401/403 → AuthenticationError only after one token refresh."""
    credential = FakeTokenCredential()
    client, rec = make_client(
        [error(401, PERMISSION_DENIED_401), ok(chat_completion("ok"))], credential=credential
    )
    assert client.chat("hi").text == "ok"
    assert [r.headers["authorization"] for r in rec.requests] == [
        "Bearer entra-token-1",
        "Bearer entra-token-2",
    ]
    assert clock.slept == []


def test_401_twice_with_a_token_raises_with_the_role_hint(make_client):
    credential = FakeTokenCredential()
    client, rec = make_client(error(401, PERMISSION_DENIED_401), credential=credential)
    with pytest.raises(AuthenticationError) as info:
        client.chat("hi")
    assert "Cognitive Services OpenAI User" in str(info.value)
    assert len(rec.requests) == 2
    assert len(credential.calls) == 2
    assert [a.status for a in info.value.attempts] == [401, 401]


def test_async_credential_on_the_sync_client_is_refused(make_client):
    with pytest.raises(ConfigurationError, match="AsyncAzureAIClient"):
        make_client(credential=FakeAsyncTokenCredential())


async def test_async_credential_on_the_async_client(make_async_client):
    credential = FakeAsyncTokenCredential()
    client, rec = make_async_client(credential=credential)
    await client.chat("one")
    await client.chat("two")
    assert [r.headers["authorization"] for r in rec.requests] == ["Bearer entra-token-1"] * 2
    assert "api-key" not in rec.requests[0].headers
    assert credential.calls == [(SCOPE,)]


async def test_async_credential_near_expiry_is_fetched_again(make_async_client):
    credential = FakeAsyncTokenCredential(lifetime=10)
    client, _ = make_async_client(credential=credential)
    await client.chat("one")
    await client.chat("two")
    assert len(credential.calls) == 2


async def test_sync_credential_also_works_on_the_async_client(make_async_client):
    credential = FakeTokenCredential()
    client, rec = make_async_client(credential=credential, endpoint=V1_ENDPOINT)
    await client.chat("hi")
    assert rec.requests[0].headers["authorization"] == "Bearer entra-token-1"


def test_auth_repr_never_shows_the_secret():
    for credential in (API_KEY, SecretStr(API_KEY), AzureKeyCredential(API_KEY)):
        auth = make_auth(credential, asynchronous=False)
        assert API_KEY not in repr(auth)
        assert auth.key_getter()() == API_KEY
        assert auth.invalidate() is False  # nothing to refresh for a key
    token_auth = make_auth(FakeTokenCredential(), asynchronous=False)
    assert token_auth.kind == "token"
    assert "FakeTokenCredential" in repr(token_auth)
