"""Per-call overhead: the same canned Azure response through an in-process MockTransport.

Rows: sync, sync stream, async, async stream (streams of `STREAM_CHUNKS` JSON events), and
`respond` / `async respond` once the kit and the emulator have the Responses API
(`bench/respond.py`; until then those rows are skipped with a note).

For each row every available client is built once over its own `httpx.MockTransport` and
warmed up. Then, repetition after repetition, each other client's batch is timed right next
to a batch of plain `openai` (which of the two goes first alternates), and the ratio of the
two per-call costs is kept: drift on a busy machine hits both halves of a pair alike, so the
paired ratio is stable where each client's own median or minimum is not. The row reports
the median of those ratios with their min and max.

The clock is the thread's CPU time (`time.thread_time`): everything here runs on one thread
and never waits, so CPU time is the call's cost, minus the time other processes on a shared
machine steal from us. Wall-clock µs/call is recorded too; the garbage collector is off
within a batch, as in `timeit`.

Memory (plain chat rows): `tracemalloc` peak above the starting level while making 1,000
calls (a slow client makes fewer, capped at a few seconds, and the count is reported), and
what is still allocated after a full garbage collection, scaled to 1,000 calls.
"""

from __future__ import annotations

import asyncio
import gc
import time
import tracemalloc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial

from . import respond
from ._canned import STREAM_CHUNKS, Canned, record, stream
from ._stats import median
from .contenders import ASYNC_BUILDERS, SYNC_BUILDERS, AsyncCall, SyncCall

__all__ = ["BASE", "MODES", "Mode", "ModeResult", "Row", "close", "run"]

BASE = "openai"


@dataclass(frozen=True)
class Mode:
    """One row of the table: which API, chat or respond, streamed or not."""

    label: str
    api: str  # "sync" or "async"
    stream: bool = False
    respond: bool = False


MODES = (
    Mode("sync", "sync"),
    Mode("sync stream", "sync", stream=True),
    Mode("async", "async"),
    Mode("async stream", "async", stream=True),
)
RESPOND_MODES = (
    Mode("respond", "sync", respond=True),
    Mode("async respond", "async", respond=True),
)


@dataclass
class Row:
    """One client in one mode; `ratio*` are paired against openai (1.0 for openai itself)."""

    client: str
    us_per_call: float
    wall_us_per_call: float
    ratio: float = 1.0
    ratio_min: float = 1.0
    ratio_max: float = 1.0
    peak_kib_per_1000: float | None = None
    retained_kib_per_1000: float | None = None
    memory_calls: int = 0
    samples: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)


@dataclass
class ModeResult:
    """Every client's row for one mode, or a note saying why the mode was skipped."""

    mode: Mode
    calls_per_batch: dict[str, int]
    rows: list[Row]
    chunks: int = 0  # JSON events per streamed call
    note: str = ""

    @property
    def label(self) -> str:
        return self.mode.label

    def row(self, client: str) -> Row | None:
        """The row of `client`, if it was measured."""
        return next((r for r in self.rows if r.client == client), None)


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


def close(loop: asyncio.AbstractEventLoop) -> None:
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


def _batch(runner: Runner, calls: int) -> tuple[float, float]:
    """(CPU µs, wall µs) per call over one batch, the garbage collector off as in timeit."""
    gc.collect()
    gc.disable()
    try:
        cpu_s, wall_s = runner(calls)
    finally:
        gc.enable()
    return cpu_s / calls * 1e6, wall_s / calls * 1e6


