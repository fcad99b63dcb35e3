"""Map `openai` errors and Azure's error bodies (docs/wire.md) onto the kit's error tree. Pure.

`classify()` answers two questions about one failed attempt: which kit error describes it,
and what the router should learn (throttled, transient failure, broken, or nothing).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx2
import openai
import pydantic

from ._exceptions import (
    AuthenticationError,
    AzureAIKitError,
    ContentFilteredError,
    ContextLengthError,
    DeploymentNotFoundError,
    RateLimitedError,
    ServiceError,
)
from ._results import CategoryResult, ChatResult, ContentFilterReport
from ._retry import parse_retry_after

__all__ = [
    "ATTEMPT_ERRORS",
    "Classified",
    "MalformedResponse",
    "StreamFailed",
    "attempt_errors",
    "classify",
    "completion_filtered",
    "download_failed",
    "http_errors",
]


class MalformedResponse(Exception):
    """An HTTP 200 the kit cannot use (HTML, `{"error": …}`, no choices, a vector count that
    does not match the inputs, a stream with no content): retried and failed over."""


class StreamFailed(Exception):
    """A stream stalled (no content within the timeout) or reported a failure in-band."""


#: What a failed attempt may raise; anything else is a bug and propagates untouched.
ATTEMPT_ERRORS: tuple[type[BaseException], ...] = (
    openai.OpenAIError,
    httpx2.HTTPError,
    json.JSONDecodeError,
    pydantic.ValidationError,
    MalformedResponse,
    StreamFailed,
)


def http_errors(http_client: object) -> tuple[type[Exception], ...]:
    """The transport errors of this HTTP client: httpx2's, plus legacy httpx's for a legacy one.

    The legacy package is never imported here: a legacy client means it is loaded already.
    """
    package = sys.modules.get(type(http_client).__module__.partition(".")[0])
    legacy = getattr(package, "HTTPError", None)
    if (
        isinstance(legacy, type)
        and issubclass(legacy, Exception)
        and legacy is not httpx2.HTTPError
    ):
        return (httpx2.HTTPError, legacy)
    return (httpx2.HTTPError,)


def attempt_errors(http_client: object) -> tuple[type[BaseException], ...]:
    """What a failed attempt may raise with this HTTP client (`ATTEMPT_ERRORS` and its own)."""
    return (*ATTEMPT_ERRORS, *http_errors(http_client)[1:])


Signal = Literal["throttled", "failure", "broken", "auth", "reshape", "none"]

#: Codes of a failed response (in a stream) that another attempt may cure.
_TRANSIENT_STREAM_CODES = frozenset({"server_error", "internal_error", "server_is_overloaded"})

_BLOCKED_HINT = (
    "the resource itself is blocked; check its status, quota and billing in the Azure portal"
)
_ROLE_HINT = (
    "check the key (AZURE_OPENAI_API_KEY) matches this resource, or for Entra ID give the "
    "principal the 'Cognitive Services OpenAI User' role on the resource"
)


@dataclass
class Classified:
    """One failed attempt, understood: the error to raise and the routing signal."""

    error: AzureAIKitError
    signal: Signal
    status: int | None
    retry_after: float | None = None
    cause: BaseException | None = None  # the openai/httpx error, for `raise … from`

    @property
    def retryable(self) -> bool:
        """Whether another attempt (same or other deployment) may succeed."""
        return self.signal != "none"


def _body(exc: openai.APIStatusError) -> Mapping[str, Any]:
    body = exc.body
    if isinstance(body, Mapping):
        inner = body.get("error")
        return inner if isinstance(inner, Mapping) else body
    return {}


def _filter_categories(body: Mapping[str, Any]) -> dict[str, CategoryResult]:
    inner = body.get("innererror") or body.get("inner_error") or {}
    results = None
    if isinstance(inner, Mapping):
        results = inner.get("content_filter_result") or inner.get("content_filter_results")
    report = ContentFilterReport.from_json(results)
    return dict(report.categories) if report else {}


def classify(
    exc: BaseException, deployment: str, *, status_retryable: frozenset[int]
) -> Classified:
    """Turn an exception raised by an `openai` call into a `Classified` kit error."""
    classified = _classify(exc, deployment, status_retryable)
    classified.cause = exc
    return classified


def _classify(exc: BaseException, deployment: str, status_retryable: frozenset[int]) -> Classified:
    where: dict[str, Any] = {"deployment": deployment}
    if isinstance(exc, openai.APITimeoutError):
        return Classified(ServiceError(f"{deployment} timed out", **where), "failure", None)
    if isinstance(exc, openai.APIConnectionError):
        return Classified(
            ServiceError(f"could not reach {deployment}: {exc.message}", **where), "failure", None
        )
    if isinstance(exc, (json.JSONDecodeError, pydantic.ValidationError, MalformedResponse)):
        what = str(exc) if isinstance(exc, MalformedResponse) else type(exc).__name__
        return Classified(
            ServiceError(f"{deployment} sent a malformed response ({what})", **where),
            "failure",
            None,
        )
    if isinstance(exc, StreamFailed):
        return Classified(ServiceError(f"{deployment}: {exc}", **where), "failure", None)
    if not isinstance(exc, openai.APIStatusError):
        # A failure the stream reported in-band (a Responses `response.failed` / `error`
        # event): a server-side code may succeed elsewhere, anything else would fail again.
        body = exc.body if isinstance(exc, openai.APIError) else None
        code = body.get("code") if isinstance(body, Mapping) else None
        signal: Signal = "failure" if code in _TRANSIENT_STREAM_CODES else "none"
        return Classified(ServiceError(f"{deployment}: {exc}", code=code, **where), signal, None)

    status = exc.status_code
    body = _body(exc)
    code = str(body.get("code") or "")
    message = str(body.get("message") or exc.message)
    info: dict[str, Any] = {
        **where, "status_code": status, "request_id": exc.request_id, "code": code or None
    }  # fmt: skip

    if status == 429:
        wait = parse_retry_after(exc.response.headers, message)
        throttled = RateLimitedError(
            f"{deployment} is throttled (429): {message}", retry_after=wait, **info
        )
        return Classified(throttled, "throttled", status, wait)
    if status in (401, 403):
        label = str(status) if code in ("", str(status)) else f"{status} {code}"
        # A blocked resource is not a credential problem (docs/wire.md, "Error bodies").
        blocked = "blocked" in message.lower()
        what, hint = ("the request", _BLOCKED_HINT) if blocked else ("the credential", _ROLE_HINT)
        return Classified(
            AuthenticationError(f"{deployment} refused {what} ({label}): "
                                f"{message} — {hint}", **info),
            "auth", status,
        )  # fmt: skip
    if status == 404:
        hint = (
            "check the deployment name in the Azure portal (AI Foundry → Deployments)"
            if code == "DeploymentNotFound"
            else "check the endpoint and the api-version (OPENAI_API_VERSION)"
        )
        return Classified(
            DeploymentNotFoundError(f"{deployment}: {message} — {hint}", **info), "broken", status
        )
    if code in ("content_filter", "content_policy_violation") or (
        isinstance(body.get("innererror") or body.get("inner_error"), Mapping) and status == 400
    ):
        categories = _filter_categories(body)
        fired = sorted(name for name, c in categories.items() if c.filtered)
        error = ContentFilteredError(
            f"the prompt was blocked by Azure's content filter ({', '.join(fired) or code}); "
            "rephrase it or ask your admin about the deployment's content filter policy",
            source="prompt",
            categories=categories,
            **info,
        )
        return Classified(error, "none", status)
    if code == "unsupported_parameter" and body.get("param") == "max_tokens":
        # A reasoning model behind a deployment of unknown model: resent once with
        # max_completion_tokens (docs/wire.md, "Reasoning models").
        return Classified(
            ServiceError(
                f"{deployment} refused max_tokens ({message}); resend with max_completion_tokens",
                **info,
            ),
            "reshape",
            status,
        )
    if code == "context_length_exceeded":
        return Classified(
            ContextLengthError(
                f"{message} — shorten the prompt or lower max_tokens", **info
            ),
            "none", status,
        )  # fmt: skip
    if status >= 500 or status in status_retryable:
        return Classified(
            ServiceError(f"{deployment} failed ({status}): {message}", **info), "failure", status
        )
    hint = ""
    if "api version not supported" in message.lower():
        # A version that does not exist (docs/wire.md, "Routes and versions").
        hint = (
            " — set api_version (AZURE_OPENAI_API_VERSION) to a published version such as "
            "2024-10-21, or leave it unset for the default routes"
        )
    return Classified(
        ServiceError(
            f"{deployment} rejected the request ({status} {code}): {message}{hint}", **info
        ),
        "none",
        status,
    )


def completion_filtered(result: ChatResult) -> ContentFilteredError:
    """The error for a completion that Azure cut with `finish_reason: "content_filter"`."""
    report = result.completion_filter
    categories = dict(report.categories) if report else {}
    fired = sorted(name for name, c in categories.items() if c.filtered)
    return ContentFilteredError(
        f"the completion was cut by Azure's content filter ({', '.join(fired) or 'unspecified'}); "
        "the partial text is on .partial_text",
        source="completion",
        categories=categories,
        partial_text=result.text,
        deployment=result.deployment,
        status_code=200,
        request_id=result.request_id,
        attempts=result.attempts,
    )


def download_failed(url: str, exc: Exception) -> ServiceError:
    """The error for an image URL that could not be fetched (an expired SAS link, say).

    Only the host is named: the query string of a SAS URL is a credential.
    """
    host = urlsplit(url).hostname or "?"
    # HTTPStatusError (httpx2 or legacy httpx) carries the response; other errors have none.
    response = exc.__dict__.get("response")
    status = getattr(response, "status_code", None)
    return ServiceError(
        f"could not download the generated image from {host} ({status or type(exc).__name__}); "
        "SAS links expire after 24 hours — ask for response_format='b64_json' to avoid downloads",
        status_code=status,
    )
