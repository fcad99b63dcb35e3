"""`Router`: which deployment gets the next attempt, and how long to wait when none is free.

Pure decisions: no I/O, no sleeping, no logging (the client logs failovers). Time comes from
an injected clock, so tests drive it by hand. One `threading.Lock` guards all state; each
method holds it briefly and calls nothing but the clock while holding it, so the Router is
safe to share between threads and asyncio tasks (nothing is awaited under the lock).

`choose()` does not walk the pool (its cost grows at most with log n): the priority tiers
of each candidate list are built once (the client passes one unchanging list per alias), each
tier keeps its free members in heaps (whose turn it is; who has the most quota left) and its
held members in a heap of deadlines, and every change to a deployment's health is pushed to
the tiers holding it.
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass

from ._deployment import Deployment
from ._state import Hold
from ._tiers import Health, State, Tier

__all__ = [
    "HERD_STAGGER",
    "MAX_COOLDOWN",
    "MAX_HERD_STAGGER",
    "MIN_THROTTLE_PAUSE",
    "DeploymentStatus",
    "PoolStatus",
    "Router",
    "format_status",
]

#: The longest a Retry-After hint may hold a deployment (seconds); longer hints are clamped.
MAX_COOLDOWN = 300.0
#: The shortest pause after a 429, whatever its hint; it doubles with each consecutive 429
#: whose hint was shorter still (e.g. `retry-after: 0`), up to `failure_cooldown_cap`.
MIN_THROTTLE_PAUSE = 0.1
#: Callers told to wait for the same instant wake this many seconds apart, in turn …
HERD_STAGGER = 0.02
#: … spread over at most this long (and never more than the wait itself), then round again.
MAX_HERD_STAGGER = 1.0

#: The smallest wait `choose` returns, so a caller's "sleep then retry" loop always advances.
_MIN_WAIT = 0.001
_MAX_PLANS = 256  # candidate lists remembered; the client has one per alias
_MAX_TOLD = 256  # wake-up instants remembered for staggering


@dataclass(frozen=True)
class DeploymentStatus:
    """A snapshot of one deployment's health, as `AzureAIClient.status()` reports it.

    `until` is the clock time it becomes available again and `retry_in` the seconds until
    then; both are None when it is healthy, and also while a single probe request is testing
    a deployment whose cooldown has ended (the state still says why it was unavailable).
    `remaining_tokens` / `remaining_requests` are the last `x-ratelimit-remaining-*` seen.
    `str()` gives one readable line; `format_status()` a table of several.
    """

    deployment: Deployment
    state: State
    until: float | None
    retry_in: float | None
    last_error: str | None
    remaining_tokens: int | None
    remaining_requests: int | None
    consecutive_failures: int

    def __str__(self) -> str:
        parts = [f"{self.deployment.id}: {self.state}"]
        if self.retry_in is not None:
            parts.append(f"free in {self.retry_in:.1f} s")
        if self.consecutive_failures:
            parts.append(f"{self.consecutive_failures} consecutive failures")
        if self.last_error is not None:
            parts.append(f"last error {self.last_error}")
        if self.remaining_tokens is not None:
            parts.append(f"{self.remaining_tokens} tokens left")
        if self.remaining_requests is not None:
            parts.append(f"{self.remaining_requests} requests left")
        return ", ".join(parts)


def format_status(statuses: Iterable[DeploymentStatus]) -> str:
    """`client.status()` as an aligned text table, one deployment per row (`-`: unknown)."""
    header = ("deployment", "state", "free in", "failures", "last error", "tokens", "requests")
    rows = [header] + [
        (
            s.deployment.id,
            s.state,
            "-" if s.retry_in is None else f"{s.retry_in:.1f} s",
            str(s.consecutive_failures),
            s.last_error or "-",
            "-" if s.remaining_tokens is None else str(s.remaining_tokens),
            "-" if s.remaining_requests is None else str(s.remaining_requests),
        )
        for s in statuses
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    numeric = {2, 3, 5, 6}  # right-aligned, so digits line up
    return "\n".join(
        "  ".join(
            cell.rjust(w) if i in numeric else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    )


class PoolStatus(list[DeploymentStatus]):
    """What `client.status()` returns: a list of `DeploymentStatus` that prints as a table."""

    def __str__(self) -> str:
        return format_status(self)


@dataclass(frozen=True, slots=True)
class _Plan:
    """One candidate list, cached: its tiers in priority order and its members."""

    source: Sequence[Deployment]  # kept alive, so its id() stays its own
    size: int
    tiers: tuple[Tier, ...]
    members: frozenset[Deployment]


def _positive(name: str, value: float) -> float:
    if not 0 < value < math.inf:
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {value!r}")
    return value


class Router:
    """Chooses deployments for attempts and remembers how each one is doing.

    `choose` picks from the highest-priority tier with a free member, spreading load within
    the tier; the `record_*` methods feed back each attempt's outcome:

    - throttled (429): cooling until Azure's Retry-After (clamped to `max_cooldown`, and at
      least `MIN_THROTTLE_PAUSE`, doubling while hints stay that short), else
      `throttle_cooldown` doubling with consecutive throttles (capped at `failure_cooldown_cap`);
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
        max_cooldown: float = MAX_COOLDOWN,
        backoff: Callable[[int], float] | None = None,
    ) -> None:
        self._deployments = tuple(deployments)
        if len(set(self._deployments)) != len(self._deployments):
            raise ValueError("each deployment may be given to the Router only once")
        self._clock = clock
        self._broken_for = _positive("broken_for", broken_for)
        self._failure_cooldown = _positive("failure_cooldown", failure_cooldown)
        self._cap = _positive("failure_cooldown_cap", failure_cooldown_cap)
        self._throttle_cooldown = _positive("throttle_cooldown", throttle_cooldown)
        self._max_cooldown = _positive("max_cooldown", max_cooldown)
        # The client passes its RetryPolicy's backoff, so the breaker opens for exactly the
        # wait the policy documents; standalone, the Router doubles `failure_cooldown`.
        self._backoff = backoff
        if failure_cooldown_cap < max(failure_cooldown, throttle_cooldown):
            raise ValueError(
                "failure_cooldown_cap must be at least failure_cooldown and throttle_cooldown"
            )
        self._health = {d: Health() for d in self._deployments}
        self._plans: dict[int, _Plan] = {}  # id(candidate list) -> its tiers
        self._tiers: dict[tuple[Deployment, ...], Tier] = {}  # equal tiers share turns
        self._told: dict[float, int] = {}  # wake-up instant -> callers already given it
        self._lock = threading.Lock()

    def choose(
        self, candidates: Sequence[Deployment], *, exclude: Collection[Deployment] = ()
    ) -> Deployment | float:
        """The deployment to send to now, or — when every candidate is cooling/broken/excluded
        — the seconds until the earliest becomes free.

        `candidates` are ordered by priority; `exclude` holds those this call already tried.
        The wait is computed over the candidates not excluded (over all of them if all are
        excluded); it is always finite and > 0, and `choose` never blocks. Callers given the
        same wake-up instant are staggered `HERD_STAGGER` apart (the first gets it exactly).
        The tiers of each candidate list are built once and kept, keyed by the list object:
        pass the same list for the same alias, and do not change it in place.
        """
        if len(candidates) == 1 and not exclude:
            return self._choose_only(candidates[0])
        with self._lock:
            now = self._clock()
            plan = self._plan(candidates, now)
            for tier in plan.tiers:
                picked = tier.pick(now, self._health, exclude)
                if picked is not None:
                    if self._health[picked].needs_probe:
                        self._handed_out(picked, self._health[picked], now)
                    return picked
            if exclude and sum(1 for d in set(exclude) if d in plan.members) == len(plan.members):
                exclude = ()
            recheck = self._failure_cooldown
            at = min(tier.wakes_at(now, exclude, recheck) for tier in plan.tiers)
            return self._stagger(now, at)

    def record_success(
        self,
        deployment: Deployment,
        *,
        started: float | None = None,
        remaining_tokens: int | None = None,
        remaining_requests: int | None = None,
    ) -> None:
        """The attempt succeeded: close the breaker and note the quota Azure reported.

        `started` is the clock time the attempt began. A 429 recorded at or after it is newer
        news than this success: its cooldown stays in force and the quota is not updated.
        Without `started`, every hold is cleared.
        """
        with self._lock:
            now = self._clock()
            h = self._health.get(deployment) or self._get(deployment)
            fresh = started is None or started > h.throttled_at
            h.failures, h.needs_probe, h.probing = 0, False, False
            if fresh or now >= h.throttled_until:
                h.kind, h.until = "healthy", -math.inf
            else:  # only the breaker's hold goes: this success proves nothing about quota
                h.kind, h.until = "cooling", h.throttled_until
            if fresh:
                h.throttles = h.short_hints = 0
                if remaining_tokens is not None:
                    h.remaining_tokens = remaining_tokens
                if remaining_requests is not None:
                    h.remaining_requests = remaining_requests
            if h.tiers:
                self._changed(deployment, h, now)

    def record_throttled(
        self, deployment: Deployment, retry_after: float | None, *, error: str = "429"
    ) -> None:
        """Azure answered 429: cool for `retry_after` seconds (clamped to `max_cooldown`, at
        least a short growing pause), or a growing default if None."""
        with self._lock:
            now = self._clock()
            h = self._get(deployment)
            h.throttles += 1
            pause = self._throttle_pause(h, retry_after)
            # A 429 proves the deployment answers, so the breaker closes and needs no probe;
            # the quota seen before it no longer says anything.
            h.failures = 0
            h.remaining_tokens = h.remaining_requests = None
            h.throttled_at = now
            h.throttled_until = max(h.throttled_until, now + pause)
            h.hold("cooling", now + pause, error, now=now, probe=False)
            self._changed(deployment, h, now)

    def record_failure(self, deployment: Deployment, error: str) -> None:
        """The attempt failed (5xx, timeout, connection, a stream cut after its first chunk):
        open the breaker, longer each time."""
        with self._lock:
            now = self._clock()
            h = self._get(deployment)
            h.failures += 1
            if self._backoff is not None:
                cooldown = min(self._backoff(h.failures), self._max_cooldown)
            else:
                cooldown = self._grow(self._failure_cooldown, h.failures)
            h.hold("cooling", now + cooldown, error, now=now, probe=True)
            self._changed(deployment, h, now)

    def record_broken(self, deployment: Deployment, error: str) -> None:
        """The deployment cannot serve (404 DeploymentNotFound, 401, 403): out for `broken_for`."""
        with self._lock:
            now = self._clock()
            h = self._get(deployment)
            h.failures += 1
            h.hold("broken", now + self._broken_for, error, now=now, probe=True)
            self._changed(deployment, h, now)

    def release(self, deployment: Deployment, *, started: float | None = None) -> None:
        """The attempt ended: if it held the breaker's probe, let another caller probe.

        Call it for an attempt with no routing signal (e.g. a 400), or for every attempt in a
        `finally:` — it is a no-op after a `record_*` for the same attempt and when called
        twice. `started` (the clock time the attempt began) keeps an attempt that began
        before the probe was handed out from ending someone else's probe.
        """
        with self._lock:
            h = self._get(deployment)
            if h.probing and (started is None or started >= h.probe_at):
                h.probing = False
                self._changed(deployment, h, self._clock())

    def free_at(self, deployment: Deployment) -> float:
        """The clock time the deployment may next be chosen (now or earlier if it is free;
        a probe out on it counts as free again after `failure_cooldown`)."""
        with self._lock:
            now = self._clock()
            h = self._get(deployment)
            if h.available(now):
                return now
            return h.until if now < h.until else now + self._failure_cooldown

    def hold_of(self, deployment: Deployment) -> Hold | None:
        """The hold in force on the deployment (cooling or broken until when), for sharing."""
        with self._lock:
            h = self._get(deployment)
            if h.kind == "healthy" or h.until <= self._clock():
                return None
            return Hold(h.until, h.kind, h.last_error or h.kind, h.needs_probe)

    def merge_hold(self, deployment: Deployment, hold: Hold) -> None:
        """Adopt a hold another process published (a longer hold already in force wins)."""
        with self._lock:
            now = self._clock()
            h = self._get(deployment)
            if hold.until <= max(now, h.until):
                return
            kind: State = "broken" if hold.kind == "broken" else "cooling"
            if not hold.probe:  # a 429: what a success started before it must not clear
                h.throttled_at = now
                h.throttled_until = max(h.throttled_until, hold.until)
            h.hold(kind, hold.until, hold.error, now=now, probe=hold.probe)
            self._changed(deployment, h, now)

    def status(self) -> PoolStatus:
        """A snapshot of every deployment, in the order they were given."""
        with self._lock:
            now = self._clock()
            return PoolStatus(self._snapshot(d, h, now) for d, h in self._health.items())

    def _grow(self, base: float, count: int) -> float:
        # Bounding the exponent avoids OverflowError; the cap has long won by then.
        return min(base * 2.0 ** min(count - 1, 64), self._cap)

    def _throttle_pause(self, h: Health, retry_after: float | None) -> float:
        if retry_after is None or not retry_after >= 0:  # absent, negative or NaN
            return self._grow(self._throttle_cooldown, h.throttles)
        if retry_after == 0:
            # A server stuck on "retry-after: 0" would otherwise get back-to-back requests.
            h.short_hints += 1
            return self._grow(MIN_THROTTLE_PAUSE, h.short_hints)
        if retry_after < MIN_THROTTLE_PAUSE:
            # A real but tiny hint (PTU's retry-after-ms: 50) is honoured, at the floor.
            h.short_hints = 0
            return MIN_THROTTLE_PAUSE
        h.short_hints = 0
        return min(retry_after, self._max_cooldown)  # a date in year 9999 is not a plan

    def _choose_only(self, deployment: Deployment) -> Deployment | float:
        # The common single-deployment case, on the hot path: same rules, no tiers to build.
        with self._lock:
            now = self._clock()
            h = self._health.get(deployment) or self._get(deployment)
            if now >= h.until and not h.probing:  # h.available(now), inline on the hot path
                if h.needs_probe:
                    self._handed_out(deployment, h, now)
                return deployment
            at = h.until if now < h.until else now + self._failure_cooldown
            return self._stagger(now, at)

    def _handed_out(self, deployment: Deployment, h: Health, now: float) -> None:
        h.probing, h.probe_at = True, now  # the breaker's one probe
        self._changed(deployment, h, now)

    def _changed(self, deployment: Deployment, h: Health, now: float) -> None:
        for tier in h.tiers:
            tier.sync(deployment, h, now)

    def _stagger(self, now: float, at: float) -> float:
        # Waiters told the same instant would all wake together and meet one fresh quota
        # (a thundering herd): the k-th of them waits k * HERD_STAGGER more, in a bounded round.
        wait = max(at - now, _MIN_WAIT)
        told = self._told.get(at, 0)
        self._told[at] = told + 1
        if len(self._told) > _MAX_TOLD:  # forget instants past; if all are ahead, start over
            self._told = {t: n for t, n in self._told.items() if t > now}
            if len(self._told) > _MAX_TOLD // 2:
                self._told = {}
        slots = max(1, int(min(wait, MAX_HERD_STAGGER) / HERD_STAGGER))
        return wait + (told % slots) * HERD_STAGGER

    def _get(self, deployment: Deployment) -> Health:
        try:
            return self._health[deployment]
        except KeyError:
            raise ValueError(f"deployment {deployment.id} is not managed by this Router") from None

    def _plan(self, candidates: Sequence[Deployment], now: float) -> _Plan:
        plan = self._plans.get(id(candidates))
        if plan is not None and plan.source is candidates and plan.size == len(candidates):
            return plan
        unique = tuple(dict.fromkeys(candidates))
        if not unique:
            raise ValueError("choose() needs at least one candidate deployment")
        for d in unique:
            self._get(d)
        if len(self._plans) >= _MAX_PLANS:  # lists made per call: start over, not grow
            self._plans.clear()
            self._tiers.clear()
            for h in self._health.values():
                h.tiers.clear()
        tiers = []
        # sorted() is stable, so the caller's order survives within a tier.
        ordered = sorted(unique, key=lambda d: d.priority)
        for _, group in itertools.groupby(ordered, key=lambda d: d.priority):
            members = tuple(group)
            tier = self._tiers.get(members)
            if tier is None:
                tier = self._tiers[members] = Tier(members)
                for d in members:
                    self._health[d].tiers.append(tier)
                    tier.sync(d, self._health[d], now)
            tiers.append(tier)
        plan = _Plan(candidates, len(candidates), tuple(tiers), frozenset(unique))
        self._plans[id(candidates)] = plan
        return plan

    @staticmethod
    def _snapshot(d: Deployment, h: Health, now: float) -> DeploymentStatus:
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
