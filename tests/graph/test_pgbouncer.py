"""PostgreSQL through PgBouncer in transaction pool mode (DATABASE_POOLER=pgbouncer).

Each test starts its own PgBouncer (tests/pgbouncer.py) in front of the test database, so
the file runs wherever the PostgreSQL suite does, and again under `python -m tests.pgbouncer`
(where the suite's own URLs go through another one, and LISTEN_DATABASE_URL is direct).

What transaction mode takes away is the session: after each transaction the server
connection may go to another client. So no prepared statement may outlive its transaction
(asyncpg's caches off), the statement timeout rides in each BEGIN (PgBouncer refuses it as a
startup parameter), a transaction's viewer is transaction-local already (models/rls.py), and
LISTEN, which needs a session for the process's life, connects directly.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from domain.events import Event, EventKind
from graph.pubsub import PostgresBroker
from graph.settings import Settings
from models.database import EngineOptions, create_engine, create_session_factory
from models.rls import DatabaseViewer, viewer_session
from tests.conftest import DATABASE_URL, ON_POSTGRES, THROUGH_PGBOUNCER
from tests.graph.test_subscriptions import connect, users
from tests.pgbouncer import BINARY, admin_url, running_pgbouncer, through
from tests.servers import Subscriber, running_server, token

__all__ = ["connect", "users"]  # fixtures, used by name
# The application role's direct URL: the suite's own, unless the suite itself runs through
# a PgBouncer (then LISTEN_DATABASE_URL is the direct one).
DIRECT_URL = os.environ.get("LISTEN_DATABASE_URL", DATABASE_URL) if THROUGH_PGBOUNCER \
    else DATABASE_URL
SERVER_POOL = 4  # PgBouncer's server connections for the live test's two workers
TASK_CHANGES = "subscription { taskChanges { kind task { title } } }"
CREATE_TASK = """mutation($title: String!) { createTask(input: {title: $title}) {
  __typename } }"""

needs_pgbouncer = pytest.mark.skipif(
    not ON_POSTGRES or BINARY is None, reason="needs PostgreSQL and pgbouncer"
)


@pytest.fixture
def bouncer() -> Iterator[str]:
    """The application role's URL through a PgBouncer with ONE server connection: whatever a
    client leaves on it, the next client finds."""
    with running_pgbouncer([DIRECT_URL], pool_size=1) as port:
        yield through(DIRECT_URL, port)


def plain_engine(url: str) -> AsyncEngine:
    """SQLAlchemy's asyncpg engine as it comes: statement caches on (and no startup
    statement_timeout, which PgBouncer would refuse before any statement ran)."""
    return create_async_engine(url, poolclass=NullPool)


def plain_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def pooled_engine(url: str, **options: Any) -> AsyncEngine:
    return create_engine(EngineOptions(url=url, pgbouncer=True, **options))


@pytest.fixture
def two_servers() -> Iterator[str]:
    """The application role's URL through a PgBouncer of at most two server connections,
    opened as needed: the second only while the first is busy."""
    with running_pgbouncer([DIRECT_URL], pool_size=2) as port:
        yield through(DIRECT_URL, port)


async def again_on_another_server(a: AsyncEngine, b: AsyncEngine) -> None:
    """Client A's statement, then the same statement in A's next transaction while client B's
    open transaction holds the server connection A's first one ran on."""
    async with a.connect() as first:
        assert (await first.execute(text("SELECT 1"))).scalar() == 1
        await first.commit()  # server connection 1 is free again
        async with b.connect() as second:
            assert (await second.execute(text("SELECT 2"))).scalar() == 2  # holds it
            assert (await first.execute(text("SELECT 1"))).scalar() == 1  # on connection 2
            await first.commit()
            await second.commit()


