"""Scripting an emulator from tests: queued faults and queued replies, per deployment."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ._faults import Fault
from ._scripted import Answer, Reply
from ._wire import EmulatedDeployment

__all__ = ["Scripting"]


class Scripting:
    """The scripting half of :class:`Emulator` (its queues live on the emulator)."""

    deployments: dict[str, EmulatedDeployment]
    _lock: threading.RLock
    _faults: dict[str, deque[Fault]]
    _replies: dict[str, deque[Reply]]

    def script(self, deployment: str, fault: Fault, times: int = 1) -> None:
        """Queue *fault* for the next *times* requests to *deployment* (consumed in order)."""
        with self._lock:
            self._faults.setdefault(deployment, deque()).extend([fault] * times)

    def reply(
        self,
        deployment: str,
        answer: Answer | Callable[[dict[str, Any]], Answer],
        *,
        times: int | None = 1,
    ) -> Reply:
        """Answer the next *times* chat or Responses API requests to *deployment* (name or alias).

        *answer* is the reply text, a JSON object (sent as its JSON text), a :class:`ToolCall`,
        or a callable that takes the request body and returns one of those. ``times=None``
        keeps answering until :meth:`clear_replies` or :meth:`reset`. Streams stream the
        scripted text. Replies queue in order; scripted faults come first. Returns the queued
        :class:`Reply` (its ``used`` counts the requests it answered).
        """
        if times is not None and (isinstance(times, bool) or times < 1):
            raise ValueError(f"times must be a positive count or None (forever), not {times!r}")
        name = self._deployment_name(deployment)
        queued = Reply(answer, times)
        with self._lock:
            self._replies.setdefault(name, deque()).append(queued)
        return queued

    @contextmanager
    def replying(
        self,
        deployment: str,
        answer: Answer | Callable[[dict[str, Any]], Answer],
        *,
        times: int | None = None,
    ) -> Iterator[Reply]:
        """:meth:`reply` for the duration of a ``with`` block (by default to every request)."""
        queued = self.reply(deployment, answer, times=times)
        try:
            yield queued
        finally:
            with self._lock:
                queue = self._replies.get(self._deployment_name(deployment))
                if queue is not None and queued in queue:
                    queue.remove(queued)

    def clear_replies(self) -> None:
        """Drop every scripted reply (a fixture calls this between tests)."""
        with self._lock:
            self._replies.clear()

    def _deployment_name(self, deployment: str) -> str:
        if deployment in self.deployments:
            return deployment
        for d in self.deployments.values():
            if deployment in d.aliases:
                return d.name
        known = sorted(
            {*self.deployments, *(a for d in self.deployments.values() for a in d.aliases)}
        )
        raise ValueError(f"unknown deployment or alias {deployment!r}; known: {', '.join(known)}")
