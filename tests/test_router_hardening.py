"""`Router` under stress: stale successes, probe release, Retry-After extremes, wake-up herds,
the status table, and a randomized check of the per-tier bookkeeping against brute force.

Time is `azure_ai_kit.testing.FakeClock`, moved by hand; nothing here sleeps.
"""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest

from azure_ai_kit._deployment import Deployment
from azure_ai_kit._routing import (
    HERD_STAGGER,
    MAX_COOLDOWN,
    MAX_HERD_STAGGER,
    MIN_THROTTLE_PAUSE,
    DeploymentStatus,
    Router,
    format_status,
)
from azure_ai_kit.testing import FakeClock


def dep(name: str, priority: int = 0) -> Deployment:
    return Deployment(name, endpoint=f"https://{name}.openai.azure.com", priority=priority)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1000.0)


def make(deployments: list[Deployment], clock: FakeClock, **kwargs: Any) -> Router:
    return Router(deployments, clock=clock, **kwargs)


# --- issue 11.1: a stale success must not clear a fresh cooldown ---------------------------


def test_success_of_an_attempt_begun_before_a_429_keeps_the_cooldown(clock: FakeClock) -> None:
    a, b = dep("a"), dep("b")
    pool = [a, b]
    router = make(pool, clock)
    assert router.choose(pool) is a
    started = clock()  # a slow request to `a` is in flight …
    clock.advance(0.1)
    router.record_throttled(a, 0.3)  # … when another caller's request to `a` gets a 429
    clock.advance(0.05)
    router.record_success(a, started=started, remaining_tokens=9_999)
    # The 429 is newer news: `a` stays out for the rest of its 0.3 s, quota unknown.
    (status_a, _) = router.status()
    assert status_a.state == "cooling"
    assert status_a.retry_in == pytest.approx(0.25)
    assert status_a.remaining_tokens is None
    assert [router.choose(pool) for _ in range(3)] == [b, b, b]
    clock.advance(0.25)
    assert router.choose(pool) is a


def test_success_begun_after_the_429_clears_it(clock: FakeClock) -> None:
    a = dep("a")
    router = make([a], clock)
    router.record_throttled(a, 0.3)
    clock.advance(0.3)
    started = clock()
    router.record_success(a, started=started, remaining_tokens=500)
    (status,) = router.status()
    assert (status.state, status.remaining_tokens) == ("healthy", 500)


def test_stale_success_still_closes_the_breaker(clock: FakeClock) -> None:
    # A success proves the deployment serves: the 5xx hold goes even if it came later.
    a = dep("a")
    router = make([a], clock)
    started = clock()
    clock.advance(0.1)
    router.record_failure(a, "500")
    router.record_success(a, started=started)
    assert router.choose([a]) is a
    assert router.status()[0].consecutive_failures == 0


def test_interleaved_attempts_never_reach_a_throttled_deployment(clock: FakeClock) -> None:
    """Issue 11.1 as reported: 8 callers on 3 deployments, 429 `retry-after-ms: 300` now and
    then; attempts finish out of order. No attempt may begin while a 429 holds its target."""
    pool = [dep("a"), dep("b"), dep("c")]
    router = make(pool, clock)
    rng = random.Random(7)
    held_until = dict.fromkeys(pool, 0.0)  # what the 429s said, as the test saw them
    in_flight: list[tuple[float, float, Deployment]] = []  # (ends, started, deployment)
    began = 0
    for _ in range(3000):
        clock.advance(0.01)
        now = clock()
        for ends, started, d in [f for f in in_flight if f[0] <= now]:
            in_flight.remove((ends, started, d))
            if rng.random() < 0.15:
                router.record_throttled(d, 0.3)
                held_until[d] = max(held_until[d], now + 0.3)
            else:
                router.record_success(d, started=started, remaining_tokens=rng.randrange(1000))
        while len(in_flight) < 8:
            picked = router.choose(pool)
            if not isinstance(picked, Deployment):
                break
            assert now >= held_until[picked], f"{picked.id} chosen inside its cooldown"
            in_flight.append((now + rng.uniform(0.02, 0.4), now, picked))
            began += 1
    assert began > 1000


# --- issue 11.2: release frees the probe in every state, and only its own --------------------


def test_release_after_the_probe_ends_without_a_signal(clock: FakeClock) -> None:
    a, b = dep("a"), dep("b", 1)
    router = make([a, b], clock)
    router.record_failure(a, "503")
    clock.advance(1.0)
    assert router.choose([a, b]) is a  # the probe …
    assert router.choose([a, b]) is b  # … so everyone else fails over
    router.release(a)  # e.g. the attempt was cancelled
    assert router.choose([a, b]) is a  # the next caller probes


