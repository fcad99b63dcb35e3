"""Failover latency: what a 429 with `Retry-After: 60` on the primary adds to a call.

Two deployments on the in-process emulator: `primary` (priority 0) and `secondary`
(priority 1). A "clean" call is served by the primary. A "failover" call meets a scripted
`Fault.throttle(retry_after=60)` on the primary and is served by the secondary — the kit
must fail over at once, not wait 60 s. The two alternate; after each failover the client's
injected clock jumps 61 s so the primary is healthy again for the next pair. Reported: the
median of the per-pair differences (failover − clean), and both medians.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from azure_ai_kit import AzureAIClient, Deployment
from azure_ai_kit.emulator import EmulatedDeployment, Emulator, Fault

from ._stats import median, percentile

__all__ = ["FailoverResult", "run"]


@dataclass
class FailoverResult:
    """Milliseconds: clean and failover medians, and the added time per pair."""

    pairs: int
    clean_ms: float
    failover_ms: float
    added_ms: float
    added_p95_ms: float
    served_by_secondary: bool


def run(*, pairs: int = 300) -> FailoverResult:
    emulator = Emulator(
        [
            EmulatedDeployment("primary", kind="chat", model="gpt-4o-mini"),
            EmulatedDeployment("secondary", kind="chat", model="gpt-4o-mini"),
        ]
    )
    skipped = 0.0  # seconds the client's clock has been moved forward

    def clock() -> float:
        return time.monotonic() + skipped

    client = AzureAIClient(
        deployments=[
            Deployment("primary", endpoint=emulator.endpoint, aliases=("chat",), priority=0),
            Deployment("secondary", endpoint=emulator.endpoint, aliases=("chat",), priority=1),
        ],
        credential=emulator.api_key,
        http_client=httpx.Client(transport=emulator.transport()),
        clock=clock,
    )
    prompt = "Summarise the quarterly report in one short sentence."
    clean: list[float] = []
    failover: list[float] = []
    secondary = True
    for i in range(pairs + 10):  # the first 10 pairs warm up both paths
        start = time.perf_counter()
        client.chat(prompt, max_tokens=32)
        clean_s = time.perf_counter() - start
        emulator.script("primary", Fault.throttle(retry_after=60))
        start = time.perf_counter()
        result = client.chat(prompt, max_tokens=32)
        failover_s = time.perf_counter() - start
        secondary = secondary and result.deployment == "secondary"
        skipped += 61.0  # the primary's cooldown is over
        if i >= 10:
            clean.append(clean_s * 1000)
            failover.append(failover_s * 1000)
    added = [f - c for f, c in zip(failover, clean, strict=True)]
    return FailoverResult(
        pairs=pairs,
        clean_ms=median(clean),
        failover_ms=median(failover),
        added_ms=median(added),
        added_p95_ms=percentile(added, 95),
        served_by_secondary=secondary,
    )
