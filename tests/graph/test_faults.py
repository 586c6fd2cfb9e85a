"""Faults: the database going away mid-run, and coming back.

While the database is away, /readyz answers 503 and /healthz 200; a GraphQL request gets the
SERVICE_UNAVAILABLE error, "retry shortly" with an error id (no SQL, driver, host or path in
the body), within a bound, never a hang; any other failure stays the masked error. When
it returns, requests succeed again without restarting the app, and a mutation the outage
interrupted left nothing half-written: the task with its steps and its 'created' event, or
nothing at all.

SQLite (always): an in-process app with the real engine on a file in a directory that is
renamed away. PostgreSQL (when TEST_DATABASE_URL points at it): the app reaches the test
database through a TCP proxy written here, which the test cuts (every connection dropped,
then refused, or accepted and never answered) and restores. Nothing shared is stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.app import create_app
from graph.auth import mint_token
from graph.migrations import upgrade_head
from tests.conftest import DATABASE_URL, ON_POSTGRES, make_settings
from tests.servers import free_port

REQUEST_SECONDS = 10.0  # no request may take longer, outage or not
CONNECT_TIMEOUT_SECONDS = 2.0  # the app's connect timeout in the unanswered-connect test
MASKED = "Internal server error."
UNAVAILABLE = "The database is unavailable; retry shortly."
# What a masked body must not show, whatever failed underneath.
LEAKS = (
    "sqlalchemy", "sqlite", "asyncpg", "postgres", "operationalerror", "interfaceerror",
    "select ", "insert ", "traceback", "127.0.0.1", "localhost", "refused", "unable to open",
    "timeout", "connection", "simulated",
)
COUNT = "{ tasks { totalCount } }"
CREATE = """
mutation($input: CreateTaskInput!) {
  createTask(input: $input) {
    __typename ... on CreateTaskSuccess { task { id stepCount events { totalCount } } }
  }
}"""


@dataclass
class Api:
    """The app under test, called as one user; every call bounded by REQUEST_SECONDS."""

    http: httpx.AsyncClient
    user: str

    async def get(self, path: str) -> tuple[httpx.Response, float]:
        started = time.monotonic()
        async with asyncio.timeout(REQUEST_SECONDS):
            response = await self.http.get(path)
        return response, time.monotonic() - started

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> httpx.Response:
        token = mint_token(make_settings(), user_id=self.user, admin=False, ttl_seconds=600)
        async with asyncio.timeout(REQUEST_SECONDS):
            return await self.http.post(
                "/graphql", json={"query": query, "variables": variables or {}},
                headers={"Authorization": f"Bearer {token}"},
            )

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = await self.graphql(query, variables)
        assert response.status_code == 200, response.text
        body = response.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def count(self) -> int:
        return int((await self.data(COUNT))["tasks"]["totalCount"])

    async def create(self, title: str, steps: list[str]) -> dict[str, Any]:
        data = await self.data(CREATE, {"input": {"title": title, "steps": steps}})
        payload: dict[str, Any] = data["createTask"]
        assert payload["__typename"] == "CreateTaskSuccess", payload
        return payload


def assert_shown_as(
    response: httpx.Response, field: str, code: str, message: str, secrets: Iterable[str]
) -> None:
    assert response.status_code == 200, response.text  # legacy application/json
    body = response.json()
    [error] = body["errors"]
    assert error["message"] == message
    assert error["path"] == [field]
    assert error["extensions"]["code"] == code
    assert len(error["extensions"]["errorId"]) == 32
    shown = response.text.lower()
    for secret in (*LEAKS, *secrets):
        assert secret.lower() not in shown, (secret, response.text)


def assert_masked(response: httpx.Response, field: str, secrets: Iterable[str] = ()) -> None:
    assert_shown_as(response, field, "INTERNAL_SERVER_ERROR", MASKED, secrets)


def assert_unreachable(response: httpx.Response, field: str, secrets: Iterable[str] = ()) -> None:
    """The database could not be reached: SERVICE_UNAVAILABLE, and still nothing internal."""
    assert_shown_as(response, field, "SERVICE_UNAVAILABLE", UNAVAILABLE, secrets)


async def assert_unavailable(api: Api, secrets: Iterable[str], *, within: float) -> None:
    """Everything a client sees while the database is away."""
    ready, elapsed = await api.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "database": "unreachable"}
    assert elapsed < within
    healthy, _ = await api.get("/healthz")
    assert healthy.status_code == 200
    started = time.monotonic()
    assert_unreachable(await api.graphql(COUNT), "tasks", secrets)
    created = await api.graphql(CREATE, {"input": {"title": "during the outage"}})
    assert_unreachable(created, "createTask", secrets)
    assert time.monotonic() - started < 2 * within


async def assert_resumed(api: Api, tasks_before: int) -> None:
    ready, _ = await api.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert await api.count() == tasks_before  # the mutation tried during the outage wrote nothing
    created = await api.create("after the outage", ["one", "two"])
    assert created["task"]["stepCount"] == 2
    assert created["task"]["events"] == {"totalCount": 1}
    assert await api.count() == tasks_before + 1


@contextlib.asynccontextmanager
async def serving(url: str, user: str, **settings: Any) -> AsyncIterator[tuple[FastAPI, Api]]:
    app = create_app(make_settings(database_url=url, **settings))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://faults") as http:
            yield app, Api(http, user)


def engine_of(app: FastAPI) -> AsyncEngine:
    bind: AsyncEngine = app.state.resources.session_factory.kw["bind"]
    return bind


# --- SQLite: the directory holding the file goes away --------------------------------------


@dataclass
class SqliteSite:
    directory: Path
    url: str

    @property
    def database(self) -> Path:
        return self.directory / "faults.db"

    def counts(self, title: str) -> dict[str, int]:
        """The task titled `title` with its steps and events, and orphans of any task."""
        with sqlite3.connect(self.database) as connection:
            def one(sql: str, *params: str) -> int:
                return int(connection.execute(sql, params).fetchone()[0])

            return {
                "tasks": one("SELECT count(*) FROM tasks WHERE title = ?", title),
                "steps": one(
                    "SELECT count(*) FROM task_steps JOIN tasks ON tasks.id = task_id"
                    " WHERE title = ?", title,
                ),
                "events": one(
                    "SELECT count(*) FROM task_events JOIN tasks ON tasks.id = task_id"
                    " WHERE title = ?", title,
                ),
                "orphans": one(
                    "SELECT (SELECT count(*) FROM task_steps WHERE task_id NOT IN"
                    " (SELECT id FROM tasks)) + (SELECT count(*) FROM task_events WHERE"
                    " task_id NOT IN (SELECT id FROM tasks))"
                ),
            }

    def execute(self, sql: str) -> None:
        with sqlite3.connect(self.database) as connection:
            connection.execute(sql)


async def migrated_sqlite_site(tmp_path: Path) -> SqliteSite:
    """A SQLite file, migrated, in a directory of its own (renamed away for an outage)."""
    directory = tmp_path / "data"
    directory.mkdir()
    site = SqliteSite(directory, f"sqlite+aiosqlite:///{directory / 'faults.db'}")
    await asyncio.to_thread(upgrade_head, site.url)
    return site


@pytest.fixture
async def sqlite_site(tmp_path: Path) -> SqliteSite:
    return await migrated_sqlite_site(tmp_path)


def fresh_user() -> str:
    return f"faults-{uuid.uuid4().hex[:12]}"


async def test_sqlite_going_away_is_unready_masked_and_resumes(sqlite_site: SqliteSite) -> None:
    async with serving(sqlite_site.url, fresh_user()) as (app, api):
        await api.create("before the outage", ["one"])
        away = sqlite_site.directory.with_name("away")
        sqlite_site.directory.rename(away)
        # An open SQLite descriptor outlives the rename: drop the pool's idle connections, as
        # the I/O errors of a real disk loss would, so every connection meets the missing file.
        await engine_of(app).dispose()

        await assert_unavailable(api, [str(sqlite_site.directory), "faults.db"], within=2.0)

        away.rename(sqlite_site.directory)
        await assert_resumed(api, tasks_before=1)


FAIL_AT_THE_EVENT = """
CREATE TRIGGER fail_midway BEFORE INSERT ON task_events
WHEN (SELECT title FROM tasks WHERE id = NEW.task_id) = 'interrupted'
BEGIN SELECT RAISE(ABORT, 'simulated failure after the task and its steps'); END
"""


async def test_sqlite_mutation_failing_midway_leaves_nothing(sqlite_site: SqliteSite) -> None:
    # The task and its steps are inserted, then the 'created' event fails: all or nothing.
    await asyncio.to_thread(sqlite_site.execute, FAIL_AT_THE_EVENT)
    async with serving(sqlite_site.url, fresh_user()) as (_app, api):
        response = await api.graphql(
            CREATE, {"input": {"title": "interrupted", "steps": ["a", "b", "c"]}}
        )
        assert_masked(response, "createTask", ["fail_midway", "task_events"])
        nothing = {"tasks": 0, "steps": 0, "events": 0, "orphans": 0}
        assert await asyncio.to_thread(sqlite_site.counts, "interrupted") == nothing
        assert await api.count() == 0

        await asyncio.to_thread(sqlite_site.execute, "DROP TRIGGER fail_midway")
        created = await api.create("interrupted", ["a", "b", "c"])
        assert created["task"]["stepCount"] == 3
        whole = {"tasks": 1, "steps": 3, "events": 1, "orphans": 0}
        assert await asyncio.to_thread(sqlite_site.counts, "interrupted") == whole


# --- PostgreSQL: a proxy between the app and the server, cut and restored -------------------


class Proxy:
    """Forwards 127.0.0.1:<port> to PostgreSQL until cut.

    `cut()` drops every proxied connection (both ends, abruptly: PostgreSQL rolls back what
    they had open) and refuses new ones; `cut(blackhole=True)` accepts new ones instead and
    never answers, like a host gone from the network. `cut_after` cuts right after forwarding
    a client packet holding those bytes: an outage in the middle of a transaction.
    """

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = free_port()
        self.blackhole = False
        self.cut_after: bytes | None = None
        self._server: asyncio.Server | None = None
        self._ends: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)

    def cut(self, *, blackhole: bool = False) -> None:
        self.blackhole = blackhole
        if not blackhole and self._server is not None:
            self._server.close()
            self._server = None
        self._drop_all()

    async def restore(self) -> None:
        self.blackhole = False
        self._drop_all()  # connections held unanswered while blackholed
        if self._server is None:
            await self.start()

    async def close(self) -> None:
        self.cut()
        await asyncio.sleep(0)

    def _drop_all(self) -> None:
        for end in list(self._ends):
            end.transport.abort()
        self._ends.clear()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._ends.add(writer)
        try:
            if self.blackhole:
                while await reader.read(65536):
                    pass
                return
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
            self._ends.add(up_writer)
            await asyncio.gather(
                self._pipe(reader, up_writer, watch=True),
                self._pipe(up_reader, writer, watch=False),
            )
        except OSError:
            writer.transport.abort()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, watch: bool
    ) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
                if watch and self.cut_after is not None and self.cut_after in data:
                    self.cut_after = None
                    self.cut()
                    return
        except OSError:
            pass
        if not writer.transport.is_closing():
            writer.close()
        self._ends.discard(writer)


postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="needs TEST_DATABASE_URL (PostgreSQL)")


@pytest.fixture
async def proxy() -> AsyncIterator[Proxy]:
    url = make_url(DATABASE_URL)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield proxy
    await proxy.close()


@pytest.fixture
def proxied_url(proxy: Proxy) -> str:
    url = make_url(DATABASE_URL).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


@pytest.fixture
def pg_user(committed_users: Callable[[str], str]) -> str:
    # `committed_users`' engine migrated the test database (directly, not through the proxy).
    return committed_users("faults")


async def last_task_id(engine: AsyncEngine) -> int:
    """The last id the tasks' sequence handed out (0 if none): rolled back inserts count."""
    async with engine.connect() as connection:
        sequence = "pg_get_serial_sequence('tasks', 'id')"
        value = await connection.scalar(
            text(f"SELECT coalesce(pg_sequence_last_value({sequence}), 0)")
        )
    return int(value)


