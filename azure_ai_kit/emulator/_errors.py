"""Azure OpenAI error bodies (``{"error": {...}}`` shapes), built in one place.

The emulator answers with these, and ``azure_ai_kit.emulator.bodies`` freezes one instance of
each for tests. Sources for every shape: docs/wire.md, "Error bodies".
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "FILTER_CATEGORIES",
    "api_version_unsupported",
    "bad_request",
    "chat_content_filter",
    "context_length_exceeded",
    "deployment_not_found",
    "filter_results",
    "forbidden",
    "image_content_policy",
    "model_needs_version",
    "operation_not_supported",
    "permission_denied",
    "previous_response_not_found",
    "rate_limited",
    "resource_not_found",
    "response_not_found",
    "server_error",
    "unauthorized",
    "unknown_parameter",
    "unsupported_parameter",
    "unsupported_value",
]

Body = dict[str, Any]

#: Severity categories every filter annotation carries.
FILTER_CATEGORIES = ("hate", "self_harm", "sexual", "violence")

_OPERATION_NAMES = {
    "chat": "chatCompletion",
    "embedding": "embeddings",
    "image": "imageGeneration",
    "responses": "responses",
}


def filter_results(
    *, filtered: str | None = None, severity: str = "high", jailbreak: bool | None = None
) -> Body:
    """A ``content_filter_results`` object: all categories safe except *filtered* (if given).

    ``jailbreak`` adds the detection category (present on prompt annotations only).
    """
    out: Body = {}
    for category in FILTER_CATEGORIES:
        hit = category == filtered
        out[category] = {"filtered": hit, "severity": severity if hit else "safe"}
    if jailbreak is not None:
        out["jailbreak"] = {"filtered": jailbreak, "detected": jailbreak}
    return dict(sorted(out.items()))


def resource_not_found() -> Body:
    """404 for unknown paths and for a classic route without ``api-version``."""
    return {"error": {"code": "404", "message": "Resource not found"}}


def api_version_unsupported() -> Body:
    """400 for an unknown or malformed ``api-version``."""
    return {"error": {"code": "BadRequest", "message": "API version not supported"}}


def unauthorized(*, token: bool = False) -> Body:
    """401 for a wrong or missing key; *token* gives Azure's bare body for a rejected bearer token.

    A bad or expired Entra token gets ``{"statusCode": 401, "message": …}`` with no ``error``
    wrapper (the gateway answers before the service does).
    """
    if token:
        return {
            "statusCode": 401,
            "message": "Unauthorized. Access token is missing, invalid, audience is incorrect "
            "(https://cognitiveservices.azure.com), or have expired.",
        }
    return {
        "error": {
            "code": "401",
            "message": "Access denied due to invalid subscription key or wrong API endpoint. "
            "Make sure to provide a valid key for an active subscription and use a correct "
            "regional API endpoint for your resource.",
        }
    }


def unsupported_parameter(param: str, instead: str | None = None) -> Body:
    """400 from a reasoning model for a parameter it does not take (``max_tokens``…)."""
    message = f"Unsupported parameter: '{param}' is not supported with this model."
    if instead:
        message += f" Use '{instead}' instead."
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": "unsupported_parameter",
        }
    }


def unsupported_value(param: str, value: object) -> Body:
    """400 from a reasoning model for a sampling setting other than the default (1)."""
    return {
        "error": {
            "message": f"Unsupported value: '{param}' does not support {value} with this model. "
            "Only the default (1) value is supported.",
            "type": "invalid_request_error",
            "param": param,
            "code": "unsupported_value",
        }
    }


def unknown_parameter(param: str) -> Body:
    """400 for a parameter the request's api-version does not know."""
    return {
        "error": {
            "message": f"Unknown parameter: '{param}'.",
            "type": "invalid_request_error",
            "param": param,
            "code": "unknown_parameter",
        }
    }


def model_needs_version(model: str, first: str) -> Body:
    """400 when a model is used with an api-version older than the first that serves it."""
    return {
        "error": {
            "code": "BadRequest",
            "message": f"Model {model} is enabled only for api versions {first} and later",
        }
    }


def permission_denied() -> Body:
    """401 for an Entra principal without the "Cognitive Services OpenAI User" role."""
    return {
        "error": {
            "code": "PermissionDenied",
            "message": "Principal does not have access to API/Operation.",
        }
    }


def forbidden() -> Body:
    """403 for a resource Azure has blocked (no credential problem)."""
    return {
        "error": {
            "code": "Forbidden",
            "message": "Your resource has been temporarily blocked because we detected "
            "behavior that may violate our content policy.",
        }
    }


