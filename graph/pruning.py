"""The lifespan's pruning tasks, one harness for each table that forgets old rows (visits,
the change outbox): every interval (the first one interval after start-up) a run deletes at
most `batches` transactions of `batch` rows, so a backlog drains over several runs and no
run holds locks for long. Every process prunes; two at once delete different rows or none
(each deletes the oldest rows it finds). A failed run (an outage, say) is logged once, then
counted, and the next run tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.viewers import Viewer
from graph.execution.database import RequestDatabase
from graph.observability import FirstThenCounted
from graph.pubsub import LocalBroker

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pruning:
    """What one table's pruning deletes and how often."""

    what: str  # "visits unseen for 30 days": the log lines' words
    interval_seconds: float
    delete: Callable[[AsyncSession, int], Awaitable[int]]  # deletes at most n rows: how many
    batch: int
    batches: int = 10


@asynccontextmanager
async def pruning_task(
    pruning: Pruning, factory: async_sessionmaker[AsyncSession], broker: LocalBroker
) -> AsyncIterator[asyncio.Task[None]]:
    """The lifespan's pruning task: running inside the block, cancelled at its end."""
    task = asyncio.create_task(_prune_forever(pruning, factory, broker),
                               name=f"prune {pruning.what}")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _prune_forever(
    pruning: Pruning, factory: async_sessionmaker[AsyncSession], broker: LocalBroker
) -> None:
    failures = FirstThenCounted(logger, f"pruning {pruning.what} failed", level=logging.WARNING)
    while True:
        await asyncio.sleep(pruning.interval_seconds)
        try:
            deleted = await prune_once(pruning, factory, broker)
        except Exception as error:  # an outage, say: the next run tries again
            failures.failed(f"could not prune {pruning.what}", exc_info=error)
        else:
            failures.recovered()
            if deleted:
                logger.info("pruned %d %s", deleted, pruning.what)


async def prune_once(
    pruning: Pruning, factory: async_sessionmaker[AsyncSession], broker: LocalBroker
) -> int:
    """One run: up to `batches` transactions of `batch` deletions; the number deleted.
    Written as any write is (SQLite's write turn included), acting for nobody."""
    total = 0
    for _ in range(pruning.batches):
        db = RequestDatabase(factory, broker, Viewer(user_id=None))
        try:
            async with db.transaction() as session:
                deleted = await pruning.delete(session, pruning.batch)
        finally:
            await db.close()
        total += deleted
        if deleted < pruning.batch:
            break
    return total
