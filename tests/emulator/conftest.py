"""Shared fixtures: an emulator on the kit's FakeClock, so waits are recorded, never slept."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import openai
import pytest

from azure_ai_kit.emulator import EmulatedDeployment, Emulator
from azure_ai_kit.testing import FakeClock

API_VERSION = "2024-10-21"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def emu(clock: FakeClock) -> Emulator:
    return Emulator.default(clock=clock, sleep=clock.sleep, async_sleep=clock.asleep)


@pytest.fixture
def limited(clock: FakeClock) -> Emulator:
    """One small chat deployment: 180 RPM (3 per second, 30 per 10 s) and 30,000 TPM."""
    deployment = EmulatedDeployment(
        "gpt-4o-mini", kind="chat", model="gpt-4o-mini", tpm=30_000, rpm=180
    )
    return Emulator([deployment], clock=clock, sleep=clock.sleep, async_sleep=clock.asleep)


@pytest.fixture
def http(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(transport=emu.transport(), base_url=emu.endpoint) as client:
        yield client


@contextmanager
def classic(emu: Emulator, api_version: str) -> Iterator[openai.AzureOpenAI]:
    """Plain openai on the classic route at `api_version`, over the in-process transport."""
    with httpx.Client(transport=emu.transport()) as http_client:
        yield openai.AzureOpenAI(
            azure_endpoint=emu.endpoint,
            api_key="emulator-key",
            api_version=api_version,
            http_client=http_client,
            max_retries=0,
        )


@pytest.fixture
def client(emu: Emulator) -> Iterator[openai.AzureOpenAI]:
    with classic(emu, API_VERSION) as c:
        yield c


@pytest.fixture
def preview(emu: Emulator) -> Iterator[openai.AzureOpenAI]:
    """Plain openai on the classic route with the newest dated preview (gpt-image-1 needs it)."""
    with classic(emu, "2025-04-01-preview") as c:
        yield c


@pytest.fixture
def v1(emu: Emulator) -> Iterator[openai.OpenAI]:
    with httpx.Client(transport=emu.transport()) as http_client:
        yield openai.OpenAI(
            base_url=emu.endpoint + "/openai/v1/",
            api_key="emulator-key",
            http_client=http_client,
            max_retries=0,
        )


def chat_path(deployment: str = "gpt-4o-mini", version: str | None = API_VERSION) -> str:
    """The classic chat completions path (with ``api-version`` unless None)."""
    path = f"/openai/deployments/{deployment}/chat/completions"
    return path if version is None else f"{path}?api-version={version}"


KEY = {"api-key": "emulator-key"}
USER = [{"role": "user", "content": "Hello emulator. Tell me about foxes."}]
