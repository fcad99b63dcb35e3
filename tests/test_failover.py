"""The fault matrix: what the client does for each Azure failure, sync and async alike.

Each row asserts which deployment served the call, how many requests each endpoint received,
and how long the call waited on the fake clock. Bodies and headers follow docs/wire.md.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import threading
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from azure_ai_kit import (
    AsyncAzureAIClient,
    AuthenticationError,
    AzureAIClient,
    AzureAIKitError,
    ContentFilteredError,
    Deployment,
    RateLimitedError,
    RetryPolicy,
    ServiceError,
)
from azure_ai_kit.emulator import bodies
from azure_ai_kit.testing import FakeClock

EAST = "https://east.openai.azure.com"
SWC = "https://swc.openai.azure.com"

OK = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gpt-4o-2024-05-13",
    "choices": [
        {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}
    ],
    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
}
# docs/wire.md, "Error bodies": Azure's bodies, kept once in the emulator's fixtures.
THROTTLED = bodies.THROTTLED
SERVER_ERROR = bodies.SERVER_ERROR
NOT_FOUND = bodies.DEPLOYMENT_NOT_FOUND
UNAUTHORIZED = bodies.UNAUTHORIZED
FILTERED = bodies.PROMPT_FILTERED


Reply = Callable[[httpx.Request], httpx.Response]


class Azure:
    """Two fake resources; each host answers from its script, then with 200."""

    def __init__(self) -> None:
        self.scripts: dict[str, deque[Reply | httpx.Response]] = {}
        self.hits: Counter[str] = Counter()
        self.tokens: list[str] = []

    def script(self, host: str, *replies: Reply | httpx.Response) -> None:
        self.scripts.setdefault(host, deque()).extend(replies)

    def handler(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.hits[host] += 1
        self.tokens.append(request.headers.get("authorization", ""))
        queue = self.scripts.get(host)
        if queue:
            reply = queue.popleft()
            if isinstance(reply, httpx.Response):
                return reply
            return reply(request)
        return httpx.Response(200, json=OK)


def status(code: int, body: dict[str, Any], **headers: str) -> httpx.Response:
    return httpx.Response(code, json=body, headers=headers)


def raises(exc: type[Exception]) -> Reply:
    def reply(request: httpx.Request) -> httpx.Response:
        raise exc("simulated", request=request)  # type: ignore[call-arg]

    return reply


def pool(*, both: bool = True) -> list[Deployment]:
    members = [Deployment("gpt-4o", endpoint=EAST, aliases=("chat",), priority=0)]
    if both:
        members.append(Deployment("gpt-4o", endpoint=SWC, aliases=("chat",), priority=1))
    return members


class Runner:
    """Drives the same scenario through the sync or the async client."""

    def __init__(self, kind: str, azure: Azure, clock: FakeClock) -> None:
        self.kind, self.azure, self.clock = kind, azure, clock

    def client(self, deployments: list[Deployment], credential: Any = "k", **kw: Any) -> Any:
        transport = httpx.MockTransport(self.azure.handler)
        if self.kind == "sync":
            return AzureAIClient(
                deployments=deployments, credential=credential, clock=self.clock,
                sleep=self.clock.sleep, http_client=httpx.Client(transport=transport), **kw,
            )  # fmt: skip
        return AsyncAzureAIClient(
            deployments=deployments, credential=credential, clock=self.clock,
            sleep=self.clock.asleep, http_client=httpx.AsyncClient(transport=transport), **kw,
        )  # fmt: skip

    def chat(self, client: Any, prompt: str = "hi") -> Any:
        if self.kind == "sync":
            return client.chat(prompt)
        return asyncio.run(client.chat(prompt))


@pytest.fixture(params=["sync", "async"])
def run(request: pytest.FixtureRequest) -> Runner:
    return Runner(request.param, Azure(), FakeClock())


def served_by(result: Any) -> str:
    return str(httpx.URL(result.endpoint).host)


RETRY_AFTER_FORMS = {
    "retry-after-ms": {"retry-after-ms": "1500"},
    "x-ms-retry-after-ms": {"x-ms-retry-after-ms": "1500"},
    "retry-after seconds": {"retry-after": "6"},
    "retry-after decimal": {"retry-after": "1.5"},
    "retry-after http-date": {"retry-after": "Wed, 21 Oct 2099 07:28:00 GMT"},
    "x-ratelimit-reset-tokens": {"x-ratelimit-reset-tokens": "55"},
    "x-ratelimit-reset-requests": {"x-ratelimit-reset-requests": "10"},
    "message only": {},
    "none at all": {},
}


@pytest.mark.parametrize("form", list(RETRY_AFTER_FORMS))
def test_429_fails_over_at_once_whatever_the_retry_after_form(run: Runner, form: str) -> None:
    body = THROTTLED if form != "none at all" else {"error": {"code": "429", "message": "x"}}
    run.azure.script("east.openai.azure.com", status(429, body, **RETRY_AFTER_FORMS[form]))
    client = run.client(pool())
    result = run.chat(client)
    assert served_by(result) == "swc.openai.azure.com"
    assert run.azure.hits == {"east.openai.azure.com": 1, "swc.openai.azure.com": 1}
    assert run.clock.slept == []  # failover never sleeps
    assert [a.status for a in result.attempts] == [429, 200]
    east = client.status()[0]
    assert east.state == "cooling"
    assert east.retry_in is not None
    assert east.retry_in > 0


def test_429_cooling_is_respected_by_later_calls_until_it_expires(run: Runner) -> None:
    run.azure.script("east.openai.azure.com", status(429, THROTTLED, **{"retry-after": "6"}))
    client = run.client(pool())
    run.chat(client)
    run.chat(client)  # east still cooling: straight to swc
    assert run.azure.hits == {"east.openai.azure.com": 1, "swc.openai.azure.com": 2}
    run.clock.now += 6.0
    assert served_by(run.chat(client)) == "east.openai.azure.com"


@pytest.mark.parametrize(
    "fault",
    [
        lambda _: status(500, SERVER_ERROR),
        lambda _: status(503, SERVER_ERROR),
        raises(httpx.ReadTimeout),
        raises(httpx.RemoteProtocolError),
        raises(httpx.ConnectError),
    ],
    ids=["500", "503", "timeout", "connection-reset", "connect-error"],
)
def test_transient_failures_fail_over_without_waiting(run: Runner, fault: Any) -> None:
    run.azure.script("east.openai.azure.com", fault)
    result = run.chat(run.client(pool()))
    assert served_by(result) == "swc.openai.azure.com"
    assert run.azure.hits == {"east.openai.azure.com": 1, "swc.openai.azure.com": 1}
    assert run.clock.slept == []


def test_transient_failure_on_a_single_deployment_waits_a_short_cooldown(run: Runner) -> None:
    run.azure.script("east.openai.azure.com", status(503, SERVER_ERROR))
    result = run.chat(run.client(pool(both=False)))
    assert served_by(result) == "east.openai.azure.com"
    assert run.azure.hits == {"east.openai.azure.com": 2}
    assert len(run.clock.slept) == 1
    assert 0 < run.clock.slept[0] <= 2.0
    assert result.attempts[1].waited == run.clock.slept[0]


def test_deployment_not_found_breaks_one_member_for_later_calls(run: Runner) -> None:
    run.azure.script("east.openai.azure.com", status(404, NOT_FOUND))
    client = run.client(pool())
    for _ in range(3):
        assert served_by(run.chat(client)) == "swc.openai.azure.com"
    assert run.azure.hits == {"east.openai.azure.com": 1, "swc.openai.azure.com": 3}
    assert client.status()[0].state == "broken"


class FakeCredential:
    """A TokenCredential that hands out t1, t2, … and counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        self.calls += 1
        assert scopes == ("https://cognitiveservices.azure.com/.default",)
        return type("AccessToken", (), {"token": f"t{self.calls}", "expires_on": 10**12})()


