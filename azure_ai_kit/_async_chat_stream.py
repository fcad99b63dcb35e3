"""`AsyncChatStream`: a streamed chat answer, read with `async with` / `async for`.

`_chat_stream.py` (`ChatStream`) is generated from this file by `scripts/unasync.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from types import TracebackType
from typing import Any

from ._results import ChatChunk, ChatResult
from ._streams import StreamBase

__all__ = ["AsyncChatStream"]


class AsyncChatStream(StreamBase):
    """A streamed chat answer: iterate for `ChatChunk`s, read `.result` at the end.

    Use it with `async with`, so the HTTP response is closed however the loop ends.
    """

    def __init__(
        self,
        open_stream: Callable[[], Awaitable[tuple[Any, Any, Any, Any]]],
        structured: Callable[[ChatResult], ChatResult] | None = None,
    ) -> None:
        super().__init__()
        self._open = open_stream
        self._structured = structured

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
        if self._call is None:
            self._opened(await self._open())

    async def __aiter__(self) -> AsyncIterator[ChatChunk]:
        await self._ensure_open()
        add = self._acc.add
        try:
            if self._first is not None:
                first, self._first = self._first, None
                yield add(first)
            # The iterator that read the first chunk: a new one would re-enter openai's stream.
            async for chunk in self._chunks:
                yield add(chunk)
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
