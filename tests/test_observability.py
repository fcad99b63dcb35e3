"""Usage accounting, OpenTelemetry spans and metrics, and what reaches the logs."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from azure_ai_kit import (
    AsyncAzureAIClient,
    AzureAIClient,
    ContentFilteredError,
    Price,
    RateLimitedError,
)
from azure_ai_kit import _telemetry as telemetry
from azure_ai_kit.emulator import Emulator, Fault
from azure_ai_kit.testing import FakeClock

KEY = "emulator-key"


@pytest.fixture
def emulator() -> Emulator:
    return Emulator.default()


@pytest.fixture
def client(emulator: Emulator) -> Iterator[AzureAIClient]:
    clock = FakeClock()
    with AzureAIClient.for_emulator(emulator, clock=clock, sleep=clock.sleep) as c:
        yield c


# --- usage accounting ------------------------------------------------------------------------


def test_usage_counts_calls_and_tokens_per_deployment_and_alias(client: AzureAIClient) -> None:
    a = client.chat("first question", max_tokens=20)
    b = client.chat("second question", model="code", max_tokens=20)
    e = client.embed(["x", "y"])
    report = client.usage()
    chat = report.by_deployment["gpt-4o-mini@emulator.openai.azure.com"]
    assert (chat.calls, chat.prompt_tokens, chat.completion_tokens) == (
        1,
        a.usage.prompt_tokens,
        a.usage.completion_tokens,
    )
    assert report.by_alias["code"].total_tokens == b.usage.total_tokens
    assert report.by_alias["embedding"].prompt_tokens == e.usage.prompt_tokens
    assert report.total.calls == 3
    assert report.total.total_tokens == (
        a.usage.total_tokens + b.usage.total_tokens + e.usage.total_tokens
    )
    assert report.estimated_cost is None


def test_usage_prices_give_an_estimated_cost(client: AzureAIClient) -> None:
    r = client.chat("price me", max_tokens=20)
    report = client.usage(prices={"gpt-4o-mini": Price(input_per_1k=0.5, output_per_1k=2.0)})
    expected = (r.usage.prompt_tokens * 0.5 + r.usage.completion_tokens * 2.0) / 1000
    assert report.estimated_cost == pytest.approx(expected)
    assert report.by_alias["chat"].cost == pytest.approx(expected)
    assert "gpt-4o-mini@emulator.openai.azure.com" in str(report)


def test_a_partial_price_table_gives_no_total(client: AzureAIClient) -> None:
    client.chat("one")
    client.chat("two", model="code")
    report = client.usage(prices={"gpt-4o-mini": Price(1.0, 1.0)})
    assert report.estimated_cost is None  # gpt-4.1 is unpriced: a partial sum would mislead
    assert report.by_deployment["gpt-4.1@emulator.openai.azure.com"].cost is None


def test_streamed_and_failed_calls(client: AzureAIClient, emulator: Emulator) -> None:
    with client.stream_chat("stream me. twice.") as stream:
        stream.text()
    emulator.script("gpt-4o-mini", Fault.throttle(retry_after=86400))
    with pytest.raises(RateLimitedError):
        client.chat("throttled")
    with pytest.raises(ContentFilteredError):
        client.chat("a forbidden-word", model="code")
    report = client.usage()
    assert report.total.calls == 1  # only the stream succeeded


async def test_async_client_counts_usage(emulator: Emulator) -> None:
    clock = FakeClock()
    client = AsyncAzureAIClient.for_emulator(emulator, clock=clock, sleep=clock.asleep)
    async with client:
        result = await client.chat("hello")
        async with client.stream_chat("hello") as stream:
            await stream.text()
    report = client.usage()
    assert report.by_alias["chat"].calls == 2
    assert report.total.prompt_tokens >= result.usage.prompt_tokens


# --- OpenTelemetry ---------------------------------------------------------------------------


class Otel:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.metrics = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metrics])

    def finished(self) -> list[Any]:
        return list(self.spans.get_finished_spans())

    def metric_points(self, name: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        points = []
        for resource in data.resource_metrics if data else ():
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points


@pytest.fixture
def otel(monkeypatch: pytest.MonkeyPatch) -> Iterator[Otel]:
    sdk = Otel()
    tracer = sdk.tracer_provider.get_tracer("azure_ai_kit")
    meter = sdk.meter_provider.get_meter("azure_ai_kit")
    tools = (
        tracer,
        meter.create_histogram("gen_ai.client.token.usage", unit="{token}"),
        meter.create_histogram("gen_ai.client.operation.duration", unit="s"),
    )
    monkeypatch.setattr(telemetry, "instruments", lambda: tools)
    monkeypatch.setattr(telemetry, "enabled", lambda: True)
    yield sdk
    sdk.tracer_provider.shutdown()
    sdk.meter_provider.shutdown()


def test_a_call_makes_one_client_span_with_genai_attributes(
    client: AzureAIClient, otel: Otel
) -> None:
    result = client.chat("trace me", max_tokens=20)
    spans = {s.name: s for s in otel.finished()}
    call = spans["chat chat"]
    attempt = spans["attempt gpt-4o-mini"]
    assert call.kind.name == "CLIENT"
    assert call.attributes["gen_ai.operation.name"] == "chat"
    assert call.attributes["gen_ai.provider.name"] == "azure.ai.openai"
    assert call.attributes["gen_ai.request.model"] == "chat"
    assert call.attributes["gen_ai.response.model"] == result.model
    assert call.attributes["gen_ai.usage.input_tokens"] == result.usage.prompt_tokens
    assert call.attributes["gen_ai.usage.output_tokens"] == result.usage.completion_tokens
    assert call.attributes["server.address"] == "emulator.openai.azure.com"
    assert call.attributes["azure_ai_kit.region"] == "East US 2"
    assert attempt.parent.span_id == call.context.span_id
    assert attempt.attributes["http.response.status_code"] == 200
    tokens = otel.metric_points("gen_ai.client.token.usage")
    assert sum(p.sum for p in tokens) == result.usage.prompt_tokens + result.usage.completion_tokens
    assert otel.metric_points("gen_ai.client.operation.duration")


def test_each_attempt_is_a_child_span_with_the_failover_reason(
    client: AzureAIClient, emulator: Emulator, otel: Otel
) -> None:
    emulator.script("gpt-4o-mini", Fault.server_error(503))
    client.chat("retry me")
    attempts = [s for s in otel.finished() if s.name.startswith("attempt")]
    assert [s.attributes["http.response.status_code"] for s in attempts] == [503, 200]
    assert attempts[0].attributes["error.type"] == "ServiceError"
    assert attempts[1].attributes["azure_ai_kit.failover_reason"] == "ServiceError"
    assert [s.attributes["azure_ai_kit.attempt"] for s in attempts] == [1, 2]


def test_a_failed_call_ends_its_span_with_the_error_type(
    client: AzureAIClient, emulator: Emulator, otel: Otel
) -> None:
    emulator.script("gpt-4o-mini", Fault.throttle(retry_after=86400))
    with pytest.raises(RateLimitedError):
        client.chat("no")
    call = next(s for s in otel.finished() if s.name == "chat chat")
    assert call.attributes["error.type"] == "RateLimitedError"
    assert call.status.status_code.name == "ERROR"


def test_a_stream_span_ends_when_the_stream_does(client: AzureAIClient, otel: Otel) -> None:
    with client.stream_chat("stream me. please.") as stream:
        next(iter(stream))
        assert not [s for s in otel.finished() if s.name == "chat chat"]
        stream.text()
    assert [s for s in otel.finished() if s.name == "chat chat"]


def test_without_an_sdk_no_span_is_started(client: AzureAIClient, monkeypatch: Any) -> None:
    started: list[str] = []

    class Tracer:
        def start_span(self, name: str, **kw: Any) -> Any:
            started.append(name)
            raise AssertionError("no span without a configured SDK")

    monkeypatch.setattr(telemetry, "instruments", lambda: (Tracer(), None, None))
    assert not telemetry.enabled()  # only the API's proxy providers are set
    client.chat("hello")
    assert started == []


def test_without_opentelemetry_nothing_is_imported(tmp_path: Any) -> None:
    import subprocess

    code = (
        "import sys; sys.modules['opentelemetry'] = None\n"
        "from azure_ai_kit import AzureAIClient\n"
        "c = AzureAIClient.for_emulator(); c.chat('hi')\n"
        "print(c.usage().total.calls)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert out.stdout.strip() == "1"


# --- logging -------------------------------------------------------------------------------


class Everything(logging.Handler):
    """Keeps every record from every logger at every level, formatted with its arguments."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.levelname} {record.getMessage()}")