@needs_pgbouncer
async def test_without_the_setting_a_cached_statement_is_missing_on_another_server(
    two_servers: str,
) -> None:
    # The control: asyncpg names its statements (__asyncpg_stmt_<n>__) and the dialect
    # caches them per client connection, but PgBouncer gave A's next transaction another
    # server connection. (Two processes naming from 1 collide instead: "already exists".)
    a, b = plain_engine(two_servers), plain_engine(two_servers)
    try:
        with pytest.raises(DBAPIError, match=r"prepared statement \"__asyncpg_stmt_\w+__\" "
                                             r"does not exist"):
            await again_on_another_server(a, b)
    finally:
        await a.dispose()
        await b.dispose()


@needs_pgbouncer
async def test_with_the_setting_clients_share_server_connections_freely(
    two_servers: str,
) -> None:
    a, b = pooled_engine(two_servers), pooled_engine(two_servers)
    try:
        await again_on_another_server(a, b)

        async def one(engine: AsyncEngine, value: int) -> int:
            async with engine.connect() as connection:
                return int((await connection.execute(text(f"SELECT {value}"))).scalar_one())
        # And many clients' transactions at once on the two server connections.
        values = list(range(40))
        assert await asyncio.gather(*(one((a, b)[v % 2], v) for v in values)) == values
    finally:
        await a.dispose()
        await b.dispose()


@needs_pgbouncer
async def test_the_viewer_and_the_timeout_stay_inside_their_transaction(bouncer: str) -> None:
    engine = pooled_engine(bouncer, statement_timeout_ms=1234)
    factory = create_session_factory(engine)
    try:
        async with viewer_session(factory, DatabaseViewer("alice")) as session:
            row = (await session.execute(text(
                "SELECT current_setting('app.viewer'), current_setting('statement_timeout')"
            ))).one()
            assert tuple(row) == ("alice", "1234ms")
            await session.commit()
        # The next client on the same (only) server connection, outside any transaction of
        # its own, inherits neither.
        other = await asyncpg.connect(plain_dsn(bouncer), statement_cache_size=0)
        try:
            row = await other.fetchrow("SELECT current_setting('app.viewer', true), "
                                       "current_setting('statement_timeout')")
        finally:
            await other.close()
        assert (row[0] or "", row[1]) == ("", "0")
        # And the timeout is the engine's: a statement past it is cancelled.
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError, match="statement timeout"):
                await connection.execute(text("SELECT pg_sleep(3)"))
    finally:
        await engine.dispose()


@needs_pgbouncer
async def test_notify_in_a_pooled_transaction_reaches_a_direct_listener(
    bouncer: str, committed_users: Callable[[str], str],
) -> None:
    engine = pooled_engine(bouncer)
    # NOTIFY wakes the reader, which reads the change from the outbox through the pool.
    broker = PostgresBroker(DIRECT_URL, factory=create_session_factory(engine))
    await broker.start()
    user = committed_users("notified")
    try:
        reader = broker.reader(user)
        # As the server's sessions do: the change outbox's policy admits the viewer's rows.
        async with viewer_session(create_session_factory(engine), DatabaseViewer(user)) as session:
            await broker.publish(session, [Event(EventKind.TASK_DELETED, user, 1)])
            await session.commit()
            await broker.publish(session, [Event(EventKind.TASK_DELETED, user, 2)])
            await session.rollback()
        event = await asyncio.wait_for(reader.get(), 5)
        assert (event.user_id, event.key) == (user, 1)  # the committed one
        await asyncio.sleep(0.3)
        assert reader.empty()  # the rolled-back one was never sent
    finally:
        await engine.dispose()
        await broker.stop()


