"""How low a wrapper's per-call cost can go: the kit beside a one-function floor.

For a plain chat call and a streamed one, the floor does in one straight function (with two
small helpers the two share: read the headers, build the result) the work any wrapper with
the kit's features must do on a success, and nothing else:

- shape the request (the prompt as a message list, the options as a dict);
- check the deployment's health under a lock, as a router must;
- send through `openai`'s `with_raw_response` (a router needs Azure's quota headers);
- read the wanted headers in one pass, and record the success under the lock;
- for a stream: register a stall watch under the lock, tell it of each chunk, and fold each
  chunk's text, finish reason and filter report per choice, yielding the kit's `ChatChunk`;
- build the same typed `ChatResult` the kit returns (choices, usage, filter reports);
- add the usage to a ledger.

It has no retry loop, no failover, no pacing, no telemetry hook and no structure: a newcomer
could not change it safely, which is why the kit is not written this way. It is the lower
bound of what the kit's design could cost. Both are run on the same canned replies and
checked to return equal results (and a stream equal chunks) before anything is measured.
A third client is plain `openai` asked for the raw response (`raw_chat`), which any wrapper
that reads Azure's quota headers must be: it separates that price from the rest.

Two measurements, each against plain `openai` as in the other pages:

- timed: the median of paired, interleaved batches (`bench/overhead.py`'s method);
- under callgrind's cache simulator, instructions and L2 misses per call, the mean of three
  hash seeds (`bench/cachesim.py`'s method).

    python -m bench.floor            # writes docs/benchmarks-floor.md (about three minutes)

Needs `valgrind` (with `callgrind_control`) on PATH.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import openai

from azure_ai_kit import AzureAIClient
from azure_ai_kit._results import (
    Attempt,
    ChatChunk,
    ChatResult,
    Choice,
    ContentFilterReport,
    Usage,
    built,
    completion_filter_from,
    prompt_filter_from,
)
from azure_ai_kit._streams import _merge_into
from azure_ai_kit._usage import UsageLedger

from ._canned import (
    API_KEY,
    API_VERSION,
    DEPLOYMENT,
    ENDPOINT,
    MESSAGES,
    STREAM_CHUNKS,
    record,
    stream,
)
from .cachesim import CACHES, NULL, SEEDS, run_plan
from .contenders import STREAM_USAGE, SYNC_BUILDERS, SyncCall, legacy_http
from .instructions import counted
from .overhead import _measure_mode, _sync_runner

__all__ = ["CLIENTS", "ROWS", "floor_chat", "floor_stream", "main", "measure", "raw_chat"]

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks-floor.md"
FLOOR = "one-function floor"
RAW = "openai, raw response"
CLIENTS = ("openai", RAW, FLOOR, "azure-ai-kit")
#: (row, streamed, counted calls, warm-up calls), as in `bench/cachesim.py`
ROWS = (("sync", False, 20, 50), ("sync stream", True, 10, 30))
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


def raw_chat(transport: httpx.MockTransport, streamed: bool) -> SyncCall:
    """Plain openai asked for the raw response, as any wrapper that reads Azure's headers is."""
    create = _raw_create(transport)
    options = {"stream": True, **STREAM_USAGE} if streamed else {}

    def call() -> None:
        raw = create(model=DEPLOYMENT, messages=MESSAGES, **options)
        parsed = raw.parse()
        raw.headers  # noqa: B018 - what a wrapper reads the raw response for
        if streamed:
            for _ in parsed:
                pass

    return call


def _succeeded(headers: Any, h: _Health, lock: threading.Lock) -> dict[str, str]:
    """Read the wanted headers in one pass and record the success under the lock."""
    wanted = {}
    for _, name, value in headers._list:
        if name in _WANTED:
            wanted[_WANTED[name]] = value.decode("latin-1")
    with lock:
        h.failures, h.until = 0, -math.inf
        h.remaining_tokens = int(wanted.get("tokens") or 0) or None
        h.remaining_requests = int(wanted.get("requests") or 0) or None
    return wanted


def _result(
    wanted: dict[str, str],
    label: str,
    choices: list[Choice],
    usage: Usage,
    model: str | None,
    prompt_filter: ContentFilterReport | None,
    raw: Any,
) -> ChatResult:
    # The kit's ChatResult, filled at once: no intermediate `Served` as the kit builds.
    first = choices[0] if choices else Choice()
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
            "model": model or None,
            "prompt_filter": prompt_filter,
            "completion_filter": first.content_filter,
            "choices": tuple(choices),
            "raw": raw,
            "parsed": None,
            "refusal": None,
        },
    )


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
        wanted = _succeeded(raw.headers, h, lock)
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
        usage = Usage.from_openai(completion.usage)
        ledger.record(label, DEPLOYMENT, "chat", usage)
        prompt_filter = prompt_filter_from(completion.__pydantic_extra__)
        return _result(wanted, label, choices, usage, completion.model, prompt_filter, completion)

    return chat


