"""Goodput under throttling: a fixed workload against three rate-limited deployments of one alias.

Setup (one fresh emulator process per scenario, on 127.0.0.1):

- three chat deployments `chat-1..3` on one endpoint, each `TPM` tokens/min and `RPM`
  requests/min. RPM is set high enough that the token bucket is the binding limit.
- Each request: one user message of `PROMPT_CHARS` characters and `max_tokens=MAX_TOKENS`.
  The emulator charges, at admission, its estimate: `ceil(chars/4) + 4` prompt tokens plus
  `max_tokens` (`emulator/_chat.py: estimate`, `_limits.py`) — `COST` tokens per request,
  never reconciled with the actual completion, as on Azure. Refused (429) requests are not
  charged. So "served tokens" = completed requests × `COST`.
- Before the clock starts each bucket is drained with one request of cost = TPM, so the
  pool is in steady state: it can serve exactly `3 × TPM / 60` tokens/s, no initial burst.
- `REQUESTS` requests are driven by `CONCURRENCY` threads (closed loop), far above what one
  deployment admits. No request starts after `TIME_CAP` seconds; those are "not started".

Utilisation = served tokens/s ÷ (3 × TPM / 60), over the time from the start to the last
completion.
"""

from __future__ import annotations

import importlib
import itertools
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import openai

from azure_ai_kit import AzureAIClient, Deployment, RetryPolicy

from ._emulator_process import EmulatorProcess
from ._stats import median, percentile
from .contenders import has_litellm, has_loadbalancer, legacy_http, litellm_module

__all__ = ["COST", "SCENARIOS", "GoodputResult", "run"]

NAMES = ["chat-1", "chat-2", "chat-3"]
TPM = 36_000  # per deployment: 600 tokens/s, i.e. 6 requests/s at COST = 100
RPM = 1_200  # per deployment: 20 requests/s on the 1 s window — not binding
PROMPT_CHARS = 128
MAX_TOKENS = 64
COST = math.ceil(PROMPT_CHARS / 4) + 4 + MAX_TOKENS  # 100 tokens charged per request
REQUESTS = 150
CONCURRENCY = 12
TIME_CAP = 20.0  # seconds; no request starts later
EMULATOR_KEY = "emulator-key"
API_VERSION = "2024-10-21"
PROMPT = ("Summarise the quarterly report for the board in plain words. " * 3)[:PROMPT_CHARS]
MESSAGES: list[Any] = [{"role": "user", "content": PROMPT}]

Call = Callable[[], object]


@dataclass
class GoodputResult:
    """One client's run of the workload."""

    client: str
    completed: int
    failed: int
    not_started: int
    elapsed: float
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def tokens_per_second(self) -> float:
        return self.completed * COST / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def requests(self) -> int:
        return self.completed + self.failed + self.not_started

    @property
    def utilisation(self) -> float:
        return self.tokens_per_second / (len(NAMES) * TPM / 60)

    @property
    def p50(self) -> float:
        return median(self.latencies)

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 95)


# --- the clients -------------------------------------------------------------------------------
def kit_pool(base_url: str, retry: RetryPolicy | None = None) -> Call:
    client = AzureAIClient(
        deployments=[Deployment(n, endpoint=base_url, aliases=("chat",)) for n in NAMES],
        credential=EMULATOR_KEY,
        retry=retry,
    )
    return lambda: client.chat(PROMPT, model="chat", max_tokens=MAX_TOKENS)


def kit_pool_more_attempts(base_url: str) -> Call:
    """The pool with a larger attempt budget: the 60 s deadline still bounds every call."""
    return kit_pool(base_url, RetryPolicy(max_attempts=30))


def _openai(base_url: str) -> openai.AzureOpenAI:
    # The same legacy httpx stack as the kit, so the HTTP client is not what differs.
    return openai.AzureOpenAI(
        azure_endpoint=base_url,
        api_key=EMULATOR_KEY,
        api_version=API_VERSION,
        http_client=legacy_http(httpx.Client()),
    )


def openai_single(base_url: str) -> Call:
    create = _openai(base_url).chat.completions.create  # default max_retries=2
    return lambda: create(model=NAMES[0], messages=MESSAGES, max_tokens=MAX_TOKENS)


def openai_round_robin(base_url: str) -> Call:
    create = _openai(base_url).chat.completions.create
    turns = itertools.cycle(NAMES)
    lock = threading.Lock()

    def call() -> object:
        with lock:
            name = next(turns)
        return create(model=name, messages=MESSAGES, max_tokens=MAX_TOKENS)

    return call


