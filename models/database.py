"""The engine and session factory, and SQL statement accounting.

Callers pass plain values (URL, pool size, timeouts): `models` knows nothing of the app's
settings object.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from models.rls import SETTINGS_PREFIX, ViewerConnection, forget_on_checkin
from models.tls import split_tls

# Execution option that makes the SQLite BEGIN of a write transaction IMMEDIATE.
SQLITE_IMMEDIATE = "clarity_sqlite_immediate"


@dataclass
class StatementStats:
    """SQL statements and time spent in them, for one request."""

    statements: int = 0
    seconds: float = 0.0
    _started: list[float] = field(default_factory=list, repr=False)

    @property
    def milliseconds(self) -> float:
        return round(self.seconds * 1000, 3)


# The stats of the request whose task is executing. SQLAlchemy's greenlet bridge carries the
# calling task's context into the driver call, so engine events see the right request.
current_stats: ContextVar[StatementStats | None] = ContextVar("current_stats", default=None)


@dataclass(frozen=True)
class EngineOptions:
    url: str
    pool_size: int = 10
    max_overflow: int = 10
    statement_timeout_ms: int = 10_000
    connect_timeout_seconds: float = 5.0  # PostgreSQL: opening a connection
    # How long a request waits for a pooled connection. SQLAlchemy's 30 s outlasts a request's
    # own timeout: in an outage, requests queued behind failing connects waited it out.
    pool_timeout_seconds: float = 10.0
    sqlite_busy_timeout_ms: int = 5_000
    echo: bool = False
    # PostgreSQL behind PgBouncer in transaction pool mode (docs/database.md, "Through
    # PgBouncer"): no prepared statement outlives its transaction, and the statement timeout
    # travels in each BEGIN, since PgBouncer refuses it as a startup parameter.
    pgbouncer: bool = False


def create_engine(options: EngineOptions, **overrides: Any) -> AsyncEngine:
    url = make_url(options.url)
    # hide_parameters: a failed statement's error (logged with its traceback) would carry the
    # bound values: a visit id, a message, a panic note.
    kwargs: dict[str, Any] = {"echo": options.echo, "hide_parameters": True}
    if url.get_backend_name() == "sqlite" and not _is_memory(url.database):
        kwargs["pool_timeout"] = options.pool_timeout_seconds
    if url.get_backend_name() == "postgresql":
        url, tls = split_tls(url)
        kwargs.update(
            pool_pre_ping=True,
            pool_size=options.pool_size,
            max_overflow=options.max_overflow,
            pool_timeout=options.pool_timeout_seconds,
            connect_args={
                "timeout": options.connect_timeout_seconds,
                **_statements_args(options),
                **tls,
            },
        )
    kwargs.update(overrides)
    engine = create_async_engine(url, **kwargs)
    if url.get_backend_name() == "sqlite":
        _configure_sqlite(engine.sync_engine, options, in_memory=_is_memory(url.database))
    else:
        forget_on_checkin(engine.sync_engine)
        if options.pgbouncer:
            _timeout_in_every_begin(engine.sync_engine, options.statement_timeout_ms)
    _count_statements(engine.sync_engine)
    return engine


def _statements_args(options: EngineOptions) -> dict[str, Any]:
    """asyncpg's arguments for the statement timeout and prepared statements."""
    if not options.pgbouncer:
        return {
            "server_settings": {"statement_timeout": str(options.statement_timeout_ms)},
            # Carries each transaction's viewer in its BEGIN (models/rls.py).
            "connection_class": ViewerConnection,
        }
    # A prepared statement lives on a server connection, and PgBouncer (before 1.21, or
    # without max_prepared_statements) hands that connection to another client after each
    # transaction: a named statement then collides ("prepared statement
    # "__asyncpg_stmt_1__" already exists", the next client counting from 1 too) or is
    # missing (a cached one, on another server connection: "does not exist"). With both
    # caches off asyncpg prepares every statement unnamed, inside its transaction, and the
    # dialect passes no name (its `prepared_statement_name_func` would name them again, and
    # named ones outlive the transaction on the server). Cost: a Parse per execution.
    return {
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "connection_class": PooledViewerConnection,
    }


class PooledViewerConnection(ViewerConnection):
    """A ViewerConnection whose every BEGIN also sets the statement timeout, for that
    transaction only: PgBouncer refuses `statement_timeout` as a startup parameter, and a
    session-level SET would leak into other clients' transactions on that server connection."""

    begin_settings: str | None = None

    # asyncpg's own signature, its timeout keyword included (ASYNC109 asks for another).
    async def execute(
        self, query: str, *args: Any, timeout: float | None = None  # noqa: ASYNC109
    ) -> str:
        if self.begin_settings is not None and not args and query.startswith("BEGIN"):
            query = f"{query.rstrip().rstrip(';')}; {self.begin_settings}"
        result: str = await super().execute(query, *args, timeout=timeout)
        return result


