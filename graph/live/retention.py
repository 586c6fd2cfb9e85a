"""The change outbox's retention: a task of the lifespan prunes changes recorded more than
CHANGE_RETENTION_SECONDS ago, every CHANGE_PRUNE_INTERVAL_SECONDS (first one interval after
start-up): at most PRUNE_BATCHES transactions of PRUNE_BATCH rows a run, so a backlog drains
over several runs and no run holds locks for long. Every process prunes; two at once delete
different rows or none (each deletes the oldest prefix it finds).

What a row costs: docs/database.md (measured by tests/graph/test_live_resume.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.events import PRUNE_MAX_ROWS, prune_changes
from domain.viewers import Viewer
from graph.execution.database import RequestDatabase
from graph.observability import FirstThenCounted
from graph.pubsub import LocalBroker
from graph.settings import Settings

logger = logging.getLogger(__name__)
PRUNE_FAILURES = FirstThenCounted(logger, "pruning changes failed", level=logging.WARNING)
PRUNE_BATCH = PRUNE_MAX_ROWS
PRUNE_BATCHES = 10


@asynccontextmanager
async def pruning_changes(
    factory: async_sessionmaker[AsyncSession], broker: LocalBroker, settings: Settings
) -> AsyncIterator[asyncio.Task[None]]:
    """The lifespan's pruning task: running inside the block, cancelled at its end."""
    task = asyncio.create_task(_prune_forever(factory, broker, settings), name="prune changes")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _prune_forever(
    factory: async_sessionmaker[AsyncSession], broker: LocalBroker, settings: Settings
) -> None:
    while True:
        await asyncio.sleep(settings.change_prune_interval_seconds)
        try:
            deleted = await prune_once(factory, broker, settings.change_retention_seconds)
        except Exception as error:  # an outage, say: the next run tries again
            PRUNE_FAILURES.failed("could not prune changes", exc_info=error)
        else:
            PRUNE_FAILURES.recovered()
            if deleted:
                logger.info("pruned %d changes older than %d s", deleted,
                            settings.change_retention_seconds)


async def prune_once(
    factory: async_sessionmaker[AsyncSession], broker: LocalBroker, retention_seconds: int,
    batch: int = PRUNE_BATCH,
) -> int:
    """One run: up to PRUNE_BATCHES transactions of `batch` deletions; the number deleted.
    Written as any write is (SQLite's write turn included), acting for nobody."""
    total = 0
    for _ in range(PRUNE_BATCHES):
        db = RequestDatabase(factory, broker, Viewer(user_id=None))
        try:
            async with db.transaction() as session:
                deleted = await prune_changes(
                    session, retention_seconds=retention_seconds, max_rows=batch
                )
        finally:
            await db.close()
        total += deleted
        if deleted < batch:
            break
    return total
