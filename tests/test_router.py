"""`Router`: tiers, spreading, cooldowns, the circuit breaker's single probe, threads.

Time is a fake clock advanced by hand; nothing here sleeps.
"""

from __future__ import annotations

import random
import threading
from collections import defaultdict
from typing import Any

import pytest

from azure_ai_kit._deployment import Deployment
from azure_ai_kit._routing import HERD_STAGGER, MAX_COOLDOWN, DeploymentStatus, Router
from azure_ai_kit.testing import FakeClock


def dep(name: str, priority: int = 0) -> Deployment:
    return Deployment(name, endpoint=f"https://{name}.openai.azure.com", priority=priority)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1000.0)


@pytest.fixture
def abc() -> tuple[Deployment, Deployment, Deployment]:
    return dep("a"), dep("b"), dep("c")


def make(deployments: list[Deployment], clock: FakeClock, **kwargs: Any) -> Router:
    return Router(deployments, clock=clock, **kwargs)


def test_first_tier_first_then_failover_in_order(clock: FakeClock) -> None:
    a, b, c = dep("a", 0), dep("b", 0), dep("c", 1)
    router = make([a, b, c], clock)
    assert {router.choose([a, b, c]), router.choose([a, b, c])} == {a, b}
    router.record_throttled(a, 10)
    assert router.choose([a, b, c]) == b
    router.record_failure(b, "500")
    assert router.choose([a, b, c]) == c


def test_unsorted_candidates_are_tiered_by_priority(clock: FakeClock) -> None:
    low, high = dep("low", 5), dep("high", 0)
    router = make([low, high], clock)
    assert router.choose([low, high]) == high


def test_round_robin_within_a_tier(clock: FakeClock, abc: tuple[Deployment, ...]) -> None:
    router = make(list(abc), clock)
    picks = [router.choose(abc) for _ in range(6)]
    assert picks == [*abc, *abc]


def test_round_robin_skips_cooling_members(clock: FakeClock, abc: tuple[Deployment, ...]) -> None:
    a, b, c = abc
    router = make(list(abc), clock)
    router.record_throttled(b, 60)
    assert [router.choose(abc) for _ in range(4)] == [a, c, a, c]


def test_most_remaining_tokens_wins_when_known_for_all(
    clock: FakeClock, abc: tuple[Deployment, ...]
) -> None:
    a, b, c = abc
    router = make(list(abc), clock)
    router.record_success(a, remaining_tokens=100)
    router.record_success(b, remaining_tokens=5000)
    # c's quota is unknown, so plain round-robin still applies.
    assert [router.choose(abc) for _ in range(3)] == [a, b, c]
    router.record_success(c, remaining_tokens=200)
    assert [router.choose(abc) for _ in range(3)] == [b, b, b]
    router.record_success(b, remaining_tokens=10)
    assert router.choose(abc) == c


def test_throttle_cools_until_exactly_the_retry_time(clock: FakeClock) -> None:
    a = dep("a")
    router = make([a], clock)
    router.record_throttled(a, 5.0)
    assert router.choose([a]) == pytest.approx(5.0)
    clock.advance(4.5)
    assert router.status()[0].retry_in == pytest.approx(0.5)
    # A second caller told the same instant wakes a little later (see the herd tests).
    assert router.choose([a]) == pytest.approx(0.5 + HERD_STAGGER)
    clock.advance(0.5)
    assert router.choose([a]) is a
    # Throttle cooldowns need no probe: everyone may use it again.
    assert router.choose([a]) is a


def test_cooling_deployment_is_never_chosen_while_another_is_free(clock: FakeClock) -> None:
    a, b = dep("a", 0), dep("b", 1)
    router = make([a, b], clock)
    router.record_throttled(a, 3)
    assert all(router.choose([a, b]) is b for _ in range(10))


def test_retry_after_86400_returns_a_wait_not_a_block(clock: FakeClock) -> None:
    a, b = dep("a"), dep("b")
    router = make([a, b], clock)
    router.record_throttled(a, 86400)
    router.record_throttled(b, 86400)
    # Clamped to MAX_COOLDOWN: a 429 costs no quota, so asking again in 5 minutes is cheap.
    assert router.choose([a, b]) == pytest.approx(MAX_COOLDOWN)


def test_throttle_without_retry_after_grows_and_caps(clock: FakeClock) -> None:
    a = dep("a")
    router = make([a], clock, throttle_cooldown=2.0, failure_cooldown_cap=10.0)
    waits = []
    for _ in range(5):
        router.record_throttled(a, None)
        wait = router.choose([a])
        assert isinstance(wait, float)
        waits.append(wait)
        clock.advance(wait)
    assert waits == pytest.approx([2.0, 4.0, 8.0, 10.0, 10.0])
    assert router.choose([a]) is a
    router.record_success(a)
    router.record_throttled(a, None)
    assert router.choose([a]) == pytest.approx(2.0)


