"""Timeouts: the assistant has its own; a request as a whole has one too."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import ExecutionResult

from domain.assistant import Answer
from domain.assistant.breakdown import Breakdown
from graph.context import Resources
from graph.schema import build_schema
from models import AiLog
from tests.conftest import GqlWith, make_settings, table_count
from tests.graph.test_subscription_errors import Subscriptions

BREAK_DOWN = """mutation { breakDownTask(input: {input: "plan the week"}) {
  __typename ... on UserError { code } } }"""


class SlowAssistant:
    name = "slow"
    model = "slow"

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def break_down(self, text: str) -> Answer[Breakdown]:
        await asyncio.sleep(self.seconds)
        return Answer(Breakdown(title="late", steps=["late"]))


async def test_a_slow_assistant_is_cut_off_as_a_typed_error(
    gql_with: GqlWith, db: AsyncSession
) -> None:
    gql = await gql_with(assistant=SlowAssistant(5), assistant_timeout_seconds=0.2)
    data = await gql.data(BREAK_DOWN)
    assert data["breakDownTask"] == {"__typename": "AssistantError", "code": "ASSISTANT_ERROR"}
    assert await table_count(db, "tasks") == 0
    error = await db.scalar(select(AiLog.error))
    assert error is not None and error.startswith("TimeoutError")


async def test_a_request_over_its_time_limit_gets_504_and_changes_nothing(
    gql_with: GqlWith, db: AsyncSession
) -> None:
    gql = await gql_with(
        assistant=SlowAssistant(5), assistant_timeout_seconds=10, request_timeout_seconds=0.3
    )
    response = await gql.post(BREAK_DOWN)
    assert response.status_code == 504
    assert response.json()["errors"][0]["extensions"]["code"] == "TIMEOUT"
    assert await table_count(db, "tasks") == 0


async def test_a_request_within_its_time_limit_is_untouched(gql_with: GqlWith) -> None:
    gql = await gql_with(assistant=SlowAssistant(0.05), request_timeout_seconds=5)
    data = await gql.data(BREAK_DOWN)
    assert data["breakDownTask"]["__typename"] == "BreakDownTaskSuccess"


async def test_a_mutation_over_the_websocket_is_held_to_the_request_time_limit(
    app: FastAPI, db: AsyncSession
) -> None:
    # HTTP requests were timed; the same mutation sent over the socket ran unbounded.
    app.state.resources.assistant = SlowAssistant(5)  # only `break_down` is asked
    resources: Resources = app.state.resources
    runner = Subscriptions(build_schema(make_settings(request_timeout_seconds=0.3)), resources)
    stream = await runner.schema.stream(BREAK_DOWN, context_value=runner.context("alice"))
    try:
        result = await asyncio.wait_for(anext(stream), 3)
    finally:
        await stream.aclose()
        await runner.close()
    assert isinstance(result, ExecutionResult) and result.errors
    assert [(e.message, e.extensions) for e in result.errors] == [(
        "The operation took longer than 0.3 s and was stopped.", {"code": "TIMEOUT"}
    )]
    assert await table_count(db, "tasks") == 0
