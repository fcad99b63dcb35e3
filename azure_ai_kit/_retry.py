"""Retry timing: how long Azure asked us to wait, and how one call backs off (`RetryPolicy`).

Everything here is pure: no I/O, no sleeping. The client's retry loop asks `parse_retry_after`
what Azure said and falls back to `RetryPolicy.backoff` when Azure said nothing. A tenacity wait
strategy (`wait=tenacity.wait_random_exponential(...)`) may replace the built-in backoff;
tenacity is imported only by the user who passes one.
"""

from __future__ import annotations

import email.utils
import math
import random as _random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timezone
from typing import Any, cast

__all__ = ["RetryPolicy", "parse_retry_after"]

# Strict on purpose: float() would also accept "nan", "inf", "1e3", "1_0" and non-ASCII digits.
_NUMBER = re.compile(r"\s*\+?(\d+(?:\.\d*)?|\.\d+)\s*", re.ASCII)
# OpenAI-style durations ("6m0s", "250ms", "1h2m3.5s") as well as Azure's plain seconds.
_DURATION = re.compile(
    r"\s*(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?"
    r"(?:(\d+(?:\.\d+)?)ms)?\s*",
    re.ASCII,
)
_MESSAGE = re.compile(
    r"(?:retry\s+after|try\s+again\s+in)\s+(\d+(?:\.\d+)?)\s*"
    r"(milliseconds?|msecs?|ms|seconds?|secs?|s)\b",
    re.IGNORECASE | re.ASCII,
)
_MS_HEADERS = ("retry-after-ms", "x-ms-retry-after-ms")
# Both spellings occur on Azure's 429s (docs/wire.md, "Response headers").
_RESET_HEADERS = (
    "x-ratelimit-reset-tokens",
    "x-ratelimit-reset-requests",
    "x-rate-limit-reset-tokens",
    "x-rate-limit-reset-requests",
)


def parse_retry_after(
    headers: Mapping[str, str],
    message: str | None = None,
    *,
    now: Callable[[], float] = time.time,
) -> float | None:
    """Seconds Azure asked us to wait, or None when it did not say.

    Sources, first usable one wins: `retry-after-ms`, `x-ms-retry-after-ms` (milliseconds);
    `retry-after` (seconds, or an HTTP date measured against `now()`; a past date gives 0);
    `x-ratelimit-reset-tokens` / `-requests`, also spelled `x-rate-limit-reset-…` (seconds
    or durations, the largest given; `0` and `-1` mean "not said" there); then
    "retry after N seconds" / "try again in N seconds" in `message`. Header names are
    case-insensitive; garbage, negative and non-finite values are skipped. Never raises;
    the result is None or a finite number ≥ 0.
    """
    lowered = _lowercase(headers)
    for name in _MS_HEADERS:
        ms = _number(lowered.get(name))
        if ms is not None:
            return ms / 1000.0
    raw = lowered.get("retry-after")
    if raw is not None:
        seconds = _number(raw)
        if seconds is None:
            seconds = _http_date(raw, now)
        if seconds is not None:
            return seconds
    resets = [_duration(lowered.get(name)) for name in _RESET_HEADERS]
    known = [r for r in resets if r is not None and r > 0]
    if known:
        return max(known)
    return _from_message(message)