@pytest.fixture
def everything() -> Iterator[Everything]:
    handler = Everything()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.NOTSET)
    loggers = [logging.getLogger(n) for n in ("azure_ai_kit", "openai", "httpx", "httpcore")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)
    for lg, level in zip(loggers, levels, strict=True):
        lg.setLevel(level)


def test_keys_and_tokens_never_reach_a_log_handler(
    emulator: Emulator, everything: Everything
) -> None:
    secret_key = "k3y-" + "s" * 28
    token = "eyJ0b2tlbi" + "t" * 30
    keyed = Emulator.default(api_key=secret_key, tokens=(token,))

    class Credential:
        def get_token(self, *scopes: str, **kw: Any) -> Any:
            return type("T", (), {"token": token, "expires_on": 10**12})()

    clock = FakeClock()
    for credential in (secret_key, Credential()):
        client = AzureAIClient.for_emulator(
            keyed, credential=credential, clock=clock, sleep=clock.sleep
        )
        keyed.script("gpt-4o-mini", Fault.server_error(503))
        client.chat("hello")
        with pytest.raises(ContentFilteredError):
            client.chat("forbidden-word")
        bad = AzureAIClient.for_emulator(keyed, credential=secret_key[::-1], sleep=clock.sleep)
        with pytest.raises(Exception, match="refused the credential"):
            bad.chat("hello")
    text = "\n".join(everything.lines)
    assert "azure_ai_kit DEBUG" in text  # the kit did log, at every level we allow
    for secret in (secret_key, token, secret_key[::-1]):
        assert secret not in text


def test_logged_headers_come_from_the_allow_list(
    client: AzureAIClient, everything: Everything
) -> None:
    client.chat("hello")
    answered = [line for line in everything.lines if "answered 200" in line]
    assert answered
    assert "x-ms-region" in answered[0]
    assert "api-key" not in answered[0]
    assert "authorization" not in answered[0].lower()
