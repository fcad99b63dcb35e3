"""Client-side pacing: requests fit the quota, so Azure (the emulator) never says 429."""

from __future__ import annotations

import asyncio
import heapq
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from azure_ai_kit import (
    AsyncAzureAIClient,
    AzureAIClient,
    ConfigurationError,
    Deployment,
    RateLimitedError,
    RetryPolicy,
)
from azure_ai_kit._pacing import Pacer, chat_cost, embedding_cost
from azure_ai_kit._routing import Router
from azure_ai_kit._settings import load_pool_file
from azure_ai_kit._state import Hold, LocalStore, make_store
from azure_ai_kit.emulator import EmulatedDeployment, Emulator, _chat, _embeddings
from azure_ai_kit.testing import FakeClock

PROMPT = "x" * 400  # 100 tokens by the estimate, + 4 for the message


def pool(
    clock: FakeClock,
    names: tuple[str, ...] = ("a",),
    *,
    tpm: int = 1000,
    rpm: int = 600,
    declare: bool = True,
    deadline: float = 600.0,
) -> tuple[Emulator, AzureAIClient]:
    emu = Emulator(
        [EmulatedDeployment(n, kind="chat", model="gpt-4o-mini", tpm=tpm, rpm=rpm) for n in names],
        clock=clock,
        sleep=clock.sleep,
    )
    deployments = [
        Deployment(
            n,
            endpoint=emu.endpoint,
            aliases=("chat",),
            priority=i,
            tpm=tpm if declare else None,
            rpm=rpm if declare else None,
        )
        for i, n in enumerate(names)
    ]
    client = AzureAIClient(
        credential=emu.api_key,
        deployments=deployments,
        http_client=httpx.Client(transport=emu.transport()),
        clock=clock,
        sleep=clock.sleep,
        retry=RetryPolicy(deadline=deadline),
    )
    return emu, client


def statuses(emu: Emulator) -> list[int]:
    return [r.status for r in emu.requests]


# --- the estimate ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        {"messages": [{"role": "user", "content": "hello there"}]},
        {
            "messages": [
                {"role": "system", "content": "be brief"},
                {"role": "user", "content": PROMPT},
            ],
            "max_tokens": 300,
        },
        {
            "messages": [{"role": "user", "content": [{"type": "text", "text": "abc" * 50}]}],
            "max_completion_tokens": 64,
        },
        {
            "messages": [{"role": "user", "content": "hi"}],
            "tools": [
                {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
            ],
            "max_tokens": 10,
        },
    ],
)
def test_the_estimate_is_what_the_emulator_charges(body: dict[str, Any]) -> None:
    options = {k: v for k, v in body.items() if k != "messages"}
    assert chat_cost(body["messages"], options) == _chat.estimate(body)


def test_the_estimate_counts_every_choice() -> None:
    messages = [{"role": "user", "content": "abcd"}]
    assert chat_cost(messages, {"max_tokens": 100, "n": 3}) == 5 + 300
    assert embedding_cost(["abcd", "abcdefgh"]) == _embeddings.estimate(
        {"input": ["abcd", "abcdefgh"]}
    )


# --- admission ----------------------------------------------------------------------------------
def test_declared_quota_paces_calls_so_none_is_throttled() -> None:
    clock = FakeClock()
    emu, client = pool(clock)
    with client:
        for _ in range(8):
            client.chat(PROMPT, max_tokens=196)  # 104 + 196 = 300 tokens each
    assert statuses(emu) == [200] * 8
    # 2,400 tokens through a 1,000-token bucket: 1,400 tokens of refill at 1,000 per minute.
    assert sum(clock.slept) == pytest.approx(1400 * 60 / 1000, abs=0.5)


