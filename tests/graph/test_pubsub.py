"""Announcing committed changes to subscribers (`graph/pubsub/`, `RequestDatabase.transaction`).

Through the real engine: the harness's rolled-back transaction would swallow PostgreSQL's
NOTIFY (it is delivered on commit only). The bounds are tested on an outbox in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Collection

import asyncpg
import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain import tasks
from domain.events import Event, EventKind, stage
from domain.viewers import Viewer
from graph.execution.database import RequestDatabase
from graph.pubsub import (
    CHANNEL,
    Backlog,
    FellBehind,
    LocalBroker,
    PostgresBroker,
    Reader,
    build_broker,
)
from models import Task
from tests.conftest import DATABASE_URL, ON_POSTGRES, CommittedUsers, session_as

DELIVERY_TIMEOUT = 5.0


@pytest.fixture
async def broker(
    real_session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[LocalBroker]:
    """What `create_app` runs on this database: LISTEN/NOTIFY on PostgreSQL, its readers
    reading the change outbox."""
    broker = build_broker(DATABASE_URL, factory=real_session_factory)
    await broker.start()
    yield broker
    await broker.stop()


@pytest.fixture
def user(committed_users: CommittedUsers) -> str:
    return committed_users("pubsub")


class Refused(Exception):
    pass


class BrokerThatCannotPublish(LocalBroker):
    async def publish(self, session: AsyncSession, events: list[Event]) -> list[Event]:
        raise Refused("the database refused NOTIFY")


async def _write_task(db: RequestDatabase, user: str) -> int:
    async with db.transaction() as session:
        task = Task(user_id=user, title="announced")
        session.add(task)
        await session.flush()
        stage(session, EventKind.TASK_EVENT, user, task)
    return int(task.id)


async def _count(real_session_factory: async_sessionmaker[AsyncSession], user: str) -> int:
    async with session_as(real_session_factory, user) as session:
        statement = select(func.count()).select_from(Task).where(Task.user_id == user)
        return int(await session.scalar(statement) or 0)


async def test_a_committed_change_reaches_its_subscriber(
    real_session_factory: async_sessionmaker[AsyncSession], broker: LocalBroker, user: str
) -> None:
    db = RequestDatabase(real_session_factory, broker, Viewer(user))
    async with broker.subscribe(user) as queue:
        row_id = await _write_task(db, user)
        event = await asyncio.wait_for(queue.get(), DELIVERY_TIMEOUT)
    await db.close()
    assert (event.kind, event.user_id, event.key) == ("task_event", user, row_id)
    assert event.id is not None  # its outbox id: the cursor a client resumes from


async def test_a_rolled_back_change_is_never_announced(
    real_session_factory: async_sessionmaker[AsyncSession], broker: LocalBroker, user: str
) -> None:
    db = RequestDatabase(real_session_factory, broker, Viewer(user))
    async with broker.subscribe(user) as queue:
        with pytest.raises(Refused):
            async with db.transaction() as session:
                task = Task(user_id=user, title="never")
                session.add(task)
                await session.flush()
                stage(session, EventKind.TASK_EVENT, user, task)
                raise Refused("the mutation failed")
        marker = await _write_task(db, user)  # a later commit: its event comes first
        event = await asyncio.wait_for(queue.get(), DELIVERY_TIMEOUT)
    await db.close()
    assert event.key == marker


async def test_a_change_that_cannot_be_announced_is_not_committed(
    real_session_factory: async_sessionmaker[AsyncSession], user: str
) -> None:
    db = RequestDatabase(real_session_factory, BrokerThatCannotPublish(), Viewer(user))
    with pytest.raises(Refused):
        await _write_task(db, user)
    await db.close()
    assert await _count(real_session_factory, user) == 0


async def test_a_transaction_with_nothing_staged_announces_nothing(
    real_session_factory: async_sessionmaker[AsyncSession], broker: LocalBroker, user: str
) -> None:
    db = RequestDatabase(real_session_factory, broker, Viewer(user))
    async with broker.subscribe(user) as queue:
        async with db.transaction() as session:
            await session.execute(insert(Task).values(user_id=user, title="quiet"))
        marker = await _write_task(db, user)
        event = await asyncio.wait_for(queue.get(), DELIVERY_TIMEOUT)
    await db.close()
    assert event.key == marker and queue.empty()


async def test_a_rolled_back_deletion_is_never_announced(
    real_session_factory: async_sessionmaker[AsyncSession], broker: LocalBroker, user: str
) -> None:
    db = RequestDatabase(real_session_factory, broker, Viewer(user))
    doomed = await _write_task(db, user)
    heard: list[Event] = []
    async with broker.subscribe(user) as queue:
        with pytest.raises(Refused):
            async with db.transaction() as session:
                found = await tasks.owned_tasks(session, user, [doomed])
                await tasks.delete_tasks(session, list(found.values()))  # staged
                raise Refused("the mutation failed after the deletion")
        marker = await _write_task(db, user)
        # Until the marker: on PostgreSQL the first write's NOTIFY may arrive this late.
        while not heard or heard[-1].key != marker:
            heard.append(await asyncio.wait_for(queue.get(), DELIVERY_TIMEOUT))
    await db.close()
    assert {event.kind for event in heard} == {EventKind.TASK_EVENT}
    assert await _count(real_session_factory, user) == 2


async def test_a_text_key_is_delivered_as_it_was_staged(
    real_session_factory: async_sessionmaker[AsyncSession], broker: LocalBroker, user: str
) -> None:
    # Conversations have UUID keys: they cross NOTIFY as text, task keys as numbers.
    db = RequestDatabase(real_session_factory, broker, Viewer(user))
    key = str(uuid.uuid4())
    async with broker.subscribe(user) as queue:
        async with db.transaction() as session:
            stage(session, EventKind.CONVERSATION_DELETED, user, key)
        event = await asyncio.wait_for(queue.get(), DELIVERY_TIMEOUT)
    await db.close()
    assert (event.kind, event.user_id, event.key) == (EventKind.CONVERSATION_DELETED, user, key)


@pytest.mark.parametrize("payload", [
    '["alice", {"no_such_kind": 1}, 1]', '[7, {"task_event": 1}, 1]',
    '["alice", {"task_event": 1}, null]', '["alice", {"task_event": "1"}, 1]',
    '["task_event", "alice", 1]', "not json",
])
async def test_a_notification_it_cannot_read_is_ignored(payload: str) -> None:
    broker = PostgresBroker(DATABASE_URL)  # never started: only its reading of a payload
    async with broker.subscribe("alice", {EventKind.TASK_EVENT}) as queue:
        broker._heard(None, 0, CHANNEL, payload)
        assert queue.empty()


@pytest.mark.postgres_only
@pytest.mark.skipif(not ON_POSTGRES, reason="LISTEN/NOTIFY is PostgreSQL's")
async def test_a_lost_listen_connection_is_reopened(
    real_session_factory: async_sessionmaker[AsyncSession], broker: LocalBroker, user: str
) -> None:
    assert isinstance(broker, PostgresBroker)
    dsn = make_url(DATABASE_URL).set(drivername="postgresql").render_as_string(False)
    admin = await asyncpg.connect(dsn)
    try:
        # End the backend LISTENing on the channel, as an outage or a restart would.
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE pid <> pg_backend_pid() AND query LIKE 'LISTEN%'"
            " AND datname = current_database()"
        )
    finally:
        await admin.close()
    # Delivery itself proves the reconnect: until the broker LISTENs again, what commits is
    # not announced, so write until an event arrives. Nothing written meanwhile is lost: the
    # reconnect wakes every reader, which reads the outbox.
    db = RequestDatabase(real_session_factory, broker, Viewer(user))
    heard: list[int | str] = []
    written: list[int | str] = []
    async with broker.subscribe(user) as queue, asyncio.timeout(DELIVERY_TIMEOUT * 4):
        while not heard:
            written.append(await _write_task(db, user))
            with contextlib.suppress(TimeoutError):
                heard.append((await asyncio.wait_for(queue.get(), 0.3)).key)
        while len(heard) < len(written):
            heard.append((await queue.get()).key)
    await db.close()
    assert heard == written


@pytest.mark.postgres_only
@pytest.mark.skipif(not ON_POSTGRES, reason="LISTEN/NOTIFY is PostgreSQL's")
async def test_a_listen_connection_that_fails_to_listen_is_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened: list[asyncpg.Connection] = []
    connect = asyncpg.connect

    async def recording_connect(*args: object, **kwargs: object) -> asyncpg.Connection:
        connection = await connect(*args, **kwargs)
        opened.append(connection)
        return connection

    async def refuse(*_args: object) -> None:
        raise asyncio.CancelledError  # as when `stop` cancels a reconnect mid-way

    monkeypatch.setattr(asyncpg, "connect", recording_connect)
    monkeypatch.setattr(asyncpg.Connection, "add_listener", refuse)
    broker = PostgresBroker(DATABASE_URL)
    with pytest.raises(asyncio.CancelledError):
        await broker.start()
    assert len(opened) == 1 and opened[0].is_closed()


# What waits is bounded, and whatever is dropped is told (graph/pubsub/ Backlog).


class Outbox:
    """An outbox in memory (the bounds are the broker's alone): commits get ids in order."""

    def __init__(self, broker: LocalBroker) -> None:
        self.events: list[Event] = []
        self.broker = broker
        broker.reads_from(self.fetch, self.head, self.last)

    async def fetch(self, user: str, after: int, kinds: Collection[str] | None,
                    limit: int) -> list[Event]:
        return [event for event in self.events if event.user_id == user and
                (event.id or 0) > after and (kinds is None or event.kind in kinds)][:limit]

    async def head(self, user: str) -> int:
        return max((event.id or 0 for event in self.events if event.user_id == user), default=0)

    async def last(self) -> int:
        return len(self.events)

    def commit(self, user: str, key: int, kind: str = EventKind.TASK_EVENT) -> None:
        event = Event(kind, user, key, len(self.events) + 1)
        self.events.append(event)
        self.broker.committed([event])


async def _broker(backlog: Backlog = Backlog()) -> tuple[LocalBroker, Outbox]:
    broker = LocalBroker(backlog)
    outbox = Outbox(broker)
    await broker.start()  # its readers start after the last change recorded
    return broker, outbox


async def _take(reader: Reader, count: int) -> list[int | str]:
    return [(await asyncio.wait_for(reader.get(), DELIVERY_TIMEOUT)).key for _ in range(count)]


async def test_a_reader_gets_every_event_of_a_burst_past_the_old_queue_limit() -> None:
    broker, outbox = await _broker()
    async with broker.subscribe("alice") as reader:
        for key in range(1_200):  # the old per-queue limit was 1,000: 200 were dropped
            outbox.commit("alice", key)
        assert await _take(reader, 1_200) == list(range(1_200))


async def test_past_the_users_backlog_the_reader_furthest_behind_is_cut_and_told() -> None:
    broker, outbox = await _broker(Backlog(per_user=3, per_process=100))
    async with broker.subscribe("alice") as behind, broker.subscribe("alice") as keeping_up:
        for key in range(3):
            outbox.commit("alice", key)
            assert await _take(keeping_up, 1) == [key]
        outbox.commit("alice", 3)  # 4 waiting for alice: 3 of them for `behind`
        with pytest.raises(FellBehind):
            await behind.get()
        assert await _take(keeping_up, 1) == [3]  # nothing the other reader was sent is lost


async def test_past_the_process_backlog_the_user_with_the_most_waiting_is_cut() -> None:
    broker, outbox = await _broker(Backlog(per_user=100, per_process=4))
    async with broker.subscribe("alice") as hers, broker.subscribe("bob") as his:
        outbox.commit("bob", 0)
        for key in range(4):
            outbox.commit("alice", key)  # the fifth waiting in the process
        with pytest.raises(FellBehind):
            await hers.get()
        assert await _take(his, 1) == [0]


async def test_a_reader_counts_only_the_kinds_it_asked_for() -> None:
    broker, outbox = await _broker(Backlog(per_user=2, per_process=100))
    async with broker.subscribe("alice", {EventKind.MESSAGE}) as messages:
        for key in range(10):  # task events: not this reader's, never waiting for it
            outbox.commit("alice", key)
        outbox.commit("alice", 99, EventKind.MESSAGE)
        assert await _take(messages, 1) == [99]
        assert messages.empty()


async def test_a_closed_reader_leaves_nothing_counted() -> None:
    broker, outbox = await _broker(Backlog(per_user=2, per_process=2))
    async with broker.subscribe("alice"):
        outbox.commit("alice", 0)
        outbox.commit("alice", 1)  # the backlog is full, and then let go
    async with broker.subscribe("alice") as fresh:
        outbox.commit("alice", 2)
        outbox.commit("alice", 3)
        assert await _take(fresh, 2) == [2, 3]
