"""Resumable change streams (graph/live/resume.py, graph/pubsub/, the change outbox).

Over real uvicorn processes and a real WebSocket client: a subscriber disconnects, changes
are committed (mutations, a bulk one among them), it reconnects with its last cursor and is
given exactly those, once, in commit order, then the live ones. On PostgreSQL it resumes on
another process than the one it left. Then the refusals (an expired, a foreign, a malformed
cursor), the retention's pruning, the outbox's writing (a rollback writes nothing), its
row-level security, and what a row costs.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from graphql import OperationDefinitionNode, parse
from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from domain.events import EventKind, stage
from domain.viewers import Viewer
from graph.execution.database import RequestDatabase
from graph.live.resume import decode_cursor, encode_cursor, resumes
from graph.live.retention import prune_once
from graph.pubsub import LocalBroker
from models import ChangeOutbox, Task
from models.base import utcnow
from tests.conftest import DATABASE_URL, ON_POSTGRES
from tests.graph.test_subscriptions import connect
from tests.models.test_privileges import REFUSED, acting_as_app, app_role
from tests.servers import Subscriber, graphql, running_server

__all__ = ["connect"]  # a fixture, used by name
TASK_CHANGES = """subscription($after: String) { taskChanges(after: $after) {
  kind nodeId cursor event { eventType } } }"""
REGISTERED = 0.2  # seconds for a subscription to be listening before the first change
WAIT = 10.0


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two processes on one PostgreSQL database; one process on a SQLite file."""
    workdir = tmp_path_factory.mktemp("resume")
    if not ON_POSTGRES:
        with running_server(workdir) as base:
            yield [base]
        return
    with running_server(workdir, DATABASE_URL=DATABASE_URL) as first, running_server(
        workdir, DATABASE_URL=DATABASE_URL
    ) as second:
        yield [first, second]


@pytest.fixture
def users(committed_users: Callable[[str], str]) -> tuple[str, str]:
    """Fresh user ids (what the servers commit for them is removed after)."""
    return committed_users("alice"), committed_users("bob")


async def mutate(base: str, user: str, name: str, values: dict[str, Any], sel: str = "") -> Any:
    query = (f"mutation($input: {name[0].upper()}{name[1:]}Input!) "
             f"{{ {name}(input: $input) {{ __typename {sel} }} }}")
    return (await graphql(base, user, query, {"input": values}))[name]


async def new_task(base: str, user: str, title: str) -> str:
    payload = await mutate(base, user, "createTask", {"title": title},
                           "... on CreateTaskSuccess { task { id } }")
    return str(payload["task"]["id"])


async def subscribe(connect: Any, base: str, user: str, after: str | None = None) -> Subscriber:
    subscriber: Subscriber = await connect(base, user)
    await subscriber.subscribe(TASK_CHANGES, {"after": after})
    return subscriber


async def changes(subscriber: Subscriber, count: int) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(WAIT):
            while len(got) < count:
                got.append(await subscriber.data("taskChanges", WAIT))
    except TimeoutError:
        raise AssertionError(f"{len(got)} of {count} changes arrived: {got}") from None
    return got


def order(change: dict[str, Any]) -> int:
    cursor = decode_cursor(change["cursor"])
    assert cursor is not None, change
    return cursor