def test_zero_retry_after_still_costs_a_short_pause(clock: FakeClock) -> None:
    a = dep("a")
    router = make([a], clock)
    router.record_throttled(a, 0.0)
    assert router.choose([a]) == pytest.approx(0.1)
    clock.advance(0.1)
    assert router.choose([a]) is a


def test_circuit_breaker_grows_and_admits_a_single_probe(clock: FakeClock) -> None:
    a, b = dep("a", 0), dep("b", 1)
    router = make([a, b], clock, failure_cooldown=1.0, failure_cooldown_cap=5.0)
    expected = [1.0, 2.0, 4.0, 5.0, 5.0]
    for cooldown in expected:
        router.record_failure(a, "503")
        assert router.choose([a]) == pytest.approx(cooldown)
        clock.advance(cooldown)
        assert router.choose([a, b]) is a  # the probe
        assert router.choose([a, b]) is b  # everyone else fails over meanwhile
        assert router.choose([a]) == pytest.approx(1.0)  # or is told to re-ask soon
    router.record_success(a)
    assert router.choose([a, b]) is a
    assert router.choose([a, b]) is a
    assert router.status()[0].consecutive_failures == 0


def test_release_hands_the_probe_to_the_next_caller(clock: FakeClock) -> None:
    a = dep("a")
    router = make([a], clock)
    router.record_failure(a, "timeout")
    clock.advance(1.0)
    assert router.choose([a]) is a
    assert isinstance(router.choose([a]), float)
    router.release(a)
    assert router.choose([a]) is a


def test_broken_until_broken_for_then_probed(clock: FakeClock) -> None:
    a, b = dep("a", 0), dep("b", 1)
    router = make([a, b], clock, broken_for=300.0)
    router.record_broken(a, "404 DeploymentNotFound")
    assert router.choose([a, b]) is b
    clock.advance(299.9)
    assert router.choose([a]) == pytest.approx(0.1)
    clock.advance(0.1)
    assert router.choose([a, b]) is a
    assert router.choose([a, b]) is b
    router.record_success(a)
    assert router.status()[0].state == "healthy"


def test_late_throttle_does_not_shorten_a_broken_deployment(clock: FakeClock) -> None:
    a = dep("a")
    router = make([a], clock, broken_for=300.0)
    router.record_broken(a, "401")
    router.record_throttled(a, 1.0)
    assert router.choose([a]) == pytest.approx(300.0)
    assert router.status()[0].state == "broken"


def test_exclude(clock: FakeClock, abc: tuple[Deployment, ...]) -> None:
    a, b, c = abc
    router = make(list(abc), clock)
    assert router.choose(abc, exclude={a, b}) is c
    router.record_throttled(a, 9)
    router.record_throttled(b, 4)
    router.record_throttled(c, 2)
    # The wait ignores the excluded c (it already failed this call)...
    assert router.choose(abc, exclude=[c]) == pytest.approx(4)
    # ...unless every candidate is excluded.
    assert router.choose(abc, exclude=abc) == pytest.approx(2)


def test_wait_is_positive_even_when_all_excluded_are_healthy(
    clock: FakeClock, abc: tuple[Deployment, ...]
) -> None:
    router = make(list(abc), clock)
    wait = router.choose(abc, exclude=abc)
    assert isinstance(wait, float)
    assert wait > 0


def test_status_reports_each_deployment_in_order(clock: FakeClock) -> None:
    a, b, c, d = dep("a"), dep("b"), dep("c"), dep("d")
    router = make([a, b, c, d], clock)
    router.record_success(a, remaining_tokens=900, remaining_requests=9)
    router.record_throttled(b, 30, error="429 token rate limit")
    router.record_failure(c, "500 server error")
    router.record_broken(d, "404 DeploymentNotFound")
    clock.advance(10)
    assert router.status() == [
        DeploymentStatus(a, "healthy", None, None, None, 900, 9, 0),
        DeploymentStatus(b, "cooling", 1030.0, 20.0, "429 token rate limit", None, None, 0),
        DeploymentStatus(c, "healthy", None, None, "500 server error", None, None, 1),
        DeploymentStatus(d, "broken", 1300.0, 290.0, "404 DeploymentNotFound", None, None, 1),
    ]


