"""`docs/benchmarks-utilisation.png`: utilisation of the pool's token limit, per client.

Needs matplotlib (the `bench` extra); without it the chart is skipped and the report says so.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from .goodput import GoodputResult

__all__ = ["available", "draw"]


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def draw(results: list[GoodputResult], path: Path) -> None:
    importlib.import_module("matplotlib").use("Agg")  # files only, no display
    plt = importlib.import_module("matplotlib.pyplot")

    names = [r.client for r in results]
    values = [r.utilisation for r in results]
    colours = ["#2b6cb0" if n.startswith("azure-ai-kit") else "#a0aec0" for n in names]
    fig, ax = plt.subplots(figsize=(9.5, 0.55 * len(names) + 1.6), dpi=110)
    bars = ax.barh(names, values, color=colours)
    ax.invert_yaxis()
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.axvline(0.95, color="#c53030", linewidth=0.8, linestyle="--", label="target 0.95")
    for bar, result in zip(bars, results, strict=True):
        note = f"{result.utilisation:.2f}  ({result.completed} ok, {result.failed} failed)"
        ax.text(bar.get_width() + 0.01, bar.get_y() + bar.get_height() / 2, note, va="center")
    ax.set_xlim(0, 1.45)
    ax.set_xlabel("served tokens/s ÷ the pool's aggregate TPM limit per second")
    ax.set_title("Goodput under throttling (3 rate-limited deployments, 12 callers)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
