"""Configuration from the environment, `.env` and a TOML pool file (docs/wire.md,
"Authentication": the openai / Semantic Kernel variable names). Every misconfiguration names
the variable to set."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure_wire import API_KEY, SCOPE, FakeAsyncTokenCredential, FakeTokenCredential, Recorder

from azure_ai_kit import (
    AsyncAzureAIClient,
    AzureAIClient,
    ConfigurationError,
    DeploymentNotFoundError,
    Settings,
)
from azure_ai_kit._settings import check_endpoint, load_pool_file

ENDPOINT = "https://res.openai.azure.com"


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, so only the `.env` a test writes is read."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _from_env(**kwargs: Any) -> tuple[AzureAIClient, Recorder]:
    recorder = Recorder()
    http = httpx.Client(transport=httpx.MockTransport(recorder.sync))
    return AzureAIClient.from_env(http_client=http, **kwargs), recorder


# --- environment and .env -----------------------------------------------------------------------
def test_from_env_with_openai_variable_names(cwd, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", ENDPOINT + "/")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o-mini")
    client, rec = _from_env()
    result = client.chat("hi")
    request = rec.requests[0]
    # No api-version set: chat takes the v1 API, the deployment named in the body.
    assert str(request.url) == f"{ENDPOINT}/openai/v1/chat/completions"
    assert json.loads(request.content)["model"] == "gpt-4o-mini"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert result.deployment == "gpt-4o-mini"


def test_from_env_with_a_dated_version_takes_the_classic_route(cwd, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-10-21")
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o-mini")
    client, rec = _from_env()
    client.chat("hi")
    assert str(rec.requests[0].url) == (
        f"{ENDPOINT}/openai/deployments/gpt-4o-mini/chat/completions?api-version=2024-10-21"
    )
    assert rec.requests[0].headers["api-key"] == API_KEY


def test_from_dotenv_file(cwd, monkeypatch):
    (cwd / ".env").write_text(
        f"AZURE_OPENAI_ENDPOINT={ENDPOINT}\n"
        f"AZURE_OPENAI_API_KEY={API_KEY}\n"
        "AZURE_OPENAI_CHAT_DEPLOYMENT_NAME=chat-from-dotenv\n"
        "AZURE_OPENAI_EMBEDDING_DEPLOYMENT_NAME=emb-from-dotenv\n",
        encoding="utf-8",
    )
    client, rec = _from_env()
    client.chat("hi")
    client.embed("hi")
    assert [r.url.path for r in rec.requests] == [
        "/openai/v1/chat/completions",
        "/openai/v1/embeddings",
    ]
    assert [json.loads(r.content)["model"] for r in rec.requests] == [
        "chat-from-dotenv",
        "emb-from-dotenv",
    ]
    assert rec.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_environment_beats_dotenv(cwd, monkeypatch):
    (cwd / ".env").write_text(
        f"AZURE_OPENAI_ENDPOINT={ENDPOINT}\nAZURE_OPENAI_CHAT_DEPLOYMENT=from-file\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "from-env")
    assert Settings().chat_deployment == "from-env"


@pytest.mark.parametrize(
    ("variable", "alias"),
    [
        ("AZURE_OPENAI_CHAT_DEPLOYMENT", "chat"),
        ("AZURE_OPENAI_CHAT_DEPLOYMENT_NAME", "chat"),  # Semantic Kernel
        ("AZURE_OPENAI_CODE_DEPLOYMENT", "code"),
        ("AZURE_OPENAI_IMAGE_DEPLOYMENT", "image"),
        ("AZURE_OPENAI_EMBEDDING_DEPLOYMENT", "embedding"),
        ("AZURE_OPENAI_EMBEDDING_DEPLOYMENT_NAME", "embedding"),  # Semantic Kernel
    ],
)
def test_each_deployment_variable_spelling(cwd, monkeypatch, variable, alias):
    monkeypatch.setenv(variable, "my-deployment")
    assert Settings().deployment_map() == {alias: "my-deployment"}


def test_kit_spelling_wins_over_semantic_kernel_spelling(cwd, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "kit")
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT_NAME", "sk")
    assert Settings().chat_deployment == "kit"


@pytest.mark.parametrize("variable", ["OPENAI_API_VERSION", "AZURE_OPENAI_API_VERSION"])
def test_api_version_spellings_reach_the_query(cwd, monkeypatch, variable):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o")
    monkeypatch.setenv(variable, "2025-04-01-preview")
    client, rec = _from_env()
    client.chat("hi")
    assert rec.requests[0].url.params["api-version"] == "2025-04-01-preview"


def test_azure_api_version_wins_over_openai_api_version(cwd, monkeypatch):
    monkeypatch.setenv("OPENAI_API_VERSION", "2024-06-01")
    monkeypatch.setenv("AZURE_OPENAI_API_VERSION", "2025-04-01-preview")
    assert Settings().api_version == "2025-04-01-preview"


def test_no_api_version_by_default_so_each_operation_takes_its_default_route(cwd):
    assert Settings().api_version is None


def test_v1_selected_by_endpoint_suffix(cwd, monkeypatch):
    """docs/wire.md: an endpoint ending in /openai/v1 means the v1 API (deployment in `model`)."""
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", ENDPOINT + "/openai/v1/")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o")
    client, rec = _from_env()
    client.chat("hi")
    request = rec.requests[0]
    assert str(request.url) == f"{ENDPOINT}/openai/v1/chat/completions"
    assert rec.body()["model"] == "gpt-4o"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"


def test_v1_selected_by_api_version_variable(cwd, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o")
    monkeypatch.setenv("OPENAI_API_VERSION", "v1")
    client, rec = _from_env()
    client.chat("hi")
    assert rec.requests[0].url.path == "/openai/v1/chat/completions"


def test_from_env_keyword_arguments_override(cwd, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "env-key")
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o")
    client, rec = _from_env(credential="override-key")
    client.chat("hi")
    assert rec.requests[0].headers["authorization"] == "Bearer override-key"


def test_settings_repr_hides_the_key(cwd, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", "eyJ-SECRET-TOKEN")
    settings = Settings()
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == API_KEY
    for text in (repr(settings), str(settings), str(settings.model_dump())):
        assert API_KEY not in text
        assert "eyJ-SECRET-TOKEN" not in text


# --- Entra ID from the environment ------------------------------------------------------------
def _entra_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o")


def test_no_key_uses_default_azure_credential(cwd, monkeypatch):
    """With no key, from_env() authenticates with DefaultAzureCredential (faked: no network)."""
    _entra_env(monkeypatch)
    fake = FakeTokenCredential()
    asked: list[bool] = []

    def default_credential(*, asynchronous: bool) -> Any:
        asked.append(asynchronous)
        return fake

    monkeypatch.setattr("azure_ai_kit._auth.default_credential", default_credential)
    client, rec = _from_env()
    client.chat("hi")
    assert asked == [False]
    assert rec.requests[0].headers["authorization"] == "Bearer entra-token-1"
    assert "api-key" not in rec.requests[0].headers
    assert fake.calls == [(SCOPE,)]


def test_no_key_builds_azure_identity_default_credential(cwd, monkeypatch):
    """The real `default_credential` builds azure.identity.DefaultAzureCredential (patched)."""
    _entra_env(monkeypatch)
    built: list[FakeTokenCredential] = []

    class FakeDefaultAzureCredential(FakeTokenCredential):
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(prefix="dac")
            built.append(self)

    monkeypatch.setattr("azure.identity.DefaultAzureCredential", FakeDefaultAzureCredential)
    client, rec = _from_env()
    client.chat("hi")
    assert len(built) == 1
    assert rec.requests[0].headers["authorization"] == "Bearer dac-1"


async def test_async_from_env_uses_the_async_default_credential(cwd, monkeypatch):
    _entra_env(monkeypatch)
    fake = FakeAsyncTokenCredential()
    monkeypatch.setattr("azure.identity.aio.DefaultAzureCredential", lambda **kw: fake)
    recorder = Recorder()
    http = httpx.AsyncClient(transport=httpx.MockTransport(recorder.asynchronous))
    client = AsyncAzureAIClient.from_env(http_client=http)
    await client.chat("hi")
    await http.aclose()
    assert recorder.requests[0].headers["authorization"] == "Bearer entra-token-1"
    assert fake.calls == [(SCOPE,)]


def test_ad_token_variable_is_sent_as_bearer(cwd, monkeypatch):
    _entra_env(monkeypatch)
    monkeypatch.setenv("AZURE_OPENAI_AD_TOKEN", "eyJ-static-token")
    monkeypatch.setattr(
        "azure_ai_kit._auth.default_credential",
        lambda **kw: pytest.fail("DefaultAzureCredential must not be built when a token is set"),
    )
    client, rec = _from_env()
    client.chat("hi")
    assert rec.requests[0].headers["authorization"] == "Bearer eyJ-static-token"


# --- configuration errors ---------------------------------------------------------------------
def test_missing_endpoint_names_the_variable(cwd, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o")
    with pytest.raises(ConfigurationError, match="set AZURE_OPENAI_ENDPOINT"):
        AzureAIClient.from_env()


def test_nothing_configured_names_the_endpoint_variable(cwd):
    with pytest.raises(ConfigurationError, match="AZURE_OPENAI_ENDPOINT"):
        AzureAIClient.from_env()


def test_missing_deployments_names_the_variables(cwd, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    with pytest.raises(ConfigurationError) as info:
        AzureAIClient.from_env()
    assert "AZURE_OPENAI_CHAT_DEPLOYMENT" in str(info.value)
    assert "AZURE_AI_KIT_CONFIG" in str(info.value)


@pytest.mark.parametrize(
    ("endpoint", "words"),
    [
        ("http://res.openai.azure.com", "must use https://"),
        ("not a url", "is not a valid URL"),
        ("https://", "is not a valid URL"),
        ("ftp://res.openai.azure.com", "is not a valid URL"),
        ("https://res.openai.azure.com/openai/deployments/gpt-4o", "resource URL only"),
        ("https://res.openai.azure.com/?api-version=2024-10-21", "resource URL only"),
        ("https://res openai.azure.com", "is not a valid URL"),
        ("https://res.openai.azure.com:abc", "is not a valid URL"),
        ("https://me:hunter2@res.openai.azure.com", "must not contain a user name or password"),
    ],
    ids=[
        "http",
        "garbage",
        "no-host",
        "ftp",
        "with-path",
        "with-query",
        "space",
        "bad-port",
        "userinfo",
    ],
)
def test_bad_endpoint_names_the_variable(cwd, monkeypatch, endpoint, words):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", endpoint)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o")
    with pytest.raises(ConfigurationError) as info:
        AzureAIClient.from_env()
    assert "AZURE_OPENAI_ENDPOINT" in str(info.value)
    assert words in str(info.value)
    assert "hunter2" not in str(info.value)


@pytest.mark.parametrize(
    "endpoint",
    [
        "http://localhost:8080",
        "http://127.0.0.1:9999/",
        "http://[::1]:8080",
        "https://res.openai.azure.com/openai/v1",
        "https://res.cognitiveservices.azure.com",
        "https://res.services.ai.azure.com:443/openai/v1/",
    ],
)
def test_allowed_endpoints(endpoint):
    assert check_endpoint(endpoint) == endpoint.rstrip("/")


def test_bad_endpoint_passed_to_the_constructor():
    with pytest.raises(ConfigurationError, match="endpoint="):
        AzureAIClient(endpoint="http://res.openai.azure.com", credential=API_KEY,
                      deployments={"chat": "gpt-4o"})  # fmt: skip


def test_bad_timeout_names_the_variable(cwd, monkeypatch):
    monkeypatch.setenv("AZURE_AI_KIT_TIMEOUT", "soon")
    with pytest.raises(ConfigurationError, match="AZURE_AI_KIT_TIMEOUT"):
        Settings.load()


def test_unknown_alias_from_env_lists_known_aliases(cwd, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", ENDPOINT)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o")
    monkeypatch.setenv("AZURE_OPENAI_IMAGE_DEPLOYMENT", "dall-e-3")
    client, rec = _from_env()
    with pytest.raises(DeploymentNotFoundError) as info:
        client.chat("hi", model="chta")
    assert "known aliases: chat, image" in str(info.value)
    assert rec.requests == []
    with pytest.raises(DeploymentNotFoundError, match="AZURE_OPENAI_EMBEDDING_DEPLOYMENT"):
        client.embed("hi")  # the default alias is not configured
    assert rec.requests == []


# --- pool file ------------------------------------------------------------------------------------
POOL = """
[[deployment]]
name = "gpt-4o"
endpoint = "https://swc-res.openai.azure.com"
aliases = ["chat"]
priority = 1
api_key_env = "SWC_KEY"

