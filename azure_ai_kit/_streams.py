"""What both stream twins share: folding Azure's chunks into a `ChatResult` (no I/O).

Azure's first chunk has `"choices": []` and only prompt annotations; content chunks carry
per-choice filter annotations; with `include_usage` the last chunk has `"choices": []` and
`usage`; with `n` > 1 the choices' chunks interleave (docs/wire.md, "Streaming"). The
accumulator reads all of them, never indexes `choices[0]` unchecked, and keeps only what
the result needs: each choice's text parts and one merged filter report per choice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ._errors_map import completion_filtered
from ._exceptions import AzureAIKitError, ServiceError
from ._results import (
    ChatChunk,
    ChatResult,
    Choice,
    ContentFilterReport,
    Served,
    Usage,
    prompt_filter_from,
)

__all__ = ["StreamBase"]


class _Choice:
    __slots__ = ("finish_reason", "last_report", "parts", "refusal", "report")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.refusal: list[str] = []
        self.finish_reason: str | None = None
        self.report: dict[str, Any] | None = None  # worst annotation per category so far
        self.last_report: Any = None  # the previous chunk's, to skip repeats cheaply

    def annotate(self, raw: Mapping[str, Any]) -> None:
        if raw is self.last_report or raw == self.last_report:
            return
        self.last_report = raw
        if self.report is None:
            self.report = dict(raw)
        else:
            _merge_into(self.report, raw)


class _Accumulator:
    """Folds chunks into the final `ChatResult`, as they arrive."""

    def __init__(self) -> None:
        self.choices: dict[int, _Choice] = {}
        self.usage = Usage()
        self.model: str | None = None
        self.prompt_filter: ContentFilterReport | None = None

    def add(self, chunk: Any) -> ChatChunk:
        extra = chunk.model_extra
        if extra:
            if "error" in extra:
                raise ServiceError(f"the stream reported an error: {extra['error']}")
            if self.prompt_filter is None:
                self.prompt_filter = prompt_filter_from(extra)
        if chunk.model:
            self.model = chunk.model
        if chunk.usage is not None:
            self.usage = Usage.from_openai(chunk.usage)
        text, finish, index = "", None, 0
        for choice in chunk.choices:
            index = choice.index or 0
            state = self.choices.get(index)
            if state is None:
                state = self.choices[index] = _Choice()
            extra_choice = choice.model_extra
            if extra_choice:
                raw = extra_choice.get("content_filter_results")
                if isinstance(raw, Mapping):
                    state.annotate(raw)
            delta = choice.delta
            text = (delta.content or "") if delta is not None else ""
            if text:
                state.parts.append(text)
            elif delta is not None and delta.refusal:
                state.refusal.append(delta.refusal)
            finish = choice.finish_reason
            if finish:
                state.finish_reason = finish
        return ChatChunk(text, finish, chunk, index)

    @property
    def finished(self) -> bool:
        """Every choice seen ended with a finish_reason (a complete Azure stream does)."""
        return bool(self.choices) and all(c.finish_reason for c in self.choices.values())

    def result(self, served: Served) -> ChatResult:
        choices = [
            Choice(
                index,
                "".join(state.parts),
                state.finish_reason,
                ContentFilterReport.from_json(state.report) if state.report else None,
            )
            for index, state in sorted(self.choices.items())
        ]
        first = self.choices.get(choices[0].index) if choices else None
        return ChatResult.from_choices(
            served,
            choices,
            usage=self.usage,
            model=self.model,
            prompt_filter=self.prompt_filter,
            refusal="".join(first.refusal) or None if first is not None else None,
        )


_SEVERITY = {"safe": 0, "low": 1, "medium": 2, "high": 3}


def _rank(result: Any) -> tuple[bool, bool, int]:
    if not isinstance(result, Mapping):
        return False, False, -1
    severity = _SEVERITY.get(str(result.get("severity") or ""), -1)
    return bool(result.get("filtered")), bool(result.get("detected")), severity


def _merge_into(merged: dict[str, Any], report: Mapping[str, Any]) -> None:
    """Keep the worst annotation per category (filtered, detected, then severity).

    Works on Azure's raw JSON, so only the merged report is ever parsed.
    """
    for name, result in report.items():
        if name == "error":
            merged.setdefault("error", result)
        elif name not in merged or _rank(result) > _rank(merged[name]):
            merged[name] = result


class StreamBase:
    """State and endings shared by `ChatStream` and `AsyncChatStream`."""

    def __init__(self) -> None:
        self._acc = _Accumulator()
        self._call: Any = None  # CallState, once the stream is open
        self._stream: Any = None
        self._chunks: Any = None
        self._first: Any = None
        self._result: ChatResult | None = None
        #: Parses a structured reply (`response_format=` a pydantic model) at the end.
        self._structured: Callable[[ChatResult], ChatResult] | None = None

    @property
    def result(self) -> ChatResult:
        """The whole answer as a `ChatResult`, once the stream has been read to the end."""
        if self._result is None:
            raise RuntimeError("the stream has not finished; iterate it to the end first")
        return self._result

    def _opened(self, opened: tuple[Any, Any, Any, Any]) -> None:
        self._stream, self._chunks, self._first, self._call = opened

    def _finish(self) -> None:
        call = self._call
        served = call.served
        if not self._acc.finished:
            # Every complete Azure stream ends each choice with a finish_reason.
            raise self._broken(
                ServiceError(
                    f"the stream from {call.deployment.id} ended before the answer was "
                    "complete (no finish_reason); streams are not retried once text has "
                    "reached you",
                    deployment=call.deployment.id,
                    attempts=served.attempts,
                )
            )
        self._result = result = self._acc.result(served)
        call.finish(result.usage, result.model)
        if result.finish_reason == "content_filter":
            raise completion_filtered(result)
        if self._structured is not None:
            self._result = self._structured(result)

    def _broken(self, exc: Exception) -> AzureAIKitError:
        call = self._call
        name = call.deployment.id if call is not None and call.deployment else "?"
        attempts = call.served.attempts if call is not None and call.served else ()
        error = exc if isinstance(exc, AzureAIKitError) else ServiceError(
            f"the stream from {name} broke after it started ({type(exc).__name__}); "
            "streams are not retried once text has reached you",
            deployment=name,
            attempts=attempts,
        )  # fmt: skip
        if call is not None:
            call.abort(error)
        return error
