"""Watches open streams so that a stalled one ends near its timeout, with a kit error.

httpx's read timeout is per read: a stream that sends SSE keep-alive comments (`: ping`)
never trips it, and openai's SSE reader skips comments, so the kit's loop never gets
control either. A watch closes such a stream from outside once no chunk has arrived for
`idle` seconds, or once the call's deadline passes while it waits for its first content.

- `Watch` (threads): one daemon thread per process serves every watch; on a stall it closes
  the HTTP response, which makes the blocked read fail at once.
- `AsyncWatch` (asyncio): one timer per watch on the running loop; on a stall it cancels the
  task reading the stream, which the stream turns into a kit error.

Times are real (`time.monotonic`), whatever clock the client was given: these bound real waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import threading
import time
from typing import Any

from ._errors_map import StreamFailed

__all__ = ["AsyncWatch", "Watch"]

_now = time.monotonic


class _Base:
    __slots__ = ("deadline", "fired", "idle", "seen")

    def __init__(self, idle: float, deadline: float) -> None:
        self.idle = idle
        self.deadline = deadline  # absolute, on _now(); only until the first content
        self.seen = _now()  # when the last chunk arrived
        self.fired: str | None = None  # why the watch closed the stream

    def due(self) -> float:
        return min(self.seen + self.idle, self.deadline)

    def progress(self) -> None:
        """A chunk arrived: the stream is alive; the call's deadline no longer applies."""
        self.seen = _now()
        self.deadline = float("inf")

    def expired(self, now: float) -> str | None:
        if now >= self.deadline:
            return "the call's deadline passed before the stream's first content"
        if now >= self.seen + self.idle:
            return f"no content for {self.idle:g}s (the client's timeout)"
        return None


class Watch(_Base):
    """Closes a synchronous `openai` stream that stalls; see the module docstring."""

    __slots__ = ("_stream",)

    #: What a read interrupted by the watch raises, besides ordinary errors: nothing else.
    interrupt: type[BaseException] = Exception

    def __init__(self, stream: Any, idle: float, deadline: float) -> None:
        super().__init__(idle, deadline)
        self._stream = stream

    @classmethod
    def start(cls, stream: Any, *, idle: float, remaining: float) -> Watch:
        """Watch `stream`, allowing `idle` seconds between chunks and `remaining` in all."""
        watch = cls(stream, idle, _now() + remaining)
        _THREAD.add(watch)
        return watch

    def stop(self) -> None:
        """The stream is done (or closed by its reader): stop watching it."""
        _THREAD.discard(self)
        self._stream = None  # its heap entry may outlive it: do not keep the response alive

    def fire(self, reason: str) -> None:
        stream = self._stream
        if stream is not None:
            self.fired = reason
            stream.response.close()  # the blocked read raises at once

    def stalled(self) -> StreamFailed | None:
        """The error to raise instead of the read's own, when the watch closed the stream."""
        return StreamFailed(self.fired) if self.fired is not None else None


class _WatchThread:
    """One daemon thread that wakes at the earliest due watch; started on first use."""

    def __init__(self) -> None:
        # Streams enter the plain lock (C-level `with`); only the thread waits on the condition.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._watches: set[Watch] = set()
        self._heap: list[tuple[float, int, Watch]] = []
        self._thread: threading.Thread | None = None

    def add(self, watch: Watch) -> None:
        with self._lock:
            self._watches.add(watch)
            heapq.heappush(self._heap, (watch.due(), id(watch), watch))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="azure-ai-kit-watchdog", daemon=True
                )
                self._thread.start()
            elif self._heap[0][2] is watch:
                self._cond.notify()

    def discard(self, watch: Watch) -> None:
        with self._lock:
            self._watches.discard(watch)  # its heap entry is dropped when it comes up, or:
            if len(self._heap) > 2 * len(self._watches) + 64:  # many short streams: compact
                self._heap = [entry for entry in self._heap if entry[2] in self._watches]
                heapq.heapify(self._heap)

    def _run(self) -> None:
        while True:
            fire: list[tuple[Watch, str]] = []
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                due, _, watch = self._heap[0]
                now = _now()
                if due > now:
                    self._cond.wait(due - now)
                    continue
                heapq.heappop(self._heap)
                if watch in self._watches:
                    reason = watch.expired(now)
                    if reason is None:  # it made progress meanwhile: look again later
                        heapq.heappush(self._heap, (watch.due(), id(watch), watch))
                    else:
                        self._watches.discard(watch)
                        fire.append((watch, reason))
            for watch, reason in fire:  # outside the lock: closing may take a moment
                with contextlib.suppress(Exception):  # a response that is already broken
                    watch.fire(reason)


_THREAD = _WatchThread()


class AsyncWatch(_Base):
    """Cancels the task reading an async `openai` stream that stalls; see the module docstring."""

    __slots__ = ("_handle", "_task")

    #: What a read interrupted by the watch raises: the task is cancelled.
    interrupt: type[BaseException] = asyncio.CancelledError

    def __init__(self, idle: float, deadline: float) -> None:
        super().__init__(idle, deadline)
        self._task = asyncio.current_task()
        self._handle: asyncio.TimerHandle | None = None

    @classmethod
    def start(cls, stream: Any, *, idle: float, remaining: float) -> AsyncWatch:
        """Watch the current task's reads of `stream`: `idle` between chunks, `remaining` in all."""
        watch = cls(idle, _now() + remaining)
        watch._arm()
        return watch

    def stop(self) -> None:
        """The stream is done: cancel the timer."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _arm(self) -> None:
        loop = asyncio.get_running_loop()
        # loop.time() is monotonic too, but may differ from _now(): convert via the delay.
        self._handle = loop.call_later(max(self.due() - _now(), 0.0), self._check)

    def _check(self) -> None:
        reason = self.expired(_now())
        if reason is None:
            self._arm()
        elif self._task is not None:
            self.fired = reason
            self._handle = None
            self._task.cancel()

    def stalled(self) -> StreamFailed | None:
        """The error to raise instead of the cancellation, when the watch cancelled the task
        (None: any cancellation is the caller's own)."""
        if self.fired is None:
            return None
        uncancel = getattr(self._task, "uncancel", None)  # Python 3.11+
        if uncancel is not None:
            uncancel()
        reason, self.fired = self.fired, None  # uncancel once
        return StreamFailed(reason)
