"""`accept_any_credential=True`: any non-empty key or bearer token is let in (docs, demos)."""

from __future__ import annotations

import httpx
import pytest

from azure_ai_kit.emulator import Emulator

BODY = {"messages": [{"role": "user", "content": "Hi"}]}
URL = "https://emulator.openai.azure.com/openai/deployments/gpt-4o-mini/chat/completions"


def post(emu: Emulator, headers: dict[str, str]) -> httpx.Response:
    with httpx.Client(transport=emu.transport()) as http:
        return http.post(URL, params={"api-version": "2024-10-21"}, json=BODY, headers=headers)


@pytest.mark.parametrize(
    ("headers", "kind"),
    [({"api-key": "my-key"}, "key"), ({"Authorization": "Bearer eyJ.some.token"}, "bearer")],
)
def test_any_credential_is_accepted_when_asked(headers: dict[str, str], kind: str) -> None:
    emu = Emulator.default(accept_any_credential=True)
    assert post(emu, headers).status_code == 200
    assert emu.requests[-1].auth == kind


@pytest.mark.parametrize(
    "headers", [{}, {"api-key": " "}, {"Authorization": "Bearer "}, {"Authorization": "Basic x"}]
)
def test_missing_credential_is_still_refused(headers: dict[str, str]) -> None:
    emu = Emulator.default(accept_any_credential=True)
    assert post(emu, headers).status_code == 401


def test_off_by_default() -> None:
    emu = Emulator.default()
    assert post(emu, {"api-key": "my-key"}).status_code == 401
    assert post(emu, {"api-key": "emulator-key"}).status_code == 200