[[deployment]]
name = "gpt-4o"
endpoint = "https://eastus-res.openai.azure.com/"
aliases = ["chat", "code"]
priority = 0
api_version = "2025-04-01-preview"
api_key_env = "EASTUS_KEY"

[[deployment]]
name = "text-embedding-3-small"
endpoint = "https://eastus-res.openai.azure.com"
model = "text-embedding-3-small"
aliases = ["embedding"]
api_version = "v1"
api_key_env = "EASTUS_KEY"
"""


def _pool(cwd: Path, text: str) -> Path:
    path = cwd / "pool.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_pool_file_deployments(cwd):
    env = {"SWC_KEY": "swc-secret", "EASTUS_KEY": "east-secret"}
    swc, east, emb = load_pool_file(_pool(cwd, POOL), env)
    assert (swc.name, swc.endpoint, swc.aliases, swc.priority) == (
        "gpt-4o", "https://swc-res.openai.azure.com", ("chat",), 1,
    )  # fmt: skip
    assert east.endpoint == "https://eastus-res.openai.azure.com"
    assert east.aliases == ("chat", "code")
    assert east.effective_api_version == "2025-04-01-preview"
    assert emb.is_v1
    assert emb.model == "text-embedding-3-small"
    assert swc.credential.get_secret_value() == "swc-secret"
    for d in (swc, east, emb):
        assert "secret" not in repr(d)


def test_from_env_with_pool_file_routes_by_priority_and_uses_each_key(cwd, monkeypatch):
    monkeypatch.setenv("AZURE_AI_KIT_CONFIG", str(_pool(cwd, POOL)))
    monkeypatch.setenv("SWC_KEY", "swc-secret")
    monkeypatch.setenv("EASTUS_KEY", "east-secret")
    client, rec = _from_env()
    client.chat("hi")
    client.embed("hi")
    chat, emb = rec.requests
    assert str(chat.url) == (
        "https://eastus-res.openai.azure.com/openai/deployments/gpt-4o/chat/completions"
        "?api-version=2025-04-01-preview"
    )  # priority 0 first
    assert chat.headers["api-key"] == "east-secret"
    assert str(emb.url) == "https://eastus-res.openai.azure.com/openai/v1/embeddings"
    assert emb.headers["authorization"] == "Bearer east-secret"


def test_pool_file_inline_key_is_refused(cwd):
    path = _pool(cwd, POOL.replace('api_key_env = "SWC_KEY"', 'api_key = "inline-secret"'))
    with pytest.raises(ConfigurationError) as info:
        load_pool_file(path, {"EASTUS_KEY": "x"})
    assert "api_key_env" in str(info.value)
    assert "#1" in str(info.value)
    assert "inline-secret" not in str(info.value)


def test_pool_file_missing_key_variable_is_named(cwd):
    with pytest.raises(ConfigurationError, match="EASTUS_KEY, which is not set"):
        load_pool_file(_pool(cwd, POOL), {"SWC_KEY": "x"})


def test_pool_file_missing_key_variable_via_from_env(cwd, monkeypatch):
    monkeypatch.setenv("AZURE_AI_KIT_CONFIG", str(_pool(cwd, POOL)))
    monkeypatch.setenv("EASTUS_KEY", "east-secret")
    with pytest.raises(ConfigurationError, match="SWC_KEY"):
        AzureAIClient.from_env()


def test_pool_without_keys_uses_default_azure_credential(cwd, monkeypatch):
    path = _pool(cwd, '[[deployment]]\nname = "gpt-4o"\n'
                      'endpoint = "https://r.openai.azure.com"\naliases = ["chat"]\n')  # fmt: skip
    monkeypatch.setenv("AZURE_AI_KIT_CONFIG", str(path))
    fake = FakeTokenCredential()
    monkeypatch.setattr("azure_ai_kit._auth.default_credential", lambda **kw: fake)
    client, rec = _from_env()
    client.chat("hi")
    assert rec.requests[0].headers["authorization"] == "Bearer entra-token-1"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no [[deployment]] tables"),
        ('[[deployment]]\nname = "x"\n', "'name' and 'endpoint' are required"),
        ('[[deployment]]\nname = "x"\nendpoint = "https://r.openai.azure.com"\nregion = "e"\n',
         "unknown keys ['region']"),
        ('[[deployment]]\nname = "x"\nendpoint = "http://r.openai.azure.com"\n', "must use https"),
        ("[[deployment]\n", "cannot read pool file"),
    ],
    ids=["empty", "missing-endpoint", "unknown-key", "http", "bad-toml"],
)  # fmt: skip
def test_pool_file_errors(cwd, text, words):
    with pytest.raises(ConfigurationError, match=__import__("re").escape(words)):
        load_pool_file(_pool(cwd, text), {})


def test_pool_file_that_does_not_exist(cwd, monkeypatch):
    monkeypatch.setenv("AZURE_AI_KIT_CONFIG", str(cwd / "missing.toml"))
    with pytest.raises(ConfigurationError, match=r"AZURE_AI_KIT_CONFIG points at .*missing\.toml"):
        AzureAIClient.from_env()


# --- blank variables, as left by copying .env.example ---------------------------------------------
def test_blank_key_in_dotenv_means_entra_id_not_an_empty_key(cwd, monkeypatch):
    """.env.example says `AZURE_OPENAI_API_KEY=` (blank) means "sign in with Entra ID"."""
    (cwd / ".env").write_text(
        f"AZURE_OPENAI_ENDPOINT={ENDPOINT}\n"
        "AZURE_OPENAI_API_KEY=\n"
        "AZURE_OPENAI_API_VERSION=\n"
        "AZURE_OPENAI_CHAT_DEPLOYMENT=gpt-4o\n"
        "AZURE_OPENAI_CODE_DEPLOYMENT=\n"
        "AZURE_AI_KIT_TIMEOUT=\n"
        "AZURE_AI_KIT_CONFIG=\n",
        encoding="utf-8",
    )
    fake = FakeTokenCredential()
    monkeypatch.setattr("azure_ai_kit._auth.default_credential", lambda **kw: fake)
    settings = Settings.load()
    assert settings.api_key is None
    assert settings.config_file is None
    assert settings.api_version is None
    assert settings.timeout == 60.0
    assert settings.deployment_map() == {"chat": "gpt-4o"}
    client, rec = _from_env()
    client.chat("hi")
    request = rec.requests[0]
    assert "api-key" not in request.headers
    assert request.headers["authorization"] == "Bearer entra-token-1"
    assert request.url.path == "/openai/v1/chat/completions"


def test_blank_endpoint_is_reported_as_missing(cwd, monkeypatch):
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "  ")
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "gpt-4o")
    with pytest.raises(
        ConfigurationError, match="no Azure OpenAI endpoint configured; set AZURE_OPENAI_ENDPOINT"
    ):
        AzureAIClient.from_env()


def test_blank_secret_key_is_refused():
    from pydantic import SecretStr

    with pytest.raises(ConfigurationError, match="AZURE_OPENAI_API_KEY"):
        AzureAIClient(endpoint=ENDPOINT, credential=SecretStr(" "), deployments={"chat": "x"})
