"""Test harness: a real database, migrated to head once, and a rolled-back transaction per test.

SQLite in memory (StaticPool: one shared connection) by default; PostgreSQL when
TEST_DATABASE_URL is set. The app under test gets a session factory bound to the test's
connection with `join_transaction_mode="create_savepoint"`, so its commits are savepoints
that the test's final rollback discards.

On PostgreSQL the app runs as production runs it: as the application role, under its grants
and row-level security. TEST_DATABASE_URL names that role and TEST_OWNER_DATABASE_URL the
tables' owner, who migrates, grants (`models.privileges.grant`) and arranges and inspects
data. The test's one connection logs in as the owner; each of the app's transactions on it
switches to the application role for its own duration (`set_config('role', ...)`, undone
when its savepoint is released), so the app's every statement runs with the role's
privileges while `db` and `connection` keep the owner's. Servers and engines the tests start
themselves connect as the application role directly. Without TEST_OWNER_DATABASE_URL one
role does everything, row-level security does not apply to it (it owns the tables), and the
tests that prove it (tests/graph/test_row_security.py) skip.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.pool import StaticPool

from domain.visit_credentials import VisitCredential, VisitSigner
from graph.app import create_app
from graph.auth import mint_token
from graph.migrations import downgrade_connection, upgrade_connection, upgrade_head
from graph.settings import Settings
from graph.visits import visit_key
from models import Visit
from models.database import EngineOptions, create_engine, create_session_factory
from models.privileges import grant
from models.rls import DatabaseViewer, viewer_session

TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
# A test without JWT_SECRET makes the development secret (graph/auth.py `dev_secret_file`):
# in a folder of the run's own, never the user's ~/.config; servers the tests start inherit it.
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="clarity-test-config-")
DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or "sqlite+aiosqlite:///:memory:"
ON_POSTGRES = DATABASE_URL.startswith("postgresql")
# The suite run through PgBouncer in transaction pool mode (tests/pgbouncer.py sets it, with
# LISTEN_DATABASE_URL direct): the harness's engines are configured for it as the app's are.
THROUGH_PGBOUNCER = ON_POSTGRES and os.environ.get("DATABASE_POOLER") == "pgbouncer"
OWNER_DATABASE_URL = os.environ.get("TEST_OWNER_DATABASE_URL") or DATABASE_URL
# The application role the app's statements run as, when it is not the owner.
APP_ROLE = (
    make_url(DATABASE_URL).username
    if ON_POSTGRES and make_url(OWNER_DATABASE_URL) != make_url(DATABASE_URL)
    else None
)


class AppRoleSession(Session):
    """The app's sessions on the test's connection: each transaction acts as APP_ROLE."""


@event.listens_for(AppRoleSession, "after_begin")
def _as_app_role(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    if APP_ROLE is not None and transaction.parent is None:
        connection.exec_driver_sql(f"SELECT set_config('role', '{APP_ROLE}', true)")


def _back_to_owner(connection: Connection, _name: str, _context: Any) -> None:
    # A released savepoint keeps its SET LOCAL values; the owner takes the connection back.
    connection.exec_driver_sql("SELECT set_config('role', 'none', true)")


def mint_visit(settings: Settings | None = None) -> VisitCredential:
    """A visit credential as `startVisit` issues it, for an app with `settings` (the test
    settings by default), as `mint_token` mints a token; `.text` is the X-Session-Id."""
    return VisitSigner(visit_key(settings or make_settings())).issue()


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": DATABASE_URL,
        "jwt_secret": TEST_SECRET,
        "diagnostics": True,
        "environment": "development",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
async def engine() -> AsyncIterator[AsyncEngine]:
    """The owner's engine: it migrates, grants, and holds each test's connection."""
    overrides = {"poolclass": StaticPool} if not ON_POSTGRES else {}
    engine = create_engine(
        EngineOptions(url=OWNER_DATABASE_URL, pgbouncer=THROUGH_PGBOUNCER), **overrides
    )
    async with engine.begin() as connection:
        await connection.run_sync(downgrade_connection)  # a clean slate after an aborted run
        await connection.run_sync(upgrade_connection)
        if APP_ROLE is not None:
            await grant(connection, APP_ROLE)
    yield engine
    async with engine.begin() as connection:
        await connection.run_sync(downgrade_connection)
    await engine.dispose()


@pytest.fixture
async def connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        transaction = await connection.begin()
        if APP_ROLE is not None:
            assert connection.sync_connection is not None
            event.listen(connection.sync_connection, "release_savepoint", _back_to_owner)
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
def session_factory(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """The app's sessions: savepoints on the test's connection, as the application role."""
    return async_sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
        sync_session_class=AppRoleSession,
    )


@pytest.fixture
async def db(connection: AsyncConnection) -> AsyncIterator[AsyncSession]:
    """A session for arranging and checking data, inside the test's transaction, as the
    tables' owner (every user's rows, ai_logs included)."""
    factory = async_sessionmaker(
        bind=connection,
        join_transaction_mode="create_savepoint",
        expire_on_commit=False,
        autoflush=False,
    )
    async with factory() as session:
        yield session


@pytest.fixture
async def real_session_factory(
    engine: AsyncEngine, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The engine and session factory `create_app` builds, for tests that need commits other
    connections see (the harness's one rolled-back connection hides them). `engine` has
    migrated the PostgreSQL test database; on SQLite a WAL file is migrated here, so a reader
    and a writer run side by side. Tests clean up what they commit."""
    url = DATABASE_URL if ON_POSTGRES else f"sqlite+aiosqlite:///{tmp_path / 'real.db'}"
    if not ON_POSTGRES:
        await asyncio.to_thread(upgrade_head, url)
    real_engine = create_engine(EngineOptions(url=url, pgbouncer=THROUGH_PGBOUNCER))
    yield create_session_factory(real_engine)
    await real_engine.dispose()


