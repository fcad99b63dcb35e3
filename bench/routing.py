"""Routing cost: the time one `Router.choose()` takes for a pool of N = 1, 10, 100, 1,000.

`python -m bench.routing` prints a markdown table. Each pool is one priority tier of N
deployments, chosen from through the same candidate list on every call (as the client does,
one list per alias). Four states of the pool:

- *healthy*: no quota seen yet, so members take turns;
- *quota known*: every member reported `x-ratelimit-remaining-tokens`, so the richest wins;
- *one free*: every member but one is cooling;
- *none free*: every member is cooling, so `choose()` returns the seconds to wait.

The clock is frozen, so cooldowns never end while the calls are timed. Reported: the median
over rounds of the time per call, and its ratio to N = 1 in the same state (flat is the goal).
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

SIZES = (1, 10, 100, 1000)
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


def measure(n: int, state: str, *, calls: int = 2_000, rounds: int = 7) -> float:
    """Median seconds per `choose()` call for a pool of `n` in `state`."""
    router, candidates = _pool(n, state)
    choose: Callable[[list[Deployment]], object] = router.choose
    choose(candidates)  # build whatever the router caches per candidate list
    per_call: list[float] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()  # a collection landing in one round would say nothing about routing
    try:
        for _ in range(rounds):
            started = time.perf_counter()
            for _ in range(calls):
                choose(candidates)
            per_call.append((time.perf_counter() - started) / calls)
    finally:
        if gc_was_enabled:
            gc.enable()
    return median(per_call)


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
    calls, rounds = (200, 3) if args.quick else (2_000, 7)
    # At N = 1,000 the old O(N) router needed ~1 ms a call; keep its rounds short.
    results = {
        (n, state): measure(n, state, calls=max(calls * 10 // n, 20), rounds=rounds)
        for n in SIZES
        for state in STATES
    }
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
