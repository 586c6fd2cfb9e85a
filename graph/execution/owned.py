"""A top-level list of the viewer's rows as a Relay connection: the one way every `Query`
connection is read. The resolvers pass the statement the domain built (scoped and
filtered) and never build SQL themselves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Select

from domain import scope
from graph.context import Info
from graph.execution.keyset import SortColumn
from graph.execution.pagination import Connection, Page, fetch_connection

NodeT = TypeVar("NodeT")


async def owned_connection(
    info: Info,
    model: type,
    sort: Sequence[SortColumn],
    to_node: Callable[[Any], NodeT],
    asked: Page,
    *,
    statement: Select[Any] | None = None,
) -> Connection[NodeT]:
    """A page of the viewer's rows of `model` (or of `statement`, already scoped and
    filtered), each row primed into the request's by-id loader for the fields that follow."""
    context = info.context
    base = statement if statement is not None else scope.owned(model, context.user_id)
    loader = context.loaders.by_id(model)
    return await fetch_connection(
        context.db, base, sort, to_node, asked, max_size=context.settings.max_page_size,
        prime=lambda row: loader.prime(row.id, row),
    )
