"""Why the timed per-call ratio is higher than the instruction ratio: cache misses, simulated.

The instruction counts (`bench/instructions.py`) put the kit at about 1.03× plain openai per
call, yet the timed ratios on the same machine read 1.06–1.09. The difference is memory:
between two calls, openai's own call walks through about a megabyte of code and objects,
so the kit's code and data, touched once per call, are gone from the core's caches each
time, and every line of them comes back from the shared L3 or from memory.

callgrind's cache simulator counts this repeatably. Each client runs under
`valgrind --tool=callgrind --cache-sim=yes` with this machine's first-level caches (32 KiB,
8-way, for instructions and data) and a 1 MiB, 16-way last level standing for the per-core
L2, on the same canned replies as the other rows; counting is switched on only around the
measured calls, as in `bench/instructions.py`. A miss in that last level costs tens of
nanoseconds where an instruction costs a fraction of one, which is why a few thousand
extra misses per call weigh more than the extra instructions.

    python -m bench.cachesim            # writes docs/benchmarks-cache.md (about a minute)

Needs `valgrind` (with `callgrind_control`) on PATH. The miss counts move with the memory
layout of the process, which the hash seed and any change to the code (the benchmark's own
included) decide: each client runs under three hash seeds and the page gives their mean,
and still the kit's extra L2 misses move by up to 15 % between code versions. Compare
versions by the instructions (`bench/instructions.py`); read this page for the kind and
size of the gap.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .instructions import CLIENTS, _build, _checkpoint, counted

__all__ = ["CACHES", "NULL", "ROWS", "main", "measure", "run_plan"]

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks-cache.md"
#: The simulated caches: L1 instructions, L1 data, and the last level (the per-core L2).
CACHES = ("--I1=32768,8,64", "--D1=32768,8,64", "--LL=1048576,16,64")
#: (label, kind, chunks, counted calls, warm-up calls)
ROWS = (("sync", "chat", 0, 20, 50), ("sync stream", "stream", 20, 10, 30))
NULL = "nothing"
SEEDS = (0, 1, 2)
#: What the report shows, from callgrind's event names.
COLUMNS = {
    "instructions": ("Ir",),
    "L1 misses": ("I1mr", "D1mr", "D1mw"),
    "L2 misses": ("ILmr", "DLmr", "DLmw"),
}


def run_plan(plan: list[tuple[str, Callable[[], Any], int, int]]) -> None:
    """In the measured process: per (label, call, counted calls, warm-up calls), the
    uncounted warm-up, then the counted calls between two checkpoints; then exit."""
    for label, call, calls, warm_up in [(NULL, lambda: None, 0, 0), *plan]:
        for _ in range(warm_up):
            call()
        gc.collect()
        gc.disable()
        _checkpoint(f"ready {os.getpid()} {label}")
        for _ in range(calls):
            call()
        _checkpoint("done")
        gc.enable()
    os._exit(0)  # interpreter teardown is not the calls' cost


def _workload(client: str) -> None:
    """The measured process: per row, uncounted warm-up, then counted calls."""
    run_plan(
        [
            (label, _build(client, "sync", kind, chunks), calls, warm_up)
            for label, kind, chunks, calls, warm_up in ROWS
        ]
    )


def _count(client: str, seed: int) -> dict[str, dict[str, int]]:
    """Events per row (not yet per call) in one simulated-cache run of `client`."""
    counts = counted(
        ["bench.cachesim", "--run", client], options=("--cache-sim=yes", *CACHES), seed=seed
    )
    if len(counts) != len(ROWS) + 1:
        raise RuntimeError(f"the simulated-cache run of {client} stopped early: {list(counts)}")
    return counts


def measure() -> tuple[dict[tuple[str, str], dict[str, float]], float]:
    """Per call, for each (row, client): instructions, L1 misses and L2 misses (the mean
    over `SEEDS`)."""
    started = time.perf_counter()
    jobs = [(client, seed) for client in CLIENTS for seed in SEEDS]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        counted = list(pool.map(lambda job: _count(*job), jobs))
    per_call: dict[tuple[str, str], dict[str, float]] = {}
    for (client, _), counts in zip(jobs, counted, strict=True):
        empty = counts[NULL]
        for label, _, _, calls, _ in ROWS:
            row = counts[label]
            sums = per_call.setdefault((label, client), dict.fromkeys(COLUMNS, 0.0))
            for column, names in COLUMNS.items():
                per_run = sum(row.get(e, 0) - empty.get(e, 0) for e in names) / calls
                sums[column] += per_run / len(SEEDS)
    return per_call, time.perf_counter() - started


def report(per_call: dict[tuple[str, str], dict[str, float]], seconds: float) -> str:
    """The markdown page."""
    import openai

    from azure_ai_kit import __version__

    base, kit = CLIENTS
    lines = [
        "# Benchmarks: cache misses per call",
        "",
        "Generated by `python -m bench.cachesim` — do not edit by hand. Counted with",
        "callgrind's cache simulator (first-level caches of 32 KiB, a 1 MiB last level for",
        "the per-core L2). Each number is the mean of"
        f" {len(SEEDS)} runs under different hash seeds;",
        "the miss counts still move by up to 15 % when any code changes the memory layout",
        "(see `bench/cachesim.py`).",
        "",
        f"- Python {platform.python_version()} on {platform.machine()}; azure-ai-kit "
        f"{__version__}, openai {openai.__version__}; took {seconds:.0f} s",
        "",
        "Why the timed ratios in [benchmarks.md](benchmarks.md) sit above the instruction",
        "ratios in [benchmarks-instructions.md](benchmarks-instructions.md): between two",
        "calls, openai's own work pushes the kit's code and objects out of the core's",
        "caches, so what the kit touches once per call is fetched from further away each",
        "time. An instruction costs a fraction of a nanosecond; an L2 miss tens of them.",
        "",
        f"| Row | {base} | {kit} | kit − openai | kit/openai |",
        "|---|---:|---:|---:|---:|",
    ]
    for label, *_ in ROWS:
        for column in COLUMNS:
            b, k = per_call[(label, base)][column], per_call[(label, kit)][column]
            lines.append(
                f"| {label}: {column} | {b:,.0f} | {k:,.0f} | {k - b:+,.0f} | {k / b:.3f} |"
            )
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure and write the page (or, with --run, be the workload of one run)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--run", metavar="CLIENT")
    parser.add_argument("--docs", type=Path, default=DOCS)
    args = parser.parse_args(argv)
    if args.run:
        _workload(args.run)
        return 0
    per_call, seconds = measure()
    page = report(per_call, seconds)
    args.docs.write_text(page, encoding="utf-8")
    print(page)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
