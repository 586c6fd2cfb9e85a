"""The one pagination helper: Relay connections over keyset cursors.

A cursor holds the sort values of its row (the sort always ends on the primary key), so a
page boundary stays put when rows are inserted before it; offsets would shift. Cursors are
opaque, not secret: they hold nothing the viewer's own page did not already show, and every
query they feed is scoped to the viewer, so another user's cursor only names a position.
They name their ordering by a short digest, never by model, attribute or column names.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, NamedTuple, Protocol, TypeVar

import orjson
import strawberry
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select

from graph.errors import ClientError

DEFAULT_PAGE_SIZE = 20
NodeT = TypeVar("NodeT")

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


@dataclass(frozen=True)
class Window:
    """Validated page arguments: how many rows, which way, from which cursor values."""

    size: int
    backward: bool
    cursor: tuple[Any, ...] | None
    has_cursor_before: bool
    ordering: str = ""  # which sort the cursors belong to (`ordering_of`)


def page_too_large(max_size: int) -> str:
    """The refusal of a page over the limit: the resolver's, and the cost limit's before SQL."""
    return f"A page holds at most {max_size} items; ask for fewer."


def window(
    sort: Sequence[SortColumn],
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    max_size: int,
) -> Window:
    if first is not None and last is not None:
        raise InvalidPage("Pass `first` or `last`, not both.")
    if after is not None and before is not None:
        raise InvalidPage("Pass `after` or `before`, not both.")
    if (first is not None and before is not None) or (last is not None and after is not None):
        raise InvalidPage("Page forward with `first`/`after`, backward with `last`/`before`.")
    backward = last is not None or (before is not None and first is None)
    size = (last if backward else first) or DEFAULT_PAGE_SIZE
    if (first is not None and first < 0) or (last is not None and last < 0):
        raise InvalidPage("`first` and `last` must not be negative.")
    if (first or last or 0) > max_size:
        raise InvalidPage(page_too_large(max_size))
    if first == 0 or last == 0:
        size = 0
    raw = before if backward else after
    cursor = decode_cursor(raw, sort) if raw is not None else None
    return Window(
        size=size, backward=backward, cursor=cursor,
        has_cursor_before=raw is not None, ordering=ordering_of(sort),
    )


def ordering_of(sort: Sequence[SortColumn]) -> str:
    """An opaque token for the sort a cursor was made under: 8 characters digested from its
    columns and directions. A cursor carries it, so one taken under another ordering or list
    is refused: its values would name a wrong position there, even with the right types
    (created_at under updated_at, ASC under DESC)."""
    spelled = ",".join(f"{column.column}:{'d' if column.descending else 'a'}" for column in sort)
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
        return tuple(_typed(value, column.kind) for value, column in zip(values, sort, strict=True))
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as error:
        raise InvalidPage("The cursor is not valid for this list.") from error


# Integer keys are 32-bit on PostgreSQL; a larger cursor value came from no page, and the
# driver would fail the whole statement on it.
_INT_RANGE = range(-(2**31), 2**31)


def _typed(value: Any, kind: type) -> Any:
    """The cursor value as the sort column's type, or ValueError: every value must be one a
    page could have produced, since it is sent to the database as a parameter."""
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
    """The page's rows plus one, to tell whether more follow."""
    condition = after_cursor(sort, page)
    if condition is not None:
        statement = statement.where(condition)
    return statement.order_by(*order_by(sort, backward=page.backward)).limit(page.size + 1)


# The paging arguments of every connection, described once here. The maximum is the
# MAX_PAGE_SIZE setting; the text gives its default, as the committed schema is the default's.
_SIZE_RULES = (
    "At most 100 (the MAX_PAGE_SIZE setting); more, or a negative number, is a BAD_USER_INPUT "
    "error, not a shorter page. 0 answers no edges (pageInfo and totalCount still answer)."
)
_CURSOR_RULES = (
    "Cursors are opaque (do not build or parse them) and at most 2,048 characters; one from "
    "another kind of list, or made under another orderBy, is a BAD_USER_INPUT error."
)
First = Annotated[int | None, strawberry.argument(description=(
    f"Page forward: the first n items after `after`, or from the start. Null or omitted: "
    f"{DEFAULT_PAGE_SIZE}, unless paging backward. {_SIZE_RULES} Not with `last` or `before`."
))]
After = Annotated[str | None, strawberry.argument(description=(
    "Page forward from this cursor (an edge's `cursor`, or `pageInfo.endCursor`): the page "
    "starts just after that item, even if it was deleted since. " + _CURSOR_RULES
    + " Not with `before` or `last`."
))]
Last = Annotated[int | None, strawberry.argument(description=(
    f"Page backward: the last n items before `before`, or of the whole list, answered in list "
    f"order. Null or omitted with `before`: {DEFAULT_PAGE_SIZE}. {_SIZE_RULES} Not with "
    f"`first` or `after`."
))]
Before = Annotated[str | None, strawberry.argument(description=(
    "Page backward from this cursor (an edge's `cursor`, or `pageInfo.startCursor`): the page "
    "ends just before that item, even if it was deleted since. " + _CURSOR_RULES
    + " Not with `after` or `first`."
))]


