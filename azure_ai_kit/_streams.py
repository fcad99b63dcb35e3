"""`ChatStream` and `AsyncChatStream`: streamed chat that tolerates Azure's chunk quirks.

Azure's first chunk has `"choices": []` and only prompt annotations; content chunks carry
per-choice filter annotations; with `include_usage` the last chunk has `"choices": []` and
`usage` (WIRE.md, "Streaming"). The accumulator reads all of them and never indexes
`choices[0]` unchecked.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from types import TracebackType
from typing import Any

from ._call import Served
from ._errors_map import completion_filtered
from ._exceptions import AzureAIKitError, ServiceError
from ._results import (
    Attempt,
    ChatChunk,
    ChatResult,
    ContentFilterReport,
    Usage,
    prompt_filter_from,
)

__all__ = ["AsyncChatStream", "ChatStream"]


class _Accumulator:
    """Folds chunks into the final `ChatResult`."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.finish_reason: str | None = None
        self.usage = Usage()
        self.model: str | None = None
        self.prompt_filter: ContentFilterReport | None = None
        # Merged once, at the end: merging per chunk would parse every chunk's annotations.
        self.completion_reports: list[Mapping[str, Any]] = []

    def add(self, chunk: Any) -> ChatChunk:
        extra = chunk.model_extra or {}
        if "error" in extra:
            raise ServiceError(f"the stream reported an error: {extra['error']}")
        if self.prompt_filter is None:
            self.prompt_filter = prompt_filter_from(extra)
        if chunk.model:
            self.model = chunk.model
        if chunk.usage is not None:
            self.usage = Usage.from_openai(chunk.usage)
        if not chunk.choices:
            return ChatChunk(raw=chunk)
        choice = chunk.choices[0]
        extra_choice = choice.model_extra
        if extra_choice:
            raw = extra_choice.get("content_filter_results")
            if isinstance(raw, Mapping):
                self.completion_reports.append(raw)
        text = (choice.delta.content or "") if choice.delta else ""
        if text:
            self.parts.append(text)
        if choice.finish_reason:
            self.finish_reason = choice.finish_reason
        return ChatChunk(text=text, finish_reason=choice.finish_reason, raw=chunk)

    def result(self, served: Served, attempts: list[Attempt]) -> ChatResult:
        return ChatResult(
            **served.fields(attempts),
            text="".join(self.parts),
            finish_reason=self.finish_reason,
            usage=self.usage,
            model=self.model,
            prompt_filter=self.prompt_filter,
            completion_filter=ContentFilterReport.from_json(_merge(self.completion_reports))
            if self.completion_reports
            else None,
        )


_SEVERITY = {"safe": 0, "low": 1, "medium": 2, "high": 3}


def _rank(result: Any) -> tuple[bool, bool, int]:
    if not isinstance(result, Mapping):
        return False, False, -1
    severity = _SEVERITY.get(str(result.get("severity") or ""), -1)
    return bool(result.get("filtered")), bool(result.get("detected")), severity


def _merge(reports: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The worst annotation per category across chunks (filtered, detected, then severity).

    Works on Azure's raw JSON, so only the merged report is ever parsed.
    """
    merged: dict[str, Any] = {}
    for report in reports:
        for name, result in report.items():
            if name == "error":
                merged.setdefault("error", result)
            elif name not in merged or _rank(result) > _rank(merged[name]):
                merged[name] = result
    return merged


Opened = tuple[Any, Any, Served, Any]  # (openai stream, first chunk, served, CallState)


class _StreamBase:
    def __init__(self) -> None:
        self._acc = _Accumulator()
        self._served: Served | None = None
        self._call: Any = None
        self._attempts: list[Attempt] = []
        self._result: ChatResult | None = None

    @property
    def result(self) -> ChatResult:
        """The whole answer as a `ChatResult`, once the stream has been read to the end."""
        if self._result is None:
            raise RuntimeError("the stream has not finished; iterate it to the end first")
        return self._result

    def _finish(self) -> None:
        assert self._served is not None
        if self._acc.finish_reason is None:
            # Every complete Azure stream ends its last choice with a finish_reason.
            raise self._broken(
                ServiceError(
                    f"the stream from {self._served.deployment.id} ended before the answer was "
                    "complete (no finish_reason); streams are not retried once text has "
                    "reached you",
                    deployment=self._served.deployment.id,
                    attempts=self._attempts,
                )
            )
        self._result = self._acc.result(self._served, self._attempts)
        self._call.finish(self._result)
        if self._acc.finish_reason == "content_filter":
            raise completion_filtered(self._result)

    def _broken(self, exc: Exception) -> AzureAIKitError:
        name = self._served.deployment.id if self._served else "?"
        error = exc if isinstance(exc, AzureAIKitError) else ServiceError(
            f"the stream from {name} broke after it started ({type(exc).__name__}); "
            "streams are not retried once text has reached you",
            deployment=name,
            attempts=self._attempts,
        )  # fmt: skip
        if self._call is not None:
            self._call.abort(error)
        return error


class ChatStream(_StreamBase):
    """A streamed chat answer: iterate for `ChatChunk`s; `.result` when done. Use with `with`."""

    def __init__(self, open_stream: Callable[[], Opened]) -> None:
        super().__init__()
        self._open = open_stream
        self._stream: Any = None
        self._first: Any = None

    def __enter__(self) -> ChatStream:
        self._ensure_open()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP response (safe to call twice)."""
        if self._stream is not None:
            self._stream.close()

    def _ensure_open(self) -> None:
        if self._served is None:
            self._stream, self._first, self._served, self._call = self._open()
            self._attempts = self._call.attempts

    def __iter__(self) -> Iterator[ChatChunk]:
        self._ensure_open()
        try:
            if self._first is not None:
                first, self._first = self._first, None
                yield self._acc.add(first)
            for chunk in self._stream:
                yield self._acc.add(chunk)
        except Exception as exc:
            raise self._broken(exc) from exc
        finally:
            self.close()
        self._finish()

    def text(self) -> str:
        """Read the stream to the end and return the whole text."""
        for _ in self:
            pass
        return self.result.text


class AsyncChatStream(_StreamBase):
    """The async twin of `ChatStream`: `async with`, `async for`, `.result` when done."""

    def __init__(self, open_stream: Callable[[], Any]) -> None:
        super().__init__()
        self._open = open_stream
        self._stream: Any = None
        self._first: Any = None

    async def __aenter__(self) -> AsyncChatStream:
        await self._ensure_open()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP response (safe to call twice)."""
        if self._stream is not None:
            await self._stream.close()

    async def _ensure_open(self) -> None:
        if self._served is None:
            self._stream, self._first, self._served, self._call = await self._open()
            self._attempts = self._call.attempts

    def __aiter__(self) -> AsyncIterator[ChatChunk]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[ChatChunk]:
        await self._ensure_open()
        try:
            if self._first is not None:
                first, self._first = self._first, None
                yield self._acc.add(first)
            async for chunk in self._stream:
                yield self._acc.add(chunk)
        except Exception as exc:
            raise self._broken(exc) from exc
        finally:
            await self.aclose()
        self._finish()

    async def text(self) -> str:
        """Read the stream to the end and return the whole text."""
        async for _ in self:
            pass
        return self.result.text
