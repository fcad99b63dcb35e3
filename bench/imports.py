"""Import time: `import openai` vs the kit, each in a fresh interpreter, median of several.

`import azure_ai_kit` is lazy (openai is imported on first use of a client), so the fair
comparison is `from azure_ai_kit import AzureAIClient`, which imports openai too. Both are
reported. The statements run interleaved (round-robin), so slow moments hit all of them.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

from ._stats import median

__all__ = ["STATEMENTS", "ImportRow", "run"]

STATEMENTS = (
    "import openai",
    "import azure_ai_kit",
    "from azure_ai_kit import AzureAIClient",
)

_PROBE = "import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"


@dataclass
class ImportRow:
    """Median milliseconds for one import statement, and its ratio to `import openai`."""

    statement: str
    ms: float
    ratio_to_openai: float
    samples: list[float]


def _once(statement: str) -> float:
    # -I: isolated (no user site, no PYTHON* variables), like a user's fresh interpreter.
    out = subprocess.run(
        [sys.executable, "-I", "-c", _PROBE.format(statement=statement)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip()) * 1000.0


def run(*, repetitions: int = 7) -> list[ImportRow]:
    """Time each statement `repetitions` times, interleaved; medians and paired ratios."""
    samples: dict[str, list[float]] = {s: [] for s in STATEMENTS}
    for _ in range(repetitions):
        for statement in STATEMENTS:
            samples[statement].append(_once(statement))
    base = samples["import openai"]
    return [
        ImportRow(
            statement,
            median(values),
            median([a / b for a, b in zip(values, base, strict=True)]),
            values,
        )
        for statement, values in samples.items()
    ]