def _lowercase(headers: Mapping[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in headers.items():
        # Typed as str, but headers come from the wire and from users; skip what is not text.
        if isinstance(key, str) and isinstance(value, str):
            out.setdefault(key.strip().lower(), value)
    return out


def _number(text: str | None) -> float | None:
    match = _NUMBER.fullmatch(text) if text is not None else None
    if match is None:
        return None
    value = float(match.group(1))
    return value if math.isfinite(value) else None


def _duration(text: str | None) -> float | None:
    plain = _number(text)
    if plain is not None or text is None:
        return plain
    match = _DURATION.fullmatch(text)
    if match is None or not any(match.groups()):
        return None
    h, m, s, ms = (float(g) if g else 0.0 for g in match.groups())
    total = h * 3600.0 + m * 60.0 + s + ms / 1000.0
    return total if math.isfinite(total) else None


def _http_date(text: str, now: Callable[[], float]) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
        if when.tzinfo is None:  # "-0000" parses naive; RFC 9110 dates are GMT anyway
            when = when.replace(tzinfo=timezone.utc)
        seconds = when.timestamp() - now()
    except (TypeError, ValueError, IndexError, OverflowError, OSError):
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _from_message(message: str | None) -> float | None:
    if not isinstance(message, str):
        return None
    for match in _MESSAGE.finditer(message):
        value = float(match.group(1))
        if match.group(2).lower().startswith("m"):
            value /= 1000.0
        # Only the retry-after headers may say "retry now"; a 0 in prose is not a real answer.
        if math.isfinite(value) and value > 0:
            return value
    return None


_DEFAULT_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How one call retries: attempt cap, deadline, backoff with jitter, retryable statuses.

    - `max_attempts`: attempts per call across all deployments, first one included (≥ 1),
      not counting throttled ones (429).
    - `max_throttled_attempts`: how many 429s a call may meet on top of that before it raises
      `RateLimitedError`; the deadline bounds them too.
    - `deadline`: seconds per call, waits included (> 0; `math.inf` for none). A wait that
      would end after the deadline is not taken: the call raises at once instead.
    - `backoff_base`, `backoff_cap`: the n-th consecutive failure waits
      `min(cap, base * 2**(n-1))` seconds when Azure gave no Retry-After.
    - `jitter`: each backoff is scaled by a random factor in `[1 - jitter, 1 + jitter)`.
    - `retry_statuses`: HTTP statuses worth another attempt; any 5xx is always retryable.
    - `broken_for`: seconds a deployment that answered 404 DeploymentNotFound, 401 or 403 is
      left out of routing (then one probe request tests it again).
    - `wait`: a tenacity wait strategy to use instead of the built-in backoff (then
      `backoff_base`, `backoff_cap` and `jitter` are not used); it is asked with
      `attempt_number` = the count of consecutive failures.

    ```python
    client = AzureAIClient.from_env(retry=RetryPolicy(max_attempts=3, deadline=20))
    policy = RetryPolicy(wait=tenacity.wait_random_exponential(multiplier=0.5, max=10))
    ```
    """

    max_attempts: int = 6
    max_throttled_attempts: int = 50
    deadline: float = 60.0
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    jitter: float = 0.2
    retry_statuses: frozenset[int] = _DEFAULT_STATUSES
    broken_for: float = 300.0
    wait: Callable[[Any], float] | None = None

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or not isinstance(self.max_attempts, int):
            raise ValueError(f"max_attempts must be an int, got {self.max_attempts!r}")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if (
            isinstance(self.max_throttled_attempts, bool)
            or not isinstance(self.max_throttled_attempts, int)
            or self.max_throttled_attempts < 0
        ):
            raise ValueError(
                f"max_throttled_attempts must be an int >= 0, got {self.max_throttled_attempts!r}"
            )
        if not self.deadline > 0:
            raise ValueError(f"deadline must be > 0 seconds, got {self.deadline}")
        if not 0 <= self.backoff_base <= self.backoff_cap < math.inf:
            raise ValueError(
                "backoff needs 0 <= backoff_base <= backoff_cap < inf, got "
                f"backoff_base={self.backoff_base}, backoff_cap={self.backoff_cap}"
            )
        if not 0 < self.broken_for < math.inf:
            raise ValueError(f"broken_for must be > 0 seconds and finite, got {self.broken_for}")
        if not 0 <= self.jitter < 1:
            raise ValueError(f"jitter must be in [0, 1), got {self.jitter}")
        # Accept any iterable of ints (a set, a list) but keep the policy hashable.
        object.__setattr__(self, "retry_statuses", frozenset(self.retry_statuses))

    def is_retryable_status(self, status: int) -> bool:
        """True when an HTTP `status` deserves another attempt: listed, or any 5xx."""
        return status in self.retry_statuses or 500 <= status <= 599

    def backoff(self, failures: int, *, random: Callable[[], float] = _random.random) -> float:
        """Seconds to wait after `failures` consecutive failures (≥ 1), jittered.

        Exponential from `backoff_base`, capped at `backoff_cap`, then scaled by a factor in
        `[1 - jitter, 1 + jitter)` drawn from `random()` (a value in `[0, 1)`).
        """
        if failures < 1:
            raise ValueError(f"failures must be at least 1, got {failures}")
        if self.wait is not None:
            return _tenacity_wait(self.wait, failures)
        # Past ~1000 doublings the cap has long won; bounding the exponent avoids OverflowError.
        delay = min(self.backoff_cap, self.backoff_base * 2.0 ** min(failures - 1, 1000))
        draw = min(max(random(), 0.0), 1.0)
        return delay * (1.0 + self.jitter * (2.0 * draw - 1.0))


def _tenacity_wait(strategy: Callable[[Any], float], failures: int) -> float:
    """Ask a tenacity wait strategy for the wait after `failures` consecutive failures."""
    import tenacity  # the user who passed a strategy has it loaded already

    state = tenacity.RetryCallState(cast(Any, None), None, (), {})
    state.attempt_number = failures
    seconds = float(strategy(state))
    if not 0 <= seconds < math.inf:
        raise ValueError(f"the wait strategy returned {seconds!r}; it must be a finite number >= 0")
    return seconds