def test_quota_learned_from_headers_paces_the_next_calls() -> None:
    clock = FakeClock()
    emu, client = pool(clock, declare=False)
    with client:
        for _ in range(6):
            client.chat(PROMPT, max_tokens=196)
        (status,) = client.status()
    assert statuses(emu) == [200] * 6
    assert client._pacer.limits(client.deployments[0]) == (1000, 600)
    assert status.remaining_tokens is not None


def test_without_pacing_the_same_load_meets_429s() -> None:
    # The control for the tests above: the emulator does throttle this load.
    clock = FakeClock()
    emu, client = pool(clock, declare=False)
    emu.reset()
    with client:
        client._pacer.learn = lambda *args: None  # type: ignore[method-assign]
        for _ in range(6):
            client.chat(PROMPT, max_tokens=196)
    assert 429 in statuses(emu)


def test_rpm_spaces_requests_to_azures_per_second_limit() -> None:
    clock = FakeClock()
    emu, client = pool(clock, tpm=1_000_000, rpm=60)  # one request per second
    started = clock()
    with client:
        for _ in range(5):
            client.chat("hi")
    assert statuses(emu) == [200] * 5
    assert clock() - started == pytest.approx(4.0)


def test_a_deployment_without_room_is_passed_over_for_one_with_room() -> None:
    clock = FakeClock()
    _, client = pool(clock, ("a", "b"))
    with client:
        served = [client.chat(PROMPT, max_tokens=496).deployment for _ in range(2)]
    assert served == ["a", "b"]  # 600 tokens each: a has 400 left after the first
    assert clock.slept == []


def test_a_call_that_cannot_fit_its_deadline_fails_fast_with_the_wait() -> None:
    clock = FakeClock()
    emu, client = pool(clock, deadline=10.0)
    with client:
        client.chat(PROMPT, max_tokens=796)  # 900 tokens: the bucket keeps 100
        with pytest.raises(RateLimitedError) as caught:
            client.chat(PROMPT, max_tokens=796)
    assert caught.value.retry_after == pytest.approx(800 * 60 / 1000, abs=0.1)
    assert clock.slept == []  # failed at once, without sleeping
    assert len(emu.requests) == 1  # and without sending


def test_waiting_callers_are_served_first_come_first_served() -> None:
    clock = FakeClock()
    d = Deployment("a", endpoint="https://r.openai.azure.com", tpm=600)
    pacer = Pacer([d], LocalStore())
    starts = [pacer.book(d, 300, clock(), not_before=clock(), latest=1e9)[0] for _ in range(6)]
    # 600 tokens at once, then one 300-token request every 30 s, in booking order.
    assert [s - clock() for s in starts] == pytest.approx([0, 0, 30, 60, 90, 120])


def test_bookings_from_many_threads_never_share_a_slot() -> None:
    store, now = LocalStore(), 0.0
    starts: list[float] = []
    lock = threading.Lock()

    def book() -> None:
        for _ in range(200):
            start, booked = store.reserve(
                "k", now, not_before=now, token_seconds=0, request_seconds=0.1, latest=1e9
            )
            assert booked
            with lock:
                starts.append(start)

    threads = [threading.Thread(target=book) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # One second's worth (10) at once, as Azure's 1 s window admits, then one per 0.1 s.
    expected = [round(max(0.0, (i - 9) * 0.1), 6) for i in range(1600)]
    assert sorted(round(s, 6) for s in starts) == expected


class TaskClock(FakeClock):
    """Virtual time for asyncio tasks: a sleeper wakes only when every task is blocked, and
    the clock jumps to the earliest wake-up (FakeClock.asleep would let each task move the
    shared clock on its own)."""

    def __init__(self) -> None:
        super().__init__()
        self.sleepers: list[tuple[float, int, asyncio.Future[None]]] = []

    async def asleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self.sleepers, (self.now + seconds, len(self.slept), future))
        await future

    async def drive(self, work: asyncio.Future[Any]) -> None:
        while not work.done():
            for _ in range(200):  # let every runnable task run until it blocks
                await asyncio.sleep(0)
            if self.sleepers:
                wake, _, future = heapq.heappop(self.sleepers)
                self.now = max(self.now, wake)
                future.set_result(None)


