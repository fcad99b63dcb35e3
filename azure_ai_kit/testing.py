"""Test your app against the emulator: a pytest plugin (loaded automatically once installed).

```python
def test_summary(azure_client, azure_emulator):
    result = azure_client.chat("Summarise: the cat sat on the mat.")
    assert result.text
    assert azure_emulator.requests[-1].deployment == "gpt-4o-mini"
```

Fixtures: `azure_emulator` (a fresh default `Emulator` per test), `azure_client` (an
`AzureAIClient` wired to it in-process, no sockets) and `async_azure_client` (the async twin).
Script faults with `azure_emulator.script("gpt-4o-mini", Fault.throttle(retry_after=6))`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from . import AsyncAzureAIClient, AzureAIClient
    from .emulator import Emulator

__all__ = ["async_azure_client", "azure_client", "azure_emulator"]


class _NoSleep:
    """Records sleeps instead of sleeping, so retry tests stay fast."""

    def __init__(self) -> None:
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.slept.append(seconds)


@pytest.fixture
def azure_emulator() -> Emulator:
    """A fresh in-process Azure OpenAI emulator with the default deployments."""
    from .emulator import Emulator

    return Emulator.default()


@pytest.fixture
def azure_client(azure_emulator: Emulator) -> Iterator[AzureAIClient]:
    """An `AzureAIClient` talking to `azure_emulator` in-process; retries never really sleep."""
    from . import AzureAIClient

    client = AzureAIClient.for_emulator(azure_emulator, sleep=_NoSleep())
    with client:
        yield client


@pytest.fixture
def async_azure_client(azure_emulator: Emulator) -> AsyncAzureAIClient:
    """An `AsyncAzureAIClient` talking to `azure_emulator` in-process."""
    from . import AsyncAzureAIClient

    return AsyncAzureAIClient.for_emulator(azure_emulator, sleep=_NoSleep().asleep)