class FakeAsyncCredential(FakeCredential):
    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:  # type: ignore[override]
        return FakeCredential.get_token(self, *scopes)


def test_401_with_a_token_refreshes_once_on_the_same_deployment(run: Runner) -> None:
    credential = FakeCredential() if run.kind == "sync" else FakeAsyncCredential()
    run.azure.script("east.openai.azure.com", status(401, UNAUTHORIZED))
    result = run.chat(run.client(pool(), credential=credential))
    assert served_by(result) == "east.openai.azure.com"
    assert run.azure.tokens == ["Bearer t1", "Bearer t2"]
    assert credential.calls == 2


def test_401_twice_with_a_token_gives_up_on_that_deployment(run: Runner) -> None:
    credential = FakeCredential() if run.kind == "sync" else FakeAsyncCredential()
    run.azure.script("east.openai.azure.com", status(401, UNAUTHORIZED), status(401, UNAUTHORIZED))
    client = run.client(pool(both=False), credential=credential)
    with pytest.raises(AuthenticationError, match="Cognitive Services OpenAI User") as info:
        run.chat(client)
    assert run.azure.hits == {"east.openai.azure.com": 2}
    assert [a.status for a in info.value.attempts] == [401, 401]
    assert run.clock.slept == []


def test_401_with_a_key_fails_over_to_the_next_member(run: Runner) -> None:
    run.azure.script("east.openai.azure.com", status(401, UNAUTHORIZED))
    result = run.chat(run.client(pool()))
    assert served_by(result) == "swc.openai.azure.com"
    assert run.azure.hits == {"east.openai.azure.com": 1, "swc.openai.azure.com": 1}


