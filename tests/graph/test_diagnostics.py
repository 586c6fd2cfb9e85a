"""`DIAGNOSTICS`: each response's `extensions.sql` reports the request's statements and time."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import GqlWith, GraphQL
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


async def test_diagnostics_off_adds_no_extensions(db: AsyncSession, gql_with: GqlWith) -> None:
    quiet = await gql_with(diagnostics=False)
    await make_task(db)
    payload = await quiet(TASKS)
    assert payload["data"]["tasks"]["edges"] == [
        {"node": {"title": "Write the report", "stepCount": 0}}
    ]
    assert "extensions" not in payload
