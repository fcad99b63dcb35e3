"""Where pool state lives: `StateStore`, in this process (`LocalStore`) or in Redis (`RedisStore`).

Two kinds of state are shared. Quota buckets: each deployment has a token bucket and a request
bucket, each kept as one number, its *theoretical arrival time* (the instant the bucket would be
full again; GCRA). A reservation moves it forward atomically, so admission is a single update
whoever makes it. Holds: a deployment cooling after a 429 or a failure, or broken, until an
instant. Times are in the caller's clock; `RedisStore` turns them into wall-clock time with the
offset it measured at start, so processes on one machine (or NTP-synced machines) agree.

The Redis updates are Lua scripts (atomic on the server); keys are namespaced per endpoint and
deployment and expire on their own. When Redis cannot be reached, `RedisStore` warns once and
keeps working on an in-process `LocalStore` until Redis answers again (tried every
`retry_every` seconds): calls never fail because Redis is down.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["Hold", "LocalStore", "RedisStore", "StateStore", "make_store"]

logger = logging.getLogger("azure_ai_kit")

#: A bucket's horizon: a full token bucket is one minute of quota (Azure's TPM).
WINDOW = 60.0
#: Seconds of requests that may go at once: Azure counts RPM over 1 s windows too.
BURST = 1.0
_BUCKET_TTL = 2 * WINDOW + 10  # past this a bucket is full again; forgetting it changes nothing


@dataclass(frozen=True, slots=True)
class Hold:
    """A deployment unavailable until `until` (caller's clock): `kind` "cooling" or "broken"."""

    until: float
    kind: str
    error: str
    probe: bool


class StateStore:
    """The interface the client keeps pool state behind. Subclass it to keep state elsewhere.

    `reserve` is the only bucket operation: it finds the earliest start >= `not_before` at which
    a request costing `token_seconds` of the token bucket (tokens × 60 / TPM; 0: unpaced) and
    `request_seconds` of the request bucket (60 / RPM; 0: unpaced) fits, and commits it when
    that start is <= `latest`. `drain` records that Azure reported fewer tokens left than the
    bucket believed. `hold`/`holds` share the Router's cooldowns and breaker state.
    """

    #: True when other processes see this store's state (the client then syncs holds with it).
    shared = False

    def reserve(
        self,
        key: str,
        now: float,
        *,
        not_before: float,
        token_seconds: float,
        request_seconds: float,
        latest: float,
    ) -> tuple[float, bool]:
        """(start, committed): the earliest start for the request, and whether it was booked."""
        raise NotImplementedError

    def drain(self, key: str, now: float, full_at: float) -> None:
        """The token bucket is known to be full no earlier than `full_at`."""
        raise NotImplementedError

    def hold(self, key: str, now: float, hold: Hold) -> None:
        """Publish a hold on a deployment (a longer one already in force wins)."""
        raise NotImplementedError

    def holds(self, keys: Sequence[str], now: float) -> list[Hold | None]:
        """The holds in force now on each key, in order (None: none)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections, if any."""


class LocalStore(StateStore):
    """State in this process: a dict under a lock. The default."""

    def __init__(self) -> None:
        self._buckets: dict[str, list[float]] = {}  # key -> [tokens TAT, requests TAT]
        self._holds: dict[str, Hold] = {}
        self._lock = threading.Lock()

    def reserve(
        self,
        key: str,
        now: float,
        *,
        not_before: float,
        token_seconds: float,
        request_seconds: float,
        latest: float,
    ) -> tuple[float, bool]:
        """See `StateStore.reserve`."""
        with self._lock:
            tat = self._buckets.get(key)
            if tat is None:
                tat = self._buckets[key] = [-math.inf, -math.inf]
            start, tokens, requests = _book(
                tat[0], tat[1], now, not_before, token_seconds, request_seconds
            )
            if start > latest:
                return start, False
            tat[0], tat[1] = tokens, requests
            return start, True

    def drain(self, key: str, now: float, full_at: float) -> None:
        """See `StateStore.drain`."""
        with self._lock:
            tat = self._buckets.setdefault(key, [-math.inf, -math.inf])
            tat[0] = max(tat[0], full_at)

    def hold(self, key: str, now: float, hold: Hold) -> None:
        """See `StateStore.hold`."""
        with self._lock:
            old = self._holds.get(key)
            if old is None or old.until <= hold.until or old.until <= now:
                self._holds[key] = hold

    def holds(self, keys: Sequence[str], now: float) -> list[Hold | None]:
        """See `StateStore.holds`."""
        with self._lock:
            found = [self._holds.get(k) for k in keys]
        return [h if h is not None and h.until > now else None for h in found]


def _book(
    tokens_tat: float,
    requests_tat: float,
    now: float,
    not_before: float,
    token_seconds: float,
    request_seconds: float,
) -> tuple[float, float, float]:
    # GCRA: the token bucket admits while its TAT stays within one WINDOW of the start; the
    # request bucket lets one second's requests (RPM/60, what Azure's 1 s window admits) go at
    # once, then one per 60/RPM s: spacing every request would delay a burst Azure accepts.
    start = max(now, not_before)
    if token_seconds > 0:
        start = max(start, tokens_tat + min(token_seconds, WINDOW) - WINDOW)
        tokens_tat = max(tokens_tat, start) + token_seconds
    if request_seconds > 0:
        start = max(start, requests_tat + min(request_seconds, BURST) - BURST)
        requests_tat = max(requests_tat, start) + request_seconds
    return start, tokens_tat, requests_tat


# KEYS: tokens TAT, requests TAT. ARGV: now, not_before, token_s, request_s, latest, ttl_ms.
# Mirrors _book; times are wall-clock seconds, returned as a string to keep the fraction.
_RESERVE = """
local now, nb = tonumber(ARGV[1]), tonumber(ARGV[2])
local ts, rs, latest = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local tt = tonumber(redis.call('GET', KEYS[1]) or '-1e18')
local tr = tonumber(redis.call('GET', KEYS[2]) or '-1e18')
local start = math.max(now, nb)
if ts > 0 then start = math.max(start, tt + math.min(ts, 60) - 60) end
if rs > 0 then start = math.max(start, tr + math.min(rs, 1) - 1) end
if start > latest then return {string.format('%.6f', start), 0} end
if ts > 0 then
  redis.call('SET', KEYS[1], string.format('%.6f', math.max(tt, start) + ts), 'PX', ARGV[6])
end
if rs > 0 then
  redis.call('SET', KEYS[2], string.format('%.6f', math.max(tr, start) + rs), 'PX', ARGV[6])
end
return {string.format('%.6f', start), 1}
"""

# KEYS: tokens TAT. ARGV: full_at, ttl_ms.
_DRAIN = """
local tt = tonumber(redis.call('GET', KEYS[1]) or '-1e18')
if tonumber(ARGV[1]) > tt then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) end
return 1
"""

# KEYS: hold. ARGV: until, encoded hold, ttl_ms. A longer hold in force wins.
_HOLD = """
local old = redis.call('GET', KEYS[1])
if old then
  local ends = tonumber(string.match(old, '^[^|]+'))
  if ends and ends > tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1
"""


class RedisStore(StateStore):
    """State in Redis, shared by every client pointed at the same server and database.

    `url` is `redis://host:port/db` (any URL `redis.Redis.from_url` takes); `prefix` namespaces
    the keys. `clock` is the client's clock; `offset` turns its times into wall-clock time
    (measured at start unless given: give it when several stores share a fake clock).
    Processes on different machines must have their clocks in sync (NTP). Redis calls time
    out after `timeout` seconds; on any Redis error the store warns once and falls back to
    in-process state, trying Redis again every `retry_every` seconds.
    """

    shared = True

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "azure-ai-kit",
        timeout: float = 0.5,
        retry_every: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        offset: float | None = None,
    ) -> None:
        try:
            import redis
        except ImportError:
            raise ImportError(
                "state='redis://…' needs the redis package: pip install 'azure-ai-kit[redis]'"
            ) from None
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._url = _safe_url(url)
        self._prefix = prefix
        self._retry_every = retry_every
        self._wall = time.time
        self._monotonic = time.monotonic
        # caller's clock + offset = wall-clock time. Measured, it is the same in every process
        # on a machine for time.monotonic; a fake clock needs it given, or it drifts apart.
        self._offset = time.time() - clock() if offset is None else offset
        self._fallback = LocalStore()
        self._down_since: float | None = None
        self._warned = False
        self._reserve = self._redis.register_script(_RESERVE)
        self._drain = self._redis.register_script(_DRAIN)
        self._hold = self._redis.register_script(_HOLD)

    def __repr__(self) -> str:
        return f"RedisStore({self._url!r}, prefix={self._prefix!r})"

    @property
    def degraded(self) -> bool:
        """True while Redis is unreachable and state is kept in this process."""
        return self._down_since is not None

    def reserve(
        self,
        key: str,
        now: float,
        *,
        not_before: float,
        token_seconds: float,
        request_seconds: float,
        latest: float,
    ) -> tuple[float, bool]:
        """See `StateStore.reserve`."""
        if self._usable():
            off = self._offset
            try:
                start, committed = self._reserve(
                    keys=[self._key(key, "tokens"), self._key(key, "requests")],
                    args=[
                        _num(now + off),
                        _num(max(not_before, now) + off),
                        _num(token_seconds),
                        _num(request_seconds),
                        _num(max(-1e15, min(latest, 1e15)) + off),
                        int(_BUCKET_TTL * 1000),
                    ],
                )
                return float(start) - off, bool(int(committed))
            except self._errors as exc:
                self._lost(exc)
        return self._fallback.reserve(
            key,
            now,
            not_before=not_before,
            token_seconds=token_seconds,
            request_seconds=request_seconds,
            latest=latest,
        )

    def drain(self, key: str, now: float, full_at: float) -> None:
        """See `StateStore.drain`."""
        if self._usable():
            try:
                self._drain(
                    keys=[self._key(key, "tokens")],
                    args=[_num(full_at + self._offset), int(_BUCKET_TTL * 1000)],
                )
                return
            except self._errors as exc:
                self._lost(exc)
        self._fallback.drain(key, now, full_at)

    def hold(self, key: str, now: float, hold: Hold) -> None:
        """See `StateStore.hold`."""
        self._fallback.hold(key, now, hold)  # so a later outage keeps what we knew
        if self._usable():
            until = hold.until + self._offset
            encoded = f"{until:.6f}|{hold.kind}|{int(hold.probe)}|{hold.error}"
            ttl = max(1, int((hold.until - now) * 1000) + 1000)
            try:
                self._hold(keys=[self._key(key, "hold")], args=[_num(until), encoded, ttl])
            except self._errors as exc:
                self._lost(exc)

    def holds(self, keys: Sequence[str], now: float) -> list[Hold | None]:
        """See `StateStore.holds`."""
        if self._usable():
            try:
                values = self._redis.mget([self._key(k, "hold") for k in keys])
                return [self._decode(v, now) for v in values]
            except self._errors as exc:
                self._lost(exc)
        return self._fallback.holds(keys, now)

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()

    def _key(self, key: str, what: str) -> str:
        return f"{self._prefix}:{key}:{what}"

    def _decode(self, value: Any, now: float) -> Hold | None:
        if value is None:
            return None
        until, kind, probe, error = value.decode().split("|", 3)
        hold = Hold(float(until) - self._offset, kind, error, probe == "1")
        return hold if hold.until > now else None

    def _usable(self) -> bool:
        if self._down_since is None:
            return True
        if self._monotonic() - self._down_since < self._retry_every:
            return False
        self._down_since = None  # try Redis again; _lost puts us back if it still fails
        return True

    def _lost(self, exc: BaseException) -> None:
        was_up = self._down_since is None
        self._down_since = self._monotonic()
        if was_up and not self._warned:
            self._warned = True
            logger.warning(
                "azure-ai-kit: Redis at %s is unreachable (%s); keeping pool state in this "
                "process until it answers again",
                self._url,
                type(exc).__name__,
            )


def make_store(state: str | StateStore | None, clock: Callable[[], float]) -> StateStore:
    """The store `state=` names: None or "local" → in-process; `redis://…` → `RedisStore`."""
    if state is None or state == "local" or state == "":
        return LocalStore()
    if isinstance(state, StateStore):
        return state
    if isinstance(state, str) and state.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(state, clock=clock)
    raise ValueError(
        f"state= must be None, 'local', a 'redis://host:port/db' URL or a StateStore; "
        f"got {_safe_url(str(state))!r}"
    )


def _num(value: float) -> str:
    return f"{value:.6f}"


def _safe_url(url: str) -> str:
    # A Redis URL may carry a password (redis://:secret@host): never log or repr it.
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}{sep}{rest}"
