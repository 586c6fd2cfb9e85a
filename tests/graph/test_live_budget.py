"""Each user's budget for live deliveries (graph/live/budget.py): a token bucket of cost
units. Timed in tenths of a second: what is checked is who waits and roughly how long."""

from __future__ import annotations

import asyncio
import time

from graph.live.budget import DELIVERIES_AT_ONCE, CostBudget


async def timed(budget: CostBudget, cost: int) -> float:
    """How long a delivery of `cost` waited to run (it runs, and finishes, at once)."""
    started = time.monotonic()
    await budget.spend(cost)
    budget.finished()
    return time.monotonic() - started


async def test_a_spend_within_the_burst_does_not_wait() -> None:
    budget = CostBudget(rate=100, burst=1_000)
    assert await timed(budget, 600) < 0.05
    assert await timed(budget, 400) < 0.05


async def test_past_the_burst_a_spend_waits_for_the_refill() -> None:
    budget = CostBudget(rate=1_000, burst=100)
    await timed(budget, 100)
    assert 0.08 <= await timed(budget, 200) < 0.5  # waits for a full bucket: 100 units


async def test_a_cost_above_the_burst_runs_once_the_bucket_is_full_and_leaves_it_in_debt() -> None:
    budget = CostBudget(rate=1_000, burst=100)
    assert await timed(budget, 300) < 0.05  # full already: it runs
    assert budget.tokens < -150  # and the next delivery pays for it
    assert 0.2 <= await timed(budget, 10) < 0.6


async def test_waiting_spends_are_served_in_the_order_they_asked() -> None:
    budget = CostBudget(rate=1_000, burst=50)
    await timed(budget, 50)
    served: list[int] = []

    async def spend(number: int) -> None:
        await timed(budget, 50)
        served.append(number)

    await asyncio.gather(*(spend(number) for number in range(5)))
    assert served == [0, 1, 2, 3, 4]


async def test_one_users_spent_budget_does_not_slow_another_user() -> None:
    spender, other = CostBudget(rate=100, burst=100), CostBudget(rate=100, burst=100)
    await timed(spender, 100)
    waiting = asyncio.ensure_future(spender.spend(100))  # a second's wait
    assert await timed(other, 100) < 0.05
    assert not waiting.done()
    waiting.cancel()


async def test_a_users_deliveries_run_a_few_at_a_time_whatever_the_budget() -> None:
    budget = CostBudget(rate=1_000_000, burst=1_000_000)
    for _ in range(DELIVERIES_AT_ONCE):
        await budget.spend(1)  # running, not finished
    next_one = asyncio.ensure_future(budget.spend(1))
    await asyncio.sleep(0.05)
    assert not next_one.done()  # waits for a running one to finish, not for the budget
    budget.finished()
    await asyncio.wait_for(next_one, 1)
