"""OpenTelemetry spans and metrics, following the GenAI semantic conventions.

A span per call (`chat gpt-4o`, kind CLIENT) with a child span per HTTP attempt, plus the
`gen_ai.client.token.usage` and `gen_ai.client.operation.duration` histograms. Active only
when `opentelemetry-api` is importable (the `otel` extra) and an SDK tracer or meter provider
is configured; otherwise every hook is a no-op and a call pays one cheap check.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

__all__ = ["CallTrace", "enabled", "instruments"]

PROVIDER = "azure.ai.openai"  # gen_ai.provider.name for Azure OpenAI
KIT = "azure_ai_kit"


@cache
def instruments() -> tuple[Any, Any, Any] | None:
    """(tracer, token histogram, duration histogram), or None when OpenTelemetry is absent."""
    try:
        from opentelemetry import metrics, trace
    except ImportError:
        return None
    from . import __version__

    tracer = trace.get_tracer(KIT, __version__)
    meter = metrics.get_meter(KIT, __version__)
    tokens = meter.create_histogram(
        "gen_ai.client.token.usage", unit="{token}", description="Tokens used per call"
    )
    duration = meter.create_histogram(
        "gen_ai.client.operation.duration", unit="s", description="Duration of a call"
    )
    return tracer, tokens, duration


def enabled() -> bool:
    """True when an OpenTelemetry SDK (a real tracer or meter provider) is configured.

    Checked per call, so a provider set after the client was built is still honoured;
    with only the API installed, calls skip span bookkeeping altogether.
    """
    providers = _providers()
    if providers is None:
        return False
    trace, metrics_state, get_tracer_provider, get_meter_provider = providers
    # Fast path: the API keeps the configured providers in module globals (None until set);
    # reading them skips the environment lookups the public getters make on every call.
    tracer_set = getattr(trace, "_TRACER_PROVIDER", _UNKNOWN)
    meter_set = getattr(metrics_state, "_METER_PROVIDER", _UNKNOWN)
    if tracer_set is None and meter_set is None:
        return False
    return (
        type(get_tracer_provider()).__name__ not in _UNSET
        or type(get_meter_provider()).__name__ not in _UNSET
    )


_UNKNOWN = object()


# The API's placeholders until an SDK is configured.
_UNSET = frozenset(
    {"ProxyTracerProvider", "NoOpTracerProvider", "_ProxyMeterProvider", "NoOpMeterProvider"}
)


@cache
def _providers() -> tuple[Any, Any, Any, Any] | None:
    try:
        from opentelemetry import metrics, trace
        from opentelemetry.metrics import _internal as metrics_state
    except ImportError:
        return None
    return trace, metrics_state, trace.get_tracer_provider, metrics.get_meter_provider


class CallTrace:
    """The telemetry of one call; every method is cheap and safe when tracing is off."""

    __slots__ = ("_attempt", "_base", "_duration", "_span", "_started", "_tokens", "_tracer")

    def __init__(self, operation: str, model: str) -> None:
        self._span: Any = None
        self._attempt: Any = None
        if not enabled():
            return
        tools = instruments()
        if tools is None:
            return
        self._tracer, self._tokens, self._duration = tools
        from opentelemetry.trace import SpanKind

        self._base = {
            "gen_ai.operation.name": operation,
            "gen_ai.provider.name": PROVIDER,
            "gen_ai.request.model": model,
        }
        self._started = time.monotonic()
        self._span = self._tracer.start_span(
            f"{operation} {model}", kind=SpanKind.CLIENT, attributes=self._base
        )

    def attempt_started(self, deployment: Any, number: int, reason: str | None) -> None:
        """Open the child span of one HTTP attempt; `reason` says why it is a failover."""
        if self._span is None:
            return
        from opentelemetry import trace

        attributes: dict[str, Any] = {
            **self._base,
            "server.address": deployment.host,
            "azure_ai_kit.deployment": deployment.name,
            "azure_ai_kit.attempt": number,
        }
        if reason:
            attributes["azure_ai_kit.failover_reason"] = reason
        self._attempt = self._tracer.start_span(
            f"attempt {deployment.name}",
            context=trace.set_span_in_context(self._span),
            attributes=attributes,
        )

    def attempt_ended(self, status: int | None, error: str | None, region: str | None) -> None:
        """Close the attempt span with its HTTP status and, on failure, the error type."""
        span, self._attempt = self._attempt, None
        if span is None:
            return
        if status is not None:
            span.set_attribute("http.response.status_code", status)
        if region:
            span.set_attribute("azure_ai_kit.region", region)
        if error:
            from opentelemetry.trace import StatusCode

            span.set_attribute("error.type", error)
            span.set_status(StatusCode.ERROR, error)
        span.end()

    def succeeded(
        self,
        *,
        deployment: Any,
        region: str | None,
        response_model: str | None,
        input_tokens: int,
        output_tokens: int,
        attempts: int,
    ) -> None:
        """Close the call span with the response facts, and record the metrics."""
        span, self._span = self._span, None
        if span is None:
            return
        attributes = {**self._base, "server.address": deployment.host}
        if response_model:
            attributes["gen_ai.response.model"] = response_model
        span.set_attributes(
            {
                **attributes,
                "gen_ai.usage.input_tokens": input_tokens,
                "gen_ai.usage.output_tokens": output_tokens,
                "azure_ai_kit.deployment": deployment.name,
                "azure_ai_kit.attempts": attempts,
                **({"azure_ai_kit.region": region} if region else {}),
            }
        )
        span.end()
        self._tokens.record(input_tokens, {**attributes, "gen_ai.token.type": "input"})
        self._tokens.record(output_tokens, {**attributes, "gen_ai.token.type": "output"})
        self._duration.record(time.monotonic() - self._started, attributes)

    def failed(self, error: BaseException) -> None:
        """Close the call span as failed."""
        span, self._span = self._span, None
        if span is None:
            return
        from opentelemetry.trace import StatusCode

        kind = type(error).__name__
        span.set_attribute("error.type", kind)
        span.set_status(StatusCode.ERROR, kind)
        span.end()
        self._duration.record(time.monotonic() - self._started, {**self._base, "error.type": kind})
