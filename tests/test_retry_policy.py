"""`RetryPolicy`: validation, retryable statuses, backoff, and the private tenacity helpers."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azure_ai_kit._retry import RetryPolicy


def test_defaults() -> None:
    policy = RetryPolicy()
    assert policy.max_attempts == 6
    assert policy.deadline == 60.0
    assert policy.retry_statuses == frozenset({408, 409, 429, 500, 502, 503, 504})
    assert hash(policy) == hash(RetryPolicy())


def test_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        RetryPolicy().max_attempts = 2  # type: ignore[misc]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": True}, "max_attempts"),
        ({"max_attempts": 2.5}, "max_attempts"),
        ({"deadline": 0}, "deadline"),
        ({"deadline": -1}, "deadline"),
        ({"deadline": math.nan}, "deadline"),
        ({"jitter": 1.0}, "jitter"),
        ({"jitter": -0.1}, "jitter"),
        ({"backoff_base": 10.0, "backoff_cap": 1.0}, "backoff_base"),
        ({"backoff_base": -1.0}, "backoff_base"),
        ({"backoff_cap": math.inf}, "backoff_cap"),
    ],
)
def test_invalid_fields_raise_value_error(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RetryPolicy(**kwargs)


def test_retry_statuses_accepts_any_iterable() -> None:
    policy = RetryPolicy(retry_statuses={429})  # type: ignore[arg-type]
    assert policy.retry_statuses == frozenset({429})
    assert hash(policy)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        *[(s, True) for s in (408, 409, 429, 500, 501, 599)],
        *[(s, False) for s in (200, 400, 401, 403, 404, 600)],
    ],
)
def test_is_retryable_status(status: int, expected: bool) -> None:
    assert RetryPolicy().is_retryable_status(status) is expected


def test_any_5xx_is_retryable_even_when_not_listed() -> None:
    assert RetryPolicy(retry_statuses=frozenset({429})).is_retryable_status(507)


def test_backoff_grows_exponentially_then_caps_without_jitter() -> None:
    policy = RetryPolicy(backoff_base=0.5, backoff_cap=8.0, jitter=0.0)
    waits = [policy.backoff(n) for n in range(1, 8)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert policy.backoff(10**6) == 8.0


def test_backoff_jitter_bounds() -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_cap=8.0, jitter=0.2)
    assert policy.backoff(1, random=lambda: 0.0) == pytest.approx(0.8)
    assert policy.backoff(1, random=lambda: 0.5) == pytest.approx(1.0)
    assert policy.backoff(1, random=lambda: 0.999999) == pytest.approx(1.2, rel=1e-5)


def test_backoff_rejects_zero_failures() -> None:
    with pytest.raises(ValueError, match="failures"):
        RetryPolicy().backoff(0)


@settings(max_examples=200, deadline=None)
@given(
    failures=st.integers(min_value=1, max_value=10**4),
    base=st.floats(min_value=0, max_value=100),
    extra=st.floats(min_value=0, max_value=100),
    jitter=st.floats(min_value=0, max_value=0.99),
    draw=st.floats(min_value=0, max_value=1, exclude_max=True),
)
def test_backoff_stays_within_jittered_cap(
    failures: int, base: float, extra: float, jitter: float, draw: float
) -> None:
    policy = RetryPolicy(backoff_base=base, backoff_cap=base + extra, jitter=jitter)
    wait = policy.backoff(failures, random=lambda: draw)
    nominal = min(policy.backoff_cap, base * 2.0 ** min(failures - 1, 1000))
    assert math.isfinite(wait)
    assert nominal * (1 - jitter) - 1e-9 <= wait <= nominal * (1 + jitter) + 1e-9
