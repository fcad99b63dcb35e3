"""Reliability regressions: each test names the behaviour a user relies on."""

from __future__ import annotations

from typing import Any

import pytest
from azure_wire import chat_completion, error, ok

from azure_ai_kit import RetryPolicy, ServiceError
from azure_ai_kit.testing import FakeClock

SERVER_ERROR = {"error": {"message": "The server had an error.", "type": "server_error"}}


def test_backoff_settings_are_what_a_failing_deployment_costs(
    make_client: Any, clock: FakeClock
) -> None:
    policy = RetryPolicy(max_attempts=4, backoff_base=0.1, backoff_cap=0.2, jitter=0)
    client, recorder = make_client(error(500, SERVER_ERROR), retry=policy)
    with pytest.raises(ServiceError):
        client.chat("hi")
    assert len(recorder.requests) == 4
    assert clock.slept == [pytest.approx(0.1), pytest.approx(0.2), pytest.approx(0.2)]


def test_default_policy_bounds_an_always_failing_deployment(
    make_client: Any, clock: FakeClock
) -> None:
    client, _ = make_client(error(500, SERVER_ERROR))  # RetryPolicy(jitter=0) otherwise default
    with pytest.raises(ServiceError):
        client.chat("hi")
    assert sum(clock.slept) == pytest.approx(0.5 + 1 + 2 + 4 + 8)


def test_recovered_deployment_serves_after_the_policy_backoff(
    make_client: Any, clock: FakeClock
) -> None:
    client, _ = make_client([error(500, SERVER_ERROR), ok(chat_completion("back"))])
    assert client.chat("hi").text == "back"
    assert clock.slept == [pytest.approx(0.5)]
