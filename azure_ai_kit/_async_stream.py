"""`AsyncChatStream` and `AsyncResponseStream`: streamed answers, read with `async with` and
`async for`. The I/O half of a stream lives here once (`AsyncStream`); what differs between
chat and the Responses API is the folder (`_streams.ChatFolder`, `_responses.ResponseFolder`).

`_stream.py` (`ChatStream`, `ResponseStream`) is generated from this file by
`scripts/unasync.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from time import monotonic
from types import TracebackType
from typing import Any, TypeVar

from ._responses import ResponseChunk, ResponseFolder, ResponseResult
from ._results import ChatChunk, ChatResult
from ._streams import C, ChatFolder, Folder, R, StreamBase
from ._watchdog import AsyncWatch

__all__ = ["AsyncChatStream", "AsyncResponseStream", "AsyncStream"]

S = TypeVar("S", bound="AsyncStream[Any, Any]")
Opener = Callable[[], Awaitable[tuple[Any, Any, Any, Any, Any]]]


class AsyncStream(StreamBase[R, C]):
    """A streamed answer: iterate for chunks, read `.result` at the end.

    Use it with `async with`, so the HTTP response is closed however the loop ends.
    """

    def __init__(self, open_stream: Opener, folder: Folder[R, C]) -> None:
        super().__init__(folder)
        self._open = open_stream

    async def __aenter__(self: S) -> S:
        await self._ensure_open()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP response (safe to call twice)."""
        if self._watch is not None:
            self._watch.stop()
        if self._stream is not None:
            await self._stream.close()

    async def _ensure_open(self) -> None:
        if self._call is None:
            self._opened(await self._open())

    async def __aiter__(self) -> AsyncIterator[C]:
        await self._ensure_open()
        add, watch = self._acc.add, self._watch
        try:
            # The events the attempt read first, then the rest from the same iterator.
            first, self._first = self._first, ()
            watch.progress()  # content arrived: from now on only the gaps between chunks count
            for event in first:
                yield add(event)
            async for event in self._chunks:
                watch.seen = monotonic()  # alive; inline, as a call per chunk costs
                yield add(event)
        except (Exception, AsyncWatch.interrupt) as exc:
            stalled = watch.stalled()
            if stalled is None and not isinstance(exc, Exception):
                raise  # the caller's own cancellation
            raise self._broken(stalled or exc) from exc
        finally:
            await self.aclose()
        self._finish()

    async def text(self) -> str:
        """Read the stream to the end and return the whole text."""
        async for _ in self:
            pass
        return str(getattr(self.result, "text", ""))


class AsyncChatStream(AsyncStream[ChatResult, ChatChunk]):
    """A streamed chat answer: iterate for `ChatChunk`s, read `.result` (a `ChatResult`) at
    the end. Use it with `async with`, so the HTTP response is closed however the loop ends."""

    def __init__(
        self, open_stream: Opener, structured: Callable[[ChatResult], ChatResult] | None = None
    ) -> None:
        super().__init__(open_stream, ChatFolder(structured))


class AsyncResponseStream(AsyncStream[ResponseResult, ResponseChunk]):
    """A streamed response: iterate for `ResponseChunk`s, read `.result` (a `ResponseResult`)
    at the end. Use it with `async with`, so the HTTP response is closed however the loop ends."""

    def __init__(
        self,
        open_stream: Opener,
        *,
        text_format: Any = None,
        remember: Callable[[ResponseResult], None] | None = None,
    ) -> None:
        super().__init__(open_stream, ResponseFolder(text_format, remember))
