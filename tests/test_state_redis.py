"""Pool state shared through a real Redis: N clients (or processes) act as one client."""

from __future__ import annotations

import itertools
import logging
import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from redis_server import RedisServer, running_redis

from azure_ai_kit import AzureAIClient, Deployment, RateLimitedError, RetryPolicy
from azure_ai_kit._state import RedisStore
from azure_ai_kit.emulator import EmulatedDeployment, Emulator, Fault
from azure_ai_kit.testing import FakeClock

PROMPT = "x" * 400  # 104 tokens by the estimate


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port, for one test."""
    yield from running_redis(tmp_path)


def emulator(clock: FakeClock, *names: str, tpm: int = 1_000_000) -> Emulator:
    return Emulator(
        [EmulatedDeployment(n, kind="chat", model="gpt-4o-mini", tpm=tpm, rpm=6000) for n in names],
        clock=clock,
        sleep=clock.sleep,
    )


def client(
    emu: Emulator, clock: FakeClock, state: Any, *, tpm: int | None = None, deadline: float = 60
) -> AzureAIClient:
    return AzureAIClient(
        credential=emu.api_key,
        deployments=[
            Deployment(n, endpoint=emu.endpoint, aliases=("chat",), priority=i, tpm=tpm)
            for i, n in enumerate(emu.deployments)
        ],
        http_client=httpx.Client(transport=emu.transport()),
        clock=clock,
        sleep=clock.sleep,
        state=state,
        retry=RetryPolicy(deadline=deadline),
    )


def sent_to(emu: Emulator) -> list[tuple[str | None, int]]:
    return [(r.deployment, r.status) for r in emu.requests]


def test_a_429_seen_by_one_client_cools_the_deployment_for_all(redis_server: RedisServer) -> None:
    clock = FakeClock()
    emu = emulator(clock, "a", "b")
    emu.script("a", Fault(status=429, headers={"retry-after": "30"}))
    first, second = (client(emu, clock, redis_server.url) for _ in range(2))
    assert first.chat("hi").deployment == "b"  # 429 on a, failed over to b
    assert second.chat("hi").deployment == "b"  # never tried a: it knew
    assert sent_to(emu) == [("a", 429), ("b", 200), ("b", 200)]
    (a, _) = second.status()
    assert a.state == "cooling"
    assert a.retry_in == pytest.approx(30, abs=0.1)
    # The control: a client keeping state to itself tries the cooling deployment.
    emu.script("a", Fault(status=429, headers={"retry-after": "30"}))
    assert client(emu, clock, None).chat("hi").deployment == "b"
    assert sent_to(emu)[-2:] == [("a", 429), ("b", 200)]


def test_clients_sharing_redis_spend_one_token_budget(redis_server: RedisServer) -> None:
    clock = FakeClock()
    emu = emulator(clock, "a", tpm=1000)

    def store() -> RedisStore:  # a fake clock: every store must turn it into the same wall time
        return RedisStore(redis_server.url, clock=clock, offset=1e9)

    first, second = (client(emu, clock, store(), tpm=1000, deadline=10) for _ in range(2))
    first.chat(PROMPT, max_tokens=496)  # 600 of the 1,000 tokens
    with pytest.raises(RateLimitedError) as caught:
        second.chat(PROMPT, max_tokens=496)  # 400 left: room in 12 s, past its 10 s deadline
    assert caught.value.retry_after == pytest.approx(12, abs=0.1)
    assert [s for _, s in sent_to(emu)] == [200]  # Azure never saw the request that did not fit
    # With a longer deadline the second client waits its turn instead, and is not throttled.
    third = client(emu, clock, store(), tpm=1000, deadline=60)
    third.chat(PROMPT, max_tokens=496)
    assert sum(clock.slept) == pytest.approx(12, abs=0.1)
    assert [s for _, s in sent_to(emu)] == [200, 200]


def _book(url: str, count: int, results: Any) -> None:
    store = RedisStore(url, clock=lambda: 0.0)
    for _ in range(count):
        start, booked = store.reserve(
            "host/d", 0.0, not_before=0.0, token_seconds=0.0, request_seconds=1.0, latest=1e9
        )
        assert booked
        results.put(start + store._offset)  # wall-clock time: comparable across processes


def test_processes_sharing_redis_never_book_the_same_slot(redis_server: RedisServer) -> None:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    workers = [
        context.Process(target=_book, args=(redis_server.url, 50, results)) for _ in range(4)
    ]
    for w in workers:
        w.start()
    starts = sorted(results.get(timeout=30) for _ in range(200))
    for w in workers:
        w.join(timeout=30)
        assert w.exitcode == 0
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert min(gaps) >= 1.0 - 1e-5  # one request per second across all four processes


def test_keys_are_namespaced_per_deployment_and_expire(redis_server: RedisServer) -> None:
    clock = FakeClock()
    emu = emulator(clock, "a")
    emu.script("a", Fault(status=429, headers={"retry-after": "5"}))
    c = client(emu, clock, redis_server.url, tpm=1000)
    c.chat("hi")
    r = redis.Redis.from_url(redis_server.url)
    keys = sorted(k.decode() for k in r.keys("*"))
    host = c.deployments[0].host
    # No RPM declared and none learned before the first booking: no request bucket yet.
    assert keys == [f"azure-ai-kit:{host}/a:{what}" for what in ("hold", "tokens")]
    assert all(0 < r.pttl(k) <= 130_000 for k in keys)
    r.close()


def test_redis_going_away_costs_one_warning_and_no_call(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    emu = emulator(clock, "a", "b")
    c = client(emu, clock, redis_server.url, tpm=100_000)
    c.chat("hi")
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="azure_ai_kit"):
        emu.script("a", Fault(status=429, headers={"retry-after": "30"}))
        results = [c.chat("hi") for _ in range(4)]
    assert [r.deployment for r in results] == ["b", "b", "b", "b"]  # in-process state still works
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "unreachable" in warnings[0].getMessage()
    assert c._store.degraded  # type: ignore[attr-defined]


def test_a_redis_url_with_a_password_never_shows_it() -> None:
    store = RedisStore("redis://:hunter2@127.0.0.1:1/0")
    assert "hunter2" not in repr(store)
