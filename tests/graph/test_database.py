"""A request's database access (`graph/database.py`) through the real engine and factory.

The rolled-back harness session of the other tests shares one connection and one
transaction with the test itself, so it cannot show what another connection's commit does
to a request's reads: these tests use the engine and session factory `create_app` builds.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Executable, delete, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graph.database import RequestDatabase
from graph.migrations import upgrade_head
from graph.pubsub import LocalBroker
from models import Task
from models.database import EngineOptions, create_engine, create_session_factory
from tests.conftest import DATABASE_URL, ON_POSTGRES


@pytest.fixture
async def factory(
    engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    # `engine` has migrated the PostgreSQL test database; a SQLite file (WAL, so a reader and
    # a writer run side by side) is migrated here.
    url = DATABASE_URL if ON_POSTGRES else f"sqlite+aiosqlite:///{tmp_path / 'request.db'}"
    if not ON_POSTGRES:
        await asyncio.to_thread(upgrade_head, url)
    real_engine = create_engine(EngineOptions(url=url))
    yield create_session_factory(real_engine)
    await real_engine.dispose()


@pytest.fixture
def user() -> str:
    return f"request-db-{uuid.uuid4()}"


@pytest.fixture
async def request_db(
    factory: async_sessionmaker[AsyncSession], user: str
) -> AsyncIterator[RequestDatabase]:
    db = RequestDatabase(factory, LocalBroker())
    yield db
    await db.close()
    async with factory() as session, session.begin():
        await session.execute(delete(Task).where(Task.user_id == user))


async def _commit_task(factory: async_sessionmaker[AsyncSession], user: str) -> None:
    """Another request's write, committed on its own connection."""
    async with factory() as session, session.begin():
        await session.execute(insert(Task).values(user_id=user, title="from elsewhere"))


def _count(user: str) -> Executable:
    return select(func.count()).select_from(Task).where(Task.user_id == user)


async def test_a_requests_reads_share_one_snapshot(
    request_db: RequestDatabase, factory: async_sessionmaker[AsyncSession], user: str
) -> None:
    before = await request_db.scalar(_count(user))
    await _commit_task(factory, user)
    assert await request_db.scalar(_count(user)) == before


async def test_release_ends_the_snapshot(
    request_db: RequestDatabase, factory: async_sessionmaker[AsyncSession], user: str
) -> None:
    before = await request_db.scalar(_count(user))
    await _commit_task(factory, user)
    await request_db.release()
    assert await request_db.scalar(_count(user)) == before + 1


async def test_reads_after_a_write_transaction_see_its_rows(
    request_db: RequestDatabase, user: str
) -> None:
    before = await request_db.scalar(_count(user))
    async with request_db.transaction() as session:
        await session.execute(insert(Task).values(user_id=user, title="mine"))
    assert await request_db.scalar(_count(user)) == before + 1


@pytest.mark.postgres_only
@pytest.mark.skipif(not ON_POSTGRES, reason="READ ONLY transactions are PostgreSQL's")
async def test_the_read_path_cannot_write(request_db: RequestDatabase, user: str) -> None:
    with pytest.raises(DBAPIError, match="read-only transaction"):
        await request_db.rows(insert(Task).values(user_id=user, title="sneaked").returning(Task.id))
