"""`parse_retry_after`: every form Azure uses (docs/wire.md, "Response headers"), precedence,
and robustness; and the `x-ratelimit-remaining-*` headers' "unknown" values."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from azure_ai_kit._retry import parse_retry_after

NOW = 1_700_000_000.0
FAST = settings(max_examples=200, deadline=None)


def clock() -> float:
    return NOW


def parse(headers: dict[str, str], message: str | None = None) -> float | None:
    return parse_retry_after(headers, message, now=clock)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "6"}, 6.0),
        ({"Retry-After": "2.5"}, 2.5),
        ({"retry-after": "0"}, 0.0),
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After-Ms": "0"}, 0.0),
        ({"x-ms-retry-after-ms": "250"}, 0.25),
        ({"x-ratelimit-reset-tokens": "55"}, 55.0),
        ({"x-ratelimit-reset-requests": "3"}, 3.0),
        ({"x-ratelimit-reset-tokens": "55", "x-ratelimit-reset-requests": "60"}, 60.0),
        ({"x-ratelimit-reset-tokens": "6m0s"}, 360.0),
        ({"x-ratelimit-reset-requests": "250ms"}, 0.25),
        ({"x-ratelimit-reset-tokens": "-1", "x-ratelimit-reset-requests": "4"}, 4.0),
        ({"x-ratelimit-reset-tokens": "0"}, None),
        ({"x-ratelimit-reset-tokens": "-1", "x-ratelimit-reset-requests": "-1"}, None),
        ({"retry-after": "86400"}, 86400.0),
        # The hyphenated spelling seen on some 429s, alone or next to the usual one.
        ({"x-rate-limit-reset-tokens": "55"}, 55.0),
        ({"X-Rate-Limit-Reset-Requests": "7"}, 7.0),
        ({"x-rate-limit-reset-tokens": "1m30s"}, 90.0),
        ({"x-ratelimit-reset-tokens": "5", "x-rate-limit-reset-requests": "9"}, 9.0),
        ({"x-rate-limit-reset-tokens": "0", "x-rate-limit-reset-requests": "-1"}, None),
        ({"x-rate-limit-reset-tokens": "-1", "x-ratelimit-reset-requests": "0"}, None),
        # What the Responses API sends: -1 / 0 everywhere, no retry-after.
        (
            {
                "x-ratelimit-limit-tokens": "-1",
                "x-ratelimit-remaining-tokens": "-1",
                "x-ratelimit-reset-tokens": "0",
            },
            None,
        ),
        ({"retry-after": "3", "x-rate-limit-reset-tokens": "55"}, 3.0),
        ({}, None),
    ],
)
def test_header_forms(headers: dict[str, str], expected: float | None) -> None:
    assert parse(headers) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version "
            "2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. "
            "Please retry after 6 seconds. Please go here: https://aka.ms/oai/quotaincrease",
            6.0,
        ),
        ("Rate limit is exceeded. Try again in 2 seconds.", 2.0),
        (
            "The system is currently experiencing high demand and cannot process your request. "
            "Please retry after 20 seconds.",
            20.0,
        ),
        ("Please retry after 1 second.", 1.0),
        ("try again in 1.5 SECONDS", 1.5),
        ("Try again in 500ms.", 0.5),
        ("Retry after 750 milliseconds", 0.75),
        ("Please retry after 0 seconds.", None),
        ("Please retry later.", None),
        ("retry after sometime, 5 seconds maybe", None),
        (None, None),
    ],
)
def test_message_forms(message: str | None, expected: float | None) -> None:
    assert parse({}, message) == expected


@pytest.mark.parametrize(
    "value", ["", "soon", "-1", "-5", "nan", "NaN", "inf", "1e3", "1_0", "٣", "5 s", "0x10"]
)
def test_garbage_falls_through_to_next_source(value: str) -> None:
    headers = {"retry-after-ms": value, "retry-after": value, "x-ratelimit-reset-tokens": "7"}
    assert parse(headers) == 7.0
    assert parse({"retry-after": value}, "Try again in 3 seconds.") == 3.0


def test_httpx_headers_are_case_insensitive() -> None:
    headers = httpx.Headers({"Retry-After-MS": "1200", "X-Request-Id": "abc"})
    assert parse_retry_after(headers) == 1.2


def test_http_date_counts_from_now_and_past_dates_give_zero() -> None:
    when = datetime.fromtimestamp(NOW, tz=timezone.utc) + timedelta(seconds=30)
    assert parse({"retry-after": format_datetime(when, usegmt=True)}) == pytest.approx(30.0)
    past = datetime.fromtimestamp(NOW - 3600, tz=timezone.utc)
    assert parse({"retry-after": format_datetime(past, usegmt=True)}) == 0.0
    assert parse({"retry-after": "Wed, 21 Oct 2015 07:28:00 -0000"}) == 0.0


def test_precedence_order() -> None:
    every = {
        "retry-after-ms": "1000",
        "x-ms-retry-after-ms": "2000",
        "retry-after": "3",
        "x-ratelimit-reset-tokens": "4",
        "x-ratelimit-reset-requests": "5",
    }
    message = "Please retry after 6 seconds."
    expected = [1.0, 2.0, 3.0, 5.0, 5.0, 6.0]
    names = list(every)
    for i, want in enumerate(expected):
        remaining = {k: every[k] for k in names[i:]}
        assert parse(remaining, message) == want


header_names = st.sampled_from(
    [
        "retry-after",
        "Retry-After",
        "retry-after-ms",
        "x-ms-retry-after-ms",
        "x-ratelimit-reset-tokens",
        "x-ratelimit-reset-requests",
        "x-request-id",
    ]
)
header_values = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"-?\d{1,400}(\.\d{0,5})?", fullmatch=True),
    st.sampled_from(["nan", "inf", "-1", "0", "Wed, 21 Oct 2015 07:28:00 GMT", "6m0s"]),
)


@FAST
@given(
    headers=st.dictionaries(st.one_of(header_names, st.text(max_size=20)), header_values),
    message=st.one_of(st.none(), st.text(max_size=200)),
    now=st.floats(allow_nan=True, allow_infinity=True),
)
def test_never_raises_and_is_none_or_finite_non_negative(
    headers: dict[str, str], message: str | None, now: float
) -> None:
    result = parse_retry_after(headers, message, now=lambda: now)
    assert result is None or (math.isfinite(result) and result >= 0)


@FAST
@given(ms=st.integers(min_value=0, max_value=10**12))
def test_milliseconds_and_seconds_agree(ms: int) -> None:
    from_ms = parse({"retry-after-ms": str(ms)})
    assert from_ms == pytest.approx(ms / 1000)
    assert parse({"x-ms-retry-after-ms": str(ms)}) == from_ms
    seconds = f"{ms / 1000:.3f}"
    assert parse({"retry-after": seconds}) == pytest.approx(from_ms)


@FAST
@given(offset=st.integers(min_value=-(10**8), max_value=10**8))
def test_http_date_round_trip(offset: int) -> None:
    when = datetime.fromtimestamp(NOW + offset, tz=timezone.utc)
    result = parse({"Retry-After": format_datetime(when, usegmt=True)})
    assert result == pytest.approx(max(0, offset))


@FAST
@given(
    ms=st.integers(min_value=0, max_value=10**6),
    seconds=st.integers(min_value=0, max_value=10**6),
    tokens=st.integers(min_value=1, max_value=10**6),
    requests=st.integers(min_value=1, max_value=10**6),
    said=st.integers(min_value=1, max_value=10**6),
    present=st.sets(st.sampled_from(["ms", "seconds", "resets"])),
)
def test_precedence_holds_for_any_values(
    ms: int, seconds: int, tokens: int, requests: int, said: int, present: set[str]
) -> None:
    headers: dict[str, str] = {}
    if "ms" in present:
        headers["retry-after-ms"] = str(ms)
    if "seconds" in present:
        headers["retry-after"] = str(seconds)
    if "resets" in present:
        headers["x-ratelimit-reset-tokens"] = str(tokens)
        headers["x-ratelimit-reset-requests"] = str(requests)
    result = parse(headers, f"Please retry after {said} seconds.")
    if "ms" in present:
        assert result == ms / 1000
    elif "seconds" in present:
        assert result == seconds
    elif "resets" in present:
        assert result == max(tokens, requests)
    else:
        assert result == said


def test_hyphenated_reset_falls_back_to_the_message() -> None:
    headers = {"x-rate-limit-reset-tokens": "-1"}
    assert parse(headers, "Rate limit is exceeded. Try again in 2 seconds.") == 2.0


@pytest.mark.parametrize("value", ["0", "-1", "", "lots"])
def test_remaining_quota_of_zero_or_minus_one_reads_as_unknown(make_client, value: str) -> None:
    """`x-ratelimit-remaining-*: 0` / `-1` come from endpoints that do not count (the
    Responses API); status() must not report an empty deployment for them."""
    from azure_wire import chat_completion, ok

    headers = {"x-ratelimit-remaining-tokens": value, "x-ratelimit-remaining-requests": value}
    client, _ = make_client(ok(chat_completion(), **headers))
    client.chat("hi")
    status = client.status()[0]
    assert (status.remaining_tokens, status.remaining_requests) == (None, None)


def test_remaining_quota_is_reported_when_azure_counts(make_client) -> None:
    from azure_wire import chat_completion, ok

    client, _ = make_client(ok(chat_completion()))  # 9000 tokens, 99 requests left
    client.chat("hi")
    status = client.status()[0]
    assert (status.remaining_tokens, status.remaining_requests) == (9000, 99)
