"""How low a wrapper's per-call cost can go: the kit's `chat()` beside a one-function floor.

The floor does, in one straight function, the work any wrapper with the kit's features must
do on a successful call, and nothing else:

- shape the request (the prompt as a message list, the options as a dict);
- check the deployment's health under a lock, as a router must;
- send through `openai`'s `with_raw_response` (a router needs Azure's quota headers);
- read the wanted headers in one pass, and record the success under the lock;
- build the same typed `ChatResult` the kit returns (choices, usage, filter reports);
- add the usage to a ledger.

It has no retry loop, no failover, no pacing, no telemetry hook and no structure: a newcomer
could not change it safely, which is why the kit is not written this way. It is the lower
bound of what the kit's design could cost. Both are run on the same canned reply and
checked to return equal results before anything is measured.

A third row is plain `openai` asked for the raw response (`raw_chat`), which any wrapper
that reads Azure's quota headers must be: it separates that price from the rest.

Two measurements, each against plain `openai` as in the other pages:

- timed: the median of paired, interleaved batches (`bench/overhead.py`'s method);
- under callgrind's cache simulator, instructions and L2 misses per call, the mean of three
  hash seeds (`bench/cachesim.py`'s method).

    python -m bench.floor            # writes docs/benchmarks-floor.md (about two minutes)

Needs `valgrind` (with `callgrind_control`) on PATH.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import openai

from azure_ai_kit import AzureAIClient
from azure_ai_kit._results import (
    Attempt,
    ChatResult,
    Choice,
    Usage,
    built,
    completion_filter_from,
    prompt_filter_from,
)
from azure_ai_kit._usage import UsageLedger

from ._canned import API_KEY, API_VERSION, DEPLOYMENT, ENDPOINT, MESSAGES, record
from .cachesim import CACHES, SEEDS
from .contenders import SYNC_BUILDERS, SyncCall, legacy_http
from .instructions import _checkpoint, counted
from .overhead import _measure_mode, _sync_runner

__all__ = ["CLIENTS", "floor_chat", "main", "measure", "raw_chat"]

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks-floor.md"
FLOOR = "one-function floor"
RAW = "openai, raw response"
CLIENTS = ("openai", RAW, FLOOR, "azure-ai-kit")
NULL = "nothing"
CALLS, WARM_UP = 20, 50
PAIRS = 41  # the floor and the kit are a few points apart: more pairs than bench.overhead
_WANTED = {
    b"x-ms-region": "region",
    b"apim-request-id": "request_id",
    b"x-request-id": "x-request-id",
    b"x-ratelimit-remaining-tokens": "tokens",
    b"x-ratelimit-remaining-requests": "requests",
}


class _Health:
    """What a router keeps per deployment, reduced to what a success reads and writes."""

    __slots__ = ("failures", "remaining_requests", "remaining_tokens", "until")

    def __init__(self) -> None:
        self.until = -math.inf
        self.failures = 0
        self.remaining_tokens: int | None = None
        self.remaining_requests: int | None = None


def _raw_create(transport: httpx.MockTransport) -> Any:
    client = openai.AzureOpenAI(
        azure_endpoint=ENDPOINT,
        api_key=API_KEY,
        api_version=API_VERSION,
        http_client=legacy_http(httpx.Client(transport=transport)),
        max_retries=0,
    )
    return client.chat.completions.with_raw_response.create


def raw_chat(transport: httpx.MockTransport) -> SyncCall:
    """Plain openai asked for the raw response, as any wrapper that reads Azure's headers is."""
    create = _raw_create(transport)

    def call() -> None:
        raw = create(model=DEPLOYMENT, messages=MESSAGES)
        raw.parse()
        raw.headers  # noqa: B018 - what a wrapper reads the raw response for

    return call


