"""Test your app against the emulator: a pytest plugin (loaded automatically once installed).

```python
def test_summary(azure_client, azure_emulator):
    result = azure_client.chat("Summarise: the cat sat on the mat.")
    assert result.text
    assert azure_emulator.requests[-1].deployment == "gpt-4o-mini"
```

Fixtures: `azure_emulator` (a fresh default `Emulator` per test), `azure_client` (an
`AzureAIClient` wired to it in-process, no sockets), `async_azure_client` (the async twin) and
`azure_clock` (the `FakeClock` both clients use, so retry waits take no real time).
Script faults with `azure_emulator.script("gpt-4o-mini", Fault.throttle(retry_after=6))`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from . import AsyncAzureAIClient, AzureAIClient
    from .emulator import Emulator

__all__ = ["FakeClock", "async_azure_client", "azure_client", "azure_clock", "azure_emulator"]


class FakeClock:
    """A clock that moves only when the client sleeps: retries and cooldowns without waiting.

    Pass `clock=fake, sleep=fake.sleep` (async: `sleep=fake.asleep`) to a client; `slept`
    lists every wait the client asked for, and `advance()` moves time by hand.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward without recording a sleep."""
        with self._lock:
            self.now += seconds

    def sleep(self, seconds: float) -> None:
        """Record the wait and move time forward by it, at once."""
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds

    async def asleep(self, seconds: float) -> None:
        """The async form of `sleep`."""
        self.sleep(seconds)


@pytest.fixture
def azure_emulator() -> Emulator:
    """A fresh in-process Azure OpenAI emulator with the default deployments."""
    from .emulator import Emulator

    return Emulator.default()


@pytest.fixture
def azure_clock() -> FakeClock:
    """The fake clock the client fixtures use: `azure_clock.slept` shows every retry wait."""
    return FakeClock()


@pytest.fixture
def azure_client(azure_emulator: Emulator, azure_clock: FakeClock) -> Iterator[AzureAIClient]:
    """An `AzureAIClient` talking to `azure_emulator` in-process; retries never really sleep."""
    from . import AzureAIClient

    client = AzureAIClient.for_emulator(azure_emulator, clock=azure_clock, sleep=azure_clock.sleep)
    with client:
        yield client


@pytest.fixture
def async_azure_client(azure_emulator: Emulator, azure_clock: FakeClock) -> AsyncAzureAIClient:
    """An `AsyncAzureAIClient` talking to `azure_emulator` in-process."""
    from . import AsyncAzureAIClient

    return AsyncAzureAIClient.for_emulator(
        azure_emulator, clock=azure_clock, sleep=azure_clock.asleep
    )
