"""One call's state through the retry loop: `CallState`, given its collaborators.

The twins' `_run` is a plain loop (choose → send → succeeded | failed → next_wait); every
decision it needs is a small method here. The Router decides where each attempt goes; this
object records what happened, decides whether to try again and how long to wait, feeds
telemetry and usage, and builds the error raised at the end. It never sees the client.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence

from . import _telemetry
from ._deployment import Deployment
from ._errors_map import Classified, classify
from ._exceptions import AzureAIKitError, ContentFilteredError, RateLimitedError
from ._pacing import Pacer, describe_wait
from ._results import Attempt, Served, Usage, built
from ._retry import RetryPolicy
from ._routing import Router
from ._telemetry import CallTrace
from ._usage import UsageLedger

__all__ = ["LOGGABLE_HEADERS", "CallState", "safe_headers"]

logger = logging.getLogger("azure_ai_kit")


class CallState:
    """One call's journey: which deployment next, what happened, whether to go on.

    `refresh(deployment)` forgets the deployment's cached token and says whether there was
    one to forget (a 401 with Entra ID is retried once on the same deployment).
    `adapt(deployment)` reshapes the deployment's requests after it refused a parameter
    (`max_tokens` on a reasoning model) and says whether anything changed; if so the
    attempt is resent at once, on the same deployment.
    """

    # What every call starts with, as class attributes: a call sets only what it changes
    # (a dozen attribute stores per call saved on the hot path).
    booked: tuple[Deployment, float] | None = None  # quota booked: where, from when
    late: float | None = None  # the wait for quota, when it ends past the deadline
    last: Classified | None = None
    next: Deployment | None = None  # decided by next_wait, taken by choose
    previous: Deployment | None = None
    wait = 0.0  # the wait before the coming attempt, reported on its Attempt
    tries = 0  # attempts begun, including those that found every deployment cooling
    failures = 0  # consecutive 5xx/timeouts/connection errors in this call
    refreshed: frozenset[int] = frozenset()  # deployments whose token was refreshed
    served: Served | None = None
    deployment: Deployment | None = None  # the one that answered
    trace: CallTrace | None = None  # the call's telemetry, when OpenTelemetry is configured

    def __init__(
        self,
        candidates: Sequence[Deployment],
        label: str,
        operation: str,
        *,
        router: Router,
        policy: RetryPolicy,
        clock: Callable[[], float],
        ledger: UsageLedger,
        refresh: Callable[[Deployment], bool],
        adapt: Callable[[Deployment], bool] = lambda deployment: False,
        pacer: Pacer | None = None,
        cost: int | Callable[[], int] = 0,
    ) -> None:
        self.candidates = candidates
        self.label = label
        self.router = router
        self.policy = policy
        self.clock = clock
        self.ledger = ledger
        self.refresh = refresh
        self.adapt = adapt
        self.operation = operation
        self.pacer = pacer
        self._cost = cost  # the request's admission estimate in tokens, or how to make it
        self.started = self.attempt_started = clock()
        self.attempts: list[Attempt] = []
        if _telemetry.enabled():
            self.trace = CallTrace(operation, label)

    # --- the loop's questions -------------------------------------------------------------
    def choose(self) -> Deployment | None:
        """The deployment for this attempt, or None when every candidate is unavailable now."""
        self.tries += 1
        deployment, self.next = self.next, None
        if deployment is None and self.pacer is not None:
            if self.pacer.store.shared:
                self._pull_holds()
            if self.pacer.active:
                deployment = self._admit()
                if deployment is None:
                    return None
        if deployment is None:
            choice = self.router.choose(self.candidates)
            if not isinstance(choice, Deployment):
                # Report what made them unavailable, if this call saw it, over a generic wait.
                if self.last is None or (self.last.status is None and not self.attempts):
                    error = RateLimitedError(
                        f"every deployment for {self.label!r} is cooling down or unavailable; "
                        f"the earliest is free in {choice:.1f}s",
                        retry_after=choice,
                    )
                    self.last = Classified(error, "throttled", None, choice)
                return None
            deployment = choice
        if self.trace is not None:
            reason = self.attempts[-1].error if self.attempts else None
            self.trace.attempt_started(deployment, len(self.attempts) + 1, reason)
        self.attempt_started = self.clock()
        return deployment

    def next_wait(self) -> float | None:
        """Seconds to wait before the next attempt (0: fail over now), or None to give up.

        Only errors the router can route around, or a wait can cure, are retried; the
        attempt caps and the deadline bound the rest. 429s have their own, larger cap: under
        load they are expected and cost no quota.
        """
        if self.last is None or not self.last.retryable:
            return None
        # A resend to the same deployment (fresh token, reshaped request) is already decided.
        choice: Deployment | float | None
        if self.booked is not None:  # quota booked: wait for its start
            choice, start = self.booked
            wait = max(0.0, start - self.clock())
        elif self.late is not None:  # no quota before the deadline
            choice, wait, self.late = None, self.late, None
        else:
            choice = self.next or self.router.choose(self.candidates)
            wait = 0.0 if isinstance(choice, Deployment) else choice
            if self.next is None and isinstance(choice, Deployment) and self._paced():
                self.router.release(choice)  # free now: `choose` books its quota first
                choice = None
        throttled = sum(1 for a in self.attempts if a.status == 429)
        elapsed = self.clock() - self.started
        if (
            len(self.attempts) - throttled >= self.policy.max_attempts
            or self.tries >= self.policy.max_attempts + self.policy.max_throttled_attempts
            or elapsed + wait > self.policy.deadline
        ):
            if isinstance(choice, Deployment) and self.booked is None:
                self.router.release(choice)
            self.next = self.booked = None
            self.wait = wait
            return None
        if isinstance(choice, Deployment) and self.booked is None:
            self.next = choice
            if self.previous is not None and choice is not self.previous:
                logger.info(
                    "%s: failing over from %s to %s after %s",
                    self.label, self.previous.id, choice.id, self.attempts[-1].error,
                )  # fmt: skip
        self.wait = wait
        return wait

    # --- what happened ----------------------------------------------------------------------
    def succeeded(self, deployment: Deployment, headers: Mapping[str, str]) -> Served:
        """Record a success; returns the served facts for the result."""
        wanted = _wanted(headers)
        if self.pacer is not None:
            self.pacer.learn(deployment, wanted, self.clock())
        self.router.record_success(
            deployment,
            started=self.attempt_started,
            remaining_tokens=_count(wanted, "x-ratelimit-remaining-tokens"),
            remaining_requests=_count(wanted, "x-ratelimit-remaining-requests"),
        )
        self.attempts.append(Attempt(deployment.id, 200, None, self.wait))
        self.wait = 0.0
        self.served = served = built(
            Served,
            {
                "deployment": deployment.name,
                "endpoint": deployment.endpoint,
                "region": wanted.get("x-ms-region"),
                "request_id": wanted.get("apim-request-id") or wanted.get("x-request-id"),
                "attempts": tuple(self.attempts),
            },
        )
        self.deployment = deployment
        if self.trace is not None:
            self.trace.attempt_ended(200, None, served.region)
        if logger.isEnabledFor(logging.DEBUG):  # spare the header copy on the hot path
            logger.debug("%s: %s answered 200 %s", self.label, deployment.id, safe_headers(headers))
        return served

    def failed(self, deployment: Deployment, exc: BaseException) -> None:
        """Classify a failed attempt and tell the router what it means for the deployment."""
        c = classify(exc, deployment.id, status_retryable=self.policy.retry_statuses)
        self.last = c
        kind = type(c.error).__name__
        self.attempts.append(Attempt(deployment.id, c.status, kind, self._waited()))
        if self.trace is not None:
            self.trace.attempt_ended(c.status, kind, None)
        if c.signal == "throttled":
            retry_after = c.retry_after
            if retry_after is None:
                retry_after = self.policy.backoff(len(self.attempts))
            self.router.record_throttled(deployment, retry_after, error=kind)
            if self.pacer is not None:
                self.pacer.throttled(deployment, self.clock())
        elif c.signal == "failure":
            self.failures += 1
            self.router.record_failure(deployment, kind)
        elif c.signal == "auth" and self._refresh_once(deployment):
            self.next = deployment  # same deployment, fresh token, no routing change
        elif c.signal == "reshape" and self.adapt(deployment):
            self.router.release(deployment, started=self.attempt_started)
            self.next = deployment  # same deployment, reshaped request, no routing change
        elif c.signal in ("auth", "broken"):
            self.router.record_broken(deployment, kind)
        else:
            c.signal = "none"  # a reshape that changed nothing is the 400 it was
            self.router.release(deployment, started=self.attempt_started)
        if c.signal in ("throttled", "failure", "broken", "auth") and self.pacer is not None:
            self._publish_hold(deployment)
        logger.debug("%s: attempt on %s failed: %s", self.label, deployment.id, kind)
        self.previous = deployment

    def abandoned(self, deployment: Deployment) -> None:
        """The attempt ended in something that is not an HTTP outcome (cancelled, a bug):
        give the deployment back to the router."""
        self.router.release(deployment, started=self.attempt_started)

    def ended(self, exc: BaseException) -> None:
        """The call left the loop with an exception: close its telemetry span (once)."""
        if self.trace is not None:
            self.trace.failed(exc)

    # --- how the call ends ------------------------------------------------------------------
    def error(self) -> AzureAIKitError:
        """The error that leaves the call: carries every attempt and the wait Azure asked for."""
        assert self.last is not None
        error = self.last.error
        error.attempts = tuple(self.attempts)
        if isinstance(error, RateLimitedError) and self.wait > 0:
            error.retry_after = self.wait
        return error

    @property
    def cause(self) -> BaseException | None:
        """The `openai` error behind the final kit error, for `raise … from`."""
        return self.last.cause if self.last is not None else None

    def finish(self, usage: Usage | None, model: str | None) -> None:
        """Account a successful call: usage ledger, telemetry."""
        assert self.deployment is not None
        assert self.served is not None
        deployment = self.deployment
        usage = usage or Usage()
        self.ledger.record(deployment.id, deployment.name, self.label, usage)
        if self.trace is not None:
            self.trace.succeeded(
                deployment=deployment,
                region=self.served.region,
                response_model=model,
                input_tokens=usage.prompt_tokens,
                output_tokens=usage.completion_tokens,
                attempts=len(self.attempts),
            )

    def stream_failed(self, error: BaseException) -> None:
        """A stream broke after content reached the caller (cut, stalled, failed in-band):
        the deployment failed as far as routing goes, like any failed attempt."""
        if self.deployment is not None and not isinstance(error, ContentFilteredError):
            self.router.record_failure(self.deployment, type(error).__name__)
        if self.trace is not None:
            self.trace.failed(error)

    def remaining(self) -> float:
        """Seconds left before the call's deadline (never below a millisecond)."""
        return max(self.policy.deadline - (self.clock() - self.started), 0.001)

    # --- pacing and shared state --------------------------------------------------------------
    @property
    def cost(self) -> int:
        """The request's admission estimate in tokens, made on first use (only when paced)."""
        if callable(self._cost):
            self._cost = self._cost()
        return self._cost

    def _paced(self) -> bool:
        return self.pacer is not None and self.pacer.active

    def _admit(self) -> Deployment | None:
        """Quota admission in front of the Router: a free deployment with room now, else
        book the one with room soonest (None: wait for it, or give up past the deadline)."""
        assert self.pacer is not None
        pacer, router, now = self.pacer, self.router, self.clock()
        if self.booked is not None:  # the wait for booked quota is over
            deployment, _ = self.booked
            self.booked = None
            choice = router.choose((deployment,))
            if isinstance(choice, Deployment):
                return choice
            # It began cooling while we waited (a 429 elsewhere): its booking is spent.
        full: set[Deployment] = set()
        for _ in self.candidates:
            choice = (
                router.choose(self.candidates, exclude=full)
                if full
                else router.choose(self.candidates)
            )
            if not isinstance(choice, Deployment) or choice in full:
                break
            if pacer.book(choice, self.cost, now, not_before=now, latest=now)[1]:
                return choice
            router.release(choice)
            full.add(choice)
        # Nothing has room now: book the deployment that has room soonest (first come, first
        # served: each booking moves its bucket on), unless that is past the deadline.
        best: tuple[float, Deployment, float] | None = None
        for d in dict.fromkeys(self.candidates):
            free = router.free_at(d)
            start, _ = pacer.book(d, self.cost, now, not_before=free, latest=-math.inf)
            if best is None or start < best[0]:
                best = (start, d, free)
        assert best is not None
        start, deployment, free = best
        latest = self.started + self.policy.deadline
        if start <= latest:
            start, booked = pacer.book(deployment, self.cost, now, not_before=free, latest=latest)
            if booked:
                self.booked = (deployment, start)
                logger.info(
                    "%s: waiting %s for quota on %s",
                    self.label, describe_wait(max(0.0, start - now)), deployment.id,
                )  # fmt: skip
        if self.last is None or (self.last.status is None and not self.attempts):
            wait = max(0.0, start - now)
            error = RateLimitedError(
                f"the quota of every deployment for {self.label!r} is spoken for; the earliest "
                f"has room for this request ({self.cost} tokens) in {describe_wait(wait)}",
                retry_after=wait,
            )
            self.last = Classified(error, "throttled", None, wait)
        if self.booked is None:  # past the deadline: next_wait gives up with this wait
            self.next = None
            self.late = max(0.0, start - now)
        return None

    def _pull_holds(self) -> None:
        assert self.pacer is not None
        unique = tuple(dict.fromkeys(self.candidates))
        keys = [self.pacer.key(d) for d in unique]
        for d, hold in zip(unique, self.pacer.store.holds(keys, self.clock()), strict=True):
            if hold is not None:
                self.router.merge_hold(d, hold)

    def _publish_hold(self, deployment: Deployment) -> None:
        assert self.pacer is not None
        if self.pacer.store.shared:
            hold = self.router.hold_of(deployment)
            if hold is not None:
                self.pacer.store.hold(self.pacer.key(deployment), self.clock(), hold)

    def _waited(self) -> float:
        waited, self.wait = self.wait, 0.0
        return waited

    def _refresh_once(self, deployment: Deployment) -> bool:
        key = id(deployment)
        if key in self.refreshed:
            return False
        self.refreshed = self.refreshed | {key}
        return self.refresh(deployment)


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


