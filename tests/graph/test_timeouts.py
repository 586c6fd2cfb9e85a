"""Timeouts: the assistant has its own; a request as a whole has one too."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.app import create_app
from graph.assistant import Breakdown
from models import AiLog
from tests.conftest import GraphQL, make_settings, table_count

BREAK_DOWN = """mutation { breakDownTask(input: {input: "plan the week"}) {
  __typename ... on UserError { code } } }"""


class SlowAssistant:
    name = "slow"
    model = "slow"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def break_down(self, text: str) -> Breakdown:
        await asyncio.sleep(self.seconds)
        return Breakdown(title="late", steps=["late"])


@pytest.fixture
async def timed_app(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[Any]:
    started: list[Any] = []

    async def build(assistant: Any, **overrides: Any) -> GraphQL:
        settings = make_settings(**overrides)
        app: FastAPI = create_app(settings, session_factory=session_factory)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        app.state.resources.assistant = assistant
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        started.append((lifespan, client))
        return GraphQL(client, settings)

    yield build
    for lifespan, client in started:
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


async def test_a_slow_assistant_is_cut_off_as_a_typed_error(
    timed_app: Any, db: AsyncSession
) -> None:
    gql = await timed_app(SlowAssistant(5), assistant_timeout_seconds=0.2)
    data = await gql.data(BREAK_DOWN)
    assert data["breakDownTask"] == {"__typename": "AssistantError", "code": "ASSISTANT_ERROR"}
    assert await table_count(db, "tasks") == 0
    error = await db.scalar(select(AiLog.error))
    assert error is not None and error.startswith("TimeoutError")


async def test_a_request_over_its_time_limit_gets_504_and_changes_nothing(
    timed_app: Any, db: AsyncSession
) -> None:
    gql = await timed_app(
        SlowAssistant(5), assistant_timeout_seconds=10, request_timeout_seconds=0.3
    )
    response = await gql.post(BREAK_DOWN)
    assert response.status_code == 504
    assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
    assert await table_count(db, "tasks") == 0


async def test_a_request_within_its_time_limit_is_untouched(timed_app: Any) -> None:
    gql = await timed_app(SlowAssistant(0.05), request_timeout_seconds=5)
    data = await gql.data(BREAK_DOWN)
    assert data["breakDownTask"]["__typename"] == "BreakDownTaskSuccess"
