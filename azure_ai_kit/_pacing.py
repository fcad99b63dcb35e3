"""Client-side pacing: admit a request only when its deployment's quota has room for it.

Azure charges each request at admission with an estimate (prompt tokens + `max_tokens` × `n`)
against the deployment's tokens-per-minute bucket, and counts requests over 1 s and 10 s
windows (RPM / 60 per second). `Pacer` keeps the same books on the client side, in a
`StateStore` (in-process, or Redis for a fleet), so a request is sent only when Azure would
admit it: to a deployment with room, else booked on the one that has room soonest and sent
when that time comes (first come, first served: bookings move the bucket forward in order).

A deployment is paced once its quota is known: `Deployment(tpm=…, rpm=…)`, the pool file's
`tpm`/`rpm`, or Azure's `x-ratelimit-limit-tokens`/`-requests` headers (-1 or 0 mean unknown).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._deployment import Deployment
from ._state import WINDOW, StateStore

__all__ = [
    "CHARS_PER_TOKEN",
    "DEFAULT_COMPLETION_ESTIMATE",
    "MESSAGE_OVERHEAD",
    "Pacer",
    "chat_cost",
    "embedding_cost",
    "estimate_tokens",
]

#: The estimate's rule: one token per four characters, rounded up (OpenAI's rule of thumb for
#: English). Tokenizers that work offline need their vocabulary shipped; this needs nothing.
CHARS_PER_TOKEN = 4
#: Tokens per message for the role and separators.
MESSAGE_OVERHEAD = 4
#: Completion tokens assumed when a request sets no `max_tokens` (the legacy default).
DEFAULT_COMPLETION_ESTIMATE = 16


def estimate_tokens(text: str) -> int:
    """`ceil(len(text) / 4)`: the kit's token estimate for text."""
    return -(-len(text) // CHARS_PER_TOKEN)


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts: count the text ones
        return "".join(
            str(p.get("text", "")) for p in content if isinstance(p, Mapping) and "text" in p
        )
    return "" if content is None else str(content)


def chat_cost(messages: Iterable[Any], options: Mapping[str, Any]) -> int:
    """What Azure charges a chat request at admission, estimated: the prompt's tokens (each
    message's text / 4 + 4, plus the tools' JSON) + (`max_tokens` or `max_completion_tokens`,
    else 16) × `n`."""
    prompt = 0
    for m in messages:
        content = m.get("content") if isinstance(m, Mapping) else getattr(m, "content", None)
        prompt += MESSAGE_OVERHEAD + estimate_tokens(_text(content))
    if options.get("tools"):
        prompt += estimate_tokens(json.dumps(options["tools"], sort_keys=True, default=str))
    limit = options.get("max_completion_tokens", options.get("max_tokens"))
    completion = DEFAULT_COMPLETION_ESTIMATE if limit is None else int(limit)
    return prompt + completion * int(options.get("n") or 1)


def embedding_cost(texts: str | Sequence[str]) -> int:
    """What an embeddings request costs at admission, estimated: its input's tokens."""
    if isinstance(texts, str):
        return estimate_tokens(texts)
    return sum(estimate_tokens(t) for t in texts)


def _positive_int(value: str | None) -> int | None:
    try:
        number = int(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and number > 0 else None


class Pacer:
    """Books requests against each deployment's token and request buckets in a `StateStore`.

    Pure bookkeeping on injected times: the caller (`CallState`) decides where to send and
    sleeps the wait it is given.
    """

    def __init__(self, deployments: Sequence[Deployment], store: StateStore) -> None:
        self.store = store
        # deployment -> [tpm, rpm]: configured, else learned from headers (None: unknown).
        self._limits = {d: [d.tpm, d.rpm] for d in deployments}
        self._keys = {d: _key(d) for d in deployments}
        self.active = any(t or r for t, r in self._limits.values())

    def key(self, deployment: Deployment) -> str:
        """The store key of a deployment: its endpoint's host and its name."""
        return self._keys[deployment]

    def limits(self, deployment: Deployment) -> tuple[int | None, int | None]:
        """(TPM, RPM) known for the deployment, configured or learned."""
        tpm, rpm = self._limits[deployment]
        return tpm, rpm

    def paces(self, deployment: Deployment) -> bool:
        """True when some quota of the deployment is known."""
        tpm, rpm = self._limits[deployment]
        return bool(tpm or rpm)

    def book(
        self,
        deployment: Deployment,
        cost: int,
        now: float,
        *,
        not_before: float,
        latest: float,
    ) -> tuple[float, bool]:
        """(start, booked): the earliest start for a request of `cost` tokens on the
        deployment, booked when it is no later than `latest`."""
        tpm, rpm = self._limits[deployment]
        if not (tpm or rpm):
            start = max(now, not_before)
            return start, start <= latest
        return self.store.reserve(
            self._keys[deployment],
            now,
            not_before=not_before,
            # A request over the whole TPM is booked on a full bucket; Azure decides the rest.
            token_seconds=min(cost, tpm) * WINDOW / tpm if tpm and cost > 0 else 0.0,
            request_seconds=WINDOW / rpm if rpm else 0.0,
            latest=latest,
        )

    def learn(self, deployment: Deployment, headers: Mapping[str, str], now: float) -> None:
        """Take the quota from Azure's `x-ratelimit-*` headers, and drain the token bucket
        when Azure reports fewer tokens left than it holds (other clients spend it too)."""
        limits = self._limits[deployment]
        limit = headers.get("x-ratelimit-limit-tokens")
        if limit is not None and deployment.tpm is None:
            learned = _positive_int(limit)
            if learned is not None:
                limits[0] = learned
        limit = headers.get("x-ratelimit-limit-requests")
        if limit is not None and deployment.rpm is None:
            learned = _positive_int(limit)
            if learned is not None:
                limits[1] = learned
        if limits[0] or limits[1]:
            self.active = True
        tpm = limits[0]
        remaining = headers.get("x-ratelimit-remaining-tokens")
        if tpm and remaining is not None:
            try:
                left = int(remaining)
            except ValueError:
                return
            if 0 <= left < tpm:
                # The bucket is full again once the missing tokens have flowed back in.
                self.store.drain(self._keys[deployment], now, now + (tpm - left) * WINDOW / tpm)

    def throttled(self, deployment: Deployment, now: float) -> None:
        """Azure answered 429: its bucket has no room now, whatever ours says, so ours is
        emptied (it refills at the usual rate; the Router keeps the Retry-After pause)."""
        if self._limits[deployment][0]:
            self.store.drain(self._keys[deployment], now, now + WINDOW)


def _key(d: Deployment) -> str:
    return f"{d.host}/{d.name}"


def describe_wait(seconds: float) -> str:
    """A wait for messages: `0.4 s`, `12 s`, `2 min 5 s`."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    whole = math.ceil(seconds)
    return f"{whole // 60} min {whole % 60} s" if whole >= 60 else f"{whole} s"
