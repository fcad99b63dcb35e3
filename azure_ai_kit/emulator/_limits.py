"""Per-deployment TPM/RPM admission, modelled on Azure's rate limiter.

Tokens: a bucket holding ``tpm`` tokens that refills continuously at ``tpm / 60`` per second; a
request is charged its *estimate* at admission (never reconciled with actual usage, as on Azure).
Requests: sliding windows of 10 s (``rpm // 6``) and 1 s (``rpm // 60``), each at least 1.
Time comes only from the injected clock.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._wire import EmulatedDeployment

__all__ = ["SENTINEL_HEADERS", "Admission", "RateLimiter", "limit_headers"]

#: What Azure's Responses API has sent since late 2025 instead of counts (and no
#: ``retry-after``): https://github.com/openai/openai-dotnet/issues/838
SENTINEL_HEADERS = {
    "x-ratelimit-limit-tokens": "-1",
    "x-ratelimit-remaining-tokens": "-1",
    "x-ratelimit-reset-tokens": "0",
}

_WINDOWS = ((10.0, 6), (1.0, 60))  # (seconds, divisor of rpm)


@dataclass(frozen=True)
class Admission:
    """The outcome of one admission check."""

    allowed: bool
    retry_after: float = 0.0
    by_tokens: bool = False
    remaining_requests: int = 0
    remaining_tokens: int = 0


class RateLimiter:
    """Token bucket plus request windows for one deployment."""

    def __init__(self, tpm: int, rpm: int, clock: Callable[[], float]) -> None:
        self.tpm = tpm
        self.rpm = rpm
        self._clock = clock
        self._level = float(tpm)
        self._stamp: float | None = None
        self._times: deque[float] = deque()

    def _refill(self, now: float) -> None:
        if self._stamp is not None:
            self._level = min(float(self.tpm), self._level + (now - self._stamp) * self.tpm / 60)
        self._stamp = now

    def _prune(self, now: float) -> None:
        while self._times and now - self._times[0] >= 60.0:
            self._times.popleft()

    def _request_wait(self, now: float) -> float:
        wait = 0.0
        for seconds, divisor in _WINDOWS:
            allowed = max(1, self.rpm // divisor)
            recent = [t for t in self._times if now - t < seconds]
            if len(recent) >= allowed:
                # The window frees up when its oldest blocking request ages out.
                wait = max(wait, recent[-allowed] + seconds - now)
        return wait

    def admit(self, cost: int) -> Admission:
        """Charge *cost* tokens and one request, or refuse with the wait until it would fit."""
        now = self._clock()
        self._refill(now)
        self._prune(now)
        request_wait = self._request_wait(now)
        token_wait = 0.0
        # A hair of slack absorbs float drift from continuous refill.
        if cost > self._level + 1e-6:
            deficit = min(float(cost), float(self.tpm)) - self._level
            token_wait = max(0.0, deficit) * 60 / self.tpm if self.tpm else 60.0
            if cost > self.tpm:
                token_wait = max(token_wait, 60.0)
        if request_wait > 0 or token_wait > 0:
            return Admission(
                allowed=False,
                retry_after=max(request_wait, token_wait),
                by_tokens=token_wait >= request_wait,
                remaining_requests=self.remaining_requests(),
                remaining_tokens=self.remaining_tokens(),
            )
        self._level = max(0.0, self._level - cost)
        self._times.append(now)
        return Admission(
            allowed=True,
            remaining_requests=self.remaining_requests(),
            remaining_tokens=self.remaining_tokens(),
        )

    def peek(self) -> tuple[int, int]:
        """(remaining requests, remaining tokens) now, without charging anything."""
        now = self._clock()
        self._refill(now)
        self._prune(now)
        return self.remaining_requests(), self.remaining_tokens()

    def remaining_requests(self) -> int:
        """Requests left of ``rpm`` over the last 60 s (the scale Azure reports on)."""
        return max(0, self.rpm - len(self._times))

    def remaining_tokens(self) -> int:
        """Whole tokens currently in the bucket."""
        return max(0, math.floor(self._level))


def limit_headers(deployment: EmulatedDeployment, requests: int, tokens: int) -> dict[str, str]:
    """Azure's ``x-ratelimit-*`` headers for *deployment*."""
    return {
        "x-ratelimit-limit-requests": str(deployment.rpm),
        "x-ratelimit-limit-tokens": str(deployment.tpm),
        "x-ratelimit-remaining-requests": str(requests),
        "x-ratelimit-remaining-tokens": str(tokens),
    }
