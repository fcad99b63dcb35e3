"""Reading the emulator's TOML configuration file."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from ._wire import EmulatedDeployment

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 needs the tomli backport
    import tomli as tomllib

__all__ = ["load_toml"]

_TOP_KEYS = (
    "api_key",
    "tokens",
    "region",
    "blocked_words",
    "completion_blocked_words",
    "jailbreak_phrases",
    "log_size",
)


def load_toml(path: Path) -> dict[str, Any]:
    """Parse *path* into keyword arguments for ``Emulator(...)``."""
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    section = data.get("emulator", data)
    if not isinstance(section, dict):
        raise ValueError(f"{path}: [emulator] must be a table")
    unknown = sorted(set(section) - {*_TOP_KEYS, "deployments"})
    if unknown:
        raise ValueError(
            f"{path}: unknown keys {', '.join(unknown)}; "
            f"known: {', '.join((*_TOP_KEYS, 'deployments'))}"
        )
    raw = section.get("deployments", [])
    if not isinstance(raw, list) or not raw:
        raise ValueError(
            f"{path}: add at least one [[deployments]] table (name, kind, model, tpm, rpm)"
        )
    deployments = []
    for entry in raw:
        if not isinstance(entry, dict) or "name" not in entry:
            raise ValueError(f"{path}: every [[deployments]] table needs a name")
        if isinstance(entry.get("aliases"), list):
            entry = {**entry, "aliases": tuple(entry["aliases"])}
        deployments.append(EmulatedDeployment(**entry))
    out: dict[str, Any] = {k: section[k] for k in _TOP_KEYS if k in section}
    for key in ("tokens", "blocked_words", "completion_blocked_words", "jailbreak_phrases"):
        if key in out:
            out[key] = tuple(out[key])
    out["deployments"] = deployments
    return out
