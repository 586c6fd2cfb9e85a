"""Load: many simultaneous writers (and readers), no error reaching a client, no lost write.

SQLite through a real uvicorn process on a file: every write transaction takes the one
database-wide write lock (BEGIN IMMEDIATE), so a few hundred concurrent mutations contend for
it; none may surface as "database is locked" or go missing. The server runs with a busy
timeout of 1 s instead of 5 s: SQLite's busy handler is not fair, and with the shorter timeout
a starved writer shows up within this many requests (the app queues its own writers first, so
none waits on the timeout). The same writers run in-process against PostgreSQL when
TEST_DATABASE_URL points at it.

Bounded: 8 users x 15 tasks x 3 mutations (360 requests), about ten seconds; the mixed run
writes 8 x 8 tasks while 4 readers query all along.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.app import create_app
from graph.auth import mint_token
from tests.conftest import DATABASE_URL, ON_POSTGRES, make_settings
from tests.servers import running_server

USERS = 8
TASKS_PER_USER = 15
MIXED_TASKS_PER_USER = 8  # with READERS reading all along
READERS = 4
READ_PAUSE_SECONDS = 0.05  # readers read all along, without starving the writers
BUSY_TIMEOUT_MS = 1000
STEPS_AT_CREATION = ["first", "second"]
# Per task: createTask (2 steps, a 'created' event), addTaskStep (a step, a 'step_added'
# event), setTaskStatus COMPLETED (a 'status_changed' event).
STEPS_PER_TASK = len(STEPS_AT_CREATION) + 1
EVENTS_PER_TASK = 3
RUN_SECONDS = 30.0  # the bound on one run of a few hundred requests

CREATE = """
mutation($input: CreateTaskInput!) {
  createTask(input: $input) { __typename ... on CreateTaskSuccess { task { id } } }
}"""
ADD_STEP = """
mutation($input: AddTaskStepInput!) {
  addTaskStep(input: $input) { __typename ... on AddTaskStepSuccess { step { stepNumber } } }
}"""
SET_STATUS = """
mutation($input: SetTaskStatusInput!) {
  setTaskStatus(input: $input) { __typename ... on SetTaskStatusSuccess { task { status } } }
}"""
READ = """
query {
  tasks(first: 20) {
    totalCount
    edges { node { id title status stepCount steps { stepNumber content }
                   events(first: 5) { totalCount } } }
  }
}"""
TALLY = """
query {
  tasks(first: 100) {
    totalCount
    edges { node { status stepCount events { totalCount } } }
  }
}"""


@dataclass
class Client:
    """Posts GraphQL as any user; collects every response body, so none escapes checking."""

    http: httpx.AsyncClient
    bodies: list[dict[str, Any]]

    async def post(self, user: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        token = mint_token(make_settings(), user_id=user, admin=False, ttl_seconds=600)
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 200, response.text
        assert "database is locked" not in response.text
        body: dict[str, Any] = response.json()
        self.bodies.append(body)
        assert "errors" not in body, body["errors"]
        return body


def fresh_users(label: str) -> list[str]:
    suffix = uuid.uuid4().hex[:8]
    return [f"load-{label}-{n}-{suffix}" for n in range(USERS)]


async def one_task(client: Client, user: str, n: int) -> None:
    created = await client.post(
        user, CREATE, {"input": {"title": f"{user} task {n}", "steps": STEPS_AT_CREATION}}
    )
    payload = created["data"]["createTask"]
    assert payload["__typename"] == "CreateTaskSuccess", payload
    task_id = payload["task"]["id"]
    added = await client.post(user, ADD_STEP, {"input": {"taskId": task_id, "content": "third"}})
    assert added["data"]["addTaskStep"] == {
        "__typename": "AddTaskStepSuccess", "step": {"stepNumber": STEPS_PER_TASK}
    }
    status = {"id": task_id, "status": "COMPLETED"}
    done = await client.post(user, SET_STATUS, {"input": status})
    assert done["data"]["setTaskStatus"]["task"] == {"status": "COMPLETED"}


async def run_writers(client: Client, users: list[str], tasks: int = TASKS_PER_USER) -> None:
    """Every user's tasks at once: len(users) * tasks chains of three mutations. The first
    failure cancels the rest (TaskGroup), so nothing keeps writing after a failed test."""
    async with asyncio.TaskGroup() as group:
        for user in users:
            for n in range(tasks):
                group.create_task(one_task(client, user, n))


def check_read(node: dict[str, Any], *, one_snapshot: bool) -> None:
    numbers = [step["stepNumber"] for step in node["steps"]]
    assert numbers == list(range(1, len(numbers) + 1)), node  # numbered 1..n, no gap
    if one_snapshot:
        assert node["stepCount"] == len(numbers), node


async def write_while_reading(
    client: Client, users: list[str], tasks: int, *, one_snapshot: bool
) -> int:
    """Run the writers, with READERS readers querying tasks and steps until they are done.
    Returns the number of reads. `one_snapshot`: a request's statements read one snapshot,
    so a task's stepCount agrees with its steps (SQLite's read transaction; PostgreSQL runs
    each statement at READ COMMITTED, and a step committed between two can split them)."""
    done = asyncio.Event()
    reads = 0

    async def writer() -> None:
        try:
            await run_writers(client, users, tasks)
        finally:
            done.set()

    async def reader(user: str) -> None:
        nonlocal reads
        while not done.is_set():
            body = await client.post(user, READ, {})
            for edge in body["data"]["tasks"]["edges"]:
                check_read(edge["node"], one_snapshot=one_snapshot)
            reads += 1
            await asyncio.sleep(READ_PAUSE_SECONDS)

    async with asyncio.TaskGroup() as group:
        group.create_task(writer())
        for n in range(READERS):
            group.create_task(reader(users[n % len(users)]))
    return reads


async def assert_tallies_via_api(
    client: Client, users: list[str], tasks: int = TASKS_PER_USER
) -> None:
    for user in users:
        listing = (await client.post(user, TALLY, {}))["data"]["tasks"]
        assert listing["totalCount"] == tasks, user
        nodes = [edge["node"] for edge in listing["edges"]]
        assert len(nodes) == tasks
        for node in nodes:
            assert node == {
                "status": "COMPLETED",
                "stepCount": STEPS_PER_TASK,
                "events": {"totalCount": EVENTS_PER_TASK},
            }


COUNTS = {
    "tasks": "SELECT count(*) FROM tasks WHERE user_id = :user",
    "task_steps": "SELECT count(*) FROM task_steps JOIN tasks ON tasks.id = task_steps.task_id"
    " WHERE tasks.user_id = :user",
    "task_events": "SELECT count(*) FROM task_events JOIN tasks ON tasks.id = task_events.task_id"
    " WHERE tasks.user_id = :user",
}
def expected(tasks: int = TASKS_PER_USER) -> dict[str, int]:
    return {
        "tasks": tasks,
        "task_steps": tasks * STEPS_PER_TASK,
        "task_events": tasks * EVENTS_PER_TASK,
    }


def sqlite_counts(path: Path, user: str) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        return {
            table: int(connection.execute(sql.replace(":user", "?"), (user,)).fetchone()[0])
            for table, sql in COUNTS.items()
        }


# --- SQLite, through a real server process on a file -------------------------------------


@dataclass
class Served:
    base: str
    database: Path
    workdir: Path

    def log(self) -> str:
        return "".join(path.read_text() for path in self.workdir.glob("server-*.log"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("load")
    database = workdir / "load.db"
    with running_server(
        workdir,
        DATABASE_URL=f"sqlite+aiosqlite:///{database}",
        SQLITE_BUSY_TIMEOUT_MS=str(BUSY_TIMEOUT_MS),
    ) as base:
        yield Served(base, database, workdir)


@pytest.fixture
async def served_client(served: Served) -> AsyncIterator[Client]:
    # Idle connections are dropped after 1 s, well before uvicorn's 5 s keep-alive timeout:
    # at equal timeouts (httpx's default is 5 s too) a request can race the server's close.
    limits = httpx.Limits(max_connections=100, keepalive_expiry=1.0)
    async with httpx.AsyncClient(
        base_url=served.base, timeout=RUN_SECONDS, limits=limits
    ) as http:
        yield Client(http, [])


async def test_many_writers_on_a_sqlite_file_lose_nothing(
    served: Served, served_client: Client
) -> None:
    users = fresh_users("sqlite")
    started = time.monotonic()
    async with asyncio.timeout(RUN_SECONDS):
        await run_writers(served_client, users)
    elapsed = time.monotonic() - started
    assert len(served_client.bodies) == USERS * TASKS_PER_USER * 3
    await assert_tallies_via_api(served_client, users)
    for user in users:
        assert await asyncio.to_thread(sqlite_counts, served.database, user) == expected()
    log = served.log()
    assert "database is locked" not in log
    assert "unexpected error" not in log
    assert elapsed < RUN_SECONDS


async def test_readers_during_the_writes_see_no_error(
    served: Served, served_client: Client
) -> None:
    users = fresh_users("mixed")
    async with asyncio.timeout(RUN_SECONDS):
        reads = await write_while_reading(
            served_client, users, MIXED_TASKS_PER_USER, one_snapshot=True
        )
    assert reads >= READERS
    await assert_tallies_via_api(served_client, users, MIXED_TASKS_PER_USER)
    for user in users:
        counts = await asyncio.to_thread(sqlite_counts, served.database, user)
        assert counts == expected(MIXED_TASKS_PER_USER), user
    assert "database is locked" not in served.log()


# --- PostgreSQL, in-process through the real engine -------------------------------------

postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="needs TEST_DATABASE_URL (PostgreSQL)")


@pytest.fixture
def pg_users(committed_users: Callable[[str], str]) -> list[str]:
    # Fresh ids keep these committed rows apart; `committed_users` removes them after.
    return [committed_users(f"load-pg-{n}") for n in range(USERS)]


@pytest.fixture
async def pg_client(engine: AsyncEngine) -> AsyncIterator[Client]:
    app: FastAPI = create_app(make_settings(database_url=DATABASE_URL))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://load") as http:
            yield Client(http, [])


@postgres_only
@pytest.mark.postgres_only
async def test_many_writers_on_postgres_lose_nothing(
    engine: AsyncEngine, pg_client: Client, pg_users: list[str]
) -> None:
    async with asyncio.timeout(RUN_SECONDS):
        reads = await write_while_reading(
            pg_client, pg_users, TASKS_PER_USER, one_snapshot=False
        )
    assert reads >= READERS
    await assert_tallies_via_api(pg_client, pg_users)
    async with engine.connect() as connection:
        for user in pg_users:
            counts = {
                table: (await connection.execute(text(sql), {"user": user})).scalar_one()
                for table, sql in COUNTS.items()
            }
            assert counts == expected(), user