def _timeout_in_every_begin(engine: Engine, statement_timeout_ms: int) -> None:
    settings = f"SET LOCAL statement_timeout = {int(statement_timeout_ms)}"

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.driver_connection.begin_settings = settings


def create_session_factory(bind: AsyncEngine | Any) -> async_sessionmaker[AsyncSession]:
    # Objects are copied into GraphQL types straight after loading, so expiring them on commit
    # would only cost reloads.
    return async_sessionmaker(bind, expire_on_commit=False, autoflush=False)


def snapshot_read_options(bind: AsyncEngine | Any) -> dict[str, Any]:
    """Execution options for a request's read transaction: one snapshot for all its reads.

    PostgreSQL's default, READ COMMITTED, takes a new snapshot per statement, so a commit
    landing between two statements of one request could pair a `stepCount` from before a
    step was added with a `steps` list from after it. REPEATABLE READ keeps the first
    statement's snapshot; READ ONLY makes a write on the read path fail loudly (writes go
    through their own transaction). Neither costs a statement: asyncpg puts both in its BEGIN.
    A read-only transaction never gets serialization failures, so nothing needs retrying.
    SQLite needs nothing: a deferred transaction under WAL reads one snapshot already. A
    session bound to a Connection (the test harness) keeps that connection's transaction.
    """
    if not isinstance(bind, AsyncEngine) or bind.dialect.name != "postgresql":
        return {}
    return {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}


_write_turns: weakref.WeakKeyDictionary[Engine, asyncio.Lock] = weakref.WeakKeyDictionary()


def sqlite_write_turn(bind: AsyncEngine | Any) -> asyncio.Lock | None:
    """The line a SQLite database's writers of this process wait in; None on other databases.

    SQLite has one write lock per file, and its busy handler polls for it with sleeps of up
    to 100 ms, in no order: with a few dozen concurrent writers one can miss its busy timeout
    ("database is locked") while the lock sits free between polls. Taking turns here first
    (first come, first served, handed over at once) leaves at most one connection of this
    process waiting on the busy timeout, so only other processes contend there.
    `bind` is an AsyncEngine or AsyncConnection (a session's bind).
    """
    engine: Engine = bind.sync_engine
    if engine.dialect.name != "sqlite":
        return None
    lock = _write_turns.get(engine)
    if lock is None:
        lock = _write_turns[engine] = asyncio.Lock()
    return lock


def _is_memory(database: str | None) -> bool:
    return not database or database == ":memory:" or "mode=memory" in database


def _configure_sqlite(engine: Engine, options: EngineOptions, *, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the driver so `_on_begin` decides DEFERRED or IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # REPLACE deletes the row it conflicts with; without this, that delete fires no DELETE
        # trigger, and `INSERT OR REPLACE` rewrote an append-only audit entry or ai_log.
        # (Migration 0009's BEFORE INSERT triggers refuse it too, for connections without it.)
        cursor.execute("PRAGMA recursive_triggers=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(options.sqlite_busy_timeout_ms)}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred transaction that reads and then writes cannot wait for the lock under WAL:
        # it fails at once with SQLITE_BUSY, whatever the busy timeout. Writers begin IMMEDIATE
        # and so queue on the timeout instead; readers stay DEFERRED and never block writers.
        immediate = connection.get_execution_options().get(SQLITE_IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _is_bookkeeping(statement: str) -> bool:
    # Transaction control is not a query: SQLite's explicit BEGIN (other drivers begin
    # implicitly), the savepoints that nested transactions and the test harness add, and a
    # transaction's viewer when it could not ride in the BEGIN (models/rls.py: only on a
    # connection already in a transaction, i.e. the harness's; its role switch likewise).
    return statement.startswith(_BOOKKEEPING)


_BOOKKEEPING = (
    "BEGIN", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", SETTINGS_PREFIX,
    "SELECT set_config('role',",
)


def _count_statements(engine: Engine) -> None:
    @event.listens_for(engine, "before_cursor_execute")
    def _before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        stats = current_stats.get()
        if stats is not None and not _is_bookkeeping(statement):
            stats.statements += 1
            stats._started.append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        stats = current_stats.get()
        if stats is not None and stats._started and not _is_bookkeeping(statement):
            stats.seconds += time.perf_counter() - stats._started.pop()
