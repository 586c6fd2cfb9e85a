"""The change outbox's retention: a task of the lifespan (graph/pruning.py) prunes changes
recorded more than CHANGE_RETENTION_SECONDS ago, every CHANGE_PRUNE_INTERVAL_SECONDS, at
most PRUNE_BATCHES transactions of PRUNE_BATCH rows a run.

What a row costs: docs/database.md (measured by tests/graph/test_live_resume.py).
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractAsyncContextManager

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.events import PRUNE_MAX_ROWS, prune_changes
from graph.pruning import Pruning, pruning_task
from graph.pruning import prune_once as run_once
from graph.pubsub import LocalBroker
from graph.settings import Settings

PRUNE_BATCH = PRUNE_MAX_ROWS
PRUNE_BATCHES = 10


def change_pruning(retention_seconds: int, interval_seconds: float = 0.0,
                   batch: int = PRUNE_BATCH) -> Pruning:
    """Pruning changes older than `retention_seconds` (graph/pruning.py runs it)."""

    async def delete(session: AsyncSession, rows: int) -> int:
        return await prune_changes(session, retention_seconds=retention_seconds, max_rows=rows)

    return Pruning(f"changes older than {retention_seconds} s", interval_seconds, delete,
                   batch, PRUNE_BATCHES)


def pruning_changes(
    factory: async_sessionmaker[AsyncSession], broker: LocalBroker, settings: Settings
) -> AbstractAsyncContextManager[asyncio.Task[None]]:
    """The lifespan's pruning task: running inside the block, cancelled at its end."""
    every = change_pruning(settings.change_retention_seconds,
                           settings.change_prune_interval_seconds)
    return pruning_task(every, factory, broker)


async def prune_once(
    factory: async_sessionmaker[AsyncSession], broker: LocalBroker, retention_seconds: int,
    batch: int = PRUNE_BATCH,
) -> int:
    """One run: up to PRUNE_BATCHES transactions of `batch` deletions; the number deleted."""
    return await run_once(change_pruning(retention_seconds, batch=batch), factory, broker)