def test_concurrent_tasks_are_paced_first_come_first_served() -> None:
    clock = TaskClock()
    emu = Emulator(
        [EmulatedDeployment("a", kind="chat", model="gpt-4o-mini", tpm=1000, rpm=600)],
        clock=clock,
    )
    client = AsyncAzureAIClient(
        credential=emu.api_key,
        deployments=[Deployment("a", endpoint=emu.endpoint, aliases=("chat",), tpm=1000)],
        http_client=httpx.AsyncClient(transport=emu.async_transport()),
        clock=clock,
        sleep=clock.asleep,
    )
    done: list[tuple[int, float]] = []

    async def one(i: int) -> None:
        await client.chat(PROMPT, max_tokens=196)
        done.append((i, clock()))

    async def run() -> None:
        async with client:
            work = asyncio.gather(*(one(i) for i in range(6)))
            await clock.drive(work)

    asyncio.run(run())
    assert statuses(emu) == [200] * 6
    # Three fit at once; then one per 300 tokens of refill (18 s), in the order they came.
    assert [i for i, _ in done] == [0, 1, 2, 3, 4, 5]
    assert [t - 1000 for _, t in done] == pytest.approx([0, 0, 0, 12, 30, 48])


def test_a_shared_hold_is_adopted_by_the_router() -> None:
    clock = FakeClock()
    a, b = (Deployment(n, endpoint="https://r.openai.azure.com") for n in "ab")
    router = Router([a, b], clock=clock)
    router.merge_hold(a, Hold(clock() + 5, "cooling", "RateLimitedError", False))
    assert router.choose([a, b]) is b
    assert router.free_at(a) == clock() + 5
    assert router.hold_of(a) == Hold(clock() + 5, "cooling", "RateLimitedError", False)
    clock.advance(5)
    assert router.hold_of(a) is None


# --- configuration ------------------------------------------------------------------------------
def test_quota_must_be_a_positive_whole_number() -> None:
    with pytest.raises(ValueError, match="tpm must be a positive whole number"):
        Deployment("a", endpoint="https://r.openai.azure.com", tpm=0)
    with pytest.raises(ValueError, match="rpm"):
        Deployment("a", endpoint="https://r.openai.azure.com", rpm=1.5)  # type: ignore[arg-type]


def test_pool_file_declares_quota(tmp_path: Path) -> None:
    path = tmp_path / "pool.toml"
    path.write_text(
        '[[deployment]]\nname = "a"\nendpoint = "https://r.openai.azure.com"\n'
        "tpm = 30000\nrpm = 180\n"
    )
    (d,) = load_pool_file(path, environ={})
    assert (d.tpm, d.rpm) == (30000, 180)
    path.write_text(
        '[[deployment]]\nname = "a"\nendpoint = "https://r.openai.azure.com"\ntpm = "lots"\n'
    )
    with pytest.raises(ConfigurationError, match="tpm must be a whole number of tokens per minute"):
        load_pool_file(path, environ={})


def test_state_names_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = FakeClock()
    assert type(make_store(None, clock)) is LocalStore
    store = LocalStore()
    assert make_store(store, clock) is store
    with pytest.raises(ValueError, match="redis://host:port/db") as caught:
        make_store("memcached://:hunter2@cache:11211", clock)
    assert "hunter2" not in str(caught.value)
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://r.openai.azure.com")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", "k")
    monkeypatch.setenv("AZURE_OPENAI_CHAT_DEPLOYMENT", "chat")
    monkeypatch.setenv("AZURE_AI_KIT_STATE", "memcached://cache")
    monkeypatch.chdir(Path(__file__).parent)  # no .env here
    with pytest.raises(ValueError, match="state="):
        AzureAIClient.from_env()