async def test_a_reconnecting_subscriber_gets_what_it_missed_once_in_order_then_live(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    (alice, bob), first, last = users, servers[0], servers[-1]
    doomed = await new_task(first, alice, "doomed")
    before = await subscribe(connect, first, alice)
    await asyncio.sleep(REGISTERED)
    seen = await new_task(first, alice, "seen")
    (received,) = await changes(before, 1)
    await before.socket.close()  # the client loses its connection
    # N changes while it is away: two created, an update, a bulk over three tasks, a
    # deletion; and Bob's, which are never Alice's. (A task deleted in the gap would show
    # its deletion alone: its earlier changes' rows went with it.)
    one, two = await new_task(first, alice, "one"), await new_task(first, alice, "two")
    await new_task(first, bob, "bob's")
    await mutate(first, alice, "updateTask", {"id": one, "title": "renamed"})
    await mutate(first, alice, "setTasksStatus",
                 {"ids": [seen, one, two], "status": "COMPLETED"})
    await mutate(first, alice, "deleteTask", {"id": doomed})
    missed = [("CREATED", one, "CREATED"), ("CREATED", two, "CREATED"),
              ("UPDATED", one, "UPDATED"), ("UPDATED", seen, "STATUS_CHANGED"),
              ("UPDATED", one, "STATUS_CHANGED"), ("UPDATED", two, "STATUS_CHANGED"),
              ("DELETED", doomed, None)]
    # It resumes (on PostgreSQL on the other process) while more is being committed: the
    # replay and the live changes meet with no gap and no duplicate.
    after = await subscribe(connect, last, alice, received["cursor"])
    live = [await new_task(first, alice, f"live {n}") for n in range(3)]
    got = await changes(after, len(missed) + len(live))
    assert [(c["kind"], c["nodeId"], (c["event"] or {}).get("eventType")) for c in got] == [
        *missed, *(("CREATED", gid, "CREATED") for gid in live)
    ]
    cursors = [order(c) for c in got]
    assert cursors == sorted(set(cursors)) and cursors[0] > order(received)
    assert await after.nothing_within(0.5)
    marker = await new_task(first, alice, "marker")
    assert (await after.data("taskChanges", WAIT))["nodeId"] == marker


async def test_every_change_stream_carries_a_cursor_and_resumes(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    alice, base = users[0], servers[0]
    streams = {
        "conversationChanges": ("startConversation", {},
                                "subscription($after: String) { conversationChanges(after: "
                                "$after) { kind nodeId cursor } }"),
        "panicEventChanges": ("pressPanic", {"intensity": 3},
                              "subscription($after: String) { panicEventChanges(after: "
                              "$after) { kind nodeId cursor } }"),
    }
    for field, (name, values, query) in streams.items():
        before = await connect(base, alice)
        await before.subscribe(query, {"after": None})
        await asyncio.sleep(REGISTERED)
        await mutate(base, alice, name, values)
        first = await before.data(field, WAIT)
        await before.socket.close()
        await mutate(base, alice, name, values)  # while it is away
        again = await connect(base, alice)
        await again.subscribe(query, {"after": first["cursor"]})
        missed = await again.data(field, WAIT)
        assert missed["kind"] == "CREATED" and missed["nodeId"] != first["nodeId"]
        assert order(missed) > order(first)
        assert await again.nothing_within(0.3), field


async def test_identical_resuming_subscriptions_each_replay_for_themselves(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    # Sharing a stream would give the second subscriber only what the first had not been
    # given yet: a subscription with `after` has a stream of its own.
    alice, base = users[0], servers[0]
    live = await subscribe(connect, base, alice)
    await asyncio.sleep(REGISTERED)
    await new_task(base, alice, "first")
    cursor = (await changes(live, 1))[0]["cursor"]
    missed = await new_task(base, alice, "missed")
    early = await subscribe(connect, base, alice, cursor)
    assert (await changes(early, 1))[0]["nodeId"] == missed
    late = await subscribe(connect, base, alice, cursor)
    assert (await changes(late, 1))[0]["nodeId"] == missed
    marker = await new_task(base, alice, "marker")
    for subscriber in (live, early, late):
        assert [c["nodeId"] for c in await changes(subscriber, 1 + (subscriber is live))
                ][-1] == marker


async def error_of(subscriber: Subscriber) -> dict[str, Any]:
    message = await subscriber.next(WAIT)
    assert message["type"] == "error", message
    (error,) = message["payload"]
    assert isinstance(error, dict)
    return error


async def test_a_cursor_that_is_not_one_or_not_yours_is_refused_with_a_code(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    (alice, bob), base = users, servers[0]
    mine = await subscribe(connect, base, alice)
    await asyncio.sleep(REGISTERED)
    await new_task(base, alice, "hers")
    cursor = (await changes(mine, 1))[0]["cursor"]
    # Another user's cursor replays nothing of hers: it is not Bob's to resume from.
    foreign = await error_of(await subscribe(connect, base, bob, cursor))
    assert foreign["extensions"]["code"] == "CURSOR_EXPIRED"
    assert "subscribe without `after`" in foreign["message"]
    forged = base64.urlsafe_b64encode(b"change:999999999").decode().rstrip("=")
    unknown = await error_of(await subscribe(connect, base, alice, forged))
    assert unknown["extensions"]["code"] == "CURSOR_EXPIRED"
    for malformed in ("not a cursor", "", encode_cursor(1) + "!", "Y2hhbmdlOjA"):
        refused = await error_of(await subscribe(connect, base, alice, malformed))
        assert refused["extensions"]["code"] == "BAD_USER_INPUT", malformed


async def test_a_cursor_older_than_the_retention_is_expired(
    tmp_path_factory: pytest.TempPathFactory, users: tuple[str, str], connect: Any
) -> None:
    alice = users[0]
    workdir = tmp_path_factory.mktemp("expiry")
    extra = {"DATABASE_URL": DATABASE_URL} if ON_POSTGRES else {}
    with running_server(workdir, CHANGE_RETENTION_SECONDS="1",
                        CHANGE_PRUNE_INTERVAL_SECONDS="0.2", **extra) as base:
        mine = await subscribe(connect, base, alice)
        await asyncio.sleep(REGISTERED)
        await new_task(base, alice, "soon forgotten")
        cursor = (await changes(mine, 1))[0]["cursor"]
        await asyncio.sleep(1.8)  # past the retention, and a pruning run or more
        expired = await error_of(await subscribe(connect, base, alice, cursor))
    assert expired["extensions"]["code"] == "CURSOR_EXPIRED"
    assert "Refetch" in expired["message"]


# The outbox itself, in the test's transaction.


async def _outbox(db: AsyncSession, user: str | None = None) -> list[tuple[str, str, str]]:
    statement = select(ChangeOutbox.kind, ChangeOutbox.user_id, ChangeOutbox.key)
    if user is not None:
        statement = statement.where(ChangeOutbox.user_id == user)
    rows = await db.execute(statement.order_by(ChangeOutbox.id))
    return [tuple(row) for row in rows.all()]  # type: ignore[misc]  # three columns


class Failed(Exception):
    pass


async def test_a_change_is_recorded_with_its_commit_and_a_rollback_records_nothing(
    session_factory: async_sessionmaker[AsyncSession], db: AsyncSession
) -> None:
    database = RequestDatabase(session_factory, LocalBroker(), Viewer("alice"))
    with pytest.raises(Failed):
        async with database.transaction() as session:
            task = Task(user_id="alice", title="never")
            session.add(task)
            await session.flush()
            stage(session, EventKind.TASK_EVENT, "alice", task)
            raise Failed
    assert await _outbox(db) == []
    async with database.transaction() as session:
        task = Task(user_id="alice", title="kept")
        session.add(task)
        await session.flush()
        stage(session, EventKind.TASK_DELETED, "alice", task.id)
    await database.close()
    assert await _outbox(db) == [("task_deleted", "alice", str(task.id))]


async def _arrange(db: AsyncSession, ages: list[timedelta], user: str = "alice") -> None:
    now = utcnow()
    await db.execute(insert(ChangeOutbox), [
        {"kind": "task_event", "user_id": user, "key": str(n), "created_at": now - age}
        for n, age in enumerate(ages)
    ])
    await db.flush()


async def test_pruning_deletes_the_changes_past_the_retention_only(
    session_factory: async_sessionmaker[AsyncSession], db: AsyncSession
) -> None:
    old, new = timedelta(days=2), timedelta(seconds=5)
    await _arrange(db, [old, old, old], "alice")  # ids in the order recorded, as ever
    await _arrange(db, [old], "bob")
    await _arrange(db, [new, new], "alice")
    await _arrange(db, [new], "bob")
    # Batches of 2: the run takes several transactions, and stops once one deletes fewer.
    deleted = await prune_once(session_factory, LocalBroker(), 86_400, batch=2)
    assert deleted == 4
    kept = await _outbox(db)
    assert kept == [("task_event", "alice", "0"), ("task_event", "alice", "1"),
                    ("task_event", "bob", "0")]
    assert await prune_once(session_factory, LocalBroker(), 86_400) == 0


async def test_pruning_deletes_only_a_prefix_of_ids(
    session_factory: async_sessionmaker[AsyncSession], db: AsyncSession
) -> None:
    # Everything up to the last change past the retention goes, even a newer one recorded
    # before it (a clock stepped back): a change that is kept has lost nothing after it.
    await _arrange(db, [timedelta(days=2), timedelta(seconds=1), timedelta(days=2),
                        timedelta(seconds=1)])
    assert await prune_once(session_factory, LocalBroker(), 86_400) == 3
    assert await _outbox(db) == [("task_event", "alice", "3")]


@app_role
async def test_the_application_role_sees_and_writes_its_viewers_changes_only(
    connection: AsyncConnection,
) -> None:
    await connection.execute(text(
        "INSERT INTO change_outbox (kind, user_id, key) VALUES"
        " ('task_event', 'alice', '1'), ('task_event', 'bob', '2')"
    ))
    async with acting_as_app(connection, "alice") as run:
        owners = (await run("SELECT DISTINCT user_id FROM change_outbox")).scalars().all()
        assert owners == ["alice"]
        # Recorded through the function, as the server does: its viewer's only.
        await run("SELECT record_changes(ARRAY['task_event'], ARRAY['alice'], ARRAY['3'])")
    async with acting_as_app(connection, "alice") as run:
        with pytest.raises(DBAPIError, match=REFUSED):
            await run("SELECT record_changes(ARRAY['task_event'], ARRAY['bob'], ARRAY['4'])")
    async with acting_as_app(connection, "alice") as run:
        with pytest.raises(DBAPIError, match=REFUSED):
            await run("DELETE FROM change_outbox")


def test_a_cursor_round_trips_and_a_resuming_operation_is_told_apart() -> None:
    assert decode_cursor(encode_cursor(42)) == 42
    assert decode_cursor("x" * 41) is None

    def operation(source: str) -> OperationDefinitionNode:
        definition = parse(source).definitions[0]
        assert isinstance(definition, OperationDefinitionNode)
        return definition

    assert resumes(operation('subscription { taskChanges(after: "abc") { kind } }'), {})
    assert not resumes(operation("subscription { taskChanges(after: null) { kind } }"), {})
    assert not resumes(operation("subscription { taskChanges { kind } }"), {})
    with_variable = operation("subscription($a: String) { taskChanges(after: $a) { kind } }")
    assert resumes(with_variable, {"a": "abc"})
    assert not resumes(with_variable, {"a": None})
    assert not resumes(with_variable, {})


@pytest.mark.skipif(not ON_POSTGRES, reason="sizes measured on PostgreSQL")
async def test_what_a_change_costs_on_postgresql(db: AsyncSession) -> None:
    rows = 10_000
    await db.execute(text(
        "INSERT INTO change_outbox (kind, user_id, key, created_at)"
        " SELECT 'task_event', 'user-' || md5(n::text), (100000 + n)::text, clock_timestamp()"
        " FROM generate_series(1, :rows) AS n"
    ), {"rows": rows})
    row = await db.scalar(text("SELECT avg(pg_column_size(o.*)) FROM change_outbox o"))
    table = await db.scalar(text("SELECT pg_table_size('change_outbox')"))
    total = await db.scalar(text("SELECT pg_total_relation_size('change_outbox')"))
    count = await db.scalar(select(func.count()).select_from(ChangeOutbox))
    assert count and count >= rows and row and table and total
    per_row, per_change = float(row), int(total) / int(count)
    print(f"\nchange_outbox on PostgreSQL, {count} rows (a 37-character user id): "
          f"{per_row:.0f} bytes of row data, {int(table) / int(count):.0f} bytes a row in the "
          f"table, {per_change:.0f} bytes a change with its indexes")
    assert 40 < per_row < 200 and per_change < 400
