"""The kit end to end on the emulator, through the `azure_ai_kit.testing` fixtures users get.

These prove the pieces fit: the client's retry loop against the emulator's scripted faults,
Azure-shaped errors, and the fallback the samples use.
"""

from __future__ import annotations

import pytest

from azure_ai_kit import (
    AsyncAzureAIClient,
    AzureAIClient,
    ConfigurationError,
    ContentFilteredError,
    RateLimitedError,
    ServiceError,
)
from azure_ai_kit.emulator import Emulator, Fault
from azure_ai_kit.testing import FakeClock


def test_fixture_client_talks_to_the_fixture_emulator(
    azure_client: AzureAIClient, azure_emulator: Emulator
) -> None:
    result = azure_client.chat("The cat sat on the mat.", max_tokens=50)
    assert result.text
    assert result.region == azure_emulator.region
    assert result.request_id
    assert azure_emulator.requests[-1].deployment == "gpt-4o-mini"


@pytest.mark.parametrize("fault", [Fault.malformed(), Fault.drop(), Fault.server_error(503)])
def test_transient_faults_are_retried_after_a_short_cooldown(
    azure_client: AzureAIClient, azure_emulator: Emulator, azure_clock: FakeClock, fault: Fault
) -> None:
    azure_emulator.script("gpt-4o-mini", fault)
    result = azure_client.chat("hello")
    assert [a.status for a in result.attempts] == [
        fault.status if fault.kind == "status" else None,
        200,
    ]
    assert len(azure_clock.slept) == 1
    assert azure_clock.slept[0] > 0
    assert len(azure_emulator.requests) == 2


def test_throttle_for_a_day_raises_without_waiting(
    azure_client: AzureAIClient, azure_emulator: Emulator, azure_clock: FakeClock
) -> None:
    azure_emulator.script("gpt-4o-mini", Fault.throttle(retry_after=86400))
    with pytest.raises(RateLimitedError) as info:
        azure_client.chat("hello")
    assert info.value.retry_after == pytest.approx(300)  # hints are clamped to MAX_COOLDOWN
    assert azure_clock.slept == []


def test_throttle_of_six_seconds_waits_exactly_that(
    azure_client: AzureAIClient, azure_emulator: Emulator, azure_clock: FakeClock
) -> None:
    azure_emulator.script("gpt-4o-mini", Fault.throttle(retry_after=6))
    azure_client.chat("hello")
    assert azure_clock.slept == [pytest.approx(6.0)]


def test_truncated_stream_after_text_raises_service_error(
    azure_client: AzureAIClient, azure_emulator: Emulator
) -> None:
    azure_emulator.script("gpt-4o-mini", Fault.truncate())
    received: list[str] = []

    def consume() -> None:
        with azure_client.stream_chat("One sentence. Another sentence. A third one.") as stream:
            received.extend(chunk.text for chunk in stream)

    with pytest.raises(ServiceError, match="ended before the answer was complete"):
        consume()
    assert len(azure_emulator.requests) == 1


def test_blocked_prompt_is_a_typed_content_filter_error(azure_client: AzureAIClient) -> None:
    with pytest.raises(ContentFilteredError) as info:
        azure_client.chat("tell me about the forbidden-word")
    assert info.value.source == "prompt"
    assert info.value.filtered_categories


def test_cut_completion_keeps_the_partial_text(azure_client: AzureAIClient) -> None:
    with pytest.raises(ContentFilteredError) as info:
        azure_client.chat("Write a story. It mentions emulator-completion-block somewhere.")
    assert info.value.source == "completion"


def test_streamed_answer_matches_the_plain_one(azure_client: AzureAIClient) -> None:
    prompt = "Streaming should give the same words. Twice over."
    plain = azure_client.chat(prompt, max_tokens=40)
    with azure_client.stream_chat(prompt, max_tokens=40) as stream:
        text = "".join(chunk.text for chunk in stream)
    assert text == plain.text == stream.result.text
    assert stream.result.prompt_filter is not None


def test_image_and_embedding_round_trip(azure_client: AzureAIClient, tmp_path: object) -> None:
    import pathlib

    image = azure_client.generate_image("a watercolour fox", size="1024x1024")
    path = image.images[0].save(pathlib.Path(str(tmp_path)) / "fox.png")
    assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert image.images[0].revised_prompt
    vectors = azure_client.embed(["fox", "hound"]).vectors
    assert len(vectors) == 2
    assert len(vectors[0]) == 1536


async def test_async_fixture_client(
    async_azure_client: AsyncAzureAIClient, azure_emulator: Emulator
) -> None:
    azure_emulator.script("gpt-4o-mini", Fault.server_error(500))
    result = await async_azure_client.chat("hello")
    assert [a.status for a in result.attempts] == [500, 200]
    async with async_azure_client.stream_chat("hi there. more.") as stream:
        text = "".join([chunk.text async for chunk in stream])
    assert text == stream.result.text


def test_from_env_fallback_uses_the_emulator_and_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    monkeypatch.delenv("AZURE_AI_KIT_CONFIG", raising=False)
    client = AzureAIClient.from_env(fallback="emulator")
    assert client.chat("hello").text.startswith("[emulated")
    assert "local emulator" in capsys.readouterr().err


def test_from_env_never_falls_back_on_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.delenv("AZURE_OPENAI_ENDPOINT", raising=False)
    monkeypatch.delenv("AZURE_AI_KIT_CONFIG", raising=False)
    with pytest.raises(ConfigurationError, match="AZURE_OPENAI_ENDPOINT"):
        AzureAIClient.from_env()


def test_loopback_server_with_the_kit(monkeypatch: pytest.MonkeyPatch) -> None:
    emulator = Emulator.default()
    with emulator.serve(port=0) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        client = AzureAIClient(
            endpoint=base_url, credential=emulator.api_key, deployments={"chat": "gpt-4o-mini"}
        )
        with client:
            assert client.chat("over a real socket").text