class _Watched:
    """A stream under a stall watch, reduced to what the reader updates."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen = time.monotonic()


def floor_stream(transport: httpx.MockTransport) -> Callable[[Any, list[Any]], Iterator[Any]]:
    """The floor of `stream_chat(prompt)`: one generator that yields the kit's `ChatChunk`s
    and appends the kit's `ChatResult` to `out` at the end (see the module docstring).

    On top of the chat floor, per stream: a stall watch registered under a lock; per chunk:
    the watch told of progress, the text, finish reason and filter report of each choice
    folded, the usage and prompt report kept.
    """
    create = _raw_create(transport)
    lock, health, ledger = threading.Lock(), {DEPLOYMENT: _Health()}, UsageLedger()
    watched: set[_Watched] = set()
    label = f"{DEPLOYMENT}@{httpx.URL(ENDPOINT).host}"

    def stream_chat(prompt: Any, out: list[Any], **options: Any) -> Iterator[Any]:
        messages = (
            [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
        )
        with lock:
            h = health[DEPLOYMENT]
            if time.monotonic() < h.until:
                raise RuntimeError("cooling down")
        raw = create(model=DEPLOYMENT, messages=messages, stream=True, **STREAM_USAGE, **options)
        chunks = raw.parse()
        wanted = _succeeded(raw.headers, h, lock)
        watch = _Watched()
        with lock:
            watched.add(watch)
        texts: dict[int, list[str]] = {}
        finishes: dict[int, str] = {}
        reports: dict[int, dict[str, Any]] = {}
        last: dict[int, Any] = {}
        usage, model, prompt_filter = Usage(), None, None
        try:
            for chunk in chunks:
                watch.seen = time.monotonic()
                extra = chunk.__pydantic_extra__
                if extra and prompt_filter is None:
                    prompt_filter = prompt_filter_from(extra)
                model = chunk.model or model
                if chunk.usage is not None:
                    usage = Usage.from_openai(chunk.usage)
                text, finish, index = "", None, 0
                for choice in chunk.choices:
                    index = choice.index or 0
                    parts = texts.get(index)
                    if parts is None:
                        parts = texts[index] = []
                    extra = choice.__pydantic_extra__
                    report = extra.get("content_filter_results") if extra else None
                    # Azure repeats one report on most chunks: only a new one is merged.
                    if report is not None and report != last.get(index):
                        last[index] = report
                        if index in reports:
                            _merge_into(reports[index], report)
                        else:
                            reports[index] = dict(report)
                    text = (choice.delta.content or "") if choice.delta is not None else ""
                    if text:
                        parts.append(text)
                    finish = choice.finish_reason
                    if finish:
                        finishes[index] = finish
                yield ChatChunk(text, finish, chunk, index)
        finally:
            with lock:
                watched.discard(watch)
        choices = [
            built(
                Choice,
                {
                    "index": index,
                    "text": "".join(texts[index]),
                    "finish_reason": finishes.get(index),
                    "content_filter": ContentFilterReport.from_json(reports[index])
                    if index in reports
                    else None,
                },
            )
            for index in sorted(texts)
        ]
        ledger.record(label, DEPLOYMENT, "chat", usage)
        out.append(_result(wanted, label, choices, usage, model, prompt_filter, None))

    return stream_chat


def _calls(streamed: bool) -> dict[str, SyncCall]:
    """The four sync calls of a row, each over its own transport of the same canned reply;
    the floor must return what the kit returns, or it would be measuring less work."""
    canned = stream(chunks=STREAM_CHUNKS) if streamed else record(stream=False)
    calls = {
        name: SYNC_BUILDERS[name](canned.transport(), streamed)
        for name in ("openai", "azure-ai-kit")
    }
    calls[RAW] = raw_chat(canned.transport(), streamed)
    kit = AzureAIClient(
        endpoint=ENDPOINT,
        credential=API_KEY,
        deployments={"chat": DEPLOYMENT},
        api_version=API_VERSION,
        http_client=httpx.Client(transport=canned.transport()),
    )
    if streamed:
        floor_s = floor_stream(canned.transport())
        with kit.stream_chat(MESSAGES) as chunks:
            kit_chunks = [(c.text, c.finish_reason, c.index) for c in chunks]
        out: list[Any] = []
        floor_chunks = [(c.text, c.finish_reason, c.index) for c in floor_s(MESSAGES, out)]
        expected, got = chunks.result, out[0]
        if kit_chunks != floor_chunks:
            raise RuntimeError("the floor's chunks differ from the kit's")

        def call() -> None:
            for _ in floor_s(MESSAGES, []):
                pass

    else:
        floor_c = floor_chat(canned.transport())
        expected, got = kit.chat(MESSAGES), floor_c(MESSAGES)

        def call() -> None:
            floor_c(MESSAGES)

    if replace(expected, raw=None) != replace(got, raw=None):
        raise RuntimeError(f"the floor's result differs from the kit's:\n{got}\n{expected}")
    calls[FLOOR] = call
    return {name: calls[name] for name in CLIENTS}


def _workload() -> None:
    """The measured process: each row's clients, counted in turn."""
    run_plan(
        [
            (f"{row}: {name}", call, calls, warm_up)
            for row, streamed, calls, warm_up in ROWS
            for name, call in _calls(streamed).items()
        ]
    )


