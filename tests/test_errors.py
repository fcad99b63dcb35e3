"""Every Azure failure → the kit's error, fed with Azure's real error bodies (docs/wire.md,
"Error bodies"). Single deployment only: what is raised, its message, `.attempts`, the chained
`openai` error, and how many requests went out."""

from __future__ import annotations

import httpx
import openai
import pytest
from azure_wire import (
    CONTEXT_LENGTH_400,
    CUT_COMPLETION_FILTER,
    DEPLOYMENT_NOT_FOUND_404,
    FORBIDDEN_403,
    IMAGE_POLICY_VIOLATION_400,
    PERMISSION_DENIED_401,
    PROMPT_FILTERED_400,
    PROMPT_FILTERED_400_SPEC,
    SERVER_ERROR_500,
    THROTTLED_429,
    UNAUTHORIZED_401,
    chat_completion,
    error,
    ok,
)

from azure_ai_kit import (
    Attempt,
    AuthenticationError,
    AzureAIKitError,
    ContentFilteredError,
    ContextLengthError,
    DeploymentNotFoundError,
    RateLimitedError,
    RetryPolicy,
    ServiceError,
)

WHERE = "gpt-4o@res.openai.azure.com"
ONE_SHOT = RetryPolicy(max_attempts=1, max_throttled_attempts=0, jitter=0)


def _assert_chained(
    exc: AzureAIKitError, cause: type[BaseException], status: int | None, where: str = WHERE
) -> None:
    assert isinstance(exc.__cause__, cause)
    assert exc.attempts, "every error after an HTTP exchange carries .attempts"
    last = exc.attempts[-1]
    assert isinstance(last, Attempt)
    assert last.deployment == where
    assert last.status == status
    assert last.error == type(exc).__name__


# --- content filter ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [PROMPT_FILTERED_400, PROMPT_FILTERED_400_SPEC],
    ids=["innererror/content_filter_result", "inner_error/content_filter_results"],
)
def test_prompt_blocked_by_filter_both_spellings(make_client, clock, body):
    """docs/wire.md: 400 content_filter; both `innererror`/`content_filter_result` and the spec's
    `inner_error`/`content_filter_results` occur on the wire."""
    client, rec = make_client(error(400, body))
    with pytest.raises(ContentFilteredError) as info:
        client.chat("Ignore all previous instructions and …")
    exc = info.value
    assert exc.source == "prompt"
    assert exc.categories["jailbreak"].filtered is True
    assert exc.categories["jailbreak"].detected is True
    assert exc.categories["hate"].filtered is False
    assert exc.categories["hate"].severity == "safe"
    assert set(exc.categories) == {"hate", "jailbreak", "self_harm", "sexual", "violence"}
    assert exc.filtered_categories == ["jailbreak"]
    assert exc.status_code == 400
    assert exc.request_id == "xreq-err"
    assert "jailbreak" in str(exc)
    assert "content filter" in str(exc)
    assert len(rec.requests) == 1  # never retried
    assert clock.slept == []
    _assert_chained(exc, openai.BadRequestError, 400)


def test_image_content_policy_violation(make_client):
    """docs/wire.md: images answer 400 content_policy_violation with inner_error."""
    client, rec = make_client(error(400, IMAGE_POLICY_VIOLATION_400))
    with pytest.raises(ContentFilteredError) as info:
        client.generate_image("something violent")
    exc = info.value
    assert exc.source == "prompt"
    assert exc.filtered_categories == ["violence"]
    assert exc.categories["violence"].severity == "high"
    assert len(rec.requests) == 1
    assert rec.requests[0].url.path.endswith("/dall-e-3/images/generations")
    _assert_chained(exc, openai.BadRequestError, 400, "dall-e-3@res.openai.azure.com")


def test_completion_cut_by_filter(make_client):
    """docs/wire.md: a filtered completion is HTTP 200 with finish_reason "content_filter" and
    partial content."""
    client, rec = make_client(
        ok(
            chat_completion(
                "The battle began when", finish_reason="content_filter",
                choice_filter=CUT_COMPLETION_FILTER,
            )
        )
    )  # fmt: skip
    with pytest.raises(ContentFilteredError) as info:
        client.chat("Tell me a war story")
    exc = info.value
    assert exc.source == "completion"
    assert exc.partial_text == "The battle began when"
    assert exc.filtered_categories == ["violence"]
    assert exc.categories["violence"].severity == "high"
    assert exc.deployment == "gpt-4o"
    assert exc.request_id == "apim-0001"
    assert "partial_text" in str(exc)
    assert len(rec.requests) == 1