@strawberry.type(description="Where a page sits in its list (Relay).")
class PageInfo:
    has_next_page: bool = strawberry.field(description=(
        "Whether items follow this page. Paging backward from a `before` cursor: always true, "
        "unchecked, as the Relay spec allows."
    ))
    has_previous_page: bool = strawberry.field(description=(
        "Whether items precede this page. Paging forward from an `after` cursor: always true, "
        "unchecked, as the Relay spec allows."
    ))
    start_cursor: str | None = strawberry.field(
        description="The first edge's cursor (pass it as `before`); null on an empty page."
    )
    end_cursor: str | None = strawberry.field(
        description="The last edge's cursor (pass it as `after`); null on an empty page."
    )


@strawberry.type(description="One item of a page, with its position in the list (Relay).")
class Edge(Generic[NodeT]):
    cursor: str = strawberry.field(description=(
        "This item's position under the list's ordering, opaque: pass it as `after` or "
        "`before` to page from here."
    ))
    node: NodeT = strawberry.field(description="The item.")


@strawberry.type(description=(
    "One page of a list (a Relay connection), in the list's order whichever way it was paged."
))
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]] = strawberry.field(description="The page's items with their cursors.")
    page_info: PageInfo = strawberry.field(description="Whether more items precede or follow.")
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field(description=(
        "How many items match, on every page (the filter applies; first, last and the "
        "cursors do not). Counted only when asked."
    ))
    async def total_count(self) -> int:
        return await self._count()

    @strawberry.field(description="The page's items without cursors, in the same order.")
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]


def build_connection(
    rows: Sequence[Any],
    page: Window,
    *,
    cursor_of: Callable[[Any], Sequence[Any]],
    to_node: Callable[[Any], NodeT],
    count: Callable[[], Awaitable[int]],
) -> Connection[NodeT]:
    """Turn `size + 1` rows in travel order into a connection in display order."""
    more = len(rows) > page.size
    rows = list(rows[: page.size])
    if page.backward:
        rows.reverse()
    edges = [
        Edge(cursor=encode_cursor(page.ordering, cursor_of(row)), node=to_node(row))
        for row in rows
    ]
    info = PageInfo(
        has_next_page=more if not page.backward else page.has_cursor_before,
        has_previous_page=more if page.backward else page.has_cursor_before,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return Connection(edges=edges, page_info=info, _count=count)


class Reader(Protocol):
    """What a connection needs of the request's database access (graph.execution.database)."""

    async def scalars(self, statement: Any) -> Sequence[Any]: ...

    async def scalar(self, statement: Any) -> Any: ...


class Page(NamedTuple):
    """A connection's four paging arguments, as the client gave them."""

    first: int | None
    after: str | None
    last: int | None
    before: str | None


async def fetch_connection(
    db: Reader,
    base: Select[Any],
    sort: Sequence[SortColumn],
    to_node: Callable[[Any], NodeT],
    asked: Page,
    *,
    max_size: int,
    prime: Callable[[Any], object] | None = None,
) -> Connection[NodeT]:
    """A top-level connection over an already scoped and filtered statement: one query for
    the page, one (only if asked) for `totalCount`."""
    page = window(sort, first=asked.first, after=asked.after, last=asked.last,
                  before=asked.before, max_size=max_size)
    rows = await db.scalars(paginate(base, sort, page))
    if prime is not None:
        for row in rows:
            prime(row)
    keys = [column.column.key for column in sort]

    async def count() -> int:
        total = select(func.count()).select_from(base.order_by(None).subquery())
        return int(await db.scalar(total) or 0)

    return build_connection(
        rows, page,
        cursor_of=lambda row: tuple(getattr(row, key) for key in keys),
        to_node=to_node,
        count=count,
    )


async def fetch_child_connection(
    pages: Any,
    counts: Any,
    parent_id: Any,
    sort: Sequence[SortColumn],
    to_node: Callable[[Any], NodeT],
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
    max_size: int,
) -> Connection[NodeT]:
    """A connection under one parent, from the request's batched loaders: `pages` loads
    `(parent_id, window)` (a page per parent, ROW_NUMBER in one statement), `counts` loads
    `parent_id` (only if `totalCount` is asked)."""
    page = window(sort, first=first, after=after, last=last, before=before, max_size=max_size)
    rows = await pages.load((parent_id, page))
    keys = [column.column.key for column in sort]
    return build_connection(
        rows, page,
        cursor_of=lambda row: tuple(getattr(row, key) for key in keys),
        to_node=to_node,
        count=lambda: counts.load(parent_id),
    )
