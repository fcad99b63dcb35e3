"""The errors azure-ai-kit raises. Every one is importable from `azure_ai_kit`.

```
AzureAIKitError
├── ConfigurationError          bad or missing settings; the message names the env vars
├── InvalidRequestError         bad call arguments, caught before any request (also ValueError)
├── DeploymentNotFoundError     no deployment matches model=, or Azure said DeploymentNotFound
├── AuthenticationError         401/403 after one token refresh; hints the RBAC role
├── ContentFilteredError        prompt blocked (400) or completion cut (finish_reason)
├── ContextLengthError          400 context_length_exceeded
├── RateLimitedError            throttled beyond the call's budget; .retry_after
├── ServiceError                5xx/timeout/connection after the budget; .attempts
├── StructuredOutputError       a structured reply cut by length or not valid; .text, .reason
└── ToolLoopError               run_tools ran out of rounds; .messages (the transcript)
```

Errors raised after an HTTP exchange are chained (`raise … from`) to the `openai` error that
caused them and carry `.attempts`, the story of the call. Messages never contain secrets.
Every error survives a pickle round-trip with its attributes (process pools, task queues).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ._results import Attempt, CategoryResult

__all__ = [
    "AuthenticationError",
    "AzureAIKitError",
    "ConfigurationError",
    "ContentFilteredError",
    "ContextLengthError",
    "DeploymentNotFoundError",
    "InvalidRequestError",
    "RateLimitedError",
    "ServiceError",
    "StructuredOutputError",
    "ToolLoopError",
]


class AzureAIKitError(Exception):
    """Base class of every error azure-ai-kit raises."""

    def __init__(
        self,
        message: str,
        *,
        attempts: Sequence[Attempt] = (),
        status_code: int | None = None,
        request_id: str | None = None,
        deployment: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        #: Azure's error code from the body (`"content_filter"`, `"DeploymentNotFound"`, …).
        self.code = code
        self.attempts: tuple[Attempt, ...] = tuple(attempts)
        self.status_code = status_code
        self.request_id = request_id
        self.deployment = deployment

    def __str__(self) -> str:
        if self.request_id:
            return f"{self.message} (request id {self.request_id})"
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception pickles as `cls(*args)`, which loses keyword-only arguments (`source=`,
        # `categories=`); rebuild without __init__ and restore every attribute instead.
        return (_restore, (type(self), self.args), self.__dict__)


def _restore(cls: type[AzureAIKitError], args: tuple[Any, ...]) -> AzureAIKitError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    return error


class ConfigurationError(AzureAIKitError):
    """Settings are missing or invalid; the message names the environment variable to set."""


class InvalidRequestError(AzureAIKitError, ValueError):
    """A call's arguments are wrong (empty `model=`, messages of the wrong shape, a negative
    `max_tokens`, …); raised before any request. Also a `ValueError`."""


class DeploymentNotFoundError(AzureAIKitError):
    """No configured deployment matches `model=`, or Azure answered 404 DeploymentNotFound."""

    def __init__(self, message: str, *, model: str | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.model = model


class AuthenticationError(AzureAIKitError):
    """Azure refused the key or token (401/403), even after one fresh token."""


class ContentFilteredError(AzureAIKitError):
    """Azure's content filter blocked the prompt or cut the completion.

    `.source` says which ("prompt" or "completion"); `.categories` maps each category
    (`"hate"`, `"jailbreak"`, …) to its result; `.filtered_categories` lists those that fired;
    `.partial_text` holds what the model produced before a completion was cut.
    """

    def __init__(
        self,
        message: str,
        *,
        source: Literal["prompt", "completion"],
        categories: Mapping[str, CategoryResult],
        partial_text: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.source = source
        self.categories = dict(categories)
        self.partial_text = partial_text

    @property
    def filtered_categories(self) -> list[str]:
        """Names of the categories that caused the block, sorted."""
        return sorted(name for name, result in self.categories.items() if result.filtered)


class ContextLengthError(AzureAIKitError):
    """The prompt plus `max_tokens` exceed the model's context window (400)."""


class RateLimitedError(AzureAIKitError):
    """Every candidate deployment is throttled beyond this call's deadline or attempt budget.

    `.retry_after` is the number of seconds until the earliest deployment is free, when known.
    """

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServiceError(AzureAIKitError):
    """Azure failed (5xx), timed out or could not be reached, beyond the call's retry budget;
    also any other unexpected HTTP error (400 bad request). `.partial_text` holds the text a
    stream delivered before it broke."""

    def __init__(self, message: str, *, partial_text: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.partial_text = partial_text


class StructuredOutputError(AzureAIKitError):
    """A structured reply was cut (`.reason == "length"`) or did not validate (`"invalid"`).

    `.text` is the raw reply; `.validation_error` the pydantic error, when there is one.
    """

    def __init__(
        self,
        message: str,
        *,
        text: str,
        reason: Literal["length", "invalid"],
        validation_error: Exception | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.text = text
        self.reason = reason
        self.validation_error = validation_error


class ToolLoopError(AzureAIKitError):
    """`run_tools` reached `max_rounds` while the model still asked for tools.

    `.messages` is the transcript so far (to inspect, or to continue with a higher limit).
    """

    def __init__(self, message: str, *, messages: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.messages = list(messages)
