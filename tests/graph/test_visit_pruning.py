"""Visits unseen for VISIT_RETENTION_DAYS are deleted by a task of the app's lifespan, a
bounded batch at a time; what the visitors made stays, unlinked from the visit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graph import visits as graph_visits
from graph.app import create_app
from graph.pubsub import LocalBroker
from graph.visits import prune_once
from models import Task, Visit
from models.base import utcnow
from tests.conftest import ON_POSTGRES, make_settings, mint_visit

RETENTION = 30


async def add_visit(db: AsyncSession, *, unseen_for: timedelta) -> str:
    visit_id = mint_visit().visit_id
    seen = utcnow() - unseen_for
    db.add(Visit(session_id=visit_id, created_at=seen, last_seen_at=seen))
    await db.commit()
    return visit_id


async def visit_ids(db: AsyncSession) -> set[str]:
    return set((await db.scalars(select(Visit.session_id))).all())


async def test_a_run_deletes_the_visits_unseen_past_the_retention_only(
    db: AsyncSession, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    old = await add_visit(db, unseen_for=timedelta(days=RETENTION, hours=1))
    recent = await add_visit(db, unseen_for=timedelta(days=RETENTION - 1))
    deleted = await prune_once(session_factory, LocalBroker(), RETENTION)
    assert deleted == 1
    assert await visit_ids(db) == {recent}
    assert old not in await visit_ids(db)


async def test_what_a_pruned_visitor_made_stays_theirs_unlinked_from_the_visit(
    db: AsyncSession, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    old = await add_visit(db, unseen_for=timedelta(days=RETENTION + 5))
    db.add(Task(user_id=f"session:{old}", title="kept", session_id=old))
    await db.commit()
    await prune_once(session_factory, LocalBroker(), RETENTION)
    task = (await db.execute(
        select(Task).where(Task.title == "kept").execution_options(populate_existing=True)
    )).scalar_one()
    assert (task.user_id, task.session_id) == (f"session:{old}", None)


async def test_a_run_is_bounded_and_the_next_one_goes_on(
    db: AsyncSession, session_factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(graph_visits, "PRUNE_BATCH", 2)
    monkeypatch.setattr(graph_visits, "PRUNE_BATCHES", 2)
    for days in range(5):
        await add_visit(db, unseen_for=timedelta(days=RETENTION + 1 + days))
    assert await prune_once(session_factory, LocalBroker(), RETENTION) == 4
    assert len(await visit_ids(db)) == 1
    assert await prune_once(session_factory, LocalBroker(), RETENTION) == 1
    assert await visit_ids(db) == set()


@pytest.fixture
async def committed_visits(
    real_session_factory: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> AsyncIterator[AsyncSession]:
    """A session that commits for real (the lifespan's task has connections of its own), as
    the tables' owner on PostgreSQL; what it added is deleted afterwards."""
    factory = (
        async_sessionmaker(engine, expire_on_commit=False) if ON_POSTGRES else real_session_factory
    )
    async with factory() as session:
        session.info["added"] = []
        yield session
        await session.execute(delete(Visit).where(Visit.session_id.in_(session.info["added"])))
        await session.commit()


async def test_the_app_prunes_on_its_interval(
    committed_visits: AsyncSession, real_session_factory: async_sessionmaker[AsyncSession]
) -> None:
    old = await add_visit(committed_visits, unseen_for=timedelta(days=RETENTION + 1))
    recent = await add_visit(committed_visits, unseen_for=timedelta(hours=1))
    committed_visits.info["added"].extend([old, recent])
    settings = make_settings(visit_prune_interval_seconds=0.05, visit_retention_days=RETENTION)
    app = create_app(settings, session_factory=real_session_factory)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
            for _ in range(200):  # the task runs every 0.05 s; give it up to 10 s
                left = await visit_ids(committed_visits)
                await committed_visits.rollback()  # the next read takes a fresh snapshot
                if old not in left:
                    break
                await asyncio.sleep(0.05)
            assert (await client.get("/healthz")).status_code == 200  # serving meanwhile
    left = await visit_ids(committed_visits)
    assert old not in left
    assert recent in left
