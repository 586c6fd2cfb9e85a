"""`DIAGNOSTICS`: each response's `extensions.sql` reports the request's statements and time."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.app import create_app
from tests.conftest import GraphQL, make_settings
from tests.factories import make_task

TASKS = "{ tasks { edges { node { title stepCount } } } }"


async def test_diagnostics_report_statements_and_milliseconds(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_task(db, steps=["one"])
    payload = await gql(TASKS)
    sql = payload["extensions"]["sql"]
    assert sql["statements"] == 2  # the page, then the step counts of its tasks
    assert isinstance(sql["ms"], float) and sql["ms"] > 0


@pytest.fixture
async def quiet_gql(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[GraphQL]:
    settings = make_settings(diagnostics=False)
    app: FastAPI = create_app(settings, session_factory=session_factory)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://quiet") as client:
            yield GraphQL(client, settings)


async def test_diagnostics_off_adds_no_extensions(db: AsyncSession, quiet_gql: GraphQL) -> None:
    await make_task(db)
    payload = await quiet_gql(TASKS)
    assert payload["data"]["tasks"]["edges"] == [
        {"node": {"title": "Write the report", "stepCount": 0}}
    ]
    assert "extensions" not in payload
