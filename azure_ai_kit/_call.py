"""One call's journey through the retry loop: `CallState`, driven by the twins with tenacity.

The Router decides where each attempt goes; `CallState` records what happened, decides whether
to try again and how long to wait, feeds telemetry and usage, and builds the final error.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._deployment import Deployment
from ._errors_map import Classified, classify
from ._exceptions import AzureAIKitError, RateLimitedError
from ._results import Attempt, ChatResult, EmbeddingResult, ImageResult, Usage
from ._telemetry import CallTrace

if TYPE_CHECKING:
    from ._core import ClientBase

__all__ = ["LOGGABLE_HEADERS", "CallState", "Served", "safe_headers"]

logger = logging.getLogger("azure_ai_kit")

T = TypeVar("T")


class Served:
    """The HTTP facts of a successful attempt that end up on a result."""

    __slots__ = ("deployment", "headers")

    def __init__(self, deployment: Deployment, headers: Mapping[str, str]) -> None:
        self.deployment = deployment
        # One pass over the response headers: each httpx.Headers lookup scans them all, and
        # a call reads several. Lower-cased keys, as HTTP header names are case-insensitive.
        self.headers = {name.lower(): value for name, value in headers.items()}

    def fields(self, attempts: Sequence[Attempt]) -> dict[str, Any]:
        """Keyword arguments for a result's `_Served` part."""
        return {
            "deployment": self.deployment.name,
            "endpoint": self.deployment.endpoint,
            "region": self.headers.get("x-ms-region"),
            "request_id": self.headers.get("apim-request-id") or self.headers.get("x-request-id"),
            "attempts": tuple(attempts),
        }