def floor_chat(transport: httpx.MockTransport) -> Callable[[Any], ChatResult]:
    """The floor: `chat(prompt)` in one function, over `transport` (see the module docstring)."""
    create = _raw_create(transport)
    lock, health, ledger = threading.Lock(), {DEPLOYMENT: _Health()}, UsageLedger()
    label = f"{DEPLOYMENT}@{httpx.URL(ENDPOINT).host}"

    def chat(prompt: Any, **options: Any) -> ChatResult:
        messages = (
            [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
        )
        with lock:
            h = health[DEPLOYMENT]
            if time.monotonic() < h.until:
                raise RuntimeError("cooling down")  # the kit would wait or fail over here
        raw = create(model=DEPLOYMENT, messages=messages, **options)
        completion = raw.parse()
        wanted = {}
        for _, name, value in raw.headers._list:
            if name in _WANTED:
                wanted[_WANTED[name]] = value.decode("latin-1")
        with lock:
            h.failures, h.until = 0, -math.inf
            h.remaining_tokens = int(wanted.get("tokens") or 0) or None
            h.remaining_requests = int(wanted.get("requests") or 0) or None
        choices = [
            built(
                Choice,
                {
                    "index": c.index or 0,
                    "text": (c.message.content or "") if c.message is not None else "",
                    "finish_reason": c.finish_reason,
                    "content_filter": completion_filter_from(c.__pydantic_extra__),
                },
            )
            for c in completion.choices
        ]
        first = choices[0] if choices else Choice()
        usage = Usage.from_openai(completion.usage)
        ledger.record(label, DEPLOYMENT, "chat", usage)
        return built(
            ChatResult,
            {
                "deployment": DEPLOYMENT,
                "endpoint": ENDPOINT,
                "region": wanted.get("region"),
                "request_id": wanted.get("request_id") or wanted.get("x-request-id"),
                "attempts": (Attempt(label, 200, None, 0.0),),
                "text": first.text,
                "finish_reason": first.finish_reason,
                "usage": usage,
                "model": completion.model or None,
                "prompt_filter": prompt_filter_from(completion.__pydantic_extra__),
                "completion_filter": first.content_filter,
                "choices": tuple(choices),
                "raw": completion,
                "parsed": None,
                "refusal": None,
            },
        )

    return chat


def _calls() -> dict[str, SyncCall]:
    """The four sync chat calls, each over its own transport of the same canned reply; the
    floor must return what the kit returns, or it would be measuring less work."""
    canned = record(stream=False)
    calls = {
        name: SYNC_BUILDERS[name](canned.transport(), False) for name in ("openai", "azure-ai-kit")
    }
    calls[RAW] = raw_chat(canned.transport())
    floor = floor_chat(canned.transport())
    kit = AzureAIClient(
        endpoint=ENDPOINT,
        credential=API_KEY,
        deployments={"chat": DEPLOYMENT},
        api_version=API_VERSION,
        http_client=httpx.Client(transport=canned.transport()),
    )
    expected, got = replace(kit.chat(MESSAGES), raw=None), replace(floor(MESSAGES), raw=None)
    if expected != got:
        raise RuntimeError(f"the floor's result differs from the kit's:\n{got}\n{expected}")
    calls[FLOOR] = lambda: floor(MESSAGES)
    return calls


def _workload() -> None:
    """The measured process: each client's calls, counted in turn."""
    calls = _calls()
    plan = [(NULL, lambda: None, 0)] + [(name, calls[name], WARM_UP) for name in CLIENTS]
    for label, call, warm_up in plan:
        for _ in range(warm_up):
            call()
        gc.collect()
        gc.disable()
        _checkpoint(f"ready {os.getpid()} {label}")
        for _ in range(CALLS if label != NULL else 0):
            call()
        _checkpoint("done")
        gc.enable()
    os._exit(0)


def measure(repetitions: int = PAIRS) -> dict[str, dict[str, float]]:
    """Per client: the timed ratio to openai (median, min, max of the pairs), and per call
    the instructions and L2 misses (mean over the hash seeds)."""
    runners = {name: _sync_runner(call) for name, call in _calls().items()}
    _, rows = _measure_mode(
        runners, repetitions=repetitions, batch_seconds=0.1, memory=False, memory_seconds=0
    )
    found: dict[str, dict[str, float]] = {
        r.client: {"ratio": r.ratio, "min": r.ratio_min, "max": r.ratio_max} for r in rows
    }
    options = ("--cache-sim=yes", *CACHES)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        runs = list(
            pool.map(
                lambda seed: counted(["bench.floor", "--run"], options=options, seed=seed), SEEDS
            )
        )
    for name in CLIENTS:
        for counts in runs:
            row, empty = counts[name], counts[NULL]
            per = {e: (row.get(e, 0) - empty.get(e, 0)) / CALLS for e in row}
            found[name]["instructions"] = found[name].get("instructions", 0.0) + per["Ir"] / len(
                SEEDS
            )
            misses = per["ILmr"] + per["DLmr"] + per["DLmw"]
            found[name]["L2"] = found[name].get("L2", 0.0) + misses / len(SEEDS)
    return found


def report(found: dict[str, dict[str, float]], seconds: float) -> str:
    """The markdown page."""
    from azure_ai_kit import __version__

    base = found["openai"]
    lines = [
        "# Benchmarks: the floor of a wrapper's cost",
        "",
        "Generated by `python -m bench.floor` — do not edit by hand. The code, and what the",
        "floor does, is in `bench/floor.py`.",
        "",
        f"- Python {platform.python_version()} on {platform.machine()}; azure-ai-kit "
        f"{__version__}, openai {openai.__version__}; took {seconds:.0f} s",
        "",
        "The kit's `chat()` beside a one-function *floor*: the least a wrapper with the kit's",
        "features does on a successful call (shape the request, check and record the",
        "deployment's health under a lock, read Azure's headers, build the same typed",
        "`ChatResult`, add to the usage ledger), written as one straight function with no",
        "retry loop, failover, pacing or telemetry hook. Both return equal results on the",
        f"same canned reply. Timed: median of {PAIRS} paired batches against plain openai,",
        "with the smallest and largest pair; the timed ratios of two runs differ by a few",
        "points on this shared VM. Counted (repeatable): callgrind, instructions and L2",
        f"misses per call under its cache simulator, the mean of {len(SEEDS)} hash seeds.",
        "",
        "| Client | timed ratio to openai | min | max | instructions | ratio "
        "| L2 misses | more than openai |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in CLIENTS:
        row = found[name]
        lines.append(
            f"| {name} | {row['ratio']:.3f} | {row['min']:.3f} | {row['max']:.3f} "
            f"| {row['instructions']:,.0f} | {row['instructions'] / base['instructions']:.3f} "
            f"| {row['L2']:,.0f} | {row['L2'] - base['L2']:+,.0f} |"
        )
    lines += [
        "",
        "Read down the table: plain openai; openai asked for the raw response, which any",
        "wrapper that reads Azure's quota headers is; the floor, which adds the typed result,",
        "the lock and the ledger; the kit. The distance from the floor to the kit is what its",
        "structure costs: the retry loop, `CallState`, the router's general path and one step",
        "per file.",
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__)
    parser.add_argument("--run", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--docs", type=Path, default=DOCS, help="where to write the page")
    args = parser.parse_args(argv)
    if args.run:
        _workload()
        return 0
    started = time.perf_counter()
    found = measure()
    args.docs.write_text(report(found, time.perf_counter() - started))
    print(f"wrote {args.docs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