#: The response headers a success is read for; every other header is skipped.
_WANTED = frozenset(
    {
        "x-ms-region",
        "apim-request-id",
        "x-request-id",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-limit-tokens",
        "x-ratelimit-limit-requests",
    }
)


_WANTED_RAW = {name.encode(): name for name in _WANTED}


def _wanted(headers: Mapping[str, str]) -> dict[str, str]:
    # One pass, decoding only the few headers a success needs: each lookup on httpx's Headers
    # scans them all, and decoding every header costs more (hot path). httpx and httpx2 keep
    # (raw name, lower-case name, value) triples, which spares lower-casing each name here.
    triples = getattr(headers, "_list", None)
    if type(triples) is list:
        wanted = {}
        try:
            for _, name, value in triples:
                if name in _WANTED_RAW:
                    wanted[_WANTED_RAW[name]] = value.decode("latin-1")
        except (TypeError, ValueError, AttributeError):
            pass  # another layout: read it as any mapping
        else:
            return wanted
    return {name.lower(): value for name, value in headers.items() if name.lower() in _WANTED}


def _count(headers: Mapping[str, str], name: str) -> int | None:
    """A quota header's count; `0` and `-1` mean "unknown" (docs/wire.md, "Response headers")."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        return None
    return number if number > 0 else None
