"""Each user's budget for live deliveries: a token bucket of cost units (MAX_COST's units).

Before a delivery runs it pays from its user's bucket, which refills at LIVE_COST_PER_SECOND
up to LIVE_COST_BURST: its operation's estimated cost (`graph/extensions/analysis.py`, what a
query of the same selection costs), plus DELIVERY_OVERHEAD for what every delivery costs
whatever it selects (its session, its event's row, executing, encoding), plus SEND_OVERHEAD
for each subscriber it is sent to. The overheads are measured, in the estimate's units: here
a delivery of `taskChanges { nodeId }` (cost 2) took ~1.8 ms of CPU, one of cost 7 ~2.6 ms,
one of cost 215 (a task with its steps and history count) ~6.7 ms; ~20 us a unit, and ~100
units of fixed cost. A send is ~50-60 us (uvicorn's frame, permessage-deflate's compression
per connection, the write), ~3 units. Without the overheads a budget in estimate units would
let through thousands of cheap deliveries a second, or one delivery to 400 subscribers for
the price of one: cores of CPU.

A user past the budget waits: their deliveries sleep (no CPU) in the order they asked, while
every other user's run. A delivery dearer than the burst waits for a full bucket and leaves
it in debt, so it runs, at its user's pace. And a user's deliveries run at most
DELIVERIES_AT_ONCE at a time (from `spend` to `finished`), so a burst of cheap ones cannot
hold the connection pool (20 connections by default) that other users' requests wait for.

What it costs: a user's deliveries past the burst arrive late, not lost, unless they wait
so long that their backlog overflows (graph/pubsub/), which ends the stream furthest behind
with FELL_BEHIND. The budget is per process: with N processes a user may spend N times it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

DELIVERY_OVERHEAD = 100
SEND_OVERHEAD = 3
DELIVERIES_AT_ONCE = 4


class CostBudget:
    def __init__(
        self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = burst
        self._updated = clock()
        self._turn = asyncio.Lock()  # FIFO: waiting deliveries are served in order
        self._running = asyncio.Semaphore(DELIVERIES_AT_ONCE)

    @property
    def tokens(self) -> float:
        self._refill()
        return self._tokens

    async def spend(self, cost: int) -> None:
        """Take `cost` units, first waiting until the bucket holds them (or is full) and a
        delivery of this user's has `finished` if DELIVERIES_AT_ONCE are running."""
        await self._running.acquire()
        try:
            async with self._turn:
                needed = min(cost, self.burst)
                self._refill()
                while self._tokens < needed:
                    await asyncio.sleep((needed - self._tokens) / self.rate)
                    self._refill()
                self._tokens -= cost
        except BaseException:
            self._running.release()
            raise

    def finished(self) -> None:
        """A delivery paid for by `spend` has run."""
        self._running.release()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
