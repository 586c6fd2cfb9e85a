"""Running a mutation: one transaction, expected failures returned as payload data."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from graph.context import Info
from graph.errors import UserFacingError

T = TypeVar("T")


async def in_transaction(info: Info, work: Callable[[AsyncSession, str], Awaitable[T]]) -> T | Any:
    """Run `work(session, user_id)` in one transaction.

    A `UserFacingError` rolls everything back and becomes the payload; any other exception
    rolls back too and reaches the client masked.
    """
    user_id = info.context.user_id
    try:
        async with info.context.db.transaction() as session:
            result = await work(session, user_id)
    except UserFacingError as failure:
        return failure.payload
    return result
