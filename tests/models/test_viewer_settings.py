"""Each transaction carries its viewer to PostgreSQL (models/rls.py), at no extra statement.

Through the real engine `create_app` builds, as the application role when the suite has one.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from domain.viewers import Viewer
from graph.execution.database import RequestDatabase
from graph.pubsub import LocalBroker
from models.rls import SETTINGS_PREFIX, DatabaseViewer, settings_sql, viewer_session
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="row-level security is PostgreSQL's")
SETTINGS = select(
    func.current_setting("app.viewer", True),
    func.current_setting("app.admin", True),
    func.current_setting("app.visit", True),
)


async def test_a_requests_viewer_rides_in_its_begin_at_no_extra_statement(
    real_session_factory: async_sessionmaker[AsyncSession],
) -> None:
    viewer = Viewer("alice", is_admin=True, session_id="7a1a2b3c-0000-4000-8000-000000000000")
    db = RequestDatabase(real_session_factory, LocalBroker(), viewer)
    engine = real_session_factory.kw["bind"]
    sent: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        sent.append(sql)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        row = (await db.rows(SETTINGS))[0]
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
        await db.close()
    assert tuple(row) == ("alice", "on", viewer.session_id)
    # One statement went through the driver: the settings travelled inside the BEGIN.
    assert len(sent) == 1 and not sent[0].startswith(SETTINGS_PREFIX)
    assert db.stats.statements == 1


async def test_settings_a_transaction_never_sent_do_not_reach_the_next_one(
    real_session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with viewer_session(real_session_factory, DatabaseViewer("alice")) as session:
        await session.connection()  # began, settings pending for the BEGIN; nothing sent
        await session.commit()
    engine = real_session_factory.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    async with engine.connect() as connection:  # the same one: the only one in the pool
        assert await connection.scalar(text("SELECT current_setting('app.viewer', true)")) in (
            None, "",
        )


def test_a_subject_cannot_break_out_of_the_settings_statement() -> None:
    sql = settings_sql(DatabaseViewer("x'); DROP TABLE tasks; --", visit="\\'"))
    quoted = set(re.findall(r"'([^']*)'", sql))
    names = {"app.viewer", "app.admin", "app.visit", "hex", "UTF8"}
    assert all(q in names or re.fullmatch("[0-9a-f]*", q) for q in quoted), quoted
    assert "DROP" not in sql and "\\" not in sql
