"""Routing cost: the time one `Router.choose()` takes for a pool of N = 1, 10, 100, 1,000.

`python -m bench.routing` prints a markdown table. Each pool is one priority tier of N
deployments, chosen from through the same candidate list on every call (as the client does,
one list per alias). Four states of the pool:

- *healthy*: no quota seen yet, so members take turns;
- *quota known*: every member reported `x-ratelimit-remaining-tokens`, so the richest wins;
- *one free*: every member but one is cooling;
- *none free*: every member is cooling, so `choose()` returns the seconds to wait.

N = 2 shows where the cost steps: a lone candidate has a shortcut, and from two candidates
up the general path costs about the same. The clock is frozen, so cooldowns never end while
the calls are timed. Reported: the median over interleaved rounds of the time per call, and
its ratio to N = 1 in the same state (flat is the goal).
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable

from azure_ai_kit import Deployment
from azure_ai_kit._routing import Router

from ._stats import median

__all__ = ["SIZES", "STATES", "main", "measure"]

SIZES = (1, 2, 10, 100, 1000)
STATES = ("healthy", "quota known", "one free", "none free")


def _pool(n: int, state: str) -> tuple[Router, list[Deployment]]:
    deployments = [
        Deployment(f"d{i}", endpoint=f"https://res{i}.openai.azure.com") for i in range(n)
    ]
    router = Router(deployments, clock=lambda: 1_000.0)
    for i, d in enumerate(deployments):
        if state == "quota known":
            router.record_success(d, remaining_tokens=1_000 + i % 7)
        elif state == "none free" or (state == "one free" and i < n - 1):
            router.record_throttled(d, 60.0)
    return router, deployments


def measure(
    sizes: tuple[int, ...] = SIZES, *, calls: int = 2_000, rounds: int = 9
) -> dict[tuple[int, str], float]:
    """Median seconds per `choose()` call for each pool size and state.

    Rounds are interleaved (every pool once per round), so a burst of load on the machine
    lands on all of them alike rather than on one row.
    """
    pools = {(n, state): _pool(n, state) for n in sizes for state in STATES}
    per_call: dict[tuple[int, str], list[float]] = {key: [] for key in pools}
    for router, candidates in pools.values():
        router.choose(candidates)  # build whatever the router keeps per candidate list
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a collection landing in one round would say nothing about routing
    try:
        for _ in range(rounds):
            for key, (router, candidates) in pools.items():
                choose: Callable[[list[Deployment]], object] = router.choose
                # The old O(N) router needed ~1 ms a call at N = 1,000: fewer calls there.
                n = max(calls * 10 // key[0], 20)
                for _ in range(20):  # back into the CPU cache after the other pools' turns
                    choose(candidates)
                started = time.perf_counter()
                for _ in range(n):
                    choose(candidates)
                per_call[key].append((time.perf_counter() - started) / n)
    finally:
        if gc_was_enabled:
            gc.enable()
    return {key: median(times) for key, times in per_call.items()}


def table(results: dict[tuple[int, str], float]) -> str:
    """The markdown table: µs per call and the ratio to N = 1, per state."""
    head = "| N | " + " | ".join(f"{s} (µs) | ×N=1" for s in STATES) + " |"
    rule = "|---:|" + "---:|---:|" * len(STATES)
    lines = [head, rule]
    for n in SIZES:
        cells = []
        for state in STATES:
            seconds = results[n, state]
            cells.append(f"{seconds * 1e6:.2f} | {seconds / results[SIZES[0], state]:.2f}")
        lines.append(f"| {n:,} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Measure every size and state and print the table."""
    parser = argparse.ArgumentParser(prog="python -m bench.routing", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer calls, faster")
    args = parser.parse_args(argv)
    calls, rounds = (200, 3) if args.quick else (2_000, 9)
    print(table(measure(calls=calls, rounds=rounds)))
    print("\nN = 1 takes the router's single-candidate shortcut; N ≥ 2 the general path.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
