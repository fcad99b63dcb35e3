"""`Router`: which deployment gets the next attempt, and how long to wait when none is free.

Pure decisions: no I/O, no sleeping, no logging (the client logs failovers). Time comes from
an injected clock, so tests drive it by hand. One `threading.Lock` guards all state; each
method holds it briefly and calls nothing but the clock while holding it, so the Router is
safe to share between threads and asyncio tasks (nothing is awaited under the lock).
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Literal

from ._deployment import Deployment

__all__ = ["DeploymentStatus", "Router"]

State = Literal["healthy", "cooling", "broken"]

#: The smallest wait `choose` returns, so a caller's "sleep then retry" loop always advances.
_MIN_WAIT = 0.001


@dataclass(frozen=True)
class DeploymentStatus:
    """A snapshot of one deployment's health, as `AzureAIClient.status()` reports it.

    `until` is the clock time it becomes available again and `retry_in` the seconds until
    then; both are None when it is healthy, and also while a single probe request is testing
    a deployment whose cooldown has ended (the state still says why it was unavailable).
    `remaining_tokens` / `remaining_requests` are the last `x-ratelimit-remaining-*` seen.
    """

    deployment: Deployment
    state: State
    until: float | None
    retry_in: float | None
    last_error: str | None
    remaining_tokens: int | None
    remaining_requests: int | None
    consecutive_failures: int


@dataclass
class _Health:
    kind: State = "healthy"
    until: float = -math.inf  # clock time from which it may be chosen again
    needs_probe: bool = False  # breaker half-open once `until` passes: one caller tests it
    probing: bool = False  # that one caller has it and has not reported back yet
    failures: int = 0
    throttles: int = 0
    last_error: str | None = None
    remaining_tokens: int | None = None
    remaining_requests: int | None = None

    def available(self, now: float) -> bool:
        return now >= self.until and not self.probing

    def free_in(self, now: float, probe_recheck: float) -> float:
        if now < self.until:
            return self.until - now
        # An in-flight probe has no known end; suggest re-asking after a short cooldown.
        return probe_recheck if self.probing else 0.0

    def hold(self, kind: State, until: float, error: str, *, now: float, probe: bool) -> None:
        # Attempts finish out of order, so a longer hold already in force wins, and a
        # deployment stays "broken" (and probed) until that runs out.
        still_broken = self.kind == "broken" and self.until > now
        self.until = max(self.until, until)
        self.kind = "broken" if still_broken or kind == "broken" else "cooling"
        self.needs_probe = probe or still_broken
        self.probing = False
        self.last_error = error


def _positive(name: str, value: float) -> float:
    if not 0 < value < math.inf:
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {value!r}")
    return value


class Router:
    """Chooses deployments for attempts and remembers how each one is doing.

    `choose` picks from the highest-priority tier with a free member, spreading load within
    the tier; the `record_*` methods feed back each attempt's outcome:

    - throttled (429): cooling until Azure's Retry-After, else `throttle_cooldown` doubling
      with consecutive throttles (capped at `failure_cooldown_cap`);
    - failed (5xx, timeout, connection): a circuit breaker opens for `failure_cooldown`
      doubling with consecutive failures (capped); once it expires one caller probes it;
    - broken (404 DeploymentNotFound, 401, 403): unavailable for `broken_for`, then probed.
    """

    def __init__(
        self,
        deployments: Sequence[Deployment],
        *,
        clock: Callable[[], float] = time.monotonic,
        broken_for: float = 300.0,
        failure_cooldown: float = 1.0,
        failure_cooldown_cap: float = 60.0,
        throttle_cooldown: float = 2.0,
    ) -> None:
        self._deployments = tuple(deployments)
        if len(set(self._deployments)) != len(self._deployments):
            raise ValueError("each deployment may be given to the Router only once")
        self._clock = clock
        self._broken_for = _positive("broken_for", broken_for)
        self._failure_cooldown = _positive("failure_cooldown", failure_cooldown)
        self._cap = _positive("failure_cooldown_cap", failure_cooldown_cap)
        self._throttle_cooldown = _positive("throttle_cooldown", throttle_cooldown)
        if failure_cooldown_cap < max(failure_cooldown, throttle_cooldown):
            raise ValueError(
                "failure_cooldown_cap must be at least failure_cooldown and throttle_cooldown"
            )
        self._health = {d: _Health() for d in self._deployments}
        self._turns: dict[tuple[Deployment, ...], int] = {}  # round-robin position per tier
        self._lock = threading.Lock()

    def choose(
        self, candidates: Sequence[Deployment], *, exclude: Collection[Deployment] = ()
    ) -> Deployment | float:
        """The deployment to send to now, or — when every candidate is cooling/broken/excluded
        — the seconds until the earliest becomes free.

        `candidates` are ordered by priority; `exclude` holds those this call already tried.
        The wait is computed over the candidates not excluded (over all of them if all are
        excluded); it is always finite and > 0, and `choose` never blocks.
        """
        if len(candidates) == 1 and not exclude:
            return self._choose_only(candidates[0])
        unique = list(dict.fromkeys(candidates))
        if not unique:
            raise ValueError("choose() needs at least one candidate deployment")
        with self._lock:
            now = self._clock()
            health = [self._get(d) for d in unique]
            for tier in self._tiers(unique):
                picked = self._pick(tier, exclude, now)
                if picked is not None:
                    chosen = self._health[picked]
                    if chosen.needs_probe:
                        chosen.probing = True
                    return picked
            waiting = [h for d, h in zip(unique, health, strict=True) if d not in exclude] or health
            wait = min(h.free_in(now, self._failure_cooldown) for h in waiting)
        return max(wait, _MIN_WAIT)

    def record_success(
        self,
        deployment: Deployment,
        *,
        remaining_tokens: int | None = None,
        remaining_requests: int | None = None,
    ) -> None:
        """The attempt succeeded: close the breaker and note the quota Azure reported."""
        with self._lock:
            h = self._get(deployment)
            h.kind, h.until, h.needs_probe, h.probing = "healthy", -math.inf, False, False
            h.failures = h.throttles = 0
            if remaining_tokens is not None:
                h.remaining_tokens = remaining_tokens
            if remaining_requests is not None:
                h.remaining_requests = remaining_requests

    def record_throttled(
        self, deployment: Deployment, retry_after: float | None, *, error: str = "429"
    ) -> None:
        """Azure answered 429: cool for `retry_after` seconds, or a growing default if None."""
        with self._lock:
            now = self._clock()
            h = self._get(deployment)
            h.throttles += 1
            if retry_after is None or not 0 <= retry_after < math.inf:
                retry_after = self._grow(self._throttle_cooldown, h.throttles)
            # A 429 proves the deployment answers, so the breaker closes and needs no probe;
            # the quota seen before it no longer says anything.
            h.failures = 0
            h.remaining_tokens = h.remaining_requests = None
            h.hold("cooling", now + retry_after, error, now=now, probe=False)

    def record_failure(self, deployment: Deployment, error: str) -> None:
        """The attempt failed (5xx, timeout, connection): open the breaker, longer each time."""
        with self._lock:
            now = self._clock()
            h = self._get(deployment)
            h.failures += 1
            cooldown = self._grow(self._failure_cooldown, h.failures)
            h.hold("cooling", now + cooldown, error, now=now, probe=True)

    def record_broken(self, deployment: Deployment, error: str) -> None:
        """The deployment cannot serve (404 DeploymentNotFound, 401, 403): out for `broken_for`."""
        with self._lock:
            now = self._clock()
            h = self._get(deployment)
            h.failures += 1
            h.hold("broken", now + self._broken_for, error, now=now, probe=True)

    def release(self, deployment: Deployment) -> None:
        """The attempt ended with no routing signal (e.g. a 400): let another caller probe it."""
        with self._lock:
            self._get(deployment).probing = False

    def status(self) -> list[DeploymentStatus]:
        """A snapshot of every deployment, in the order they were given."""
        with self._lock:
            now = self._clock()
            return [self._snapshot(d, h, now) for d, h in self._health.items()]

    def _grow(self, base: float, count: int) -> float:
        # Bounding the exponent avoids OverflowError; the cap has long won by then.
        return min(base * 2.0 ** min(count - 1, 64), self._cap)

    def _choose_only(self, deployment: Deployment) -> Deployment | float:
        # The common single-deployment case, on the hot path: same rules, no tiers to build.
        with self._lock:
            now = self._clock()
            health = self._get(deployment)
            if health.available(now):
                if health.needs_probe:
                    health.probing = True
                return deployment
            wait = health.free_in(now, self._failure_cooldown)
        return max(wait, _MIN_WAIT)

    def _get(self, deployment: Deployment) -> _Health:
        try:
            return self._health[deployment]
        except KeyError:
            raise ValueError(f"deployment {deployment.id} is not managed by this Router") from None

    @staticmethod
    def _tiers(candidates: list[Deployment]) -> list[list[Deployment]]:
        # sorted() is stable, so the caller's order survives within a tier.
        ordered = sorted(candidates, key=lambda d: d.priority)
        return [list(g) for _, g in itertools.groupby(ordered, key=lambda d: d.priority)]

    def _pick(
        self, tier: list[Deployment], exclude: Collection[Deployment], now: float
    ) -> Deployment | None:
        key = tuple(tier)
        start = self._turns.get(key, 0)
        rotated = [(start + i) % len(tier) for i in range(len(tier))]
        free = [
            i for i in rotated if tier[i] not in exclude and self._health[tier[i]].available(now)
        ]
        if not free:
            return None
        best = free[0]
        tokens = [self._health[tier[i]].remaining_tokens for i in free]
        known = [t for t in tokens if t is not None]
        if len(known) == len(free):
            # Most quota wins; ties go to the earliest in round-robin order.
            best = free[known.index(max(known))]
        self._turns[key] = (best + 1) % len(tier)
        return tier[best]

    @staticmethod
    def _snapshot(d: Deployment, h: _Health, now: float) -> DeploymentStatus:
        held = now < h.until
        kind: State = h.kind if held or h.probing else "healthy"
        return DeploymentStatus(
            deployment=d,
            state=kind,
            until=h.until if held else None,
            retry_in=h.until - now if held else None,
            last_error=h.last_error,
            remaining_tokens=h.remaining_tokens,
            remaining_requests=h.remaining_requests,
            consecutive_failures=h.failures,
        )
