"""Keyset pages in SQL, and the cursors that name a position in them.

A cursor holds the sort values of its row (the sort always ends on the primary key), so a
page boundary stays put when rows are inserted before it; offsets would shift. Cursors are
opaque, not secret: they hold nothing the viewer's own page did not already show, and every
query they feed is scoped to the viewer, so another user's cursor only names a position.
They name their ordering by a short digest, never by model, attribute or column names.
`graph/execution/pagination.py` (the one pagination helper) builds connections on these.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Select, and_, false, or_, select, union_all
from sqlalchemy.orm import aliased

from graph.errors import ClientError

# The digest's key is a version tag, not a secret (cursors are opaque, not secret): changing
# it refuses every cursor made before, which is how a change of cursor format is rolled out.
_ORDERING_KEY = b"clarity-graph cursor v1"
# 6 bytes (8 characters): a few dozen orderings collide with odds of about 2^-40.
_ORDERING_DIGEST_BYTES = 6


class InvalidPage(ClientError):
    code = "BAD_USER_INPUT"


@dataclass(frozen=True)
class SortColumn:
    column: Any  # an ORM attribute or column expression
    descending: bool = False
    kind: type = str  # how the cursor stores the value: str, int or datetime
    # Whether the column holds NULLs (only a sort's first column may): rows without a value
    # come after every row with one, in both directions (`paginate`).
    nullable: bool = False


def sort_by(
    column: Any, kind: type, tiebreak: Any, tiebreak_kind: type, *, descending: bool,
    nullable: bool = False,
) -> tuple[SortColumn, SortColumn]:
    """A list's sort: one column, then its unique key (the id) in the same direction."""
    return (
        SortColumn(column, descending=descending, kind=kind, nullable=nullable),
        SortColumn(tiebreak, descending=descending, kind=tiebreak_kind),
    )


@dataclass(frozen=True)
class Window:
    """Validated page arguments: how many rows, which way, from which cursor values."""

    size: int
    backward: bool
    cursor: tuple[Any, ...] | None
    has_cursor_before: bool
    ordering: str = ""  # which sort the cursors belong to (`ordering_of`)


def ordering_of(sort: Sequence[SortColumn]) -> str:
    """An opaque token for the sort a cursor was made under: 8 characters digested from its
    columns and directions. A cursor carries it, so one taken under another ordering or list
    is refused: its values would name a wrong position there, even with the right types
    (created_at under updated_at, ASC under DESC)."""
    spelled = ",".join(
        f"{column.column}:{'d' if column.descending else 'a'}{'n' if column.nullable else ''}"
        for column in sort
    )
    digest = hashlib.blake2b(
        spelled.encode(), key=_ORDERING_KEY, digest_size=_ORDERING_DIGEST_BYTES
    ).digest()
    return base64.urlsafe_b64encode(digest).decode()


def encode_cursor(ordering: str, values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(orjson.dumps([ordering, *plain])).decode()


def decode_cursor(raw: str, sort: Sequence[SortColumn]) -> tuple[Any, ...]:
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(raw.encode()))
        if not isinstance(decoded, list) or not decoded or decoded[0] != ordering_of(sort):
            raise ValueError("cursor of another ordering")
        values = decoded[1:]
        if len(values) != len(sort):
            raise ValueError("cursor shape")
        return tuple(_typed(value, column) for value, column in zip(values, sort, strict=True))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as error:
        raise InvalidPage("The cursor is not valid for this list.") from error


# Integer keys are 32-bit on PostgreSQL; a larger cursor value came from no page, and the
# driver would fail the whole statement on it.
_INT_RANGE = range(-(2**31), 2**31)


def _typed(value: Any, column: SortColumn) -> Any:
    """The cursor value as the sort column's type, or ValueError: every value must be one a
    page could have produced, since it is sent to the database as a parameter."""
    kind = column.kind
    if value is None and column.nullable:
        return None
    if kind is datetime:
        if not isinstance(value, str):
            raise ValueError("cursor value type")
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise ValueError("naive cursor datetime")
        try:
            return parsed.astimezone(UTC)
        except OverflowError as error:  # e.g. 0001-01-01 at +05:00 is before year 1 in UTC
            raise ValueError("cursor datetime out of range") from error
    if kind is int and (
        isinstance(value, bool) or not isinstance(value, int) or value not in _INT_RANGE
    ):
        raise ValueError("cursor value type")
    # PostgreSQL text cannot hold NUL, so no stored value contains one.
    if kind is str and (not isinstance(value, str) or "\x00" in value):
        raise ValueError("cursor value type")
    return value


