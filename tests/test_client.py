"""`AzureAIClient` on the wire: URLs, query, headers and bodies for the classic and v1 APIs,
results built from Azure's real responses, images and embeddings (docs/wire.md throughout)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest
from azure_wire import (
    API_KEY,
    BLOB_URL,
    ENDPOINT,
    PNG_BYTES,
    V1_ENDPOINT,
    Recorder,
    chat_completion,
    embedding_response,
    error,
    image_response,
    ok,
)

from azure_ai_kit import (
    ChatResult,
    ConfigurationError,
    Deployment,
    DeploymentNotFoundError,
    EmbeddingResult,
    ImageResult,
    ServiceError,
)

CLASSIC_CHAT = "/openai/deployments/gpt-4o/chat/completions"


# --- classic API --------------------------------------------------------------------------------
def test_classic_chat_url_query_and_api_key_header(make_client):
    """docs/wire.md "Routes and versions": classic POSTs to /openai/deployments/{name}/… with
    api-version=2024-10-21 and the key in the `api-key` header, no Authorization."""
    client, rec = make_client()
    client.chat("What is the capital of France?")
    (request,) = rec.requests
    assert request.method == "POST"
    assert request.url.host == "res.openai.azure.com"
    assert request.url.path == CLASSIC_CHAT
    assert dict(request.url.params) == {"api-version": "2024-10-21"}
    assert request.headers["api-key"] == API_KEY
    assert "authorization" not in request.headers
    assert rec.body()["messages"] == [{"role": "user", "content": "What is the capital of France?"}]


def test_classic_api_version_override_is_sent(make_client):
    """docs/wire.md: the dated preview 2025-04-01-preview goes in the api-version query."""
    client, rec = make_client(api_version="2025-04-01-preview")
    client.chat("hi")
    assert rec.requests[0].url.params["api-version"] == "2025-04-01-preview"


@pytest.mark.parametrize(
    ("model", "path"),
    [
        ("chat", CLASSIC_CHAT),
        ("code", "/openai/deployments/gpt-41/chat/completions"),
        ("gpt-41", "/openai/deployments/gpt-41/chat/completions"),  # a deployment name
    ],
)
def test_model_selects_the_deployment_in_the_url(make_client, model, path):
    """model= takes an alias or a deployment name; the classic URL names the deployment."""
    client, rec = make_client()
    result = client.chat("hi", model=model)
    assert rec.requests[0].url.path == path
    assert result.deployment == path.split("/")[3]


def test_chat_sends_system_first_and_passes_openai_kwargs_through(make_client):
    client, rec = make_client()
    client.chat("Summarise.", system="Be brief.", max_tokens=300, temperature=0.2, seed=7)
    body = rec.body()
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Summarise."},
    ]
    assert body["max_completion_tokens"] == 300
    assert body["temperature"] == 0.2
    assert body["seed"] == 7


def test_chat_result_carries_text_usage_filters_and_azure_headers(make_client):
    """docs/wire.md "Content-filter annotations on success" + "Response headers"."""
    client, _ = make_client(ok(chat_completion("Paris.")))
    result = client.chat("Capital of France?")
    assert isinstance(result, ChatResult)
    assert result.text == "Paris."
    assert result.finish_reason == "stop"
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (27, 24)
    assert result.usage.total_tokens == 51
    assert result.model == "gpt-4o-2024-05-13"
    assert result.deployment == "gpt-4o"
    assert result.endpoint == ENDPOINT
    assert result.region == "East US 2"
    assert result.request_id == "apim-0001"
    assert result.prompt_filter is not None
    assert result.prompt_filter.categories["jailbreak"].detected is False
    assert result.prompt_filter.filtered is False
    assert result.completion_filter is not None
    assert result.completion_filter.categories["violence"].severity == "safe"
    assert [(a.deployment, a.status) for a in result.attempts] == [
        ("gpt-4o@res.openai.azure.com", 200)
    ]


def test_chat_without_optional_headers_and_annotations(make_client):
    """docs/wire.md: every response header and annotation is optional — never rely on them."""
    body = chat_completion("ok")
    del body["prompt_filter_results"]
    del body["choices"][0]["content_filter_results"]
    client, _ = make_client(httpx.Response(200, json=body))
    result = client.chat("hi")
    assert result.text == "ok"
    assert result.region is None
    assert result.request_id is None
    assert result.prompt_filter is None
    assert result.completion_filter is None


def test_request_id_falls_back_to_x_request_id(make_client):
    client, _ = make_client(
        httpx.Response(200, json=chat_completion(), headers={"x-request-id": "x-9"})
    )
    assert client.chat("hi").request_id == "x-9"


def test_filter_unavailable_is_reported_not_raised(make_client):
    """docs/wire.md: "content_filter_results":{"error":{…"The contents are not filtered"}}."""
    from azure_wire import FILTER_UNAVAILABLE

    client, _ = make_client(ok(chat_completion("fine", choice_filter=FILTER_UNAVAILABLE)))
    result = client.chat("hi")
    assert result.completion_filter is not None
    assert result.completion_filter.error == "The contents are not filtered"
    assert result.completion_filter.filtered is False


# --- v1 API ---------------------------------------------------------------------------------------
def test_v1_endpoint_suffix_selects_v1_url_model_in_body_and_bearer(make_client):
    """docs/wire.md: v1 is {endpoint}/openai/v1/chat/completions, deployment in body `model`,
    no api-version needed; a key works as `Authorization: Bearer`."""
    client, rec = make_client(endpoint=V1_ENDPOINT)
    result = client.chat("hi")
    (request,) = rec.requests
    assert request.url.path == "/openai/v1/chat/completions"
    assert "api-version" not in request.url.params
    assert rec.body()["model"] == "gpt-4o"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert result.text == "Paris is the capital of France."
    assert result.endpoint == V1_ENDPOINT


def test_api_version_v1_selects_v1_on_a_plain_endpoint(make_client):
    client, rec = make_client(api_version="v1")
    client.embed(["a"])
    request = rec.requests[0]
    assert request.url.path == "/openai/v1/embeddings"
    assert rec.body()["model"] == "text-embedding-3-small"
    assert request.headers["authorization"] == f"Bearer {API_KEY}"


def test_v1_on_services_ai_host(make_client):
    """docs/wire.md "Routes and versions": {res}.services.ai.azure.com accepts /openai/v1/."""
    client, rec = make_client(endpoint="https://res.services.ai.azure.com/openai/v1/")
    client.chat("hi")
    assert (
        str(rec.requests[0].url) == "https://res.services.ai.azure.com/openai/v1/chat/completions"
    )


# --- resolution and single-deployment error behaviour -------------------------------------------
def test_unknown_alias_raises_before_any_request(make_client):
    """A typo in model= lists the known aliases and sends nothing."""
    client, rec = make_client()
    with pytest.raises(DeploymentNotFoundError) as info:
        client.chat("hi", model="chta")
    message = str(info.value)
    assert "'chta'" in message
    for alias in ("chat", "code", "embedding", "image"):
        assert alias in message
    assert "AZURE_AI_KIT_CONFIG" in message  # says where to configure it
    assert info.value.model == "chta"
    assert rec.requests == []


def test_a_400_is_not_retried(make_client, clock):
    """DESIGN.md: 400 is neither retried nor failed over: exactly one request, no sleep."""
    client, rec = make_client(
        error(400, {"error": {"code": "BadRequest", "message": "Invalid value for 'seed'."}})
    )
    with pytest.raises(ServiceError) as info:
        client.chat("hi")
    assert len(rec.requests) == 1
    assert clock.slept == []
    assert info.value.status_code == 400
    assert "Invalid value for 'seed'" in str(info.value)


def test_empty_message_list_is_refused_without_a_request(make_client):
    client, rec = make_client()
    with pytest.raises(ValueError, match="messages is empty"):
        client.chat([])
    assert rec.requests == []


def test_client_without_credential_is_a_configuration_error():
    from azure_ai_kit import AzureAIClient

    with pytest.raises(ConfigurationError, match="pass credential="):
        AzureAIClient(endpoint=ENDPOINT, deployments={"chat": "gpt-4o"})


def test_unsupported_credential_type_is_refused():
    from azure_ai_kit import AzureAIClient

    with pytest.raises(ConfigurationError, match="unsupported credential int"):
        AzureAIClient(endpoint=ENDPOINT, credential=42, deployments={"chat": "gpt-4o"})


def test_endpoint_with_deployment_list_is_refused():
    from azure_ai_kit import AzureAIClient

    with pytest.raises(ConfigurationError, match="endpoint= only with the mapping"):
        AzureAIClient(
            endpoint=ENDPOINT,
            credential=API_KEY,
            deployments=[Deployment("gpt-4o", endpoint=ENDPOINT, aliases=("chat",))],
        )


def test_openai_escape_hatch_is_configured_for_the_deployment(make_client):
    client, rec = make_client()
    raw = client.openai("chat")
    assert raw.max_retries == 0
    raw.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert rec.requests[0].url.path == CLASSIC_CHAT
    assert rec.requests[0].headers["api-key"] == API_KEY


# --- images -------------------------------------------------------------------------------------
def test_generate_image_url_body_and_decoded_bytes(make_client):
    """docs/wire.md "Images": dall-e-3 on 2024-10-21; the kit asks for b64_json and decodes it."""
    client, rec = make_client(ok(image_response()))
    result = client.generate_image(
        "a watercolour fox", size="1024x1024", quality="hd", style="natural"
    )
    (request,) = rec.requests
    assert request.url.path == "/openai/deployments/dall-e-3/images/generations"
    assert request.url.params["api-version"] == "2024-10-21"
    body = rec.body()
    assert body["prompt"] == "a watercolour fox"
    assert body["size"] == "1024x1024"
    assert body["response_format"] == "b64_json"
    assert (body["quality"], body["style"]) == ("hd", "natural")
    assert isinstance(result, ImageResult)
    (image,) = result.images
    assert image.data == PNG_BYTES
    assert image.format == "png"
    assert image.revised_prompt.startswith("A watercolour painting")
    assert image.content_filter is not None
    assert image.content_filter.filtered is False
    # For images prompt_filter_results is an object, not a list (docs/wire.md).
    assert image.prompt_filter is not None
    assert image.prompt_filter.categories["jailbreak"].detected is False
    assert result.created == 1_700_000_002


def test_gpt_image_gets_no_response_format(make_client):
    """gpt-image-1 always returns b64_json and rejects response_format (docs/wire.md)."""
    client, rec = make_client(
        ok(image_response()),
        deployments={"image": "gpt-image-1"},
        api_version="2025-04-01-preview",
    )
    client.generate_image("a fox", n=2, output_format="png")
    body = rec.body()
    assert "response_format" not in body
    assert body["n"] == 2


def test_image_save_writes_exactly_the_decoded_bytes(make_client, tmp_path):
    client, _ = make_client(ok(image_response()))
    image = client.generate_image("a fox").images[0]
    target = tmp_path / "out" / "fox.png"
    assert image.save(target) == target
    assert target.read_bytes() == base64.b64decode(image_response()["data"][0]["b64_json"])
    assert [p.name for p in target.parent.iterdir()] == ["fox.png"]  # no temp file left


def test_url_only_image_is_downloaded_without_the_api_key(make_client, tmp_path):
    """docs/wire.md: URLs are SAS links; the blob fetch must not carry api-key or Authorization."""

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.host.endswith("blob.core.windows.net"):
            return httpx.Response(200, content=PNG_BYTES, headers={"content-type": "image/png"})
        return ok(image_response(url=True))

    client, rec = make_client(route)
    result = client.generate_image("a fox", response_format="url")
    assert [r.url.host for r in rec.requests] == [
        "res.openai.azure.com",
        "dalleprodsec.blob.core.windows.net",
    ]
    assert rec.body(0)["response_format"] == "url"
    blob = rec.requests[1]
    assert str(blob.url) == BLOB_URL
    assert blob.method == "GET"
    assert "api-key" not in blob.headers
    assert "authorization" not in blob.headers
    assert API_KEY not in str(blob.headers)
    image = result.images[0]
    assert image.url == BLOB_URL
    assert image.data == PNG_BYTES
    assert image.save(tmp_path / "fox.png").read_bytes() == PNG_BYTES


def test_failed_download_is_a_kit_error_not_an_empty_image(make_client):
    """An expired SAS link (docs/wire.md: valid 24 h) must raise the kit's ServiceError."""

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.host.endswith("blob.core.windows.net"):
            return httpx.Response(403, text="AuthenticationFailed: signature expired")
        return ok(image_response(url=True))

    client, _ = make_client(route)
    with pytest.raises(ServiceError):
        client.generate_image("a fox", response_format="url")