Found = dict[tuple[str, str], dict[str, float]]


def measure(repetitions: int = PAIRS) -> Found:
    """Per (row, client): the timed ratio to openai (median, min, max of the pairs), and per
    call the instructions and L2 misses (mean over the hash seeds)."""
    found: Found = {}
    for row, streamed, _, _ in ROWS:
        runners = {name: _sync_runner(call) for name, call in _calls(streamed).items()}
        _, rows = _measure_mode(
            runners, repetitions=repetitions, batch_seconds=0.1, memory=False, memory_seconds=0
        )
        for r in rows:
            found[(row, r.client)] = {"ratio": r.ratio, "min": r.ratio_min, "max": r.ratio_max}
    options = ("--cache-sim=yes", *CACHES)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        runs = list(
            pool.map(
                lambda seed: counted(["bench.floor", "--run"], options=options, seed=seed), SEEDS
            )
        )
    for row, _, calls, _ in ROWS:
        for name in CLIENTS:
            sums = found[(row, name)]
            sums["instructions"] = sums["L2"] = 0.0
            for counts in runs:
                got, empty = counts[f"{row}: {name}"], counts[NULL]
                per = {e: (got.get(e, 0) - empty.get(e, 0)) / calls / len(SEEDS) for e in got}
                sums["instructions"] += per["Ir"]
                sums["L2"] += per["ILmr"] + per["DLmr"] + per["DLmw"]
    return found


def report(found: Found, seconds: float) -> str:
    """The markdown page."""
    from azure_ai_kit import __version__

    lines = [
        "# Benchmarks: the floor of a wrapper's cost",
        "",
        "Generated by `python -m bench.floor` — do not edit by hand. The code, and what the",
        "floor does, is in `bench/floor.py`.",
        "",
        f"- Python {platform.python_version()} on {platform.machine()}; azure-ai-kit "
        f"{__version__}, openai {openai.__version__}; took {seconds:.0f} s",
        "",
        "The kit's `chat()` and `stream_chat()` beside a *floor*: the least a wrapper with",
        "the kit's features does on a successful call (shape the request, check and record",
        "the deployment's health under a lock, read Azure's headers, build the same typed",
        "`ChatResult`, add to the usage ledger; for a stream also register a stall watch and",
        "fold each chunk), written as one straight function (two small helpers aside) with no",
        "retry loop, failover, pacing or telemetry hook. Both return equal results (and a",
        f"stream equal chunks) on the same canned reply; streams carry {STREAM_CHUNKS} JSON",
        f"events. Timed: median of {PAIRS} paired batches against plain openai, with the",
        "smallest and largest pair; the timed ratios of two runs differ by a few points on",
        "this shared VM. Counted (repeatable): callgrind, instructions and L2 misses per call",
        f"under its cache simulator, the mean of {len(SEEDS)} hash seeds.",
        "",
        "| Row | Client | timed ratio to openai | min | max | instructions | ratio "
        "| L2 misses | more than openai |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row, *_ in ROWS:
        base = found[(row, "openai")]
        for name in CLIENTS:
            r = found[(row, name)]
            lines.append(
                f"| {row} | {name} | {r['ratio']:.3f} | {r['min']:.3f} | {r['max']:.3f} "
                f"| {r['instructions']:,.0f} | {r['instructions'] / base['instructions']:.3f} "
                f"| {r['L2']:,.0f} | {r['L2'] - base['L2']:+,.0f} |"
            )
    lines += [
        "",
        "Read down each row: plain openai; openai asked for the raw response, which any",
        "wrapper that reads Azure's quota headers is; the floor, which adds the typed result,",
        "the lock and the ledger (and for a stream the watch and the fold); the kit. The",
        "distance from the floor to the kit is what its structure costs: the retry loop,",
        "`CallState`, the router's general path, the stream classes and one step per file.",
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
