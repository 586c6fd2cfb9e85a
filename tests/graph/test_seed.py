"""`clarity-graph seed`: bulk demo data that the API serves like any other."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from graph.cli import main
from graph.seed import Progress, SeedPlan, SeedRefused, refuse_row_security, seed, total_rows
from models import Conversation, Message, Task
from models.folding import folded, folded_key
from tests.conftest import APP_ROLE, GraphQL, table_count
from tests.models.test_privileges import acting_as_app

PLAN = SeedPlan(users=3, tasks_per_user=7, steps_per_task=2, events_per_task=2,
                conversations_per_user=2, messages_per_conversation=4, audit_logs_per_user=5)


async def test_seed_writes_the_planned_rows(connection: AsyncConnection, db: AsyncSession) -> None:
    counts = await seed(connection, PLAN, Progress(total_rows(PLAN), io.StringIO()))
    assert counts == {"tasks": 21, "task_steps": 42, "task_events": 42, "conversations": 6,
                      "messages": 24, "audit_logs": 15}
    for table, expected in counts.items():
        assert await table_count(db, table) == expected


async def test_seeded_titles_and_contents_are_folded(
    connection: AsyncConnection, db: AsyncSession
) -> None:
    await seed(connection, PLAN, Progress(total_rows(PLAN), io.StringIO()))
    tasks = (await db.execute(select(Task.title, Task.title_folded))).all()
    titles = (await db.execute(select(Conversation.title, Conversation.title_folded))).all()
    contents = (await db.execute(select(Message.content, Message.content_folded))).all()
    assert tasks and titles and contents
    assert all(key == folded_key(text) for text, key in [*tasks, *titles])
    assert all(key == folded(text) for text, key in contents)


async def test_seeded_users_see_their_own_data(connection: AsyncConnection, gql: GraphQL) -> None:
    await seed(connection, PLAN, Progress(total_rows(PLAN), io.StringIO()))
    data = await gql.data(
        "{ tasks { totalCount edges { node { stepCount } } } conversations { totalCount } }",
        user="demo-2",
    )
    assert data["tasks"]["totalCount"] == 7
    assert {edge["node"]["stepCount"] for edge in data["tasks"]["edges"]} == {2}
    assert data["conversations"]["totalCount"] == 2


async def test_seeded_conversations_were_updated_at_their_last_message(
    connection: AsyncConnection, gql: GraphQL
) -> None:
    await seed(connection, PLAN, Progress(total_rows(PLAN), io.StringIO()))
    data = await gql.data(
        "{ conversations { edges { node { updatedAt lastMessage { createdAt } } } } }",
        user="demo-1",
    )
    for edge in data["conversations"]["edges"]:
        assert edge["node"]["updatedAt"] == edge["node"]["lastMessage"]["createdAt"]


def test_progress_reaches_every_row() -> None:
    stream = io.StringIO()
    progress = Progress(10, stream)
    progress.advance(4, "tasks")
    progress.advance(6, "steps")
    assert "100.0%" in stream.getvalue().splitlines()[-1]


def test_seed_command_fills_a_sqlite_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    assert main(["seed", "--users", "2", "--tasks-per-user", "5"]) == 0
    err = capsys.readouterr().err
    assert "seeded 10 tasks" in err
    assert "100.0%" in err


async def test_the_owner_may_seed(connection: AsyncConnection) -> None:
    await refuse_row_security(connection)  # the harness's connection is the owner's


@pytest.mark.skipif(APP_ROLE is None, reason="needs an application role (tests/conftest.py)")
async def test_seeding_as_the_application_role_stops_before_writing(
    connection: AsyncConnection,
) -> None:
    # Every demo user's rows at once, acting for no one: RLS would refuse each of them.
    async with acting_as_app(connection, None):
        with pytest.raises(SeedRefused, match="seed as the tables' owner"):
            await refuse_row_security(connection)