# --- embeddings ----------------------------------------------------------------------------------
def test_embeddings_come_back_in_input_order(make_client):
    """Azure may list `data` in any order; `vectors[i]` must belong to input i."""
    shuffled = {2: [0.0, 0.0, 1.0], 0: [1.0, 0.0, 0.0], 1: [0.0, 1.0, 0.0]}
    client, rec = make_client(ok(embedding_response(shuffled)))
    result = client.embed(["zero", "one", "two"])
    assert rec.requests[0].url.path == "/openai/deployments/text-embedding-3-small/embeddings"
    assert rec.body()["input"] == ["zero", "one", "two"]
    assert isinstance(result, EmbeddingResult)
    assert result.vectors == ([1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0])
    assert result.usage.prompt_tokens == 4
    assert result.usage.total_tokens == 4
    assert result.model == "text-embedding-3-small"


def test_embed_a_single_string_and_pass_dimensions(make_client):
    client, rec = make_client(ok(embedding_response({0: [0.5, 0.5]})))
    result = client.embed("hello", dimensions=2)
    assert rec.body()["input"] == "hello"
    assert rec.body()["dimensions"] == 2
    assert result.vectors == ([0.5, 0.5],)


@pytest.mark.parametrize("bad", [[], ["ok", 3]])
def test_embed_rejects_bad_input_without_a_request(make_client, bad):
    client, rec = make_client()
    with pytest.raises(ValueError, match="non-empty list of strings"):
        client.embed(bad)
    assert rec.requests == []


def test_client_owned_http_client_is_closed_but_a_passed_one_is_not(make_client):
    from azure_ai_kit import AzureAIClient

    rec = Recorder()
    http = httpx.Client(transport=httpx.MockTransport(rec.sync))
    with AzureAIClient(
        endpoint=ENDPOINT, credential=API_KEY, deployments={"chat": "gpt-4o"}, http_client=http
    ) as client:
        client.chat("hi")
    assert not http.is_closed
    http.close()
    owned = AzureAIClient(endpoint=ENDPOINT, credential=API_KEY, deployments={"chat": "gpt-4o"})
    owned.close()
    assert owned._http.is_closed


def test_request_body_is_json_with_deployment_as_model(make_client):
    """docs/wire.md: on classic `model` in the body is ignored, but openai sends the deployment."""
    client, rec = make_client()
    client.chat("hi")
    assert json.loads(rec.requests[0].content)["model"] == "gpt-4o"