def _measure_mode(
    runners: Mapping[str, Runner],
    *,
    repetitions: int,
    batch_seconds: float,
    memory: bool,
    memory_seconds: float,
) -> tuple[dict[str, int], list[Row]]:
    names = list(runners)
    others = [n for n in names if n != BASE]
    calls: dict[str, int] = {}
    per_call: dict[str, float] = {}
    for name in names:
        runners[name](10)  # warm-up: lazy imports, client construction, pools
        per_call[name] = runners[name](10)[1] / 10
        calls[name] = max(5, min(2000, int(batch_seconds / per_call[name])))
    # Everything built so far (LiteLLM's import alone is huge) is long-lived: keep it out of
    # the collections between batches, which would otherwise take longer than a quick batch.
    gc.collect()
    gc.freeze()
    cpu: dict[str, list[float]] = {name: [] for name in names}
    wall: dict[str, list[float]] = {name: [] for name in names}
    ratios: dict[str, list[float]] = {name: [] for name in others}
    for rep in range(repetitions):
        shift = rep % max(1, len(others))
        for i, name in enumerate(others[shift:] + others[:shift]):
            pair = (BASE, name) if (rep + i) % 2 == 0 else (name, BASE)
            us: dict[str, float] = {}
            for who in pair:
                us[who], wall_us = _batch(runners[who], calls[who])
                cpu[who].append(us[who])
                wall[who].append(wall_us)
            ratios[name].append(us[name] / us[BASE])
    rows = []
    for name in names:
        row = Row(name, median(cpu[name]), median(wall[name]), samples=cpu[name])
        if name != BASE:
            row.ratios = ratios[name]
            row.ratio = median(ratios[name])
            row.ratio_min, row.ratio_max = min(ratios[name]), max(ratios[name])
        rows.append(row)
    if memory:
        for row in rows:
            # 1,000 calls, or as many as fit in `memory_seconds` (tracemalloc slows calls ~2x).
            n = max(20, min(1000, int(memory_seconds / (2 * per_call[row.client]))))
            peak, retained = _memory(runners[row.client], n)
            row.peak_kib_per_1000 = peak
            row.retained_kib_per_1000 = retained * 1000 / n
            row.memory_calls = n
    gc.unfreeze()
    return calls, rows


def _builders(
    mode: Mode, canned: Canned, respond_builders: respond.Builders | None, clients: set[str]
) -> tuple[dict[str, SyncCall], dict[str, AsyncCall]]:
    """Each client's call for `mode`, built over its own transport replaying `canned`."""
    if mode.respond:
        assert respond_builders is not None
        sync_r, async_r = respond_builders
        if mode.api == "sync":
            return {n: b(canned.transport()) for n, b in sync_r.items() if n in clients}, {}
        return {}, {n: b(canned.transport()) for n, b in async_r.items() if n in clients}
    if mode.api == "sync":
        built = SYNC_BUILDERS.items()
        return {n: b(canned.transport(), mode.stream) for n, b in built if n in clients}, {}
    built_a = ASYNC_BUILDERS.items()
    return {}, {n: b(canned.transport(), mode.stream) for n, b in built_a if n in clients}


def run(
    *,
    repetitions: int = 21,
    batch_seconds: float = 0.15,
    memory_seconds: float = 1.5,
    clients: set[str] | None = None,
) -> list[ModeResult]:
    """Measure every mode; returns one `ModeResult` per mode, openai's row first.

    `clients` limits the clients measured (openai is always one of them).
    """
    wanted = (clients or set(SYNC_BUILDERS)) | {BASE}
    found = respond.builders()
    respond_builders = None if isinstance(found, str) else found[1]
    results: list[ModeResult] = []
    for mode in MODES + RESPOND_MODES:
        if mode.respond and isinstance(found, str):
            results.append(ModeResult(mode, {}, [], note=found))
            continue
        if mode.respond:
            assert not isinstance(found, str)
            canned = found[0]
        else:
            canned = stream(chunks=STREAM_CHUNKS) if mode.stream else record(stream=False)
        sync_calls, async_calls = _builders(mode, canned, respond_builders, wanted)
        measure = partial(
            _measure_mode,
            repetitions=repetitions,
            batch_seconds=batch_seconds,
            memory=not mode.stream and not mode.respond,
            memory_seconds=memory_seconds,
        )
        if mode.api == "sync":
            calls, rows = measure({n: _sync_runner(c) for n, c in sync_calls.items()})
        else:
            loop = asyncio.new_event_loop()
            try:
                calls, rows = measure({n: _async_runner(c, loop) for n, c in async_calls.items()})
            finally:
                close(loop)
        results.append(ModeResult(mode, calls, rows, chunks=canned.events))
    return results
