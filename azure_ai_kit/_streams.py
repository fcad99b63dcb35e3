"""What every stream shares and that does no I/O: `StreamBase` (state, how a stream ends or
breaks) and `ChatFolder`, which folds Azure's chat chunks into a `ChatResult`.

Azure's first chunk has `"choices": []` and only prompt annotations; content chunks carry
per-choice filter annotations; with `include_usage` the last chunk has `"choices": []` and
`usage`; with `n` > 1 the choices' chunks interleave (docs/wire.md, "Streaming"). The
accumulator reads all of them, never indexes `choices[0]` unchecked, and keeps only what
the result needs: each choice's text parts and one merged filter report per choice.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, Protocol, TypeVar

from ._errors_map import StreamFailed, completion_filtered
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

__all__ = ["ChatFolder", "Folder", "StreamBase"]

R = TypeVar("R")
C = TypeVar("C", covariant=True)


class Folder(Protocol[R, C]):
    """Folds a stream's events into its result: what differs between chat and responses."""

    def add(self, event: Any) -> C:
        """Take one event; return the chunk the caller sees (may raise `StreamFailed`)."""

    def partial_text(self) -> str:
        """The text so far, for the error of a stream that breaks."""

    def finish(self, served: Served) -> tuple[R, str | None]:
        """The result at the end, and why it is incomplete (None when it is not)."""

    def complete(self, result: R) -> R:
        """The result the caller gets (parsed, remembered), or raise a kit error."""


_NO_USAGE = Usage()  # until the usage chunk: shared, as it is immutable


class _Choice:
    __slots__ = ("finish_reason", "last_report", "parts", "refusal", "report")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.refusal: list[str] = []
        self.finish_reason: str | None = None
        self.report: dict[str, Any] | None = None  # worst annotation per category so far
        self.last_report: Any = None  # the previous chunk's, to skip repeats cheaply

    def annotate(self, raw: Any) -> None:
        if type(raw) is not dict and not isinstance(raw, Mapping):  # dict: no ABC check
            return
        self.last_report = raw
        if self.report is None:
            self.report = dict(raw)
        else:
            _merge_into(self.report, raw)


class ChatFolder:
    """Folds chat chunks into the final `ChatResult`, as they arrive.

    `structured` parses a structured reply (`response_format=` a pydantic model) at the end.
    """

    def __init__(self, structured: Callable[[ChatResult], ChatResult] | None = None) -> None:
        self.structured = structured
        self.choices: dict[int, _Choice] = {}
        self.usage = _NO_USAGE
        self.model: str | None = None
        self.prompt_filter: ContentFilterReport | None = None

    def add(self, chunk: Any) -> ChatChunk:
        # pydantic's `model_extra` is a property around this attribute: a call per chunk saved.
        extra = chunk.__pydantic_extra__
        if extra:
            if "error" in extra:
                raise ServiceError(f"the stream reported an error: {extra['error']}")
            if self.prompt_filter is None:
                self.prompt_filter = prompt_filter_from(extra)
        model = chunk.model
        if model:
            self.model = model
        usage = chunk.usage
        if usage is not None:
            self.usage = Usage.from_openai(usage)
        text, finish, index = "", None, 0
        for choice in chunk.choices:
            index = choice.index or 0
            state = self.choices.get(index)
            if state is None:
                state = self.choices[index] = _Choice()
            extra_choice = choice.__pydantic_extra__
            if extra_choice:
                raw = extra_choice.get("content_filter_results")
                # Azure repeats one report on most chunks: an equal one is skipped at once.
                if raw is not None and raw != state.last_report:
                    state.annotate(raw)
            delta = choice.delta
            text = ""
            if delta is not None:
                text = delta.content or ""
                if text:
                    state.parts.append(text)
                elif delta.refusal:
                    state.refusal.append(delta.refusal)
            finish = choice.finish_reason
            if finish:
                state.finish_reason = finish
        return ChatChunk(text, finish, chunk, index)

    def partial_text(self) -> str:
        """The first choice's text so far."""
        first = min(self.choices) if self.choices else None
        return "".join(self.choices[first].parts) if first is not None else ""

    def finish(self, served: Served) -> tuple[ChatResult, str | None]:
        """The result; incomplete unless every choice ended with a finish_reason, as every
        complete Azure stream does (proxies that drop it keep the text: `partial_text`)."""
        done = bool(self.choices) and all(c.finish_reason for c in self.choices.values())
        problem = None if done else "it ended before the answer was complete (no finish_reason)"
        return self._result(served), problem

    def complete(self, result: ChatResult) -> ChatResult:
        """Raise for a completion the filter cut; parse a structured reply."""
        if result.finish_reason == "content_filter":
            raise completion_filtered(result)
        return self.structured(result) if self.structured is not None else result

    def _result(self, served: Served) -> ChatResult:
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


class StreamBase(Generic[R, C]):
    """State and endings shared by every stream (chat, responses; sync and async)."""

    def __init__(self, folder: Folder[R, C]) -> None:
        self._acc = folder
        self._call: Any = None  # CallState, once the stream is open
        self._stream: Any = None  # openai's stream
        self._chunks: Any = None  # the iterator the attempt read the first events from
        self._first: Any = ()  # those events, not yet handed to the caller
        self._watch: Any = None  # the watchdog's handle (`_watchdog`)
        self._result: R | None = None

    @property
    def result(self) -> R:
        """The whole answer, once the stream has been read to the end.

        After a stream that broke, it holds what arrived (see `ServiceError.partial_text`).
        """
        if self._result is None:
            raise RuntimeError("the stream has not finished; iterate it to the end first")
        return self._result

    def _opened(self, opened: tuple[Any, Any, Any, Any, Any]) -> None:
        self._stream, self._chunks, self._first, self._watch, self._call = opened

    def _finish(self) -> None:
        result, problem = self._acc.finish(self._call.served)
        self._result = result
        if problem is not None:
            raise self._broken(StreamFailed(problem))
        self._call.finish(getattr(result, "usage", None), getattr(result, "model", None))
        self._result = self._acc.complete(result)

    def _broken(self, exc: BaseException) -> AzureAIKitError:
        """The kit error for a stream that broke after the caller saw it; the deployment's
        router learns of it as of any failed attempt."""
        call = self._call
        name = call.deployment.id if call is not None and call.deployment else "?"
        attempts = call.served.attempts if call is not None and call.served else ()
        if isinstance(exc, AzureAIKitError):
            error = exc
        else:
            what = str(exc) if isinstance(exc, StreamFailed) else f"({type(exc).__name__})"
            error = ServiceError(
                f"the stream from {name} broke after it started: {what}; streams are not "
                "retried once text has reached you (the text so far is on .partial_text)",
                deployment=name,
                attempts=attempts,
                partial_text=self._acc.partial_text(),
            )
        if call is not None:
            call.stream_failed(error)
        return error
