"""Peak Python memory of one long stream: the kit against plain openai.

A 640 KiB streamed reply (the recorded Azure chunks repeated, `_canned.stream_of_size`) is
read to the end once per client and API. `tracemalloc` records the peak of Python
allocations above the level before the call; the reply's bytes exist before the call (the
MockTransport replays them), so the peak is what the client itself holds while streaming —
for plain openai about one chunk at a time, for a wrapper whatever it keeps per chunk.
Allocation counts do not depend on machine load, so the numbers repeat from run to run.
"""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from ._canned import stream_of_size
from .contenders import ASYNC_BUILDERS, SYNC_BUILDERS, AsyncCall
from .overhead import close

__all__ = ["CLIENTS", "STREAM_KIB", "StreamPeak", "run", "table"]

STREAM_KIB = 640
CLIENTS = ("openai", "azure-ai-kit")


@dataclass
class StreamPeak:
    """One client's peak while reading the whole stream once."""

    client: str
    api: str
    peak_kib: float
    chunks: int
    body_kib: float


def _peak(call: Callable[[], object]) -> float:
    call()  # lazily built parts (openai resources, pools) are not the stream's cost
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return (peak - before) / 1024


def _complete(loop: asyncio.AbstractEventLoop, call: AsyncCall) -> None:
    loop.run_until_complete(call())


def run(kib: int = STREAM_KIB) -> list[StreamPeak]:
    """Peak KiB per client for a sync and an async read of a `kib` KiB stream."""
    canned = stream_of_size(kib)
    rows: list[StreamPeak] = []
    for client in CLIENTS:
        sync_call = SYNC_BUILDERS[client](canned.transport(), True)
        peak = _peak(sync_call)
        rows.append(StreamPeak(client, "sync", peak, canned.events, len(canned.body) / 1024))
    loop = asyncio.new_event_loop()
    try:
        for client in CLIENTS:
            async_call = ASYNC_BUILDERS[client](canned.transport(), True)
            peak = _peak(partial(_complete, loop, async_call))
            rows.append(StreamPeak(client, "async", peak, canned.events, len(canned.body) / 1024))
    finally:
        close(loop)
    return rows


def table(rows: list[StreamPeak]) -> list[str]:
    """Markdown lines: one row per API, openai and kit side by side."""
    first = rows[0]
    lines = [
        f"A {first.body_kib:.0f} KiB stream ({first.chunks} chunks), read to the end once:",
        "",
        "| API | openai peak KiB | azure-ai-kit peak KiB | kit/openai |",
        "|---|---:|---:|---:|",
    ]
    for api in ("sync", "async"):
        base = next(r.peak_kib for r in rows if r.api == api and r.client == "openai")
        kit = next(r.peak_kib for r in rows if r.api == api and r.client == "azure-ai-kit")
        lines.append(f"| {api} | {base:,.0f} | {kit:,.0f} | {kit / base:.1f} |")
    return lines
