"""Per-call overhead: the same canned Azure response through an in-process MockTransport.

For each mode (sync/async × plain/streamed) every available client is built once over its own
`httpx.MockTransport`, warmed up, then timed in interleaved batches: each repetition times one
batch per client, rotating the order, so drift on a busy machine hits all of them alike.

The clock is the thread's CPU time (`time.thread_time`): everything here runs on one thread
and never waits, so CPU time is the call's cost, minus the time other processes on a shared
machine steal from us. Wall-clock µs/call is recorded too. We report the median µs/call over
repetitions and, as the ratio client/openai, the ratio of each one's fastest batch:
interference only ever adds time, so the minimum is the stable estimate of a call's cost.

Memory (plain modes): `tracemalloc` peak above the starting level while making 1,000 calls
(a slow client makes fewer, capped at a few seconds, and the count is reported), and what is
still allocated after a full garbage collection, scaled to 1,000 calls.
"""

from __future__ import annotations

import asyncio
import gc
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from ._canned import record
from ._stats import median
from .contenders import ASYNC_BUILDERS, SYNC_BUILDERS, AsyncCall, SyncCall

__all__ = ["MODES", "ModeResult", "Row", "run"]

MODES = (("sync", False), ("sync", True), ("async", False), ("async", True))


@dataclass
class Row:
    """One client in one mode."""

    client: str
    us_per_call: float
    ratio_to_openai: float
    wall_us_per_call: float
    peak_kib_per_1000: float | None = None
    retained_kib_per_1000: float | None = None
    memory_calls: int = 0
    samples: list[float] = field(default_factory=list)


@dataclass
class ModeResult:
    """Every client's row for one mode, e.g. ("sync", streamed=True)."""

    api: str
    stream: bool
    calls_per_batch: dict[str, int]
    rows: list[Row]

    @property
    def label(self) -> str:
        return f"{self.api}, {'streamed' if self.stream else 'plain'}"


# A "runner" makes `n` calls of one client and returns (CPU seconds, wall seconds).
Runner = Callable[[int], tuple[float, float]]


def _sync_runner(call: SyncCall) -> Runner:
    def run(n: int) -> tuple[float, float]:
        cpu, wall = time.thread_time(), time.perf_counter()
        for _ in range(n):
            call()
        return time.thread_time() - cpu, time.perf_counter() - wall

    return run


def _async_runner(call: AsyncCall, loop: asyncio.AbstractEventLoop) -> Runner:
    async def batch(n: int) -> tuple[float, float]:
        cpu, wall = time.thread_time(), time.perf_counter()
        for _ in range(n):
            await call()
        return time.thread_time() - cpu, time.perf_counter() - wall

    return lambda n: loop.run_until_complete(batch(n))


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Close `loop` as `asyncio.run` would: cancel leftovers (LiteLLM leaves logging tasks)."""
    pending = asyncio.all_tasks(loop)
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()


def _memory(runner: Runner, calls: int) -> tuple[float, float]:
    """(peak KiB above the start, KiB still allocated at the end) while making `calls` calls."""
    gc.collect()
    tracemalloc.start()
    try:
        runner(1)  # lazily built parts (openai resources, pools) are not per-call cost
        gc.collect()
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        runner(calls)
        _, peak = tracemalloc.get_traced_memory()
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (peak - before) / 1024, (after - before) / 1024


def _measure_mode(
    runners: dict[str, Runner],
    *,
    repetitions: int,
    batch_seconds: float,
    memory: bool,
    memory_seconds: float,
) -> tuple[dict[str, int], list[Row]]:
    names = list(runners)
    calls: dict[str, int] = {}
    per_call: dict[str, float] = {}
    for name in names:
        runners[name](10)  # warm-up: lazy imports, client construction, pools
        per_call[name] = runners[name](10)[1] / 10
        calls[name] = max(5, min(2000, int(batch_seconds / per_call[name])))
    cpu: dict[str, list[float]] = {name: [] for name in names}
    wall: dict[str, list[float]] = {name: [] for name in names}
    for rep in range(repetitions):
        order = names[rep % len(names) :] + names[: rep % len(names)]
        for name in order:
            gc.collect()
            gc.disable()  # as timeit does: a collection mid-batch is noise, not the call's cost
            try:
                cpu_s, wall_s = runners[name](calls[name])
            finally:
                gc.enable()
            cpu[name].append(cpu_s / calls[name] * 1e6)
            wall[name].append(wall_s / calls[name] * 1e6)
    rows = [
        Row(
            name,
            us_per_call=median(cpu[name]),
            # Interference on a shared machine only ever adds time, so the fastest batch of
            # each client is its truest cost: the ratio of minimums is the stable estimate.
            ratio_to_openai=min(cpu[name]) / min(cpu["openai"]),
            wall_us_per_call=median(wall[name]),
            samples=cpu[name],
        )
        for name in names
    ]
    if memory:
        for row in rows:
            # 1,000 calls, or as many as fit in `memory_seconds` (tracemalloc slows calls ~2x).
            n = max(20, min(1000, int(memory_seconds / (2 * per_call[row.client]))))
            peak, retained = _memory(runners[row.client], n)
            row.peak_kib_per_1000 = peak
            row.retained_kib_per_1000 = retained * 1000 / n
            row.memory_calls = n
    return calls, rows


def run(
    *, repetitions: int = 11, batch_seconds: float = 0.15, memory_seconds: float = 1.5
) -> list[ModeResult]:
    """Measure every mode; returns one `ModeResult` per mode, openai's row first."""
    results: list[ModeResult] = []
    for api, stream in MODES:
        canned = record(stream=stream)
        measure = partial(
            _measure_mode,
            repetitions=repetitions,
            batch_seconds=batch_seconds,
            memory=not stream,
            memory_seconds=memory_seconds,
        )
        if api == "sync":
            runners = {
                name: _sync_runner(build(canned.transport(), stream))
                for name, build in SYNC_BUILDERS.items()
            }
            calls, rows = measure(runners)
        else:
            loop = asyncio.new_event_loop()
            try:
                runners = {
                    name: _async_runner(build(canned.transport(), stream), loop)
                    for name, build in ASYNC_BUILDERS.items()
                }
                calls, rows = measure(runners)
            finally:
                _close(loop)
        results.append(ModeResult(api, stream, calls, rows))
    return results
