"""The audit log: appending a generation, filtering, and the analytics, all in SQL.

Rows are only ever inserted (append-only, domain.md): there is no update or delete here.
Two writers: a client's claim through `recordGeneration` (`record_generation`, checked and
refused when wrong) and the server's own generations (`record_server_generation`, clipped
and never refused). Every statement starts from `domain.scope`; the figures are aggregates
over that scoped and filtered statement, grouped in the database, so no row is loaded to
compute them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Executable,
    Float,
    Integer,
    Select,
    Subquery,
    case,
    cast,
    func,
    literal,
    literal_column,
)
from sqlalchemy.ext.asyncio import AsyncSession

from domain import days, scope
from domain.validation import text_problem
from domain.viewers import Viewer
from models.audit import (
    CLIENT,
    DOCUMENT_TYPE_MAX,
    ERROR_MESSAGE_MAX,
    JSON_MAX_BYTES,
    MODEL_USED_MAX,
    SERVER,
    AuditLog,
)


async def record_generation(session: AsyncSession, user_id: str, **values: Any) -> AuditLog:
    """Append one checked row (the seed's `log_generation`): a client's claim, whatever the
    values say, since the server cannot know how a generation made elsewhere went."""
    log = AuditLog(user_id=user_id, **values, source=CLIENT)
    session.add(log)
    await session.flush()
    return log


# The server's own generations ---------------------------------------------------------------

# tokens_used and generation_time_ms are 32-bit integers on PostgreSQL.
_INT_MAX = 2**31 - 1
# Ends a text value cut to fit, so a reader knows it was cut.
CUT_MARK = "\u2026"
UNKNOWN = "unknown"
NO_MESSAGE = "The generation failed without a message."
# The whole document when even its texts cut to nothing do not fit (huge lists, many keys).
TOO_LARGE_KEY = "truncated"


async def record_server_generation(
    session: AsyncSession,
    *,
    user_id: str,
    document_type: str,
    input_data: dict[str, Any],
    generated: dict[str, Any],
    model: str,
    tokens: int | None,
    generation_ms: int | None,
    error: str | None,
) -> AuditLog:
    """Append the server's own generation (a breakdown, a chat turn, panic support) with
    source 'server': a recorded fact, unlike a client's claim.

    It never refuses what it is given, because an audit write must not fail the generation
    it records; values are made storable instead:

    - status is 'error' when `error` is given (even blank), else 'success';
    - every text loses NUL characters and lone surrogates (PostgreSQL cannot store the
      first, UTF-8 cannot encode the second; a surrogate pair becomes its character), is
      trimmed, and is cut to its column: `document_type` and `model` to 100 characters
      ('unknown' when nothing is left), `error` to 10,000 ('The generation failed without a
      message.' when blank);
    - `input_data` and `generated` become plain JSON (keys as text, tuples as lists, NaN and
      infinities as null, other objects as their text) of at most `JSON_MAX_BYTES` compact
      UTF-8: past it, the longest text values are cut to one common length, the longest
      that fits, each ending in an ellipsis (U+2026); if even empty texts do not fit, the
      document is replaced by `{"truncated": "<n> bytes of JSON, over the <limit>-byte
      limit"}`;
    - `tokens` and `generation_ms` below zero (not a count) are stored as null, above
      2^31 - 1 as 2^31 - 1.

    The row is flushed, not committed: the caller commits it in a transaction of its own,
    so a failed generation's entry is kept when the mutation's own work rolls back.
    """
    log = AuditLog(
        user_id=user_id,
        source=SERVER,
        document_type=storable_text(document_type, DOCUMENT_TYPE_MAX) or UNKNOWN,
        input_data=fit_json(input_data, JSON_MAX_BYTES),
        generated_text=fit_json(generated, JSON_MAX_BYTES),
        model_used=storable_text(model, MODEL_USED_MAX) or UNKNOWN,
        tokens_used=storable_count(tokens),
        generation_time_ms=storable_count(generation_ms),
        status="success" if error is None else "error",
        error_message=(
            None if error is None else storable_text(error, ERROR_MESSAGE_MAX) or NO_MESSAGE
        ),
    )
    session.add(log)
    await session.flush()
    return log


def clean_text(value: str) -> str:
    """`value` without NUL characters and lone surrogates."""
    if text_problem(value) is None:
        return value
    # Through UTF-16 with surrogatepass, a pair of surrogates becomes its character and a
    # lone one is dropped by "ignore".
    paired = value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")
    return paired.replace("\x00", "")


def storable_text(value: str, max_len: int) -> str:
    """Clean, trimmed text of at most `max_len` characters (possibly empty)."""
    return clean_text(value).strip()[:max_len].rstrip()


def storable_count(value: int | None) -> int | None:
    if value is None or value < 0:
        return None
    return min(value, _INT_MAX)


def fit_json(value: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """`value` as plain JSON of at most `max_bytes` (record_server_generation says how)."""
    try:
        plain: dict[str, Any] = _plain_json(value)
        size = json_size(plain)
    except (ValueError, RecursionError):  # an integer of over 4,300 digits; absurd nesting
        return {TOO_LARGE_KEY: "not storable as JSON"}
    if size <= max_bytes:
        return plain
    if json_size(_cut_texts(plain, 0)) > max_bytes:
        return {TOO_LARGE_KEY: f"{size} bytes of JSON, over the {max_bytes}-byte limit"}
    # The size grows with the cut length: find the longest that fits.
    fits, too_long = 0, _longest_text(plain)
    while too_long - fits > 1:
        middle = (fits + too_long) // 2
        if json_size(_cut_texts(plain, middle)) <= max_bytes:
            fits = middle
        else:
            too_long = middle
    cut: dict[str, Any] = _cut_texts(plain, fits)
    return cut


def json_size(value: Any) -> int:
    """Compact UTF-8 JSON bytes, as `Checks.json_object` measures them."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return len(text.encode("utf-8"))


def _plain_json(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {clean_text(str(key)): _plain_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain_json(item) for item in value]
    return clean_text(str(value))


def _longest_text(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return max((_longest_text(item) for item in items), default=0)


def _cut_texts(value: Any, max_len: int) -> Any:
    """Every text value (not key) over `max_len` characters cut to it, plus the mark."""
    if isinstance(value, str):
        return value if len(value) <= max_len else value[:max_len] + CUT_MARK
    if isinstance(value, dict):
        return {key: _cut_texts(item, max_len) for key, item in value.items()}
    if isinstance(value, list):
        return [_cut_texts(item, max_len) for item in value]
    return value


# Filters ------------------------------------------------------------------------------------


class Rows(Protocol):
    """What the figures read through: result rows of a statement (the request's database)."""

    async def rows(self, statement: Executable) -> Sequence[Any]: ...


@dataclass(frozen=True)
class LogFilter:
    """Checked filter values; None means no condition. Both instants are exclusive."""

    document_type: str | None = None
    status: str | None = None
    source: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None


def filtered(statement: Select[Any], where: LogFilter) -> Select[Any]:
    if where.document_type is not None:
        statement = statement.where(AuditLog.document_type == where.document_type)
    if where.status is not None:
        statement = statement.where(AuditLog.status == where.status)
    if where.source is not None:
        statement = statement.where(AuditLog.source == where.source)
    if where.created_after is not None:
        statement = statement.where(AuditLog.created_at > where.created_after)
    if where.created_before is not None:
        statement = statement.where(AuditLog.created_at < where.created_before)
    return statement


def readable(
    viewer: Viewer, user_id: str | None, where: Callable[[], LogFilter]
) -> Select[Any]:
    """The rows `viewer` may read (an admin: everyone's, or `user_id`'s), filtered. The
    scope comes first: naming another user is Forbidden before `where` is checked."""
    return filtered(scope.audit_logs(viewer, user_id), where())


def readable_across_users(viewer: Viewer, user_id: str | None, where: LogFilter) -> Select[Any]:
    """Admins only (anyone else is Forbidden): every user's rows, or `user_id`'s, filtered."""
    return filtered(scope.all_audit_logs(viewer, user_id), where)


# Aggregates ---------------------------------------------------------------------------------

_IS_ERROR = AuditLog.status == "error"
_IS_SUCCESS = AuditLog.status == "success"
_COUNT = func.count(AuditLog.id)
_ERRORS = func.coalesce(func.sum(case((_IS_ERROR, 1), else_=0)), 0)
_SUCCESSES = func.coalesce(func.sum(case((_IS_SUCCESS, 1), else_=0)), 0)
# Errors over all rows, divided as floats on both databases (integer division would give 0);
# 0 with no rows, where the division is by NULL rather than by zero.
_ERROR_RATE = func.coalesce(cast(_ERRORS, Float) / func.nullif(_COUNT, 0), 0.0)
# AVG ignores NULLs: the average is over successes that report a time. Cast to a float first
# so both databases average in double precision (PostgreSQL would otherwise use numeric).
_AVG_SUCCESS_MS = func.avg(cast(case((_IS_SUCCESS, AuditLog.generation_time_ms)), Float))
_TOKENS = func.coalesce(func.sum(AuditLog.tokens_used), 0)
# The columns of `Figures`, named as its fields: the same figures for the totals and for
# every group (document type, day, user), so a group's figures add up to the totals'.
_FIGURES = (
    _COUNT.label("count"),
    _SUCCESSES.label("success_count"),
    _ERRORS.label("error_count"),
    _ERROR_RATE.label("error_rate"),
    _AVG_SUCCESS_MS.label("avg_generation_time_ms"),
    _TOKENS.label("total_tokens"),
)


def _aggregate(base: Select[Any], *columns: Any) -> Select[Any]:
    """`columns` over the rows of `base` (a scoped, filtered `select(AuditLog)`)."""
    return base.order_by(None).with_only_columns(*columns, maintain_column_froms=True)


@dataclass(frozen=True)
class Figures:
    """What is known of a set of rows: all of them, or one group's."""

    count: int
    success_count: int
    error_count: int
    error_rate: float  # error_count / count, 0.0 with no rows
    avg_generation_time_ms: float | None  # over the successes that report a time
    total_tokens: int  # rows without a count add 0

    @classmethod
    def of(cls, row: Any) -> Figures:
        """A result row holding the `_FIGURES` columns (and possibly others)."""
        # By name through the mapping: on a Row, `.count` is the tuple method.
        values = row._mapping
        average = values["avg_generation_time_ms"]
        return cls(
            int(values["count"]), int(values["success_count"]), int(values["error_count"]),
            float(values["error_rate"]), None if average is None else float(average),
            int(values["total_tokens"]),
        )


@dataclass(frozen=True)
class DocumentTypeFigures:
    document_type: str
    figures: Figures


@dataclass(frozen=True)
class DayFigures:
    day: date
    figures: Figures


@dataclass(frozen=True)
class UserFigures:
    user_id: str
    figures: Figures

    @classmethod
    def of(cls, row: Any) -> UserFigures:
        """A row of `per_user`."""
        return cls(row.user_id, Figures.of(row))


async def totals(db: Rows, base: Select[Any]) -> Figures:
    [row] = await db.rows(_aggregate(base, *_FIGURES))  # no GROUP BY: always one row
    return Figures.of(row)


async def by_document_type(db: Rows, base: Select[Any]) -> list[DocumentTypeFigures]:
    """Most used first, then by name."""
    statement = (
        _aggregate(base, AuditLog.document_type, *_FIGURES)
        .group_by(AuditLog.document_type)
        .order_by(_COUNT.desc(), AuditLog.document_type)
    )
    return [
        DocumentTypeFigures(row.document_type, Figures.of(row))
        for row in await db.rows(statement)
    ]


async def by_day(db: Rows, base: Select[Any], zone: ZoneInfo) -> list[DayFigures]:
    """Days in `zone` with at least one row, oldest first. In UTC one statement; in another
    zone two: the rows' first and last instants, whose offsets the days are taken in."""
    created = AuditLog.created_at
    if days.is_utc(zone):
        offset: ColumnElement[int] = literal(0, Integer)
    else:
        [(first, last)] = await db.rows(_aggregate(base, func.min(created), func.max(created)))
        if first is None:
            return []
        offset = days.offset_minutes(created, days.segments(zone, first, last))
    # Grouped and ordered by the output column's name: the expression holds bound values,
    # which PostgreSQL would not match between the SELECT list and a repeated GROUP BY.
    day: ColumnElement[Any] = literal_column("day")
    statement = (
        _aggregate(base, days.local_day(created, offset).label("day"), *_FIGURES)
        .group_by(day).order_by(day)
    )
    return [
        DayFigures(days.as_date(row.day), Figures.of(row)) for row in await db.rows(statement)
    ]


def per_user(base: Select[Any]) -> Subquery:
    """One row per user of `base`'s rows: `user_id` and the `Figures` columns by name (read
    a row with `UserFigures.of`). A named subquery, so the caller can cut a page from it by
    keyset on its own columns and count its users, every figure staying in the database."""
    return (
        _aggregate(base, AuditLog.user_id.label("user_id"), *_FIGURES)
        .group_by(AuditLog.user_id)
        .subquery("audit_user_figures")
    )
