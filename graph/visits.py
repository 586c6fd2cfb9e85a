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
import logging
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.visit_credentials import VisitSigner, derive_key
from domain.visits import VisitPolicy, Visits, prune_expired
from graph.auth import ConfigurationError, hs_secret, load_dev_secret
from graph.pruning import Pruning, pruning_task
from graph.pruning import prune_once as run_once
from graph.pubsub import LocalBroker
from graph.secret_strength import GENERATE_A_SECRET, secret_weakness
from graph.settings import Settings

logger = logging.getLogger(__name__)

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


def visit_pruning(retention_days: int, interval_seconds: float = 0.0) -> Pruning:
    """Pruning visits unseen for `retention_days` (graph/pruning.py runs it)."""

    async def delete(session: AsyncSession, rows: int) -> int:
        return await prune_expired(session, retention_days=retention_days, max_rows=rows)

    return Pruning(f"visits unseen for {retention_days} days", interval_seconds, delete,
                   PRUNE_BATCH, PRUNE_BATCHES)


def pruning(
    factory: async_sessionmaker[AsyncSession], broker: LocalBroker, settings: Settings
) -> AbstractAsyncContextManager[asyncio.Task[None]]:
    """The lifespan's pruning task: running inside the block, cancelled at its end."""
    every = visit_pruning(settings.visit_retention_days, settings.visit_prune_interval_seconds)
    return pruning_task(every, factory, broker)


async def prune_once(
    factory: async_sessionmaker[AsyncSession], broker: LocalBroker, retention_days: int
) -> int:
    """One run: up to PRUNE_BATCHES transactions of PRUNE_BATCH deletions; the number deleted."""
    return await run_once(visit_pruning(retention_days), factory, broker)
