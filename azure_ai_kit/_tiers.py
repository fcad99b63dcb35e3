"""The Router's bookkeeping: each deployment's `Health`, and the `Tier`s it picks from.

A `Tier` is the members of one candidate list that share a priority. It mirrors their health
in structures that make a pick cost O(log n), not O(n): the Router calls `Tier.sync` after
every change to a member's health, and `Tier.pick` wakes members whose hold has ended.
Nothing here locks; the Router holds its lock around every call.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from heapq import heapify, heappop, heappush, heapreplace
from typing import Literal

from ._deployment import Deployment

__all__ = ["Health", "State", "Tier"]

State = Literal["healthy", "cooling", "broken"]


@dataclass(slots=True)
class Health:
    kind: State = "healthy"
    until: float = -math.inf  # clock time from which it may be chosen again (all holds)
    throttled_at: float = -math.inf  # clock time the last 429 was recorded
    throttled_until: float = -math.inf  # the end of the 429 holds alone
    needs_probe: bool = False  # breaker half-open once `until` passes: one caller tests it
    probing: bool = False  # that one caller has it and has not reported back yet
    probe_at: float = -math.inf  # clock time the probe was handed out
    failures: int = 0
    throttles: int = 0
    short_hints: int = 0  # consecutive 429s whose hint was under MIN_THROTTLE_PAUSE
    last_error: str | None = None
    remaining_tokens: int | None = None
    remaining_requests: int | None = None
    tiers: list[Tier] = field(default_factory=list)  # the tiers to tell about changes

    def available(self, now: float) -> bool:
        return now >= self.until and not self.probing

    def hold(self, kind: State, until: float, error: str, *, now: float, probe: bool) -> None:
        # Attempts finish out of order, so a longer hold already in force wins, and a
        # deployment stays "broken" (and probed) until that runs out.
        still_broken = self.kind == "broken" and self.until > now
        self.until = max(self.until, until)
        self.kind = "broken" if still_broken or kind == "broken" else "cooling"
        self.needs_probe = probe or still_broken
        self.probing = False
        self.last_error = error


class Tier:
    """The members of one candidate list that share a priority, kept ready to pick from.

    Free members sit in two heaps: by the turn they were last picked (round-robin: the one
    left alone longest goes next) and by remaining tokens. Held members sit in a heap of
    deadlines. Entries are never removed in place: one that no longer matches `free`/`held`
    is skipped when it surfaces, and a heap is rebuilt once such garbage outgrows the tier.
    """

    __slots__ = (
        "by_tokens",
        "by_turn",
        "cooling",
        "free",
        "held",
        "pos",
        "room",
        "stamp",
        "turn",
        "unknown",
    )

    def __init__(self, members: tuple[Deployment, ...]) -> None:
        self.pos = {d: i for i, d in enumerate(members)}  # ties go to the caller's order
        self.free: dict[Deployment, int | None] = {}  # free member -> its remaining tokens
        self.unknown = 0  # free members whose remaining tokens are unknown
        self.held: dict[Deployment, float] = {}  # held member -> the end of its hold
        self.stamp = dict.fromkeys(members, 0)  # member -> the turn it was last picked on
        self.turn = 0
        # Entries (key, stamp, pos, member); key 0 in by_turn, -tokens in by_tokens.
        self.by_turn: list[tuple[int, int, int, Deployment]] = []
        self.by_tokens: list[tuple[int, int, int, Deployment]] = []
        self.cooling: list[tuple[float, int, Deployment]] = []  # (until, pos, member)
        self.room = 2 * len(members) + 8  # heap size past which stale entries are swept

    def sync(self, d: Deployment, h: Health, now: float) -> None:
        """Bring this tier's view of `d` in line with its health."""
        if h.available(now):
            self.held.pop(d, None)
            tokens = h.remaining_tokens
            if d not in self.free:
                self.unknown += tokens is None
                self.free[d] = tokens
                self._push(d)
            elif self.free[d] != tokens:
                self.unknown += (tokens is None) - (self.free[d] is None)
                self.free[d] = tokens
                self._push(d, turn=False)
            return
        if d in self.free:
            self.unknown -= self.free.pop(d) is None
        if now >= h.until:  # a probe is out: free again once its caller reports back
            self.held.pop(d, None)
        elif self.held.get(d) != h.until:
            self.held[d] = h.until
            heappush(self.cooling, (h.until, self.pos[d], d))
            if len(self.cooling) > self.room:
                self.cooling = [(u, self.pos[m], m) for m, u in self.held.items()]
                heapify(self.cooling)

    def pick(
        self, now: float, health: dict[Deployment, Health], exclude: Collection[Deployment]
    ) -> Deployment | None:
        """The free member to use next (the richest if all report quota, else the next in
        turn), or None when every free member is excluded."""
        free = self.free
        while self.cooling and self.cooling[0][0] <= now:
            until, _, d = heappop(self.cooling)
            if self.held.get(d) == until:
                self.sync(d, health[d], now)
        if not exclude:
            if not free:
                return None
            skipped: Collection[Deployment] = ()
            by_tokens = not self.unknown
        else:
            skipped = {d for d in exclude if d in free}
            if len(skipped) == len(free):
                return None
            by_tokens = self.unknown == sum(free[d] is None for d in skipped)
        heap = self.by_tokens if by_tokens else self.by_turn
        aside = []
        while True:
            key, stamp, _, d = heap[0]
            if d not in free or self.stamp[d] != stamp or (by_tokens and free[d] != -key):
                heappop(heap)  # out of date
            elif d in skipped:
                aside.append(heappop(heap))
            else:
                break
        self.turn += 1
        self.stamp[d] = self.turn
        tokens, pos = free[d], self.pos[d]
        # The winner's entry is replaced in place (one sift); the other heap gets a new one.
        turn_entry = (0, self.turn, pos, d)
        token_entry = None if tokens is None else (-tokens, self.turn, pos, d)
        if token_entry is not None and by_tokens:
            heapreplace(self.by_tokens, token_entry)
            heappush(self.by_turn, turn_entry)
        else:
            heapreplace(self.by_turn, turn_entry)
            if token_entry is not None:
                heappush(self.by_tokens, token_entry)
        for entry in aside:
            heappush(heap, entry)
        self._sweep()
        return d

    def wakes_at(self, now: float, exclude: Collection[Deployment], recheck: float) -> float:
        """The clock time a member not in `exclude` is next free (`inf`: none can be)."""
        if self.free and not exclude:
            return now
        at, aside = math.inf, []
        while self.cooling:
            until, _, d = self.cooling[0]
            if self.held.get(d) != until:
                heappop(self.cooling)
            elif d in exclude:
                aside.append(heappop(self.cooling))
            else:
                at = until
                break
        for entry in aside:
            heappush(self.cooling, entry)
        # Members neither free nor held are out as probes; their end is unknown.
        excluded = {d for d in exclude if d in self.pos}
        probes = len(self.pos) - len(self.free) - len(self.held)
        if probes > sum(1 for d in excluded if d not in self.free and d not in self.held):
            at = min(at, now + recheck)
        return at

    def _push(self, d: Deployment, *, turn: bool = True) -> None:
        tokens, stamp, pos = self.free[d], self.stamp[d], self.pos[d]
        if turn:
            heappush(self.by_turn, (0, stamp, pos, d))
        if tokens is not None:
            heappush(self.by_tokens, (-tokens, stamp, pos, d))
        self._sweep()

    def _sweep(self) -> None:
        if len(self.by_turn) > self.room or len(self.by_tokens) > self.room:
            self.by_turn = [(0, self.stamp[m], self.pos[m], m) for m in self.free]
            self.by_tokens = [
                (-t, self.stamp[m], self.pos[m], m) for m, t in self.free.items() if t is not None
            ]
            heapify(self.by_turn)
            heapify(self.by_tokens)
