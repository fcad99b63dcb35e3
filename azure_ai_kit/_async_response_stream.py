"""`AsyncResponseStream`: a streamed Responses API answer, read with `async with` / `async for`.

`_response_stream.py` (`ResponseStream`) is generated from this file by `scripts/unasync.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

from ._responses import ResponseChunk, ResponseResult, ResponseStreamBase

__all__ = ["AsyncResponseStream"]


class AsyncResponseStream(ResponseStreamBase):
    """A streamed response: iterate for `ResponseChunk`s, read `.result` at the end.

    Use it with `async with`, so the HTTP response is closed however the loop ends.
    """

    def __init__(
        self,
        open_stream: Callable[[], Awaitable[tuple[Any, Any, Any, Any]]],
        *,
        text_format: Any = None,
        remember: Callable[[ResponseResult], None] | None = None,
    ) -> None:
        super().__init__(text_format, remember)
        self._open = open_stream

    async def __aenter__(self) -> AsyncResponseStream:
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
        if self._call is None:
            self._opened(await self._open())

    async def __aiter__(self) -> AsyncIterator[ResponseChunk]:
        await self._ensure_open()
        add = self._acc.add
        try:
            # The events read inside the attempt first, then the rest from the same iterator.
            first, self._first = self._first or (), ()
            for event in first:
                yield add(event)
            async for event in self._chunks:
                yield add(event)
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