def test_status_while_a_probe_is_in_flight(clock: FakeClock) -> None:
    a = dep("a")
    router = make([a], clock)
    router.record_failure(a, "timeout")
    clock.advance(1)
    router.choose([a])
    (status,) = router.status()
    assert (status.state, status.until, status.retry_in) == ("cooling", None, None)


def test_rejects_bad_input(clock: FakeClock) -> None:
    a = dep("a")
    with pytest.raises(ValueError, match="only once"):
        Router([a, a])
    with pytest.raises(ValueError, match="broken_for"):
        Router([a], broken_for=0)
    with pytest.raises(ValueError, match="failure_cooldown_cap"):
        Router([a], failure_cooldown=5, failure_cooldown_cap=1)
    router = make([a], clock)
    with pytest.raises(ValueError, match="not managed"):
        router.choose([dep("stranger")])
    with pytest.raises(ValueError, match="at least one"):
        router.choose([])


def test_same_name_on_two_resources_are_two_members(clock: FakeClock) -> None:
    east = Deployment("gpt-4o", endpoint="https://east.openai.azure.com")
    west = Deployment("gpt-4o", endpoint="https://west.openai.azure.com")
    router = make([east, west], clock)
    router.record_throttled(east, 60)
    assert router.choose([east, west]) is west


class TickingLock:
    """Stands in for the Router's lock: every acquisition advances a fake clock one tick and
    notes (tick, time) for the acquiring thread, so events can be replayed in lock order."""

    def __init__(self, clock: FakeClock) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._tick = 0
        self.seen = threading.local()

    def __enter__(self) -> None:
        self._lock.acquire()
        self._tick += 1
        self._clock.advance(0.01)
        self.seen.at = (self._tick, self._clock.now)

    def __exit__(self, *exc: object) -> None:
        self._lock.release()


def test_threads_keep_the_invariants() -> None:
    clock = FakeClock(start=1000.0)
    members = [dep("a", 0), dep("b", 0), dep("c", 1), dep("d", 1)]
    router = Router(members, clock=clock, failure_cooldown=0.05, broken_for=1.0)
    lock = TickingLock(clock)
    router._lock = lock  # type: ignore[assignment]  # replay needs the lock order
    events: list[tuple[int, float, str, Deployment, float]] = []
    errors: list[BaseException] = []

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        log: list[tuple[int, float, str, Deployment, float]] = []
        try:
            for _ in range(500):
                picked = router.choose(members)
                if not isinstance(picked, Deployment):
                    assert 0 < picked < float("inf")
                    continue
                log.append((*lock.seen.at, "choose", picked, 0.0))
                outcome, delay = rng.choice(OUTCOMES), rng.choice([None, 0.0, 0.05, 0.3])
                if outcome == "success":
                    router.record_success(picked, remaining_tokens=rng.randrange(1000))
                elif outcome == "throttled":
                    router.record_throttled(picked, delay)
                elif outcome == "failure":
                    router.record_failure(picked, "500")
                elif outcome == "broken":
                    router.record_broken(picked, "404")
                else:
                    router.release(picked)
                floor = {"throttled": 2.0 if delay is None else delay, "failure": 0.05}
                log.append((*lock.seen.at, outcome, picked, floor.get(outcome, 1.0)))
                router.status()
        except BaseException as exc:
            errors.append(exc)
        events.extend(log)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    check_replay(sorted(events, key=lambda e: e[0]))


OUTCOMES = ["success"] * 5 + ["throttled", "failure", "broken", "release"]


def check_replay(events: list[tuple[int, float, str, Deployment, float]]) -> None:
    holds: dict[Deployment, list[float]] = defaultdict(list)  # free-at times since last success
    probes: dict[Deployment, int | None] = {}  # choices since a breaker opened (None: closed)
    chosen = 0
    for _, at, kind, d, floor in events:
        if kind == "choose":
            chosen += 1
            assert all(at >= free for free in holds[d]), f"{d.id} chosen while cooling at {at}"
            if probes.get(d) is not None:
                probes[d] = (probes[d] or 0) + 1
                assert probes[d] == 1, f"{d.id} probed twice at {at}"
            continue
        if kind == "success":
            holds[d].clear()
        elif kind in ("throttled", "failure", "broken"):
            holds[d].append(at + floor)
        # Any outcome ends the probe; failure/broken open the breaker for exactly one more,
        # and release (still open) hands the probe on.
        still_open = kind == "release" and probes.get(d) is not None
        probes[d] = 0 if kind in ("failure", "broken") or still_open else None
    assert chosen > 100  # enough choices were made for the replay to mean something
