"""Visits, from the settings: the key credentials are signed with, and the lifespan's pruning.

The key. VISIT_SECRET when set; else derived from JWT_SECRET (held to JWT_SECRET's own
rules, graph/auth.py); else, in development only, from the development secret file. Whatever
the source, the key is an HMAC of it for this one purpose, so it never equals a token key.
Production refuses a VISIT_SECRET under 32 bytes, or one whose estimated strength is under 128
bits: the shortest unit it repeats times log2 of the distinct characters in that unit (so
'a'*32, 'changeme'*4 and 'a' with 31 spaces are refused; `openssl rand -base64 48` passes).
Production with neither secret (tokens verified by public key only) refuses to start.

Pruning. A task of the lifespan deletes visits unseen for VISIT_RETENTION_DAYS, every
VISIT_PRUNE_INTERVAL_SECONDS (first one interval after start-up): at most PRUNE_BATCHES
transactions of PRUNE_BATCH rows a run, so a backlog drains over several runs and no run
holds locks for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import Counter
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
from graph.settings import Settings

logger = logging.getLogger(__name__)
PRUNE_FAILURES = FirstThenCounted(logger, "pruning visits failed", level=logging.WARNING)
VISIT_SECRET_MIN_BYTES = 32
VISIT_SECRET_MIN_BITS = 128
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
        problem = weakness(material)
        if problem and settings.is_production:
            raise ConfigurationError(f"VISIT_SECRET {problem} (`openssl rand -base64 48`)")
        if problem:
            logger.warning("VISIT_SECRET %s; production would refuse it", problem)
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


def weakness(secret: str) -> str | None:
    """What makes `secret` too weak to sign with, or None."""
    size = len(secret.encode("utf-8", "surrogatepass"))
    if size < VISIT_SECRET_MIN_BYTES:
        return f"has {size} bytes; at least {VISIT_SECRET_MIN_BYTES} random bytes are needed"
    if estimated_bits(secret) < VISIT_SECRET_MIN_BITS:
        return (f"looks guessable (a repetition or a small alphabet): under "
                f"{VISIT_SECRET_MIN_BITS} bits")
    return None


def estimated_bits(secret: str) -> float:
    """A cautious strength estimate: the shortest unit `secret` repeats (itself if none),
    times log2 of the distinct characters in it. Generous to a long non-repeating phrase;
    it catches the patterns people type."""
    unit = secret
    for length in range(1, len(secret) // 2 + 1):
        if len(secret) % length == 0 and secret[:length] * (len(secret) // length) == secret:
            unit = secret[:length]
            break
    distinct = len(Counter(unit))
    return len(unit) * math.log2(distinct) if distinct > 1 else 0.0


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