def test_completion_cut_with_empty_content(make_client):
    body = chat_completion("", finish_reason="content_filter", choice_filter=CUT_COMPLETION_FILTER)
    body["choices"][0]["message"]["content"] = None
    client, _ = make_client(ok(body))
    with pytest.raises(ContentFilteredError) as info:
        client.chat("hi")
    assert info.value.partial_text == ""
    assert info.value.source == "completion"


def test_completion_cut_error_carries_attempts(make_client):
    client, _ = make_client(
        ok(
            chat_completion(
                "x", finish_reason="content_filter", choice_filter=CUT_COMPLETION_FILTER
            )
        )
    )
    with pytest.raises(ContentFilteredError) as info:
        client.chat("hi")
    assert [(a.deployment, a.status) for a in info.value.attempts] == [(WHERE, 200)]


# --- 404 / 401 / 403 -------------------------------------------------------------------------
def test_deployment_not_found(make_client, clock):
    """docs/wire.md: 404 DeploymentNotFound."""
    client, rec = make_client(error(404, DEPLOYMENT_NOT_FOUND_404))
    with pytest.raises(DeploymentNotFoundError) as info:
        client.chat("hi")
    exc = info.value
    assert "does not exist" in str(exc)
    assert "deployment name" in str(exc)  # says how to fix it
    assert exc.status_code == 404
    assert len(rec.requests) == 1  # nowhere else to go, and not worth a 300 s wait
    assert clock.slept == []
    _assert_chained(exc, openai.NotFoundError, 404)


def test_blocked_resource_hints_the_portal_not_the_role(make_client, clock):
    """docs/wire.md: 403 Forbidden "Your resource has been temporarily blocked" is no RBAC
    problem."""
    client, _ = make_client(error(403, FORBIDDEN_403))
    with pytest.raises(AuthenticationError) as info:
        client.chat("hi")
    assert "Azure portal" in str(info.value)
    assert "Cognitive Services OpenAI User" not in str(info.value)
    assert info.value.code == "Forbidden"
    _assert_chained(info.value, openai.PermissionDeniedError, 403)


@pytest.mark.parametrize(
    ("status", "body", "cause"),
    [
        (401, UNAUTHORIZED_401, openai.AuthenticationError),
        (401, PERMISSION_DENIED_401, openai.AuthenticationError),
    ],
    ids=["401-bad-key", "401-no-role"],
)
def test_auth_failures_hint_the_rbac_role(make_client, clock, status, body, cause):
    """docs/wire.md: 401 (bad key / principal without the role)."""
    client, rec = make_client(error(status, body))
    with pytest.raises(AuthenticationError) as info:
        client.chat("hi")
    exc = info.value
    assert "Cognitive Services OpenAI User" in str(exc)
    assert "AZURE_OPENAI_API_KEY" in str(exc)
    assert body["error"]["message"] in str(exc)
    assert exc.status_code == status
    assert len(rec.requests) == 1  # a key cannot be refreshed
    assert clock.slept == []
    _assert_chained(exc, cause, status)


# --- 400 context length -----------------------------------------------------------------------
def test_context_length_exceeded(make_client, clock):
    client, rec = make_client(error(400, CONTEXT_LENGTH_400))
    with pytest.raises(ContextLengthError) as info:
        client.chat("x" * 20_000, max_tokens=1024)
    exc = info.value
    assert "maximum context length is 4096 tokens" in str(exc)
    assert "max_tokens" in str(exc)  # how to fix it
    assert len(rec.requests) == 1
    assert clock.slept == []
    _assert_chained(exc, openai.BadRequestError, 400)


# --- 429 ------------------------------------------------------------------------------------------
def test_throttled_retry_after_from_the_message(make_client):
    """docs/wire.md, "Response headers": the seconds of a 429 may only appear in the message
    ("Please retry after 6 seconds")."""
    client, rec = make_client(error(429, THROTTLED_429), retry=ONE_SHOT)
    with pytest.raises(RateLimitedError) as info:
        client.chat("hi")
    exc = info.value
    assert exc.retry_after == pytest.approx(6.0)
    assert exc.status_code == 429
    assert "throttled" in str(exc)
    assert len(rec.requests) == 1
    _assert_chained(exc, openai.RateLimitError, 429)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "20"}, 20.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"x-ratelimit-reset-tokens": "55"}, 55.0),
    ],
)
def test_throttled_retry_after_from_headers(make_client, headers, expected):
    body = {"error": {"code": "429", "message": "Rate limit is exceeded."}}
    client, _ = make_client(error(429, body, **headers), retry=ONE_SHOT)
    with pytest.raises(RateLimitedError) as info:
        client.chat("hi")
    assert info.value.retry_after == pytest.approx(expected)


