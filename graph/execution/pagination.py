"""The one pagination helper: Relay connections over keyset cursors.

The page arguments are checked here (`window`), the SQL of a keyset page and the cursors'
format are `graph/execution/keyset.py`'s, and a connection is built from the rows
(`fetch_connection` for a top-level list, `fetch_child_connection` for a list under each of
many parents, through the request's loaders).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, NamedTuple, Protocol, TypeVar

import strawberry
from sqlalchemy import Select, func, select

from graph.execution.keyset import (
    InvalidPage,
    SortColumn,
    Window,
    decode_cursor,
    encode_cursor,
    ordering_of,
    paginate,
)

DEFAULT_PAGE_SIZE = 20
NodeT = TypeVar("NodeT")

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


class Conditions(Hashable, Protocol):
    """A list's filter as checked values (domain.lists): equal filters are equal keys, so the
    parents of a page that ask the same share one statement."""

    def apply(self, statement: Select[Any]) -> Select[Any]: ...


@dataclass(frozen=True)
class Slice:
    """What one parent's page asks for: the page, the sort it is read in, and the filter."""

    page: Window
    sort: tuple[SortColumn, ...]
    where: Conditions | None = None


# A child list's count is per parent and filter (None: every child).
CountKey = tuple[Any, Conditions | None]


async def fetch_child_connection(
    pages: Any,
    counts: Any,
    parent_id: Any,
    sort: Sequence[SortColumn],
    to_node: Callable[[Any], NodeT],
    asked: Page,
    *,
    max_size: int,
    where: Conditions | None = None,
) -> Connection[NodeT]:
    """A connection under one parent, from the request's batched loaders: `pages` loads
    `(parent_id, Slice)` (a page per parent, ROW_NUMBER in one statement for every parent
    asking the same slice), `counts` loads `(parent_id, where)` (only if `totalCount` is
    asked)."""
    page = window(sort, first=asked.first, after=asked.after, last=asked.last,
                  before=asked.before, max_size=max_size)
    rows = await pages.load((parent_id, Slice(page, tuple(sort), where)))
    keys = [column.column.key for column in sort]
    return build_connection(
        rows, page,
        cursor_of=lambda row: tuple(getattr(row, key) for key in keys),
        to_node=to_node,
        count=lambda: counts.load((parent_id, where)),
    )