def test_release_is_a_no_op_after_record_and_when_repeated(clock: FakeClock) -> None:
    a, b = dep("a"), dep("b", 1)
    router = make([a, b], clock)
    router.record_failure(a, "503")
    clock.advance(1.0)
    assert router.choose([a, b]) is a
    router.record_failure(a, "503")  # the probe failed: open for 2 s
    router.release(a)  # the caller's `finally:`
    router.release(a)
    assert router.choose([a]) == pytest.approx(2.0)
    assert router.choose([a, b]) is b
    router.release(b)  # nothing to release on a healthy deployment
    assert router.status()[1].state == "healthy"


def test_an_older_attempt_does_not_end_a_newer_probe(clock: FakeClock) -> None:
    a, b = dep("a"), dep("b", 1)
    router = make([a, b], clock)
    assert router.choose([a, b]) is a
    older = clock()  # an attempt on `a` began while it was healthy
    clock.advance(0.1)
    router.record_failure(a, "503")
    clock.advance(1.0)
    assert router.choose([a, b]) is a  # the probe
    probe_started = clock()
    router.release(a, started=older)  # the older attempt ends with a 400: not the probe
    assert router.choose([a, b]) is b  # still one probe at a time
    router.release(a, started=probe_started)
    assert router.choose([a, b]) is a


# --- issue 11.5: Retry-After extremes ----------------------------------------------------


@pytest.mark.parametrize("hint", [2.5e11, float("inf"), MAX_COOLDOWN + 1])
def test_retry_after_is_clamped_to_max_cooldown(clock: FakeClock, hint: float) -> None:
    a = dep("a")
    router = make([a], clock)
    router.record_throttled(a, hint)
    assert router.choose([a]) == pytest.approx(MAX_COOLDOWN)
    assert router.status()[0].retry_in == pytest.approx(MAX_COOLDOWN)


def test_max_cooldown_is_configurable(clock: FakeClock) -> None:
    a = dep("a")
    router = make([a], clock, max_cooldown=30.0)
    router.record_throttled(a, 86400)
    assert router.choose([a]) == pytest.approx(30.0)
    with pytest.raises(ValueError, match="max_cooldown"):
        Router([a], max_cooldown=0)


def test_zero_hints_cost_a_pause_that_grows_until_a_real_hint(clock: FakeClock) -> None:
    a = dep("a")
    router = make([a], clock, throttle_cooldown=1.0, failure_cooldown_cap=1.0)
    pauses = []
    for hint in [0.0, 0.0, 0.0, 0.0, 0.0, 0.001, 0.5, 0.0]:
        router.record_throttled(a, hint)
        pause = router.status()[0].retry_in
        assert pause is not None
        pauses.append(pause)
        clock.advance(pause)
    m = MIN_THROTTLE_PAUSE
    # Zero hints double up to the cap; a tiny real hint costs the floor, a usable one (0.5 s)
    # is obeyed, and both restart the growth.
    assert pauses == pytest.approx([m, 2 * m, 4 * m, 8 * m, 1.0, m, 0.5, m])
    router.record_success(a)
    router.record_throttled(a, 0.0)
    assert router.status()[0].retry_in == pytest.approx(m)


def test_a_server_stuck_on_retry_after_zero_gets_few_requests(clock: FakeClock) -> None:
    # Issue 11.5: 56 back-to-back requests in one call. Over a 60 s deadline, now a handful.
    a = dep("a")
    router = make([a], clock)
    sent, elapsed = 0, 0.0
    while elapsed < 60:
        choice = router.choose([a])
        if isinstance(choice, Deployment):
            sent += 1
            router.record_throttled(a, 0.0)
            continue
        clock.advance(choice)
        elapsed += choice
    assert sent <= 12


# --- issue 11.6: thundering herd ---------------------------------------------------------


