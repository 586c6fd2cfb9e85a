"""Row-level security, the application's half: every transaction carries its viewer.

PostgreSQL's policies (migrations 0007, 0009 and 0010) read transaction-local settings, never a
column the client sends: `app.viewer` (the owner id the transaction acts for), `app.admin`
(`on` for an admin: audit analytics across users) and `app.visit` (the request's visit id:
its `sessions` row). Unset or empty, they match nothing: a transaction without a viewer sees
and writes no owned row, so a forgotten viewer fails closed.

One mechanism carries the viewer, and new code gets it for free: every ORM Session, however
it was opened, runs `_carry_viewer` when its transaction begins on a connection (a
`Session.after_begin` listener on the class). It reads `session.info[VIEWER]`, which
`viewer_session` (and the request's database, built on it) fills. A session opened without
it acts for nobody.

Cost: no round trip. asyncpg sends BEGIN lazily, with the transaction's first statement;
`ViewerConnection` appends the settings to that BEGIN, in the same simple-query message.
When the connection is already inside a transaction (a session joining the test harness's
connection through a savepoint) the settings are a statement of their own, counted as
bookkeeping like SAVEPOINT (`models.database`). SQLite has no row-level security: nothing
is sent there.

What this does not stop: SQL injected into a statement could call `set_config` itself, and
act as whichever viewer it names. The policies catch a forgotten predicate, not an attacker
who already writes the SQL; the grants (models/privileges.py) are what bound that one, and
the policies never let a row change owner: the one move there is, `claimSession`'s, is the
owner's `claim_visit` function (migration 0009), which trusts no setting.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction

# session.info key holding the DatabaseViewer the session's transactions act for.
VIEWER = "clarity_viewer"
# How the statement that sets a transaction's viewer begins (models.database counts it as
# bookkeeping when it cannot ride in the BEGIN).
SETTINGS_PREFIX = "SELECT set_config('app.viewer',"


@dataclass(frozen=True)
class DatabaseViewer:
    """Who a transaction acts for, as the policies see it."""

    user_id: str | None = None
    admin: bool = False
    visit: str | None = None  # the request's X-Session-Id: the one `sessions` row it may touch


NOBODY = DatabaseViewer()


def settings_sql(viewer: DatabaseViewer) -> str:
    """One SELECT setting the viewer's values for the current transaction only."""
    values = (
        ("app.viewer", viewer.user_id or ""),
        ("app.admin", "on" if viewer.admin else "off"),
        ("app.visit", viewer.visit or ""),
    )
    calls = ", ".join(f"set_config('{name}', {_literal(value)}, true)" for name, value in values)
    return f"SELECT {calls}"


def _literal(value: str) -> str:
    # The folded settings travel without bound parameters (a simple-query message has none).
    # Hex digits only: no quoting rule, `standard_conforming_strings` included, can turn a
    # token's subject into SQL.
    return f"convert_from(decode('{value.encode().hex()}', 'hex'), 'UTF8')"


def viewer_session(
    factory: async_sessionmaker[AsyncSession], viewer: DatabaseViewer
) -> AsyncSession:
    """A session whose every transaction acts for `viewer`."""
    return factory(info={VIEWER: viewer})


def set_viewer(session: AsyncSession, viewer: DatabaseViewer) -> None:
    """Make the session's next transactions act for `viewer` (a WebSocket signs in after
    its session may exist); the current transaction keeps its own."""
    session.info[VIEWER] = viewer


# asyncpg ships no type information (pyproject.toml), so its Connection is Any to mypy.
class ViewerConnection(asyncpg.Connection):  # type: ignore[misc]
    """asyncpg's connection, carrying the next transaction's settings in its BEGIN.

    `fold_into_begin` is called when a transaction has begun in SQLAlchemy but not yet on
    the server; the next `execute` is then asyncpg's BEGIN (SQLAlchemy starts the
    transaction before the first statement), and the settings are appended to it. Anything
    else consumes them unsent, and the pool forgets them at check-in, so they can never
    reach another transaction.
    """

    _pending: str | None = None

    def fold_into_begin(self, sql: str) -> None:
        self._pending = sql

    def forget(self) -> None:
        self._pending = None

    # asyncpg's own signature, its timeout keyword included (ASYNC109 asks for another).
    async def execute(
        self, query: str, *args: Any, timeout: float | None = None  # noqa: ASYNC109
    ) -> str:
        pending, self._pending = self._pending, None
        if pending is not None and not args and query.startswith("BEGIN"):
            query = f"{query.rstrip().rstrip(';')}; {pending};"
        result: str = await super().execute(query, *args, timeout=timeout)
        return result


@event.listens_for(Session, "after_begin")
def _carry_viewer(
    session: Session, transaction: SessionTransaction, connection: Connection
) -> None:
    if connection.dialect.name != "postgresql" or transaction.parent is not None:
        return  # no RLS; or a savepoint of a session whose transaction carries it already
    sql = settings_sql(session.info.get(VIEWER, NOBODY))
    driver = connection.connection.driver_connection
    if isinstance(driver, ViewerConnection) and not driver.is_in_transaction():
        driver.fold_into_begin(sql)
    else:
        connection.exec_driver_sql(sql)


def forget_on_checkin(engine: Any) -> None:
    """Register on a PostgreSQL engine: a connection going back to the pool drops settings
    it did not send (a transaction that began and ended without a statement)."""

    @event.listens_for(engine, "checkin")
    def _forget(_dbapi_connection: Any, record: Any) -> None:
        driver = record.driver_connection
        if isinstance(driver, ViewerConnection):
            driver.forget()