def test_content_filter_is_neither_retried_nor_failed_over(run: Runner) -> None:
    run.azure.script("east.openai.azure.com", status(400, FILTERED))
    client = run.client(pool())
    with pytest.raises(ContentFilteredError) as info:
        run.chat(client)
    assert run.azure.hits == {"east.openai.azure.com": 1}
    assert info.value.filtered_categories == ["jailbreak"]
    assert client.status()[0].state == "healthy"


def test_all_members_throttled_briefly_waits_then_uses_the_primary(run: Runner) -> None:
    run.azure.script("east.openai.azure.com", status(429, THROTTLED, **{"retry-after": "2"}))
    run.azure.script("swc.openai.azure.com", status(429, THROTTLED, **{"retry-after": "5"}))
    result = run.chat(run.client(pool()))
    assert served_by(result) == "east.openai.azure.com"
    assert run.azure.hits == {"east.openai.azure.com": 2, "swc.openai.azure.com": 1}
    assert run.clock.slept == [2.0]
    assert [a.waited for a in result.attempts] == [0.0, 0.0, 2.0]


def test_all_members_throttled_for_a_day_raises_at_once(run: Runner) -> None:
    day = {"retry-after": "86400"}
    run.azure.script("east.openai.azure.com", status(429, THROTTLED, **day))
    run.azure.script("swc.openai.azure.com", status(429, THROTTLED, **day))
    client = run.client(pool())
    with pytest.raises(RateLimitedError) as info:
        run.chat(client)
    assert run.clock.slept == []
    assert info.value.retry_after == pytest.approx(300.0)  # hints are clamped to MAX_COOLDOWN
    assert run.azure.hits == {"east.openai.azure.com": 1, "swc.openai.azure.com": 1}
    # A later call does not even send a request while both are cooling.
    with pytest.raises(RateLimitedError):
        run.chat(client)
    assert sum(run.azure.hits.values()) == 2


def test_deadline_exhausted_raises_the_last_error_within_the_deadline(run: Runner) -> None:
    run.azure.script("east.openai.azure.com", *[status(503, SERVER_ERROR)] * 20)
    client = run.client(pool(both=False), retry=RetryPolicy(max_attempts=20, deadline=10.0))
    with pytest.raises(ServiceError) as info:
        run.chat(client)
    assert sum(run.clock.slept) <= 10.0
    assert 2 <= run.azure.hits["east.openai.azure.com"] < 20
    assert info.value.attempts[-1].status == 503
    assert isinstance(info.value.__cause__, Exception)


def test_attempt_cap_is_honoured(run: Runner) -> None:
    run.azure.script("east.openai.azure.com", *[status(500, SERVER_ERROR)] * 10)
    client = run.client(pool(both=False), retry=RetryPolicy(max_attempts=3))
    with pytest.raises(ServiceError):
        run.chat(client)
    assert run.azure.hits == {"east.openai.azure.com": 3}


def test_http_date_retry_after_is_measured_from_now(run: Runner) -> None:
    import time

    when = email.utils.formatdate(time.time() + 3.0, usegmt=True)
    run.azure.script("east.openai.azure.com", status(429, THROTTLED, **{"retry-after": when}))
    client = run.client(pool(both=False))
    run.chat(client)
    assert len(run.clock.slept) == 1
    assert 1.0 <= run.clock.slept[0] <= 4.0


# --- streams -------------------------------------------------------------------------------


def sse(*chunks: dict[str, Any], done: bool = True) -> bytes:
    text = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
    return (text + ("data: [DONE]\n\n" if done else "")).encode()


def chunk(text: str, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}],
    }  # fmt: skip