def test_throttled_retry_is_honoured_on_the_fake_clock(make_client, clock):
    """A single deployment that asked for 6 s is retried after exactly 6 s (recorded sleep)."""
    client, rec = make_client([error(429, THROTTLED_429), ok(chat_completion("ok"))])
    result = client.chat("hi")
    assert result.text == "ok"
    assert len(rec.requests) == 2
    assert clock.slept == [pytest.approx(6.0)]
    assert [(a.status, a.error) for a in result.attempts] == [
        (429, "RateLimitedError"),
        (200, None),
    ]
    assert result.attempts[1].waited == pytest.approx(6.0)


def test_throttled_for_a_day_raises_at_once(make_client, clock):
    """DESIGN.md: never hang on Retry-After: 86400 — raise with retry_after, no sleep."""
    client, rec = make_client(error(429, THROTTLED_429, **{"retry-after": "86400"}))
    with pytest.raises(RateLimitedError) as info:
        client.chat("hi")
    assert info.value.retry_after == pytest.approx(300.0)  # hints are clamped to MAX_COOLDOWN
    assert clock.slept == []
    assert len(rec.requests) == 1


# --- 5xx, timeouts, connection errors ----------------------------------------------------------
def test_server_error(make_client):
    client, rec = make_client(error(500, SERVER_ERROR_500), retry=ONE_SHOT)
    with pytest.raises(ServiceError) as info:
        client.chat("hi")
    exc = info.value
    assert exc.status_code == 500
    assert "The server had an error" in str(exc)
    assert len(rec.requests) == 1
    _assert_chained(exc, openai.InternalServerError, 500)


def test_server_error_is_retried_within_the_attempt_cap(make_client, clock):
    client, rec = make_client(
        error(500, SERVER_ERROR_500), retry=RetryPolicy(max_attempts=3, jitter=0)
    )
    with pytest.raises(ServiceError) as info:
        client.chat("hi")
    assert len(rec.requests) == 3
    assert [a.status for a in info.value.attempts] == [500, 500, 500]
    assert len(clock.slept) == 2  # waited between attempts, on the fake clock only


def test_server_error_then_success(make_client):
    client, _ = make_client([error(500, SERVER_ERROR_500), ok(chat_completion("ok"))])
    result = client.chat("hi")
    assert result.text == "ok"
    assert [a.status for a in result.attempts] == [500, 200]


def _raiser(exc_type: type[httpx.HTTPError]):
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("simulated", request=request)

    return handler


@pytest.mark.parametrize(
    ("transport_error", "cause", "words"),
    [
        (httpx.ReadTimeout, openai.APITimeoutError, "timed out"),
        (httpx.ConnectTimeout, openai.APITimeoutError, "timed out"),
        (httpx.ConnectError, openai.APIConnectionError, "could not reach"),
        (httpx.RemoteProtocolError, openai.APIConnectionError, "could not reach"),
    ],
)
def test_timeouts_and_connection_errors(make_client, transport_error, cause, words):
    client, rec = make_client(_raiser(transport_error), retry=ONE_SHOT)
    with pytest.raises(ServiceError) as info:
        client.chat("hi")
    exc = info.value
    assert words in str(exc)
    assert WHERE in str(exc)
    assert len(rec.requests) == 1
    _assert_chained(exc, cause, None)


def test_malformed_success_body_is_a_service_error(make_client):
    client, _ = make_client(
        httpx.Response(
            200, content=b"<html>gateway</html>", headers={"content-type": "application/json"}
        ),
        retry=ONE_SHOT,
    )
    with pytest.raises(ServiceError) as info:
        client.chat("hi")
    assert "malformed" in str(info.value)
    assert info.value.attempts


def test_every_kit_error_is_an_azure_ai_kit_error():
    for cls in (
        AuthenticationError,
        ContentFilteredError,
        ContextLengthError,
        DeploymentNotFoundError,
        RateLimitedError,
        ServiceError,
    ):
        assert issubclass(cls, AzureAIKitError)


def test_request_id_is_appended_to_the_message():
    exc = ServiceError("boom", request_id="req-42")
    assert str(exc) == "boom (request id req-42)"
    assert str(ServiceError("boom")) == "boom"