def proxy_secrets(proxy: Proxy) -> list[str]:
    return [str(proxy.port), make_url(DATABASE_URL).database or "postgres"]


@postgres_only
@pytest.mark.postgres_only
async def test_postgres_going_away_is_unready_masked_and_resumes(
    proxy: Proxy, proxied_url: str, pg_user: str
) -> None:
    async with serving(proxied_url, pg_user) as (_app, api):
        await api.create("before the outage", ["one"])
        proxy.cut()
        await assert_unavailable(api, proxy_secrets(proxy), within=2.0)
        await proxy.restore()
        await assert_resumed(api, tasks_before=1)


@postgres_only
@pytest.mark.postgres_only
async def test_postgres_unanswered_connects_fail_within_the_connect_timeout(
    proxy: Proxy, proxied_url: str, pg_user: str
) -> None:
    settings = {"db_connect_timeout_seconds": CONNECT_TIMEOUT_SECONDS}
    async with serving(proxied_url, pg_user, **settings) as (_app, api):
        await api.create("before the outage", ["one"])
        proxy.cut(blackhole=True)
        await assert_unavailable(
            api, proxy_secrets(proxy), within=CONNECT_TIMEOUT_SECONDS + 2.0
        )
        await proxy.restore()
        await assert_resumed(api, tasks_before=1)