def test_stream_fails_over_before_the_first_chunk() -> None:
    azure, clock = Azure(), FakeClock()
    azure.script("east.openai.azure.com", status(429, THROTTLED, **{"retry-after": "6"}))
    azure.script(
        "swc.openai.azure.com",
        httpx.Response(200, content=sse(chunk("he"), chunk("llo", "stop")),
                       headers={"content-type": "text/event-stream"}),
    )  # fmt: skip
    client = Runner("sync", azure, clock).client(pool())
    with client.stream_chat("hi") as stream:
        text = "".join(c.text for c in stream)
    assert text == "hello"
    assert stream.result.endpoint == SWC
    assert [a.status for a in stream.result.attempts] == [429, 200]


def test_stream_is_not_retried_after_text_reached_the_caller() -> None:
    azure, clock = Azure(), FakeClock()

    def broken(request: httpx.Request) -> httpx.Response:
        def body() -> Any:
            yield sse(chunk("par"), done=False)
            raise httpx.RemoteProtocolError("peer closed connection", request=request)

        return httpx.Response(200, content=body(), headers={"content-type": "text/event-stream"})

    azure.script("east.openai.azure.com", broken)
    client = Runner("sync", azure, clock).client(pool())
    seen: list[str] = []

    def consume() -> None:
        with client.stream_chat("hi") as stream:
            seen.extend(c.text for c in stream)

    with pytest.raises(ServiceError, match="not retried"):
        consume()
    assert seen == ["par"]
    assert azure.hits == {"east.openai.azure.com": 1}


# --- concurrency ---------------------------------------------------------------------------


class RandomThrottle:
    """A thread-safe server that throttles about a third of requests with a short retry-after."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.hits: Counter[str] = Counter()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.hits[request.url.host] += 1
            throttle = self.rng.random() < 0.35
        if throttle:
            return status(429, THROTTLED, **{"retry-after-ms": "50"})
        return httpx.Response(200, json=OK)


def test_eight_threads_fifty_calls_each_lose_nothing() -> None:
    server, clock = RandomThrottle(seed=7), FakeClock()
    client = AzureAIClient(
        deployments=pool(), credential="k", clock=clock, sleep=clock.sleep,
        http_client=httpx.Client(transport=httpx.MockTransport(server)),
    )  # fmt: skip
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(50):
            try:
                client.chat("hi")
                kind = "ok"
            except AzureAIKitError as exc:
                kind = type(exc).__name__
            with lock:
                outcomes[kind] += 1

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(outcomes.values()) == 400
    assert set(outcomes) <= {"ok", "RateLimitedError"}, outcomes
    assert outcomes["ok"] >= 350


async def test_two_hundred_tasks_lose_nothing() -> None:
    server, clock = RandomThrottle(seed=11), FakeClock()
    client = AsyncAzureAIClient(
        deployments=pool(), credential="k", clock=clock, sleep=clock.asleep,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(server)),
    )  # fmt: skip

    async def one() -> str:
        try:
            await client.chat("hi")
        except AzureAIKitError as exc:
            return type(exc).__name__
        return "ok"

    outcomes = Counter(await asyncio.gather(*(one() for _ in range(200))))
    assert sum(outcomes.values()) == 200
    assert set(outcomes) <= {"ok", "RateLimitedError"}
    assert outcomes["ok"] >= 150


def test_429s_do_not_use_up_max_attempts(run: Runner) -> None:
    """Under load 429s are expected: they wait as Azure asks instead of failing the call."""
    run.azure.script("east.openai.azure.com", *[status(429, THROTTLED, **{"retry-after": "1"})] * 8)
    client = run.client(pool(both=False), retry=RetryPolicy(max_attempts=3))
    result = run.chat(client)
    assert run.azure.hits == {"east.openai.azure.com": 9}
    assert run.clock.slept == [1.0] * 8
    assert [a.status for a in result.attempts] == [429] * 8 + [200]


def test_max_throttled_attempts_bounds_the_429s(run: Runner) -> None:
    run.azure.script(
        "east.openai.azure.com", *[status(429, THROTTLED, **{"retry-after": "1"})] * 20
    )
    policy = RetryPolicy(max_attempts=3, max_throttled_attempts=4)
    with pytest.raises(RateLimitedError) as info:
        run.chat(run.client(pool(both=False), retry=policy))
    assert run.azure.hits == {"east.openai.azure.com": 7}
    assert info.value.retry_after == pytest.approx(1.0)
