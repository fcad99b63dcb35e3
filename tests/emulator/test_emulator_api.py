"""The public surface: names, cheap import, defaults."""

from __future__ import annotations

import subprocess
import sys
import types

import azure_ai_kit.emulator as emulator_pkg
from azure_ai_kit.emulator import EmulatedDeployment, Emulator, Fault


def test_all_is_sorted_and_complete() -> None:
    assert emulator_pkg.__all__ == sorted(emulator_pkg.__all__)
    public = {
        name
        for name, value in vars(emulator_pkg).items()
        if not name.startswith("_")
        and name != "annotations"
        and not isinstance(value, types.ModuleType)
    }
    assert public == set(emulator_pkg.__all__)


def test_import_is_cheap() -> None:
    code = (
        "import sys, azure_ai_kit.emulator; "
        "heavy = ('openai', 'uvicorn', 'azure_ai_kit.emulator._server'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_default_deployments() -> None:
    emu = Emulator.default()
    kinds = {name: (d.kind, d.model_name) for name, d in emu.deployments.items()}
    assert kinds == {
        "gpt-4o-mini": ("chat", "gpt-4o-mini"),
        "gpt-4.1": ("chat", "gpt-4.1"),
        "o4-mini": ("chat", "o4-mini"),
        "dall-e-3": ("image", "dall-e-3"),
        "gpt-image-1": ("image", "gpt-image-1"),
        "text-embedding-3-small": ("embedding", "text-embedding-3-small"),
    }
    assert emu.endpoint == "https://emulator.openai.azure.com"


def test_fault_constructors() -> None:
    assert Fault.throttle(retry_after=2.5).headers == {"retry-after": "3", "retry-after-ms": "2500"}
    assert Fault.server_error().status == 500
    assert Fault.drop().kind == "drop"
    assert Fault.truncate().kind == "truncate"
    assert Fault.malformed().kind == "malformed"
    assert Fault.slow(2).delay == 2


def test_deployment_defaults() -> None:
    d = EmulatedDeployment("x")
    assert (d.kind, d.model_name, d.context_window) == ("chat", "x", 128_000)