class CallState(Generic[T]):
    """One call's journey through the retry loop; the twins drive it (retries with tenacity).

    The Router decides where each attempt goes; this object records what happened, decides
    whether to try again and how long to wait, and builds the error raised at the end.
    """

    def __init__(
        self, client: ClientBase, candidates: list[Deployment], label: str, operation: str
    ) -> None:
        self.client = client
        self.router = client._router
        self.policy = client._retry
        self.candidates = candidates
        self.label = label
        self.started = client._clock()
        self.attempts: list[Attempt] = []
        self.last: Classified | None = None
        self.next: Deployment | None = None
        self.wait = 0.0
        self.refreshed: set[int] = set()
        self.previous: Deployment | None = None
        self.served: Served | None = None
        self.tries = 0  # attempts begun, including those that found every deployment cooling
        self.trace = CallTrace(operation, label)

    # --- tenacity hooks -------------------------------------------------------------------
    def should_retry(self, state: Any) -> bool:
        """tenacity `retry=`: only errors the router can route around, or a wait can cure."""
        return self.last is not None and self.last.retryable

    def next_wait(self, state: Any) -> float:
        """tenacity `wait=`: zero when some candidate is free now, else until the earliest is."""
        if self.next is not None:
            return 0.0
        choice = self.router.choose(self.candidates)
        if isinstance(choice, Deployment):
            self.next, self.wait = choice, 0.0
            if self.previous is not None and choice is not self.previous:
                logger.info(
                    "%s: failing over from %s to %s after %s",
                    self.label, self.previous.id, choice.id, self.attempts[-1].error,
                )  # fmt: skip
        else:
            self.wait = choice
        return self.wait

    def should_stop(self, state: Any) -> bool:
        """tenacity `stop=`: the attempt caps, or a wait that would overrun the deadline.

        429s have their own, larger cap: under load they are expected and cost no quota, and
        giving up on them while Azure says "in 2 s" would turn throttling into failures.
        """
        throttled = sum(1 for a in self.attempts if a.status == 429)
        elapsed = self.client._clock() - self.started
        return (
            len(self.attempts) - throttled >= self.policy.max_attempts
            or self.tries >= self.policy.max_attempts + self.policy.max_throttled_attempts
            or elapsed + self.wait > self.policy.deadline
        )

    def prepare_retry(self) -> float | None:
        """After the first attempt failed: the wait before the next, or None to give up.

        The twins run the first attempt outside tenacity; this is the decision tenacity makes
        between any two attempts, with the same hooks.
        """
        if not self.should_retry(None):
            return None
        wait = self.next_wait(None)
        return None if self.should_stop(None) else wait

    # --- one attempt ----------------------------------------------------------------------
    def begin(self) -> Deployment:
        """Pick the deployment for this attempt, or raise when none is free right now."""
        self.tries += 1
        deployment, self.next = self.next, None
        if deployment is None:
            choice = self.router.choose(self.candidates)
            if not isinstance(choice, Deployment):
                self.wait = choice
                # Report what made them unavailable, if this call saw it, over a generic wait.
                if self.last is None or (self.last.status is None and not self.attempts):
                    error = RateLimitedError(
                        f"every deployment for {self.label!r} is cooling down or unavailable; "
                        f"the earliest is free in {choice:.1f}s",
                        retry_after=choice,
                    )
                    self.last = Classified(error, "throttled", None, choice)
                raise self.last.error
            deployment = choice
        reason = self.attempts[-1].error if self.attempts else None
        self.trace.attempt_started(deployment, len(self.attempts) + 1, reason)
        return deployment

    def succeeded(self, served: Served) -> list[Attempt]:
        """Record a success; returns the attempts list for the result."""
        headers = served.headers
        self.router.record_success(
            served.deployment,
            remaining_tokens=_int_header(headers, "x-ratelimit-remaining-tokens"),
            remaining_requests=_int_header(headers, "x-ratelimit-remaining-requests"),
        )
        self.attempts.append(Attempt(served.deployment.id, 200, None, self._waited()))
        self.trace.attempt_ended(200, None, headers.get("x-ms-region"))
        self.served = served
        if logger.isEnabledFor(logging.DEBUG):  # spare the header copy on the hot path
            logger.debug(
                "%s: %s answered 200 %s", self.label, served.deployment.id, safe_headers(headers)
            )
        return self.attempts

    def finish(self, result: ChatResult | ImageResult | EmbeddingResult) -> None:
        """Account a successful call: usage ledger, telemetry."""
        assert self.served is not None
        deployment = self.served.deployment
        usage = getattr(result, "usage", None) or Usage()
        self.client._ledger.record(deployment.id, deployment.name, self.label, usage)
        self.trace.succeeded(
            deployment=deployment,
            region=result.region,
            response_model=getattr(result, "model", None),
            input_tokens=usage.prompt_tokens,
            output_tokens=usage.completion_tokens,
            attempts=len(self.attempts),
        )

    def abort(self, error: BaseException) -> None:
        """Close the call's telemetry after a failure that happened past the retry loop."""
        self.trace.failed(error)

    def failed(self, deployment: Deployment, exc: BaseException) -> AzureAIKitError:
        """Classify a failed attempt, tell the router, and return the kit error to raise."""
        c = classify(exc, deployment.id, status_retryable=self.policy.retry_statuses)
        self.last = c
        kind = type(c.error).__name__
        self.attempts.append(Attempt(deployment.id, c.status, kind, self._waited()))
        self.trace.attempt_ended(c.status, kind, None)
        if c.signal == "throttled":
            retry_after = c.retry_after
            if retry_after is None:
                retry_after = self.policy.backoff(len(self.attempts))
            self.router.record_throttled(deployment, retry_after, error=kind)
        elif c.signal == "failure":
            self.router.record_failure(deployment, kind)
        elif c.signal == "auth" and self._refresh_token(deployment):
            self.next = deployment  # same deployment, fresh token, no routing change
        elif c.signal in ("auth", "broken"):
            self.router.record_broken(deployment, kind)
        else:
            self.router.release(deployment)
        logger.debug("%s: attempt on %s failed: %s", self.label, deployment.id, kind)
        self.previous = deployment
        c.error.attempts = tuple(self.attempts)
        return c.error

    def final(self, error: AzureAIKitError) -> AzureAIKitError:
        """The error that leaves the call: carries every attempt and the wait Azure asked for."""
        if self.next is not None:
            self.router.release(self.next)
            self.next = None
        error.attempts = tuple(self.attempts)
        if isinstance(error, RateLimitedError) and self.wait > 0:
            error.retry_after = self.wait
        self.trace.failed(error)
        return error

    def _waited(self) -> float:
        waited, self.wait = self.wait, 0.0
        return waited

    def _refresh_token(self, deployment: Deployment) -> bool:
        key = id(deployment)
        if key in self.refreshed:
            return False
        self.refreshed.add(key)
        return self.client._auth_for(deployment).invalidate()


#: Response headers that may be logged: none of them carries a secret.
LOGGABLE_HEADERS = (
    "x-ms-region",
    "apim-request-id",
    "x-request-id",
    "x-ratelimit-remaining-requests",
    "x-ratelimit-remaining-tokens",
    "retry-after",
    "retry-after-ms",
)


def safe_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The allow-listed headers of a response, for logs."""
    return {name: headers[name] for name in LOGGABLE_HEADERS if name in headers}


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        number = int(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number >= 0 else None