@needs_pgbouncer
async def test_listen_through_pgbouncer_is_accepted_and_hears_nothing(two_servers: str) -> None:
    # Why LISTEN_DATABASE_URL exists: the LISTEN ran on a server connection that went back to
    # the pool when it ended; a NOTIFY, from a client of the same pool or directly, is
    # delivered to whichever backend listens, and PgBouncer forwards it to no one.
    listener = await asyncpg.connect(plain_dsn(two_servers), statement_cache_size=0)
    heard: list[str] = []
    others = [await asyncpg.connect(plain_dsn(two_servers), statement_cache_size=0)
              for _ in range(2)]
    direct = await asyncpg.connect(plain_dsn(DIRECT_URL))
    try:
        await listener.add_listener("pgbouncer_probe", lambda *args: heard.append(args[-1]))
        for n in range(3):
            await asyncio.gather(*(other.execute(f"SELECT pg_notify('pgbouncer_probe', 'p{n}')")
                                   for other in others))
        await direct.execute("SELECT pg_notify('pgbouncer_probe', 'direct')")
        await asyncio.sleep(1.0)
        assert heard == []
    finally:
        for connection in (listener, *others, direct):
            await connection.close()


def test_pgbouncer_without_a_direct_listen_url_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("LISTEN_DATABASE_URL", "DATABASE_POOLER"):  # set when run through one
        monkeypatch.delenv(name, raising=False)
    url = "postgresql+asyncpg://app@pgbouncer:6432/clarity"
    with pytest.raises(ValidationError, match="LISTEN_DATABASE_URL"):
        Settings(database_url=url, database_pooler="pgbouncer")
    direct = "postgresql+asyncpg://app@db:5432/clarity"
    settings = Settings(database_url=url, database_pooler="pgbouncer", listen_database_url=direct)
    assert settings.listener_database_url == direct
    assert Settings(database_url=url).listener_database_url == url  # unset: DATABASE_URL


@pytest.fixture
def servers_through_pgbouncer(
    tmp_path: Path, engine: AsyncEngine
) -> Iterator[tuple[str, str, int]]:
    """Two server processes (what `serve --workers 2` runs, without uvicorn's supervisor,
    whose 5 s health check restarts slow-starting workers on a loaded CI host) as the
    application role through one PgBouncer of SERVER_POOL server connections, LISTEN direct;
    their base URLs and PgBouncer's port."""
    env = {"DATABASE_POOLER": "pgbouncer", "LISTEN_DATABASE_URL": DIRECT_URL}
    with running_pgbouncer([DIRECT_URL], pool_size=SERVER_POOL) as port:
        url = through(DIRECT_URL, port)
        with running_server(tmp_path, DATABASE_URL=url, **env) as first, \
                running_server(tmp_path, DATABASE_URL=url, **env) as second:
            yield first, second, port


@needs_pgbouncer
async def test_live_subscriptions_work_with_listen_direct_and_the_app_through_pgbouncer(
    servers_through_pgbouncer: tuple[str, str, int], users: tuple[str, str], connect: Any
) -> None:
    first, second, port = servers_through_pgbouncer
    alice, _ = users
    subscriber: Subscriber = await connect(first, alice)
    await subscriber.subscribe(TASK_CHANGES)
    await asyncio.sleep(0.3)  # registered before the first event
    titles = [f"through pgbouncer {n}" for n in range(20)]
    async with httpx.AsyncClient(timeout=10) as client:  # half on each process
        answers = await asyncio.gather(*(client.post(
            f"{(first, second)[n % 2]}/graphql",
            json={"query": CREATE_TASK, "variables": {"title": title}},
            headers={"Authorization": f"Bearer {token(alice)}"}) for n, title in enumerate(titles)))
    assert {a.json()["data"]["createTask"]["__typename"] for a in answers} == \
        {"CreateTaskSuccess"}
    received = [await subscriber.data("taskChanges", wait=5) for _ in titles]
    assert sorted(change["task"]["title"] for change in received) == sorted(titles)
    # Two processes of DB_POOL_SIZE 10 each may hold 20 client connections; PgBouncer served
    # them with at most its pool's server connections.
    servers = show(port, "SERVERS")
    assert 1 <= len(servers) <= SERVER_POOL, servers


def show(port: int, what: str) -> list[str]:
    """PgBouncer's SHOW `what`, one line per row (psql: the admin console takes only simple
    queries, which asyncpg's fetch does not send)."""
    out = subprocess.run(["psql", admin_url(port), "-AtF", " ", "-c", f"SHOW {what}"],
                         check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line]