@pytest.mark.parametrize("size", [1, 3])
def test_waiters_for_one_instant_wake_staggered(clock: FakeClock, size: int) -> None:
    pool = [dep(f"d{i}") for i in range(size)]
    router = make(pool, clock)
    for d in pool:
        router.record_throttled(d, 6.0)
    start = clock()
    barrier = threading.Barrier(40)
    wakes: list[float] = []

    def waiter() -> None:
        barrier.wait()
        wait = router.choose(pool)
        assert isinstance(wait, float)
        wakes.append(start + wait)

    threads = [threading.Thread(target=waiter) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    free_at = start + 6.0
    assert min(wakes) == pytest.approx(free_at)  # the first is told the exact instant
    assert all(free_at - 1e-9 <= w < free_at + MAX_HERD_STAGGER for w in wakes)
    assert len({round(w, 6) for w in wakes}) == 40  # 40 callers, 40 different instants


def test_stagger_never_exceeds_the_wait_itself(clock: FakeClock) -> None:
    a = dep("a")
    router = make([a], clock)
    router.record_throttled(a, 0.1)
    waits = [router.choose([a]) for _ in range(20)]
    assert all(isinstance(w, float) and 0.1 - 1e-9 <= w <= 0.2 for w in waits)
    assert len(set(waits)) == int(0.1 / HERD_STAGGER)  # slots of HERD_STAGGER, then round


# --- issue 11.7: a stream cut after its first chunk ------------------------------------------


def test_failure_after_a_recorded_success_opens_the_breaker(clock: FakeClock) -> None:
    a, b = dep("a"), dep("b", 1)
    router = make([a, b], clock)
    started = clock()
    router.record_success(a, started=started)  # the stream's first chunk arrived …
    router.record_failure(a, "stream cut")  # … then the connection dropped
    status = router.status()[0]
    assert (status.state, status.consecutive_failures, status.last_error) == (
        "cooling",
        1,
        "stream cut",
    )
    assert router.choose([a, b]) is b


# --- issue 15.4: status as text --------------------------------------------------------------


def test_status_prints_as_one_line_and_as_a_table(clock: FakeClock) -> None:
    a, b = dep("a"), dep("b")
    router = make([a, b], clock)
    router.record_success(a, remaining_tokens=900, remaining_requests=9)
    router.record_failure(b, "ServiceError")
    sa, sb = router.status()
    assert str(sa) == "a@a.openai.azure.com: healthy, 900 tokens left, 9 requests left"
    assert str(sb) == (
        "b@b.openai.azure.com: cooling, free in 1.0 s, 1 consecutive failures, "
        "last error ServiceError"
    )
    assert format_status([sa, sb]).splitlines() == [
        "deployment            state    free in  failures  last error    tokens  requests",
        "a@a.openai.azure.com  healthy        -         0  -                900         9",
        "b@b.openai.azure.com  cooling    1.0 s         1  ServiceError       -         -",
    ]
    header = "deployment  state  free in  failures  last error  tokens  requests"
    assert format_status([]) == header  # no deployments: the header alone


def test_status_line_is_a_plain_dataclass_still(clock: FakeClock) -> None:
    a = dep("a")
    status = make([a], clock).status()[0]
    assert status == DeploymentStatus(a, "healthy", None, None, None, None, None, 0)


# --- the per-tier bookkeeping agrees with a brute-force reading of status() ------------------


def test_choices_match_brute_force_under_random_traffic(clock: FakeClock) -> None:
    rng = random.Random(1234)
    members = [dep(f"d{i}", priority=rng.choice([0, 0, 1, 2])) for i in range(12)]
    router = make(members, clock, failure_cooldown=0.2, broken_for=3.0)
    lists = [members, members[:6], members[4:], members[::2]]
    for step in range(4000):
        candidates = rng.choice(lists)
        if rng.random() < 0.05:
            candidates = list(candidates)  # a fresh list object: tiers built again
        exclude = set(rng.sample(candidates, rng.choice([0, 0, 0, 1, 2])))
        before = {s.deployment: s for s in router.status()}
        choice = router.choose(candidates, exclude=exclude)
        check_choice(candidates, exclude, before, choice)
        if isinstance(choice, Deployment):
            outcome = rng.random()
            if outcome < 0.6:
                router.record_success(choice, remaining_tokens=rng.choice([None, *range(5)]))
            elif outcome < 0.75:
                router.record_throttled(choice, rng.choice([None, 0.0, 0.05, 0.5]))
            elif outcome < 0.85:
                router.record_failure(choice, "500")
            elif outcome < 0.88:
                router.record_broken(choice, "404")
            elif outcome < 0.95:
                router.release(choice)
            # else: still in flight (a probe stays out)
        clock.advance(rng.choice([0.0, 0.0, 0.01, 0.1, 0.5]))
        if step % 500 == 499:
            for d in members:
                router.release(d)  # let leftover probes go


def check_choice(
    candidates: list[Deployment],
    exclude: set[Deployment],
    before: dict[Deployment, DeploymentStatus],
    choice: Deployment | float,
) -> None:
    free = [d for d in candidates if d not in exclude and before[d].state == "healthy"]
    if free:
        assert isinstance(choice, Deployment), f"waited {choice} though {free[0].id} was free"
        top = min(d.priority for d in free)
        tier = [d for d in free if d.priority == top]
        assert choice in tier
        tokens = [before[d].remaining_tokens for d in tier]
        if None not in tokens:
            assert before[choice].remaining_tokens == max(t for t in tokens if t is not None)
        return
    assert isinstance(choice, float), f"chose {choice} though none was free"
    waiting = [d for d in candidates if d not in exclude] or candidates
    soonest = min(
        0.0 if s.state == "healthy" else (0.2 if s.retry_in is None else s.retry_in)
        for s in (before[d] for d in waiting)
    )
    assert max(soonest, 0.001) - 1e-9 <= choice < max(soonest, 0.001) + MAX_HERD_STAGGER
