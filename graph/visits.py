"""Visits, from the settings: the key credentials are signed with, and the lifespan's pruning.

The key. VISIT_SECRET when set; else derived from JWT_SECRET; else, in development only,
from the development secret file. Whatever the source, the key is an HMAC of it for this one
purpose, so it never equals a token key. Either secret is held to the one rule for HMAC keys
(graph/secret_strength.py: production refuses one under 32 bytes or under 128 estimated
bits; development warns). Production with neither secret (tokens verified by public key
only) refuses to start.

Pruning. A task of the lifespan deletes visits unseen for VISIT_RETENTION_DAYS, every
VISIT_PRUNE_INTERVAL_SECONDS (first one interval after start-up): at most PRUNE_BATCHES
transactions of PRUNE_BATCH rows a run, so a backlog drains over several runs and no run
holds locks for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.viewers import Viewer
from domain.visit_credentials import VisitSigner, derive_key
from domain.visits import VisitPolicy, Visits, prune_expired
from graph.auth import ConfigurationError, hs_secret, load_dev_secret
from graph.execution.database import RequestDatabase
from graph.observability import FirstThenCounted
from graph.pubsub import LocalBroker
from graph.secret_strength import GENERATE_A_SECRET, secret_weakness
from graph.settings import Settings

logger = logging.getLogger(__name__)
PRUNE_FAILURES = FirstThenCounted(logger, "pruning visits failed", level=logging.WARNING)
PRUNE_BATCH = 1_000
PRUNE_BATCHES = 10


def build_visits(settings: Settings) -> Visits:
    """The process's visits; a missing or weak key stops start-up here."""
    policy = VisitPolicy(
        refresh_after=timedelta(seconds=settings.visit_refresh_seconds),
        starts_per_hour=settings.visit_starts_per_hour,
    )
    return Visits(VisitSigner(visit_key(settings)), policy)


def visit_key(settings: Settings) -> bytes:
    if settings.visit_secret is not None:
        material = settings.visit_secret.get_secret_value()
        problem = secret_weakness(material, "VISIT_SECRET")
        if problem and settings.is_production:
            raise ConfigurationError(f"{problem}; {GENERATE_A_SECRET}")
        if problem:
            logger.warning("%s (development only warns); %s", problem, GENERATE_A_SECRET)
        return derive_key(material)
    # JWT_SECRET's own checks, production's refusals included.
    derived = hs_secret(settings) if settings.jwt_secret is not None else None
    if derived is not None:
        return derive_key(derived)
    if settings.is_production:
        raise ConfigurationError(
            "production needs VISIT_SECRET (or JWT_SECRET) to sign visit credentials"
        )
    return derive_key(load_dev_secret(settings, create=True))


@asynccontextmanager
async def pruning(
    factory: async_sessionmaker[AsyncSession], broker: LocalBroker, settings: Settings
) -> AsyncIterator[asyncio.Task[None]]:
    """The lifespan's pruning task: running inside the block, cancelled at its end."""
    task = asyncio.create_task(_prune_forever(factory, broker, settings), name="prune visits")
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
        await asyncio.sleep(settings.visit_prune_interval_seconds)
        try:
            deleted = await prune_once(factory, broker, settings.visit_retention_days)
        except Exception as error:  # an outage, say: the next run tries again
            PRUNE_FAILURES.failed("could not prune visits", exc_info=error)
        else:
            PRUNE_FAILURES.recovered()
            if deleted:
                logger.info("pruned %d visits unseen for %d days", deleted,
                            settings.visit_retention_days)


async def prune_once(
    factory: async_sessionmaker[AsyncSession], broker: LocalBroker, retention_days: int
) -> int:
    """One run: up to PRUNE_BATCHES transactions of PRUNE_BATCH deletions; the number deleted.
    Written as any write is (SQLite's write turn included), acting for nobody."""
    total = 0
    for _ in range(PRUNE_BATCHES):
        db = RequestDatabase(factory, broker, Viewer(user_id=None))
        try:
            async with db.transaction() as session:
                deleted = await prune_expired(
                    session, retention_days=retention_days, max_rows=PRUNE_BATCH
                )
        finally:
            await db.close()
        total += deleted
        if deleted < PRUNE_BATCH:
            break
    return total