def deployment_not_found() -> Body:
    """404 for a deployment name the resource does not have."""
    return {
        "error": {
            "code": "DeploymentNotFound",
            "message": "The API deployment for this resource does not exist. If you created the "
            "deployment within the last 5 minutes, please wait a moment and try again.",
        }
    }


def operation_not_supported(operation_kind: str, model: str) -> Body:
    """400 when a route is used on a deployment of the wrong kind (chat on an embedding model…)."""
    operation = _OPERATION_NAMES.get(operation_kind, operation_kind)
    return {
        "error": {
            "code": "OperationNotSupported",
            "message": f"The {operation} operation does not work with the specified model, "
            f"{model}. Please choose different model and try again. You can learn more about "
            "which models can be used with each operation here: "
            "https://go.microsoft.com/fwlink/?linkid=2197993.",
        }
    }


def bad_request(message: str, *, param: str | None = None, code: str | None = None) -> Body:
    """A generic OpenAI-style 400 ``invalid_request_error``."""
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": code or "invalid_request_error",
        }
    }


def chat_content_filter(results: Body, *, spec_spelling: bool = False) -> Body:
    """400 for a filtered chat prompt, spelled ``innererror``/``content_filter_result`` as
    captured on the wire, or ``inner_error``/``content_filter_results`` as the spec has it.
    """
    inner_key, results_key = ("inner_error", "content_filter_results")
    if not spec_spelling:
        inner_key, results_key = ("innererror", "content_filter_result")
    return {
        "error": {
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's "
            "content management policy. Please modify your prompt and retry. To learn more about "
            "our content filtering policies please read our documentation: "
            "https://go.microsoft.com/fwlink/?linkid=2198766",
            "type": None,
            "param": "prompt",
            "code": "content_filter",
            "status": 400,
            inner_key: {"code": "ResponsibleAIPolicyViolation", results_key: results},
        }
    }


def image_content_policy(results: Body, *, revised_prompt: str | None = None) -> Body:
    """400 when an image prompt trips the filter (``inner_error``/``content_filter_results``)."""
    inner: Body = {"code": "ResponsibleAIPolicyViolation", "content_filter_results": results}
    if revised_prompt is not None:
        inner["revised_prompt"] = revised_prompt
    return {
        "error": {
            "code": "content_policy_violation",
            "inner_error": inner,
            "message": "Your request was rejected as a result of our safety system. Your prompt "
            "may contain text that is not allowed by our safety system.",
            "type": "invalid_request_error",
        }
    }


def context_length_exceeded(window: int, prompt_tokens: int, max_tokens: int | None) -> Body:
    """400 when the estimated prompt plus ``max_tokens`` exceeds the context window."""
    if max_tokens is None:
        message = (
            f"This model's maximum context length is {window} tokens. However, your messages "
            f"resulted in {prompt_tokens} tokens. Please reduce the length of the messages."
        )
    else:
        message = (
            f"This model's maximum context length is {window} tokens. However, you requested "
            f"{prompt_tokens + max_tokens} tokens ({prompt_tokens} in the messages, {max_tokens} "
            "in the completion). Please reduce the length of the messages or completion."
        )
    return {
        "error": {
            "message": message,
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    }


def rate_limited(operation: str, api_version: str, seconds: int, *, tokens: bool) -> Body:
    """429 body; *tokens* picks the TPM ("token rate") or RPM ("call rate") wording."""
    what = "token rate limit" if tokens else "call rate limit"
    unit = "second" if seconds == 1 else "seconds"
    return {
        "error": {
            "code": "429",
            "message": f"Requests to the {operation} Operation under Azure OpenAI API version "
            f"{api_version} have exceeded {what} of your current OpenAI S0 pricing tier. Please "
            f"retry after {seconds} {unit}. Please go here: https://aka.ms/oai/quotaincrease if "
            "you would like to further increase the default rate limit.",
        }
    }


def server_error() -> Body:
    """500 body."""
    return {
        "error": {
            "message": "The server had an error while processing your request. Sorry about that! "
            "You can retry your request, or contact us through an Azure support request at: "
            "https://go.microsoft.com/fwlink/?linkid=2213926 if the error persists.",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }


def previous_response_not_found(response_id: str) -> Body:
    """400 for a ``previous_response_id`` the resource does not hold (never stored, or evicted)."""
    return {
        "error": {
            "message": f"Previous response with id '{response_id}' not found.",
            "type": "invalid_request_error",
            "param": "previous_response_id",
            "code": "previous_response_not_found",
        }
    }


def response_not_found(response_id: str) -> Body:
    """404 for ``GET …/responses/{id}`` with an id the resource does not hold."""
    return {
        "error": {
            "message": f"Response with id '{response_id}' not found.",
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        }
    }
