"""Pacing under a binding quota: utilisation and 429s, one process and four sharing Redis.

Setup (one fresh emulator process per scenario, on 127.0.0.1):

- two chat deployments `chat-1`, `chat-2`, each `TPM` tokens/min (RPM not binding); every
  request costs `COST` tokens at admission (`PROMPT_CHARS` characters, `max_tokens=MAX_TOKENS`),
  so the pool serves at most `2 × TPM / 60 / COST` requests/s. Before each run both buckets
  are drained (one request costing the whole TPM), so the quota binds from the first request.
- `REQUESTS` requests arrive open-loop at `OVERSUBSCRIPTION` × that rate (one thread each):
  twice what the quota admits, so calls must wait for it; each call's deadline (60 s) is
  longer than the longest wait this load causes, so a well-paced client fails nothing.
- (a) one process: the kit with the quota declared (pacing on) vs the kit without it (pacing
  off: no quota declared and none learned — the kit before pacing).
- (b) four processes, each a quarter of the same load: the kit sharing state through one
  `redis-server` (`state="redis://…"`), the kit paced but each process on its own, and
  LiteLLM's Router with the same quota, usage-based routing and the same Redis (when installed).

Utilisation = served tokens ÷ the quota over the run (first arrival to last completion).
429 share = 429 answers ÷ every request the emulator answered (it counts them).
`python -m bench.pacing` runs it and rewrites only the pacing block of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import logging
import math
import multiprocessing
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from azure_ai_kit import AzureAIClient, Deployment

from ._emulator_process import EmulatorProcess
from ._stats import median, percentile
from .contenders import has_litellm, litellm_module

__all__ = ["PacingResult", "main", "run"]

NAMES = ["chat-1", "chat-2"]
TPM = 24_000  # per deployment: 400 tokens/s, 4 requests/s at COST = 100
RPM = 2_400  # 40 requests/s per second window: not binding
PROMPT_CHARS = 128
MAX_TOKENS = 64
COST = math.ceil(PROMPT_CHARS / 4) + 4 + MAX_TOKENS  # 100 tokens charged per request
OVERSUBSCRIPTION = 2.0
REQUESTS = 240
PROCESSES = 4
KEY = "emulator-key"
PROMPT = ("Summarise the quarterly report for the board in plain words. " * 3)[:PROMPT_CHARS]
CAPACITY = len(NAMES) * TPM / 60 / COST  # requests per second the pool admits
DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
START, END = "<!-- pacing:start -->", "<!-- pacing:end -->"


@dataclass
class PacingResult:
    """One scenario's run."""

    client: str
    completed: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    first: float = math.inf
    last: float = -math.inf
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    @property
    def utilisation(self) -> float:
        window = self.last - self.first
        return self.completed * COST / (window * CAPACITY * COST) if window > 0 else 0.0

    @property
    def throttled_share(self) -> float:
        answered = sum(self.statuses.values())
        return self.statuses.get(429, 0) / answered if answered else 0.0

    def merge(self, part: dict[str, Any]) -> None:
        self.completed += part["completed"]
        for kind, n in part["errors"].items():
            self.errors[kind] = self.errors.get(kind, 0) + n
        self.latencies += part["latencies"]
        self.first = min(self.first, part["first"])
        self.last = max(self.last, part["last"])


# --- the clients -------------------------------------------------------------------------------
def _kit(base_url: str, *, paced: bool, state: str | None) -> Callable[[], object]:
    client = AzureAIClient(
        deployments=[
            Deployment(
                n,
                endpoint=base_url,
                aliases=("chat",),
                tpm=TPM if paced else None,
                rpm=RPM if paced else None,
            )
            for n in NAMES
        ],
        credential=KEY,
        state=state,
    )
    if not paced:  # the kit before pacing: no quota declared, none learned from headers
        client._pacer.learn = lambda *args: None  # type: ignore[method-assign]
    return lambda: client.chat(PROMPT, max_tokens=MAX_TOKENS)


def _litellm(base_url: str, *, redis_url: str | None) -> Callable[[], object]:
    litellm = litellm_module()
    host_port = (redis_url or "").split("//")[-1].split("/")[0]
    host, _, port = host_port.partition(":")
    router = litellm.Router(
        model_list=[
            {
                "model_name": "chat",
                "litellm_params": {
                    "model": f"azure/{n}",
                    "api_base": base_url,
                    "api_key": KEY,
                    "api_version": "2024-10-21",
                    "tpm": TPM,
                    "rpm": RPM,
                },
            }
            for n in NAMES
        ],
        routing_strategy="usage-based-routing-v2",
        num_retries=6,
        timeout=60,
        **({"redis_host": host, "redis_port": int(port)} if redis_url else {}),
    )
    messages = [{"role": "user", "content": PROMPT}]
    return lambda: router.completion(model="chat", messages=messages, max_tokens=MAX_TOKENS)


def _build(kind: str, base_url: str, redis_url: str | None) -> Callable[[], object]:
    if kind == "kit-paced":
        return _kit(base_url, paced=True, state=redis_url)
    if kind == "kit-unpaced":
        return _kit(base_url, paced=False, state=None)
    return _litellm(base_url, redis_url=redis_url)


# --- the driver --------------------------------------------------------------------------------
def _drain(base_url: str) -> None:
    body = {"messages": [{"role": "user", "content": "drain"}], "max_tokens": TPM - 6}
    with httpx.Client(base_url=base_url, headers={"api-key": KEY}) as http:
        for name in NAMES:
            http.post(
                f"/openai/deployments/{name}/chat/completions",
                params={"api-version": "2024-10-21"},
                json=body,
            ).raise_for_status()


