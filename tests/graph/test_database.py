"""A request's database access (`graph/execution/database.py`) through the real engine and factory.

The rolled-back harness session of the other tests shares one connection and one
transaction with the test itself, so it cannot show what another connection's commit does
to a request's reads: these tests use the engine and session factory `create_app` builds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Executable, func, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.viewers import Viewer
from graph.execution.database import RequestDatabase
from graph.pubsub import LocalBroker
from models import Task
from tests.conftest import ON_POSTGRES, CommittedUsers, session_as


@pytest.fixture
def user(committed_users: CommittedUsers) -> str:
    return committed_users("request-db")


@pytest.fixture
async def request_db(
    real_session_factory: async_sessionmaker[AsyncSession], user: str
) -> AsyncIterator[RequestDatabase]:
    db = RequestDatabase(real_session_factory, LocalBroker(), Viewer(user))
    yield db
    await db.close()


async def _commit_task(real_session_factory: async_sessionmaker[AsyncSession], user: str) -> None:
    """Another request's write, committed on its own connection."""
    async with session_as(real_session_factory, user) as session, session.begin():
        await session.execute(insert(Task).values(user_id=user, title="from elsewhere"))


def _count(user: str) -> Executable:
    return select(func.count()).select_from(Task).where(Task.user_id == user)


async def test_a_requests_reads_share_one_snapshot(
    request_db: RequestDatabase, real_session_factory: async_sessionmaker[AsyncSession], user: str
) -> None:
    before = await request_db.scalar(_count(user))
    await _commit_task(real_session_factory, user)
    assert await request_db.scalar(_count(user)) == before


async def test_release_ends_the_snapshot(
    request_db: RequestDatabase, real_session_factory: async_sessionmaker[AsyncSession], user: str
) -> None:
    before = await request_db.scalar(_count(user))
    await _commit_task(real_session_factory, user)
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