class _HostToDeployment(httpx.BaseTransport):
    """The load balancer picks backends by host; the emulator has one host, three deployments.

    Sends a request for backend host `chat-2.pool` to the emulator's deployment `chat-2`.
    """

    _DEPLOYMENT = re.compile(r"/deployments/[^/]+/")

    def __init__(self, base_url: str) -> None:
        self._target = httpx.URL(base_url)
        self._inner = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        name = request.url.host.split(".")[0]
        path = self._DEPLOYMENT.sub(f"/deployments/{name}/", request.url.path)
        request.url = request.url.copy_with(
            host=self._target.host, port=self._target.port, path=path
        )
        request.headers["host"] = f"{self._target.host}:{self._target.port}"
        return self._inner.handle_request(request)


def priority_loadbalancer(base_url: str) -> Call:
    lb = importlib.import_module("openai_priority_loadbalancer")
    balancer = lb.LoadBalancer([lb.Backend(f"{n}.pool", 1, api_key=EMULATOR_KEY) for n in NAMES])
    balancer._transport = httpx.Client(transport=_HostToDeployment(base_url))
    port = httpx.URL(base_url).port
    client = openai.AzureOpenAI(
        azure_endpoint=f"http://chat.pool:{port}",
        api_key=EMULATOR_KEY,
        api_version=API_VERSION,
        http_client=legacy_http(httpx.Client(transport=balancer)),
    )
    create = client.chat.completions.create
    return lambda: create(model="chat", messages=MESSAGES, max_tokens=MAX_TOKENS)


def litellm_router(base_url: str) -> Call:
    litellm = litellm_module()
    router = litellm.Router(
        model_list=[
            {
                "model_name": "chat",
                "litellm_params": {
                    "model": f"azure/{n}",
                    "api_base": base_url,
                    "api_key": EMULATOR_KEY,
                    "api_version": API_VERSION,
                },
            }
            for n in NAMES
        ]
    )
    return lambda: router.completion(model="chat", messages=MESSAGES, max_tokens=MAX_TOKENS)


def _scenarios() -> list[tuple[str, Callable[[str], Call]]]:
    rows: list[tuple[str, Callable[[str], Call]]] = [
        ("azure-ai-kit pool", kit_pool),
        ("azure-ai-kit pool, max_attempts=30", kit_pool_more_attempts),
        ("openai, one deployment", openai_single),
        ("openai, round-robin ×3", openai_round_robin),
    ]
    if has_loadbalancer():
        rows.append(("openai-priority-loadbalancer", priority_loadbalancer))
    if has_litellm():
        rows.append(("litellm Router", litellm_router))
    return rows


SCENARIOS = _scenarios()


# --- the driver --------------------------------------------------------------------------------
def _drain(base_url: str) -> None:
    """Empty every token bucket, so the run starts in steady state."""
    body = {
        "messages": [{"role": "user", "content": "drain"}],
        "max_tokens": TPM - (math.ceil(len("drain") / 4) + 4),
    }
    with httpx.Client(base_url=base_url, headers={"api-key": EMULATOR_KEY}) as http:
        for name in NAMES:
            response = http.post(
                f"/openai/deployments/{name}/chat/completions",
                params={"api-version": API_VERSION},
                json=body,
            )
            response.raise_for_status()


def _drive(client: str, call: Call, requests: int, time_cap: float) -> GoodputResult:
    lock = threading.Lock()
    issued = itertools.count()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    finished: list[float] = []
    start = time.perf_counter()

    def worker() -> None:
        while next(issued) < requests and time.perf_counter() - start < time_cap:
            began = time.perf_counter()
            try:
                call()
            except Exception as exc:  # every failure counts; the kinds go in the report
                with lock:
                    kind = type(exc).__name__
                    errors[kind] = errors.get(kind, 0) + 1
                    finished.append(time.perf_counter())
                continue
            ended = time.perf_counter()
            with lock:
                latencies.append(ended - began)
                finished.append(ended)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=time_cap + 70 - (time.perf_counter() - start))
    with lock:
        failed = sum(errors.values())
        done = len(latencies) + failed
        return GoodputResult(
            client=client,
            completed=len(latencies),
            failed=failed,
            not_started=requests - done,
            elapsed=(max(finished) if finished else time.perf_counter()) - start,
            latencies=list(latencies),
            errors=dict(errors),
        )


def run(
    *,
    log: Callable[[str], None] = print,
    requests: int = REQUESTS,
    time_cap: float = TIME_CAP,
) -> list[GoodputResult]:
    """Run every scenario against a fresh emulator process; returns one result per client.

    Fewer `requests` (and a shorter `time_cap`) make a quick run; the published page uses the
    defaults.
    """
    results: list[GoodputResult] = []
    for client, build in SCENARIOS:
        with EmulatorProcess(NAMES, tpm=TPM, rpm=RPM) as base_url:
            call = build(base_url)
            _drain(base_url)
            result = _drive(client, call, requests, time_cap)
        log(
            f"  {client}: {result.completed} ok, {result.failed} failed, "
            f"{result.utilisation:.2f} utilisation in {result.elapsed:.1f}s"
        )
        results.append(result)
    return results