def _drive(call: Callable[[], object], requests: int, rate: float, begin: float) -> dict[str, Any]:
    """Open loop: request i starts at `begin + i / rate` (wall clock), each on its own thread."""
    lock = threading.Lock()
    part: dict[str, Any] = {"completed": 0, "errors": {}, "latencies": [], "first": begin}
    part["last"] = begin

    def one(at: float) -> None:
        time.sleep(max(0.0, at - time.time()))
        began = time.time()
        try:
            call()
        except Exception as exc:  # every failure counts; the kinds go in the report
            with lock:
                kind = type(exc).__name__
                part["errors"][kind] = part["errors"].get(kind, 0) + 1
                part["last"] = max(part["last"], time.time())
            return
        ended = time.time()
        with lock:
            part["completed"] += 1
            part["latencies"].append(ended - began)
            part["last"] = max(part["last"], ended)

    threads = [threading.Thread(target=one, args=(begin + i / rate,)) for i in range(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return part


def _worker(
    kind: str,
    base_url: str,
    redis_url: str | None,
    requests: int,
    rate: float,
    begin: float,
    results: Any,
) -> None:
    for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "azure_ai_kit"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    call = _build(kind, base_url, redis_url)
    results.put(_drive(call, requests, rate, begin))


def _scenario(
    label: str,
    kind: str,
    *,
    processes: int,
    shared: bool,
    requests: int,
    log: Callable[[str], None],
) -> PacingResult:
    result = PacingResult(label)
    emulator = EmulatorProcess(NAMES, tpm=TPM, rpm=RPM)
    with _redis() if shared else _nothing() as redis_url, emulator as base_url:
        rate = CAPACITY * OVERSUBSCRIPTION / processes
        context = multiprocessing.get_context("spawn")
        queue = context.Queue()
        # Workers import and build their clients first; the buckets are drained just before
        # the first arrival, so the quota binds from the start.
        begin = time.time() + (15.0 if kind == "litellm" else 5.0)
        workers = [
            context.Process(
                target=_worker,
                args=(kind, base_url, redis_url, requests // processes, rate, begin, queue),
            )
            for _ in range(processes)
        ]
        for w in workers:
            w.start()
        time.sleep(max(0.0, begin - 0.2 - time.time()))
        _drain(base_url)
        for _ in workers:
            result.merge(queue.get(timeout=300))
        for w in workers:
            w.join(timeout=60)
    result.statuses = emulator.statuses
    log(
        f"  {label}: {result.completed} ok, {result.failed} failed, "
        f"{result.utilisation:.2f} utilisation, {result.throttled_share:.1%} 429"
    )
    return result


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


@contextmanager
def _redis() -> Iterator[str]:
    executable = shutil.which("redis-server")
    if executable is None:
        raise SystemExit("bench.pacing needs redis-server (apt-get install redis-server)")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as directory:
        process = subprocess.Popen(
            [
                executable,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                directory,
            ],
            stdout=subprocess.DEVNULL,
        )
        try:
            for _ in range(500):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.01)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


def run(*, requests: int = REQUESTS, log: Callable[[str], None] = print) -> list[PacingResult]:
    """Every scenario, in order: (a) one process, then (b) four processes."""
    rows = [
        ("1 process: azure-ai-kit, pacing on", "kit-paced", 1, False),
        ("1 process: azure-ai-kit, pacing off", "kit-unpaced", 1, False),
        ("4 processes: azure-ai-kit, state in Redis", "kit-paced", PROCESSES, True),
        ("4 processes: azure-ai-kit, each on its own", "kit-paced", PROCESSES, False),
    ]
    if has_litellm():
        rows.append(("4 processes: LiteLLM Router, Redis", "litellm", PROCESSES, True))
    return [
        _scenario(label, kind, processes=n, shared=shared, requests=requests, log=log)
        for label, kind, n, shared in rows
    ]


def table(results: list[PacingResult]) -> str:
    """The results as the Markdown block between the pacing markers."""
    lines = [
        START,
        "",
        f"Two deployments of {TPM:,} TPM each, drained before the run; "
        f"{results[0].completed + results[0].failed} requests of {COST} tokens arriving at "
        f"{OVERSUBSCRIPTION:g}× what the quota admits ({CAPACITY:g} requests/s), open loop; "
        "(b) splits the same load over four processes. Failures are calls that raised. "
        "Regenerate with `python -m bench.pacing` (see bench/pacing.py for the set-up).",
        "",
        "| client | utilisation | 429 share | failures | p50 (s) | p95 (s) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        failures = str(r.failed) + (
            " (" + ", ".join(f"{k} {n}" for k, n in sorted(r.errors.items())) + ")"
            if r.errors
            else ""
        )
        lines.append(
            f"| {r.client} | {r.utilisation:.2f} | {r.throttled_share:.1%} | {failures} | "
            f"{median(r.latencies):.2f} | {percentile(r.latencies, 95):.2f} |"
        )
    lines += ["", END]
    return "\n".join(lines)


def write(block: str, path: Path = DOCS) -> None:
    """Replace the pacing block of the page (append it, under a heading, the first time)."""
    text = path.read_text(encoding="utf-8")
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n## Pacing and shared quota\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args()
    block = table(run(requests=args.requests))
    print(block)
    if not args.no_write:
        write(block)


if __name__ == "__main__":
    main()