# Every table a user's rows live in, children before parents where a foreign key needs it.
USER_TABLES = ("change_outbox", "ai_logs", "audit_logs", "tasks", "conversations",
               "panic_events", "sessions")


@pytest.fixture
async def committed_users(engine: AsyncEngine) -> AsyncIterator[Callable[[str], str]]:
    """`committed_users(name)`: a fresh user id for a test whose servers commit to the
    tests' own database (PostgreSQL); what they committed for it is removed after, by the
    owner, so no later test sees another test's rows. On SQLite servers have their own file."""
    import uuid

    made: list[str] = []

    def new_user(name: str) -> str:
        made.append(f"{name}-{uuid.uuid4().hex[:8]}")
        return made[-1]

    yield new_user
    if ON_POSTGRES and made:
        async with engine.begin() as connection:
            for table in USER_TABLES:
                await connection.execute(
                    text(f"DELETE FROM {table} WHERE user_id = ANY(:users)"), {"users": made})


@pytest.fixture(autouse=True)
def leaves_no_rows(request: pytest.FixtureRequest) -> None:
    """On PostgreSQL, servers a test starts commit to the tests' own database: a test whose
    rows outlive it fails here, by name, instead of a later test counting them. (SQLite's
    servers have files of their own; its tests' writes are all rolled back.) A plain fixture
    that asks for the async one: an async fixture that sets another up
    (`getfixturevalue("engine")`) does so inside pytest-asyncio's running loop, which
    refuses it ("Runner.run() cannot be called from a running event loop")."""
    if ON_POSTGRES:
        request.getfixturevalue("no_rows_left")