def order_by(sort: Sequence[SortColumn], *, backward: bool) -> list[Any]:
    return [
        column.column.asc() if column.descending == backward else column.column.desc()
        for column in sort
    ]


def after_cursor(sort: Sequence[SortColumn], page: Window) -> ColumnElement[bool] | None:
    """Rows strictly past the cursor in the direction of travel (an expanded row comparison,
    which works with mixed directions on every database)."""
    if page.cursor is None:
        return None
    clauses = []
    for index, column in enumerate(sort):
        value = page.cursor[index]
        forward_is_greater = column.descending == page.backward
        beyond = column.column > value if forward_is_greater else column.column < value
        equal_before = [sort[i].column == page.cursor[i] for i in range(index)]
        clauses.append(and_(*equal_before, beyond))
    return or_(*clauses) if clauses else false()


def paginate(statement: Select[Any], sort: Sequence[SortColumn], page: Window) -> Select[Any]:
    """The page's rows plus one, to tell whether more follow, in travel order."""
    if sort[0].nullable:
        return _nulls_last(statement, sort, page)
    return _run(statement, sort, page)


def _run(statement: Select[Any], sort: Sequence[SortColumn], page: Window) -> Select[Any]:
    """Rows in sort order past the cursor, the page's size plus one."""
    return _past(statement, sort, page).order_by(
        *order_by(sort, backward=page.backward)
    ).limit(page.size + 1)


def _past(statement: Select[Any], sort: Sequence[SortColumn], page: Window) -> Select[Any]:
    condition = after_cursor(sort, page)
    return statement.where(condition) if condition is not None else statement


def _nulls_last(statement: Select[Any], sort: Sequence[SortColumn], page: Window) -> Select[Any]:
    """A page under a sort whose first column holds NULLs, those rows last in both directions.

    The rows with a value and the rows without are two runs, each read through the sort's
    index (the owner, the value, the id) and cut to the page, then joined and cut again.
    One ORDER BY with NULLS LAST cannot do it on PostgreSQL: its b-tree keeps NULLs after
    the values, so DESC NULLS LAST would sort all the owner's rows for every page (SQLite
    keeps them before, so one fixed NULL placement would cost the other engine instead).
    A cursor inside one run skips the run before it in the direction of travel; within the
    run without values only the ids compare.
    """
    head, rest = sort[0], sort[1:]
    valued = statement.where(head.column.is_not(None))
    empty = statement.where(head.column.is_(None))
    if page.cursor is None:
        runs = [valued, empty]
    elif page.cursor[0] is None:
        empty = _past(empty, rest, replace(page, cursor=page.cursor[1:]))
        runs = [empty, valued] if page.backward else [empty]
    else:
        valued = _past(valued, sort, page)
        runs = [valued] if page.backward else [valued, empty]
    # Both runs are ordered by the whole sort: along the run without values the value is
    # NULL throughout, so that is the id's order, but said so PostgreSQL matches it to the
    # index (it does not treat `IS NULL` as a constant when it matches an ORDER BY).
    pages = [
        run.order_by(*order_by(sort, backward=page.backward)).limit(page.size + 1)
        for run in runs
    ]
    if len(pages) == 1:
        return pages[0]
    joined = union_all(*(select(part.subquery()) for part in pages)).subquery("page")
    entity = statement.column_descriptions[0]["entity"]
    row = aliased(entity, joined)
    in_page = [replace(column, column=getattr(row, column.column.key)) for column in sort]
    no_value = in_page[0].column.is_(None)
    return (
        select(row)
        .order_by(no_value.desc() if page.backward else no_value, *order_by(
            in_page, backward=page.backward))
        .limit(page.size + 1)
    )
