"""Today's Azure (issue 12), through both client twins: the default routes, reasoning
deployments, `n` > 1, stream usage on the GA version, usage details, and versions that do
not exist. Each behaviour runs against mocked HTTP (Azure's bodies, docs/wire.md) and
against the emulator, for `AzureAIClient` and `AsyncAzureAIClient` alike.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from azure_wire import (
    ENDPOINT,
    MAX_TOKENS_UNSUPPORTED_400,
    STREAM_FIRST_CHUNK,
    Recorder,
    chat_completion,
    content_chunk,
    error,
    ok,
    sse_response,
)

from azure_ai_kit import (
    AsyncAzureAIClient,
    AzureAIClient,
    ChatResult,
    ConfigurationError,
    Deployment,
    Price,
    RetryPolicy,
    ServiceError,
)
from azure_ai_kit.emulator import EmulatedDeployment, Emulator
from azure_ai_kit.testing import FakeClock

TEMPLATES = Path(__file__).resolve().parents[1] / "azure_ai_kit" / "templates"

MAX_TOKENS_REFUSED = MAX_TOKENS_UNSUPPORTED_400


class Twin:
    """One client, sync or async, behind one awaitable interface, so each test runs twice."""

    def __init__(self, client: AzureAIClient | AsyncAzureAIClient) -> None:
        self.client = client

    async def chat(self, prompt: str = "hi", **kwargs: Any) -> ChatResult:
        result = self.client.chat(prompt, **kwargs)
        return await result if inspect.isawaitable(result) else result

    async def stream(self, prompt: str = "hi", **kwargs: Any) -> tuple[list[Any], ChatResult]:
        stream = self.client.stream_chat(prompt, **kwargs)
        if isinstance(self.client, AsyncAzureAIClient):
            async with stream:  # type: ignore[union-attr]
                chunks = [chunk async for chunk in stream]  # type: ignore[union-attr]
        else:
            with stream:  # type: ignore[union-attr]
                chunks = list(stream)  # type: ignore[arg-type]
        return chunks, stream.result

    async def embed(self, texts: Any, **kwargs: Any) -> Any:
        result = self.client.embed(texts, **kwargs)
        return await result if inspect.isawaitable(result) else result

    async def image(self, prompt: str, **kwargs: Any) -> Any:
        result = self.client.generate_image(prompt, **kwargs)
        return await result if inspect.isawaitable(result) else result


@pytest.fixture(params=["sync", "async"])
def kit(request: pytest.FixtureRequest, make_client: Any, make_async_client: Any) -> Any:
    """`kit(replies, **client_kwargs)` → (Twin, Recorder) on mocked HTTP, for each twin."""
    factory = make_client if request.param == "sync" else make_async_client

    def build(replies: Any = None, **kwargs: Any) -> tuple[Twin, Recorder]:
        client, recorder = factory(replies, **kwargs)
        return Twin(client), recorder

    return build


@pytest.fixture(params=["sync", "async"])
async def on_emulator(request: pytest.FixtureRequest, clock: FakeClock) -> Any:
    """`on_emulator(emu, deployments=None)` → Twin wired to the in-process emulator.

    Without `deployments`, `for_emulator()`'s (the default routes); with them, those kit
    deployments on the emulator's endpoint (a dated version, an unknown model, …).
    """
    opened: list[httpx.Client | httpx.AsyncClient] = []
    asynchronous = request.param == "async"
    cls = AsyncAzureAIClient if asynchronous else AzureAIClient
    sleep = clock.asleep if asynchronous else clock.sleep

    def build(emu: Emulator, deployments: list[Deployment] | None = None) -> Twin:
        options = {"clock": clock, "sleep": sleep, "retry": RetryPolicy(jitter=0)}
        if deployments is None:
            client = cls.for_emulator(emu, **options)
            opened.append(client._http)
        else:
            http: httpx.Client | httpx.AsyncClient
            if asynchronous:
                http = httpx.AsyncClient(transport=emu.async_transport())
            else:
                http = httpx.Client(transport=emu.transport())
            opened.append(http)
            client = cls(
                credential=emu.api_key, deployments=deployments, http_client=http, **options
            )
        return Twin(client)

    yield build
    for http in opened:
        if isinstance(http, httpx.AsyncClient):
            await http.aclose()
        else:
            http.close()


def on(emu: Emulator, name: str, **kwargs: Any) -> Deployment:
    return Deployment(name, endpoint=emu.endpoint, aliases=("chat",), **kwargs)


def chat_requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.operation == "chat"]


# --- 1. default routes ---------------------------------------------------------------------------
async def test_default_routes_send_chat_and_embeddings_to_v1(kit: Any) -> None:
    twin, rec = kit(api_version=None)
    await twin.chat("hi")
    await twin.embed(["a", "b"])
    chat, embed = rec.requests
    assert str(chat.url) == f"{ENDPOINT}/openai/v1/chat/completions"
    assert str(embed.url) == f"{ENDPOINT}/openai/v1/embeddings"
    assert json.loads(chat.content)["model"] == "gpt-4o"  # the deployment travels in the body
    assert json.loads(embed.content)["model"] == "text-embedding-3-small"


async def test_default_route_for_images_is_classic_on_2025_04_01_preview(kit: Any) -> None:
    twin, rec = kit(api_version=None)
    await twin.image("a fox")
    assert str(rec.requests[0].url) == (
        f"{ENDPOINT}/openai/deployments/dall-e-3/images/generations?api-version=2025-04-01-preview"
    )


async def test_a_dated_version_selects_the_classic_route_for_everything(kit: Any) -> None:
    twin, rec = kit(api_version="2024-06-01")
    await twin.chat("hi")
    await twin.embed("a")
    await twin.image("a fox")
    paths = [(r.url.path, r.url.params["api-version"]) for r in rec.requests]
    assert paths == [
        ("/openai/deployments/gpt-4o/chat/completions", "2024-06-01"),
        ("/openai/deployments/text-embedding-3-small/embeddings", "2024-06-01"),
        ("/openai/deployments/dall-e-3/images/generations", "2024-06-01"),
    ]


async def test_api_version_v1_selects_v1_for_everything(kit: Any) -> None:
    twin, rec = kit(api_version="v1")
    await twin.chat("hi")
    await twin.embed("a")
    await twin.image("a fox")
    assert [r.url.path for r in rec.requests] == [
        "/openai/v1/chat/completions",
        "/openai/v1/embeddings",
        "/openai/v1/images/generations",
    ]
    assert [json.loads(r.content)["model"] for r in rec.requests] == [
        "gpt-4o",
        "text-embedding-3-small",
        "dall-e-3",
    ]
    assert all("api-version" not in r.url.params for r in rec.requests)


async def test_default_routes_on_the_emulator(on_emulator: Any) -> None:
    emu = Emulator.default()
    twin = on_emulator(emu)
    await twin.chat("hi")
    await twin.embed("a")
    await twin.image("a fox")
    await twin.image("a fox", model="gpt-image-1")
    assert [(r.path, r.api_version, r.deployment, r.status) for r in emu.requests] == [
        ("/openai/v1/chat/completions", None, "gpt-4o-mini", 200),
        ("/openai/v1/embeddings", None, "text-embedding-3-small", 200),
        ("/openai/deployments/dall-e-3/images/generations", "2025-04-01-preview", "dall-e-3", 200),
        (
            "/openai/deployments/gpt-image-1/images/generations",
            "2025-04-01-preview",
            "gpt-image-1",
            200,
        ),
    ]


# --- 2. reasoning deployments --------------------------------------------------------------------
def reasoner(**kwargs: Any) -> list[Deployment]:
    """A deployment named unlike its model, so only `model=` tells the kit it reasons."""
    return [Deployment("thinker", endpoint=ENDPOINT, model="o4-mini", aliases=("chat",), **kwargs)]


def unknown_model() -> Deployment:
    """A deployment whose model the kit does not know, on a version before 2024-09-01."""
    return Deployment(
        "my-deployment", endpoint=ENDPOINT, aliases=("chat",), api_version="2024-06-01"
    )


REASONING_USAGE = {
    "prompt_tokens": 27,
    "completion_tokens": 100,
    "total_tokens": 127,
    "prompt_tokens_details": {"cached_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 64},
}


async def test_reasoning_model_gets_max_completion_tokens_even_on_an_old_version(
    kit: Any,
) -> None:
    twin, rec = kit(
        ok(chat_completion(usage=REASONING_USAGE)),
        endpoint=None,
        deployments=reasoner(api_version="2024-06-01"),
    )
    result = await twin.chat("think", max_tokens=500, reasoning_effort="low")
    body = rec.body()
    assert body["max_completion_tokens"] == 500
    assert "max_tokens" not in body
    assert body["reasoning_effort"] == "low"
    assert result.usage.reasoning_tokens == 64
    assert len(rec.requests) == 1


@pytest.mark.parametrize(("name", "value"), [("temperature", 0.2), ("top_p", 0.5)])
async def test_reasoning_model_refuses_sampling_settings_before_any_request(
    kit: Any, name: str, value: float
) -> None:
    twin, rec = kit(endpoint=None, deployments=reasoner())
    with pytest.raises(ConfigurationError) as info:
        await twin.chat("think", **{name: value})
    assert "thinker@res.openai.azure.com" in str(info.value)
    assert f"{name}=" in str(info.value)
    with pytest.raises(ConfigurationError, match=name):
        await twin.stream("think", **{name: value})
    assert rec.requests == []
    # The default value is what the model runs with anyway: allowed.
    await twin.chat("think", **{name: 1})
    assert len(rec.requests) == 1


async def test_unknown_model_refusing_max_tokens_is_resent_once_then_remembered(
    kit: Any, clock: FakeClock
) -> None:
    # 2024-06-01 predates max_completion_tokens, so the kit sends max_tokens to a deployment
    # whose model it does not know, until that deployment says it wants the other name.
    twin, rec = kit(
        [error(400, MAX_TOKENS_REFUSED), ok(chat_completion())],
        endpoint=None,
        deployments=[unknown_model()],
    )
    result = await twin.chat("hi", max_tokens=50)
    assert len(rec.requests) == 2
    first, second = rec.body(0), rec.body(1)
    assert (first.get("max_tokens"), first.get("max_completion_tokens")) == (50, None)
    assert (second.get("max_tokens"), second.get("max_completion_tokens")) == (None, 50)
    assert [a.status for a in result.attempts] == [400, 200]
    assert clock.slept == []  # resent at once
    assert twin.client.status()[0].state == "healthy"  # a reshape is no failure

    await twin.chat("again", max_tokens=60)
    assert len(rec.requests) == 3  # no second round trip
    assert rec.body()["max_completion_tokens"] == 60
    assert "max_tokens" not in rec.body()


async def test_a_stream_is_resent_with_max_completion_tokens(kit: Any) -> None:
    twin, rec = kit(
        [
            error(400, MAX_TOKENS_REFUSED),
            sse_response([STREAM_FIRST_CHUNK, content_chunk("Hi", finish_reason="stop")]),
        ],
        endpoint=None,
        deployments=[unknown_model()],
    )
    _, result = await twin.stream("hi", max_tokens=50)
    assert result.text == "Hi"
    assert [rec.body(i).get("max_completion_tokens") for i in range(2)] == [None, 50]
    assert [a.status for a in result.attempts] == [400, 200]


async def test_a_refusal_after_the_resend_is_raised_not_resent_again(kit: Any) -> None:
    twin, rec = kit(
        error(400, MAX_TOKENS_REFUSED),
        endpoint=None,
        deployments=[unknown_model()],
    )
    with pytest.raises(ServiceError, match="max_tokens") as info:
        await twin.chat("hi", max_tokens=50)
    assert len(rec.requests) == 2
    assert info.value.status_code == 400


async def test_reasoning_deployment_on_the_emulator(on_emulator: Any) -> None:
    emu = Emulator.default()
    twin = on_emulator(emu)
    result = await twin.chat("Think it over.", model="reasoning", max_tokens=500,
                             reasoning_effort="low")  # fmt: skip
    body = emu.requests[-1].body
    assert body["max_completion_tokens"] == 500
    assert "max_tokens" not in body
    assert body["reasoning_effort"] == "low"
    assert result.model == "o4-mini-2025-04-16"
    assert 0 < result.usage.reasoning_tokens < result.usage.completion_tokens
    report = twin.client.usage()
    assert report.by_alias["reasoning"].reasoning_tokens == result.usage.reasoning_tokens

    high = await twin.chat("Think it over.", model="reasoning", reasoning_effort="high")
    assert high.usage.reasoning_tokens > result.usage.reasoning_tokens  # the effort reached it
    with pytest.raises(ConfigurationError, match=re.escape("o4-mini@emulator.openai.azure.com")):
        await twin.chat("hi", model="reasoning", temperature=0.2)
    assert len(emu.requests) == 2


async def test_reasoning_deployment_on_the_emulator_with_a_dated_version(
    on_emulator: Any,
) -> None:
    emu = Emulator.default()
    twin = on_emulator(emu, [on(emu, "o4-mini", model="o4-mini", api_version="2024-10-21")])
    _, result = await twin.stream("Think it over.", max_tokens=400)
    (request,) = emu.requests
    assert (request.status, request.api_version) == (200, "2024-10-21")
    assert request.body["max_completion_tokens"] == 400
    assert result.usage.reasoning_tokens > 0  # the GA stream's usage chunk carries it


async def test_unknown_model_on_the_emulator_is_resent_with_max_completion_tokens(
    on_emulator: Any,
) -> None:
    # On a version that knows max_completion_tokens the kit sends it at once; before
    # 2024-09-01 it sends max_tokens, is refused by the reasoning model, and resends once.
    emu = Emulator([EmulatedDeployment("my-deployment", model="o4-mini")])
    twin = on_emulator(emu, [on(emu, "my-deployment", api_version="2024-10-21")])
    await twin.chat("hi", max_tokens=300)
    assert [r.body.get("max_completion_tokens") for r in emu.requests] == [300]

    emu = Emulator([EmulatedDeployment("my-deployment", model="o4-mini")])
    twin = on_emulator(emu, [on(emu, "my-deployment", api_version="2024-06-01")])
    with pytest.raises(ServiceError, match="max_completion_tokens"):
        await twin.chat("hi", max_tokens=300)  # that version refuses the new name as well
    assert [
        sorted(set(r.body) & {"max_tokens", "max_completion_tokens"}) for r in emu.requests
    ] == [
        ["max_tokens"],
        ["max_completion_tokens"],
    ]
    assert [r.status for r in emu.requests] == [400, 400]


# --- 3. stream usage on the GA version -----------------------------------------------------------
async def test_ga_stream_asks_for_and_reports_usage(kit: Any) -> None:
    twin, rec = kit()  # the fixtures pin 2024-10-21, the GA version
    _, result = await twin.stream("hi")
    assert rec.requests[0].url.params["api-version"] == "2024-10-21"
    assert rec.body()["stream_options"] == {"include_usage": True}
    assert result.usage.total_tokens == 30
    assert twin.client.usage().total.total_tokens == 30


async def test_ga_stream_reports_usage_on_the_emulator(on_emulator: Any) -> None:
    emu = Emulator.default()
    twin = on_emulator(emu, [on(emu, "gpt-4o-mini", api_version="2024-10-21")])
    chunks, result = await twin.stream("Count my tokens, please.")
    (request,) = emu.requests
    assert (request.api_version, request.status) == ("2024-10-21", 200)
    assert result.usage.prompt_tokens > 0
    assert result.usage.completion_tokens > 0
    assert twin.client.usage().total.total_tokens == result.usage.total_tokens > 0
    assert "".join(c.text for c in chunks) == result.text


async def test_an_old_version_streams_without_stream_options(on_emulator: Any) -> None:
    emu = Emulator.default()
    twin = on_emulator(emu, [on(emu, "gpt-4o-mini", api_version="2024-06-01")])
    _, result = await twin.stream("hello")
    (request,) = emu.requests
    assert request.status == 200
    assert "stream_options" not in request.body  # that version would refuse it
    assert result.text
    assert result.usage.total_tokens == 0  # Azure reports none there


# --- 4. n > 1 -------------------------------------------------------------------------------------
def two_choices() -> dict[str, Any]:
    body = chat_completion("first")
    second = {**body["choices"][0], "index": 1, "finish_reason": "length",
              "message": {"role": "assistant", "content": "second"}}  # fmt: skip
    body["choices"] = [second, body["choices"][0]]  # out of order on purpose
    return body


def chunk(index: int, text: str | None, finish: str | None = None) -> dict[str, Any]:
    raw = content_chunk(text, finish_reason=finish)
    raw["choices"][0]["index"] = index
    return raw


def stream_of_two(*, usage: bool = True) -> list[dict[str, Any]]:
    chunks = [
        STREAM_FIRST_CHUNK,
        chunk(0, "Hel"),
        chunk(1, "Bon"),
        chunk(1, "jour"),
        chunk(0, "lo"),
        chunk(1, None, "stop"),
        chunk(0, None, "length"),
    ]
    tail = {"choices": [], "id": "x", "object": "chat.completion.chunk", "created": 1,
            "model": "gpt-4o", "usage": {"prompt_tokens": 5, "completion_tokens": 4,
                                         "total_tokens": 9}}  # fmt: skip
    return [*chunks, tail] if usage else chunks


async def test_two_choices_are_kept_apart_by_index(kit: Any) -> None:
    twin, rec = kit(ok(two_choices()))
    result = await twin.chat("hi", n=2)
    assert rec.body()["n"] == 2
    assert [(c.index, c.text, c.finish_reason) for c in result.choices] == [
        (0, "first", "stop"),
        (1, "second", "length"),
    ]
    assert (result.text, result.finish_reason) == ("first", "stop")
    assert all(c.content_filter is not None for c in result.choices)


async def test_two_streamed_choices_interleave_and_stay_apart(kit: Any) -> None:
    twin, _ = kit(sse_response(stream_of_two()))
    chunks, result = await twin.stream("hi", n=2)
    texts = [(c.index, c.text) for c in chunks if c.text]
    assert texts == [(0, "Hel"), (1, "Bon"), (1, "jour"), (0, "lo")]
    assert [(c.index, c.text, c.finish_reason) for c in result.choices] == [
        (0, "Hello", "length"),
        (1, "Bonjour", "stop"),
    ]
    assert result.text == "Hello"
    assert result.usage.total_tokens == 9


async def test_a_stream_where_one_choice_never_finishes_is_incomplete(kit: Any) -> None:
    twin, _ = kit(sse_response(stream_of_two(usage=False)[:-1]))  # choice 0 has no finish
    with pytest.raises(ServiceError, match="ended before the answer was complete"):
        await twin.stream("hi", n=2)


async def test_two_choices_on_the_emulator_streamed_and_not(on_emulator: Any) -> None:
    emu = Emulator.default()
    twin = on_emulator(emu)
    whole = await twin.chat("Give me two. Please.", n=2)
    chunks, streamed = await twin.stream("Give me two. Please.", n=2)
    for result in (whole, streamed):
        assert [c.index for c in result.choices] == [0, 1]
        assert result.choices[0].text != result.choices[1].text
        assert result.text == result.choices[0].text
        assert all(c.finish_reason == "stop" for c in result.choices)
    indexes = [c.index for c in chunks if c.text]
    assert indexes != sorted(indexes)  # the emulator interleaves, like Azure
    for choice in streamed.choices:
        assert "".join(c.text for c in chunks if c.index == choice.index) == choice.text
    assert [c.text for c in streamed.choices] == [c.text for c in whole.choices]


# --- 5. usage details and prices -----------------------------------------------------------------
async def test_cached_and_reasoning_tokens_reach_the_result_and_the_ledger(kit: Any) -> None:
    usage = {**REASONING_USAGE, "prompt_tokens": 2048,
             "prompt_tokens_details": {"cached_tokens": 1024}, "total_tokens": 2148}  # fmt: skip
    twin, _ = kit(ok(chat_completion(usage=usage)))
    result = await twin.chat("hi")
    await twin.chat("hi")
    assert (result.usage.cached_tokens, result.usage.reasoning_tokens) == (1024, 64)
    prices = {"gpt-4o": Price(input_per_1k=2.0, output_per_1k=8.0, cached_input_per_1k=0.5)}
    report = twin.client.usage(prices)
    line = report.by_alias["chat"]
    assert (line.cached_tokens, line.reasoning_tokens) == (2048, 128)
    # 2 × (1024 fresh at 2.0 + 1024 cached at 0.5 + 100 output at 8.0) per 1K
    assert report.estimated_cost == pytest.approx(2 * (1024 * 2.0 + 1024 * 0.5 + 100 * 8.0) / 1000)
    without = twin.client.usage({"gpt-4o": Price(2.0, 8.0)})
    assert without.estimated_cost == pytest.approx(2 * (2048 * 2.0 + 100 * 8.0) / 1000)
    assert "cached" in str(report)
    assert "reasoning" in str(report)


async def test_cached_tokens_on_the_emulator(on_emulator: Any) -> None:
    emu = Emulator.default()
    twin = on_emulator(emu)
    long_prompt = [{"role": "system", "content": "policy " * 1500},
                   {"role": "user", "content": "first question"}]  # fmt: skip
    first = await twin.chat(long_prompt)
    second = await twin.chat([*long_prompt[:1], {"role": "user", "content": "second one"}])
    assert first.usage.cached_tokens == 0
    assert second.usage.cached_tokens >= 1024  # the shared system message was cached
    assert twin.client.usage().total.cached_tokens == second.usage.cached_tokens


def test_price_charges_cached_input_at_its_own_rate() -> None:
    price = Price(input_per_1k=2.0, output_per_1k=8.0, cached_input_per_1k=0.5)
    assert price.cost(1000, 100, cached_tokens=400) == pytest.approx(
        (600 * 2 + 400 * 0.5 + 800) / 1000
    )
    assert price.cost(1000, 100) == pytest.approx((2000 + 800) / 1000)
    # Without a cached rate, cached tokens are ordinary input; more cached than prompt is clamped.
    assert Price(2.0, 8.0).cost(1000, 100, cached_tokens=400) == pytest.approx(2.8)
    assert price.cost(100, 0, cached_tokens=500) == pytest.approx(100 * 0.5 / 1000)


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf")])
def test_price_refuses_rates_that_are_not_finite_and_non_negative(bad: float) -> None:
    with pytest.raises(ValueError, match="cached_input_per_1k"):
        Price(1.0, 1.0, cached_input_per_1k=bad)
    with pytest.raises(ValueError, match="input_per_1k"):
        Price(bad)


def test_usage_table_shows_cached_and_reasoning_columns_only_when_reported() -> None:
    from azure_ai_kit._results import Usage
    from azure_ai_kit._usage import UsageLedger

    ledger = UsageLedger()
    ledger.record("a@h", "a", "chat", Usage(10, 5, 15))
    assert "cached" not in str(ledger.report())
    ledger.record(
        "a@h", "a", "chat", Usage(2000, 300, 2300, cached_tokens=1024, reasoning_tokens=200)
    )
    report = ledger.report()
    assert (report.total.cached_tokens, report.total.reasoning_tokens) == (1024, 200)
    header, row, _ = str(report).splitlines()
    assert header.split() == ["deployment", "calls", "prompt", "completion", "total", "cost",
                              "cached", "reasoning"]  # fmt: skip
    assert row.split()[-2:] == ["1,024", "200"]


# --- 7. versions that do not exist ------------------------------------------------------------
async def test_an_invented_version_is_a_clear_error(on_emulator: Any, clock: FakeClock) -> None:
    emu = Emulator.default()
    twin = on_emulator(emu, [on(emu, "gpt-4o-mini", api_version="2024-13-01")])
    with pytest.raises(ServiceError) as info:
        await twin.chat("hi")
    message = str(info.value)
    assert "API version not supported" in message
    assert "api_version" in message  # how to fix it
    assert "2024-10-21" in message
    assert info.value.status_code == 400
    assert len(emu.requests) == 1  # not retried: it cannot get better
    assert clock.slept == []


# --- done when: the streaming starter prints real token counts ------------------------------------
def test_the_streaming_starter_prints_real_tokens_on_the_emulator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec = importlib.util.spec_from_file_location("streaming_starter", TEMPLATES / "streaming.py")
    assert spec is not None
    assert spec.loader is not None
    starter = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(starter)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.argv", ["app.py", "Stream three short sentences."])
        assert starter.main() == 0
    out, err = capsys.readouterr()
    assert out.strip()
    found = re.search(r"-- stop, (\d+) tokens", err)
    assert found is not None, err
    assert int(found.group(1)) > 0
