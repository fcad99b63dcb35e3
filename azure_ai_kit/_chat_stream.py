# Generated from _async_chat_stream.py by scripts/unasync.py: do not edit.
"""`ChatStream`: a streamed chat answer, read with `with` / `for`.

`_chat_stream.py` (`ChatStream`) is generated from this file by `scripts/unasync.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from ._results import ChatChunk, ChatResult
from ._streams import StreamBase

__all__ = ["ChatStream"]


class ChatStream(StreamBase):
    """A streamed chat answer: iterate for `ChatChunk`s, read `.result` at the end.

    Use it with `with`, so the HTTP response is closed however the loop ends.
    """

    def __init__(
        self,
        open_stream: Callable[[], tuple[Any, Any, Any, Any]],
        structured: Callable[[ChatResult], ChatResult] | None = None,
    ) -> None:
        super().__init__()
        self._open = open_stream
        self._structured = structured

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
        if self._call is None:
            self._opened(self._open())

    def __iter__(self) -> Iterator[ChatChunk]:
        self._ensure_open()
        add = self._acc.add
        try:
            if self._first is not None:
                first, self._first = self._first, None
                yield add(first)
            # The iterator that read the first chunk: a new one would re-enter openai's stream.
            for chunk in self._chunks:
                yield add(chunk)
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
