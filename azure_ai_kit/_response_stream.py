# Generated from _async_response_stream.py by scripts/unasync.py: do not edit.
"""`ResponseStream`: a streamed Responses API answer, read with `with` / `for`.

`_response_stream.py` (`ResponseStream`) is generated from this file by `scripts/unasync.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from ._responses import ResponseChunk, ResponseResult, ResponseStreamBase

__all__ = ["ResponseStream"]


class ResponseStream(ResponseStreamBase):
    """A streamed response: iterate for `ResponseChunk`s, read `.result` at the end.

    Use it with `with`, so the HTTP response is closed however the loop ends.
    """

    def __init__(
        self,
        open_stream: Callable[[], tuple[Any, Any, Any, Any]],
        *,
        text_format: Any = None,
        remember: Callable[[ResponseResult], None] | None = None,
    ) -> None:
        super().__init__(text_format, remember)
        self._open = open_stream

    def __enter__(self) -> ResponseStream:
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

    def __iter__(self) -> Iterator[ResponseChunk]:
        self._ensure_open()
        add = self._acc.add
        try:
            # The events read inside the attempt first, then the rest from the same iterator.
            first, self._first = self._first or (), ()
            for event in first:
                yield add(event)
            for event in self._chunks:
                yield add(event)
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
