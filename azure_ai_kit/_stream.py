# Generated from _async_stream.py by scripts/unasync.py: do not edit.
"""`ChatStream` and `ResponseStream`: streamed answers, read with `with` and
`for`. The I/O half of a stream lives here once (`Stream`); what differs between
chat and the Responses API is the folder (`_streams.ChatFolder`, `_responses.ResponseFolder`).

`_stream.py` (`ChatStream`, `ResponseStream`) is generated from this file by
`scripts/unasync.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from time import monotonic
from types import TracebackType
from typing import Any, TypeVar

from ._responses import ResponseChunk, ResponseFolder, ResponseResult
from ._results import ChatChunk, ChatResult
from ._streams import C, ChatFolder, Folder, R, StreamBase
from ._watchdog import Watch

__all__ = ["ChatStream", "ResponseStream", "Stream"]

S = TypeVar("S", bound="Stream[Any, Any]")
Opener = Callable[[], tuple[Any, Any, Any, Any, Any]]


class Stream(StreamBase[R, C]):
    """A streamed answer: iterate for chunks, read `.result` at the end.

    Use it with `with`, so the HTTP response is closed however the loop ends.
    """

    def __init__(self, open_stream: Opener, folder: Folder[R, C]) -> None:
        super().__init__(folder)
        self._open = open_stream

    def __enter__(self: S) -> S:
        self._ensure_open()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP response (safe to call twice)."""
        if self._watch is not None:
            self._watch.stop()
        if self._stream is not None:
            self._stream.close()

    def _ensure_open(self) -> None:
        if self._call is None:
            self._opened(self._open())

    def __iter__(self) -> Iterator[C]:
        self._ensure_open()
        add, watch = self._acc.add, self._watch
        try:
            # The events the attempt read first, then the rest from the same iterator.
            first, self._first = self._first, ()
            watch.progress()  # content arrived: from now on only the gaps between chunks count
            for event in first:
                yield add(event)
            for event in self._chunks:
                watch.seen = monotonic()  # alive; inline, as a call per chunk costs
                yield add(event)
        except (Exception, Watch.interrupt) as exc:
            stalled = watch.stalled()
            if stalled is None and not isinstance(exc, Exception):
                raise  # the caller's own cancellation
            raise self._broken(stalled or exc) from exc
        finally:
            self.close()
        self._finish()

    def text(self) -> str:
        """Read the stream to the end and return the whole text."""
        for _ in self:
            pass
        return str(getattr(self.result, "text", ""))


class ChatStream(Stream[ChatResult, ChatChunk]):
    """A streamed chat answer: iterate for `ChatChunk`s, read `.result` (a `ChatResult`) at
    the end. Use it with `with`, so the HTTP response is closed however the loop ends."""

    def __init__(
        self, open_stream: Opener, structured: Callable[[ChatResult], ChatResult] | None = None
    ) -> None:
        super().__init__(open_stream, ChatFolder(structured))


class ResponseStream(Stream[ResponseResult, ResponseChunk]):
    """A streamed response: iterate for `ResponseChunk`s, read `.result` (a `ResponseResult`)
    at the end. Use it with `with`, so the HTTP response is closed however the loop ends."""

    def __init__(
        self,
        open_stream: Opener,
        *,
        text_format: Any = None,
        remember: Callable[[ResponseResult], None] | None = None,
    ) -> None:
        super().__init__(open_stream, ResponseFolder(text_format, remember))
