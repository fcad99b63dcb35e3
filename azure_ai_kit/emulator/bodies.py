"""Azure OpenAI's error bodies, one of each, for tests (yours and the kit's).

These are the bodies the emulator itself answers with (built by the same functions), so a
mocked-HTTP test and an emulator test agree on every word. Each is the whole JSON body; openai
puts the inner ``error`` object on ``exc.body``. Sources: docs/wire.md, "Error bodies".

    import httpx
    from azure_ai_kit.emulator import bodies

    httpx.Response(404, json=bodies.DEPLOYMENT_NOT_FOUND)

Treat them as read-only (copy before changing one).
"""

from __future__ import annotations

from typing import Any

from . import _errors

__all__ = [
    "API_VERSION_NOT_SUPPORTED",
    "CONTEXT_LENGTH_EXCEEDED",
    "DEPLOYMENT_NOT_FOUND",
    "FORBIDDEN",
    "IMAGE_CONTENT_POLICY",
    "MAX_TOKENS_UNSUPPORTED",
    "PERMISSION_DENIED",
    "PREVIOUS_RESPONSE_NOT_FOUND",
    "PROMPT_FILTERED",
    "PROMPT_FILTERED_SPEC",
    "RESOURCE_NOT_FOUND",
    "SERVER_ERROR",
    "THROTTLED",
    "TOKEN_REJECTED",
    "UNAUTHORIZED",
    "filter_results",
]

Body = dict[str, Any]

#: A ``content_filter_results`` object, every category safe except ``filtered=`` (at ``high``).
filter_results = _errors.filter_results

#: 429 on a chat deployment over its TPM: "Please retry after 6 seconds".
THROTTLED: Body = _errors.rate_limited("ChatCompletions_Create", "2024-10-21", 6, tokens=True)
#: 401 for a wrong or missing ``api-key``.
UNAUTHORIZED: Body = _errors.unauthorized()
#: 401 for a bad or expired bearer token: the gateway's bare body, no ``error`` wrapper.
TOKEN_REJECTED: Body = _errors.unauthorized(token=True)
#: 401 for an Entra principal without the OpenAI User role.
PERMISSION_DENIED: Body = _errors.permission_denied()
#: 403 for a resource Azure has blocked.
FORBIDDEN: Body = _errors.forbidden()
#: 404 for a deployment name the resource does not have.
DEPLOYMENT_NOT_FOUND: Body = _errors.deployment_not_found()
#: 404 for an unknown path, or a classic route without ``api-version``.
RESOURCE_NOT_FOUND: Body = _errors.resource_not_found()
#: 400 for an api-version Azure does not publish.
API_VERSION_NOT_SUPPORTED: Body = _errors.api_version_unsupported()
#: 400 for a chat prompt the filter blocked (jailbreak), spelled as captured on the wire.
PROMPT_FILTERED: Body = _errors.chat_content_filter(_errors.filter_results(jailbreak=True))
#: The same, spelled as the REST spec has it (``inner_error``/``content_filter_results``).
PROMPT_FILTERED_SPEC: Body = _errors.chat_content_filter(
    _errors.filter_results(jailbreak=True), spec_spelling=True
)
#: 400 for an image prompt the filter blocked (violence, high).
IMAGE_CONTENT_POLICY: Body = _errors.image_content_policy(
    _errors.filter_results(filtered="violence", jailbreak=False)
)
#: 400 for a prompt plus ``max_tokens`` over a 4,096-token context window.
CONTEXT_LENGTH_EXCEEDED: Body = _errors.context_length_exceeded(4096, 3177, 1024)
#: 400 from a reasoning model (o-series, gpt-5) for ``max_tokens``.
MAX_TOKENS_UNSUPPORTED: Body = _errors.unsupported_parameter("max_tokens", "max_completion_tokens")
#: 400 from the Responses API for a ``previous_response_id`` the resource does not hold.
PREVIOUS_RESPONSE_NOT_FOUND: Body = _errors.previous_response_not_found(
    "resp_0123456789abcdef0123456789abcdef0123456789abcdef"
)
#: 500.
SERVER_ERROR: Body = _errors.server_error()
