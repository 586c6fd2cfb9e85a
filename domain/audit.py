"""The audit log: appending a generation, filtering, and the analytics, all in SQL.

Rows are only ever inserted (append-only, domain.md): there is no update or delete here.
Every statement starts from `domain.scope`; the figures are aggregates over that scoped and
filtered statement, grouped in the database, so no row is loaded to compute them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

from sqlalchemy import Date, Executable, Float, Select, case, cast, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from domain.errors import Invalid
from domain.validation import text_problem
from models.audit import AuditLog


async def record_generation(session: AsyncSession, user_id: str, **values: Any) -> AuditLog:
    """Append one checked row (the seed's `log_generation`)."""
    log = AuditLog(user_id=user_id, **values)
    session.add(log)
    await session.flush()
    return log


# Filters ------------------------------------------------------------------------------------


class Rows(Protocol):
    """What the figures read through: result rows of a statement (the request's database)."""

    async def rows(self, statement: Executable) -> Sequence[Any]: ...


def aware(name: str, value: datetime | None) -> datetime | None:
    """A filter instant must say which instant it is: a time without an offset is refused."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid({name: "needs a UTC offset, e.g. 2024-05-01T09:00:00Z"})
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        raise Invalid({name: "is out of range"}) from error


def plain(name: str, value: str | None) -> str | None:
    # No stored text holds NUL (PostgreSQL refuses it) or a lone surrogate (not UTF-8), and
    # the driver would fail on either.
    problem = text_problem(value) if value is not None else None
    if problem is not None:
        raise Invalid({name: problem})
    return value


@dataclass(frozen=True)
class LogFilter:
    """Checked filter values; None means no condition. Both instants are exclusive."""

    document_type: str | None = None
    status: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def filtered(statement: Select[Any], where: LogFilter) -> Select[Any]:
    if where.document_type is not None:
        statement = statement.where(AuditLog.document_type == where.document_type)
    if where.status is not None:
        statement = statement.where(AuditLog.status == where.status)
    if where.created_after is not None:
        statement = statement.where(AuditLog.created_at > where.created_after)
    if where.created_before is not None:
        statement = statement.where(AuditLog.created_at < where.created_before)
    return statement


# The UTC calendar day of a timestamp --------------------------------------------------------


class utc_day(FunctionElement[date]):
    """`created_at`'s calendar day in UTC, the same on every database: SQLite stores naive
    UTC text, so `date()` of it is the UTC day; PostgreSQL's timestamptz is first converted
    to UTC wall time, whatever the session's TimeZone."""

    type = Date()
    name = "utc_day"
    inherit_cache = True


@compiles(utc_day, "sqlite")
def _utc_day_sqlite(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)})"


@compiles(utc_day, "postgresql")
def _utc_day_postgresql(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST(({compiler.process(element.clauses, **kw)} AT TIME ZONE 'UTC') AS DATE)"


@compiles(utc_day)
def _utc_day_default(element: utc_day, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


# Aggregates ---------------------------------------------------------------------------------

_IS_ERROR = AuditLog.status == "error"
_IS_SUCCESS = AuditLog.status == "success"
_COUNT = func.count(AuditLog.id)
_ERRORS = func.coalesce(func.sum(case((_IS_ERROR, 1), else_=0)), 0)
_SUCCESSES = func.coalesce(func.sum(case((_IS_SUCCESS, 1), else_=0)), 0)
# AVG ignores NULLs: the average is over successes that report a time. Cast to a float first
# so both databases average in double precision (PostgreSQL would otherwise use numeric).
_AVG_SUCCESS_MS = func.avg(cast(case((_IS_SUCCESS, AuditLog.generation_time_ms)), Float))
_TOKENS = func.coalesce(func.sum(AuditLog.tokens_used), 0)


def error_rate(errors: int, total: int) -> float:
    """Errors over all rows; 0.0 for no rows rather than a division by zero."""
    return errors / total if total else 0.0


def _average(value: Any) -> float | None:
    return None if value is None else float(value)


def _aggregate(base: Select[Any], *columns: Any) -> Select[Any]:
    """`columns` over the rows of `base` (a scoped, filtered `select(AuditLog)`)."""
    return base.order_by(None).with_only_columns(*columns, maintain_column_froms=True)


@dataclass(frozen=True)
class Totals:
    total: int
    success_count: int
    error_count: int
    avg_generation_time_ms: float | None
    total_tokens: int


@dataclass(frozen=True)
class DocumentTypeFigures:
    document_type: str
    count: int
    error_count: int
    avg_generation_time_ms: float | None


@dataclass(frozen=True)
class DayFigures:
    day: date
    count: int
    error_count: int


@dataclass(frozen=True)
class UserFigures:
    user_id: str
    count: int
    error_count: int
    total_tokens: int


async def totals(db: Rows, base: Select[Any]) -> Totals:
    statement = _aggregate(base, _COUNT, _SUCCESSES, _ERRORS, _AVG_SUCCESS_MS, _TOKENS)
    [(total, successes, errors, avg_ms, tokens)] = await db.rows(statement)  # no GROUP BY
    return Totals(int(total), int(successes), int(errors), _average(avg_ms), int(tokens))


async def by_document_type(db: Rows, base: Select[Any]) -> list[DocumentTypeFigures]:
    """Most used first, then by name."""
    statement = (
        _aggregate(base, AuditLog.document_type, _COUNT, _ERRORS, _AVG_SUCCESS_MS)
        .group_by(AuditLog.document_type)
        .order_by(_COUNT.desc(), AuditLog.document_type)
    )
    return [
        DocumentTypeFigures(kind, int(count), int(errors), _average(avg_ms))
        for kind, count, errors, avg_ms in await db.rows(statement)
    ]


async def by_day(db: Rows, base: Select[Any]) -> list[DayFigures]:
    """Days with at least one row, oldest first."""
    day = utc_day(AuditLog.created_at)
    statement = _aggregate(base, day, _COUNT, _ERRORS).group_by(day).order_by(day)
    return [
        DayFigures(_as_date(value), int(count), int(errors))
        for value, count, errors in await db.rows(statement)
    ]


async def by_user(db: Rows, base: Select[Any]) -> list[UserFigures]:
    """Most active first, then by user id."""
    statement = (
        _aggregate(base, AuditLog.user_id, _COUNT, _ERRORS, _TOKENS)
        .group_by(AuditLog.user_id)
        .order_by(_COUNT.desc(), AuditLog.user_id)
    )
    return [
        UserFigures(user_id, int(count), int(errors), int(tokens))
        for user_id, count, errors, tokens in await db.rows(statement)
    ]


def _as_date(value: date | str) -> date:
    # The Date type already parses SQLite's text; this guards other drivers that return text.
    return value if isinstance(value, date) else date.fromisoformat(value)
