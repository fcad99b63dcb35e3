"""Usage accounting: tokens and calls per deployment and alias since the client started.

`client.usage()` returns a `UsageReport`; with a price table it also estimates the cost.
The ledger is lock-protected because one client serves many threads or tasks.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ._results import Usage

__all__ = ["Price", "UsageLedger", "UsageLine", "UsageReport"]


@dataclass(frozen=True)
class Price:
    """What a deployment costs per 1,000 input (prompt) and output (completion) tokens.

    `cached_input_per_1k` prices the cached part of the prompt (Azure bills cached input at
    a discount); without it, cached tokens cost `input_per_1k` like the rest of the prompt.
    Reasoning tokens are output tokens: Azure counts them in `completion_tokens`.
    """

    input_per_1k: float
    output_per_1k: float = 0.0
    cached_input_per_1k: float | None = None

    def __post_init__(self) -> None:
        for name in ("input_per_1k", "output_per_1k", "cached_input_per_1k"):
            value = getattr(self, name)
            if value is not None and not 0 <= value < float("inf"):
                raise ValueError(f"Price.{name} must be a finite number >= 0, got {value!r}")

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
        """The estimated cost of this many tokens, in the price table's currency.

        `cached_tokens` is the part of `prompt_tokens` Azure served from its prompt cache.
        """
        cached = min(max(cached_tokens, 0), prompt_tokens)
        if self.cached_input_per_1k is None:
            cached = 0
        fresh = prompt_tokens - cached
        return (
            fresh * self.input_per_1k
            + cached * (self.cached_input_per_1k or 0.0)
            + completion_tokens * self.output_per_1k
        ) / 1000


@dataclass(frozen=True)
class UsageLine:
    """Calls and tokens for one deployment, one alias, or the total; `cost` when priced.

    `cached_tokens` is the part of `prompt_tokens` served from Azure's prompt cache,
    `reasoning_tokens` the part of `completion_tokens` a reasoning model spent thinking.
    """

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost: float | None = None
    cached_tokens: int = 0
    reasoning_tokens: int = 0

    def __add__(self, other: UsageLine) -> UsageLine:
        cost = None
        if self.cost is not None or other.cost is not None:
            cost = (self.cost or 0.0) + (other.cost or 0.0)
        return UsageLine(
            self.calls + other.calls,
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            self.total_tokens + other.total_tokens,
            cost,
            self.cached_tokens + other.cached_tokens,
            self.reasoning_tokens + other.reasoning_tokens,
        )


@dataclass(frozen=True)
class UsageReport:
    """Usage since the client started, by deployment (`name@host`) and by alias.

    `estimated_cost` is the total cost when a price table was given and covered every
    deployment that was used, else `None` (a partial sum would read as a complete one).
    """

    by_deployment: Mapping[str, UsageLine] = field(default_factory=dict)
    by_alias: Mapping[str, UsageLine] = field(default_factory=dict)
    total: UsageLine = field(default_factory=UsageLine)
    estimated_cost: float | None = None

    def summary(self) -> str:
        """One line for a program's last status message: calls, tokens, deployments, cost."""
        served = ", ".join(f"{name.split('@')[0]} ×{line.calls}" for name, line in
                           self.by_deployment.items())  # fmt: skip
        calls = self.total.calls
        text = f"{calls} call{'' if calls == 1 else 's'}, {self.total.total_tokens:,} tokens"
        if served:
            text += f" ({served})"
        if self.estimated_cost is not None:
            text += f", est. cost {self.estimated_cost:.4f}"
        return text

    def __str__(self) -> str:
        # The cached and reasoning columns appear only when some call reported them.
        details = bool(self.total.cached_tokens or self.total.reasoning_tokens)
        rows: list[tuple[str, ...]] = [
            ("deployment", "calls", "prompt", "completion", "total", "cost")
            + (("cached", "reasoning") if details else ())
        ]
        for name, line in [*self.by_deployment.items(), ("total", self.total)]:
            cost = "-" if line.cost is None else f"{line.cost:.4f}"
            extra = (f"{line.cached_tokens:,}", f"{line.reasoning_tokens:,}") if details else ()
            rows.append(
                (name, str(line.calls), f"{line.prompt_tokens:,}", f"{line.completion_tokens:,}",
                 f"{line.total_tokens:,}", cost, *extra)
            )  # fmt: skip
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        return "\n".join(
            "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                      enumerate(zip(row, widths, strict=True)))
            for row in rows
        )  # fmt: skip


@dataclass
class _Tally:
    calls: int = 0
    prompt: int = 0
    completion: int = 0
    total: int = 0
    cached: int = 0
    reasoning: int = 0


class UsageLedger:
    """Counts every successful call's usage; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (deployment id, deployment name, alias) → tally
        self._tallies: dict[tuple[str, str, str], _Tally] = {}

    def record(self, deployment_id: str, deployment_name: str, alias: str, usage: Usage) -> None:
        """Add one call and its tokens."""
        with self._lock:
            key = (deployment_id, deployment_name, alias)
            tally = self._tallies.get(key)
            if tally is None:
                tally = self._tallies[key] = _Tally()
            tally.calls += 1
            tally.prompt += usage.prompt_tokens
            tally.completion += usage.completion_tokens
            tally.total += usage.total_tokens
            tally.cached += usage.cached_tokens
            tally.reasoning += usage.reasoning_tokens

    def report(self, prices: Mapping[str, Price] | None = None) -> UsageReport:
        """Sum the tallies; `prices` is keyed by deployment name or `name@host`."""
        with self._lock:
            items = [(key, _Tally(**vars(t))) for key, t in self._tallies.items()]
        by_deployment: dict[str, UsageLine] = {}
        by_alias: dict[str, UsageLine] = {}
        unpriced = False
        for (dep_id, dep_name, alias), t in items:
            price = _price_for(prices, dep_id, dep_name)
            cost = price.cost(t.prompt, t.completion, t.cached) if price else None
            unpriced = unpriced or (prices is not None and price is None)
            line = UsageLine(t.calls, t.prompt, t.completion, t.total, cost, t.cached, t.reasoning)
            by_deployment[dep_id] = by_deployment.get(dep_id, UsageLine()) + line
            by_alias[alias] = by_alias.get(alias, UsageLine()) + line
        total = _sum(by_deployment.values())
        estimated = None if prices is None or unpriced else (total.cost or 0.0)
        return UsageReport(by_deployment, by_alias, total, estimated)


def _price_for(prices: Mapping[str, Price] | None, dep_id: str, name: str) -> Price | None:
    if not prices:
        return None
    return prices.get(dep_id) or prices.get(name)


def _sum(lines: Iterable[UsageLine]) -> UsageLine:
    total = UsageLine()
    for line in lines:
        total = total + line
    return total
