"""Shared by the samples' tests: the one loader of samples/*.py and a clean environment."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def load_sample(name: str) -> ModuleType:
    """Import samples/<name>.py once, as module `<name>` (dataclasses look their module up)."""
    if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(
        SAMPLES / f"{name}.py"
    ):
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, SAMPLES / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def summariser() -> ModuleType:
    return load_sample("summariser")


@pytest.fixture(scope="session")
def image_prompt() -> ModuleType:
    return load_sample("image_prompt")


@pytest.fixture(scope="session")
def code_helper() -> ModuleType:
    return load_sample("code_helper")
