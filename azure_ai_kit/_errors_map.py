"""Map `openai` errors and Azure's error bodies (docs/wire.md) onto the kit's error tree. Pure.

`classify()` answers two questions about one failed attempt: which kit error describes it,
and what the router should learn (throttled, transient failure, broken, or nothing).
"""

from __future__ import annotations

import copy
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
    """Turn an exception raised by an `openai` call into a `Classified` kit error.

    Secrets are masked first, on the kit error and on `exc` (which the kit error is chained
    to): the key or token the request carried is replaced by `****` wherever a gateway
    echoed it, and the request's `api-key` / `Authorization` headers are masked (httpx's
    repr hides only Authorization).
    """
    secrets = mask_secrets(exc)
    classified = _classify(exc, deployment, status_retryable)
    error = classified.error
    for secret in secrets:
        error.message = error.message.replace(secret, "****")
    error.args = (error.message,)
    classified.cause = exc
    return classified


#: Request headers that carry a credential.
SECRET_HEADERS = ("api-key", "authorization")


def mask_secrets(exc: BaseException) -> list[str]:
    """Give `exc` (and what it chains) copies of its requests with the credential headers
    masked, and scrub the secrets from its text and body; returns the secrets found.

    Copies, not the requests themselves: a transport mock or event hook may hold those.
    """
    secrets: list[str] = []
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain and len(chain) < 8:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    masked: dict[int, Any] = {}
    for error in chain:
        for holder, name in _request_slots(error):
            request = getattr(holder, name)
            if id(request) not in masked:
                masked[id(request)] = _masked_request(request, secrets)
            setattr(holder, name, masked[id(request)])
    for error in chain:
        _scrub_error(error, secrets)
    return secrets


def _request_slots(error: BaseException) -> list[tuple[Any, str]]:
    """(object, attribute) pairs holding a request: `exc.request`, httpx's `exc._request`,
    and the response's `_request`."""
    slots: list[tuple[Any, str]] = []
    for holder, name in ((error, "request"), (error, "_request")):
        if hasattr(holder.__dict__.get(name), "headers"):
            slots.append((holder, name))
    response = error.__dict__.get("response")
    if hasattr(getattr(response, "__dict__", {}).get("_request"), "headers"):
        slots.append((response, "_request"))
    return slots


def _masked_request(request: Any, secrets: list[str]) -> Any:
    headers = request.headers.copy()
    for name in SECRET_HEADERS:
        value = headers.get(name)
        if not value:
            continue
        scheme, _, token = value.partition(" ")
        bearer = scheme.lower() == "bearer" and bool(token)
        secret = token if bearer else value
        if len(secret) >= 8:  # a shorter "secret" would blot out ordinary words
            secrets.append(secret)
        headers[name] = f"{scheme} ****" if bearer else "****"
    copied = copy.copy(request)
    copied.headers = headers
    return copied


def _scrub_error(error: BaseException, secrets: list[str]) -> None:
    if not secrets:
        return
    error.args = tuple(_scrubbed(a, secrets) for a in error.args)
    for name in ("message", "body"):
        if name in error.__dict__:
            error.__dict__[name] = _scrubbed(error.__dict__[name], secrets)


def _scrubbed(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, "****")
        return value
    if isinstance(value, Mapping):
        return {k: _scrubbed(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, secrets) for v in value]
    return value


def _message(exc: openai.APIStatusError, body: Mapping[str, Any]) -> str:
    """What Azure, or whatever answered, said: Azure's `message`, a gateway's `detail`, a
    plain-text body, or the JSON body itself; never just "Error code: 400"."""
    for key in ("message", "detail"):
        value = body.get(key)
        if value:
            return _short(value if isinstance(value, str) else json.dumps(value))
    if isinstance(exc.body, str) and exc.body.strip():
        return _short(exc.body)
    if body:
        return _short(json.dumps(body, default=str))
    return exc.message


def _short(text: str, limit: int = 500) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


#: Azure's content-filter codes: the error code, and the inner error code (docs/wire.md).
FILTER_CODES = frozenset({"content_filter", "content_policy_violation"})
FILTER_INNER_CODE = "ResponsibleAIPolicyViolation"


def _is_filter(code: str, body: Mapping[str, Any]) -> bool:
    inner = body.get("innererror") or body.get("inner_error")
    inner_code = inner.get("code") if isinstance(inner, Mapping) else None
    return code in FILTER_CODES or inner_code == FILTER_INNER_CODE


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
    message = _message(exc, body)
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
        if code == "DeploymentNotFound":
            text = f"{deployment}: {message} — check the deployment name in the Azure portal "
            text += "(AI Foundry → Deployments)"
        else:  # Azure did not say which part is wrong: report what it said
            text = f"{deployment}: the server answered 404 ({code or 'no code'}): {message} — "
            text += "check the endpoint (AZURE_OPENAI_ENDPOINT) is the resource URL and the "
            text += "deployment name is right"
        return Classified(DeploymentNotFoundError(text, **info), "broken", status)
    if _is_filter(code, body):
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
    """The error for an image URL that could not be fetched (unreachable, reset, timed out).

    Only the host and path are named: the query string of a SAS URL is a credential.
    """
    parts = urlsplit(url)
    shown = f"{parts.hostname or '?'}{parts.path}"
    # HTTPStatusError (httpx2 or legacy httpx) carries the response; other errors have none.
    response = exc.__dict__.get("response")
    status = getattr(response, "status_code", None)
    return ServiceError(
        f"could not download the generated image from {shown} "
        f"({status or type(exc).__name__}); SAS links expire after 24 hours — ask for "
        "response_format='b64_json' to avoid downloads",
        status_code=status,
    )