@pytest.fixture
async def no_rows_left(engine: AsyncEngine) -> AsyncIterator[None]:
    yield
    checked = [table for table in USER_TABLES if table != "sessions"]  # visits: see below
    union = " UNION ALL ".join(
        f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM {table})" for table in checked)
    async with engine.connect() as connection:
        left = (await connection.execute(text(union))).scalars().all()
    # Visits are left alone: a server records a visit's row when it is first seen, once a
    # minute at most, and nothing counts them across tests.
    assert not left, f"committed rows left behind in {left}: use `committed_users`"


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def visit() -> VisitCredential:
    """A visit the test apps accept (their settings share the key)."""
    return mint_visit()


@pytest.fixture
def sid(visit: VisitCredential) -> str:
    """What the client sends as X-Session-Id: the visit's credential."""
    return visit.text


@pytest.fixture
def vid(visit: VisitCredential) -> str:
    """The visit's id: its sessions row, and `session:<id>`."""
    return visit.visit_id


@pytest.fixture
async def app(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[FastAPI]:
    app = create_app(settings, session_factory=session_factory)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class GraphQL:
    """Posts operations as a given user and returns the decoded response."""

    def __init__(self, client: httpx.AsyncClient, settings: Settings) -> None:
        self.client = client
        self.settings = settings

    def token(self, user: str, *, admin: bool = False) -> str:
        return mint_token(self.settings, user_id=user, admin=admin, ttl_seconds=600)

    def visit(self) -> VisitCredential:
        """A new visit's credential this app accepts."""
        return mint_visit(self.settings)

    async def post(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        user: str | None = "alice",
        admin: bool = False,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if user is not None:
            sent["Authorization"] = f"Bearer {self.token(user, admin=admin)}"
        body = {"query": query, "variables": variables or {}}
        return await self.client.post("/graphql", json=body, headers=sent)

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        response = await self.post(query, variables, **kwargs)
        assert response.status_code == 200, response.text
        payload: dict[str, Any] = response.json()
        return payload

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        payload = await self(query, variables, **kw)
        assert "errors" not in payload, payload["errors"]
        return payload["data"]


@pytest.fixture
def gql(client: httpx.AsyncClient, settings: Settings) -> GraphQL:
    return GraphQL(client, settings)


GqlWith = Callable[..., Awaitable[GraphQL]]


@pytest.fixture
async def gql_with(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[GqlWith]:
    """`await gql_with(**settings)`: a GraphQL helper for an app started with those settings
    (on the test's rolled-back connection), stopped when the test ends; `assistant=` swaps in
    an assistant provider."""
    started: list[tuple[Any, httpx.AsyncClient]] = []

    async def start(*, assistant: Any = None, **overrides: Any) -> GraphQL:
        settings = make_settings(**overrides)
        app = create_app(settings, session_factory=session_factory)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        if assistant is not None:
            app.state.resources.assistant = assistant
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        started.append((lifespan, client))
        return GraphQL(client, settings)

    yield start
    for lifespan, client in started:
        await client.aclose()
        await lifespan.__aexit__(None, None, None)


@pytest.fixture
async def anonymous_gql(gql_with: GqlWith) -> GraphQL:
    """An app with anonymous sessions on: a visitor without a token acts as `session:<id>`."""
    return await gql_with(anonymous_sessions=True)


async def visit_whose_row_is_gone(gql: GraphQL, db: AsyncSession) -> dict[str, str]:
    """Headers of a visit the server has recorded for alice (and remembers, so it will not
    write it again for a minute) whose `sessions` row has since gone."""
    visit = gql.visit()
    headers = {"X-Session-Id": visit.text}
    await gql.data("{ viewer { id } }", headers=headers)
    await db.execute(delete(Visit).where(Visit.session_id == visit.visit_id))
    await db.commit()
    return headers


async def table_count(session: AsyncSession, table: str) -> int:
    return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


def session_as(factory: async_sessionmaker[AsyncSession], user: str) -> AsyncSession:
    """A session of `factory` acting for `user`, as the server's would: on PostgreSQL as the
    application role, row-level security shows it that user's rows only."""
    return viewer_session(factory, DatabaseViewer(user))