@postgres_only
@pytest.mark.postgres_only
async def test_postgres_outage_mid_mutation_leaves_nothing_half_written(
    engine: AsyncEngine, proxy: Proxy, proxied_url: str, pg_user: str
) -> None:
    marker = f"cut-{uuid.uuid4().hex}"
    title = f"interrupted {marker}"
    ids_before = await last_task_id(engine)
    async with serving(proxied_url, pg_user) as (_app, api):
        # The task's INSERT has been answered when its steps' INSERT (holding the marker) goes
        # out; right after it, every connection drops: no 'created' event, no COMMIT.
        proxy.cut_after = marker.encode()
        response = await api.graphql(
            CREATE, {"input": {"title": title, "steps": ["first", marker, "third"]}}
        )
        assert proxy.cut_after is None, "the proxy never saw the steps' INSERT"
        assert_unreachable(response, "createTask", proxy_secrets(proxy))
        await proxy.restore()

        # The task's INSERT did run (it took an id from the sequence), and was rolled back.
        assert await last_task_id(engine) > ids_before
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT (SELECT count(*) FROM tasks WHERE user_id = :u),"
                    " (SELECT count(*) FROM task_steps WHERE content = :m)"
                ),
                {"u": pg_user, "m": marker},
            )
            assert tuple(rows.one()) == (0, 0)
        assert await api.count() == 0

        created = await api.create(title, ["first", marker, "third"])
        assert created["task"]["stepCount"] == 3
        assert created["task"]["events"] == {"totalCount": 1}
