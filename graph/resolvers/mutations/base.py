"""Running a mutation, and the one error convention every mutation follows.

The domain raises `domain.errors` exceptions; a mutation never builds an error payload
itself. Every mutation is declared with `mutation(...)`, whose field extension turns an
expected failure into its payload union's error member (`payload_of`): not found,
invalid (with per-field problems), a conflict, the assistant unavailable, rate limited. A
`Forbidden` and anything unexpected stay GraphQL errors (FORBIDDEN; masked).
`in_transaction` runs the work in one transaction, which any failure rolls back: the work
hands the transaction's `Session` to a domain use case, never using it itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry
from strawberry.extensions.field_extension import AsyncExtensionResolver, FieldExtension

from domain.errors import AssistantUnavailable, Invalid, NotFound, RateLimited
from domain.transactions import Session
from graph.context import Info
from graph.ids import encode_id
from graph.types.errors import (
    AssistantError,
    NotFoundError,
    RateLimitedError,
    UserError,
    ValidationError,
)
from graph.types.node import NODE_TYPES

T = TypeVar("T")
EXPECTED = (NotFound, Invalid, AssistantUnavailable, RateLimited)


def payload_of(failure: Exception) -> UserError:
    """The payload error member for an expected failure of the domain."""
    if isinstance(failure, NotFound):
        return not_found(failure)
    if isinstance(failure, Invalid):
        return ValidationError.of(failure.problems)
    if isinstance(failure, AssistantUnavailable):
        return AssistantError(message=failure.message, code="ASSISTANT_ERROR")
    if isinstance(failure, RateLimited):
        return RateLimitedError(message=failure.message, code="RATE_LIMITED",
                                retry_after_seconds=failure.retry_after_seconds)
    raise failure


def not_found(failure: NotFound) -> NotFoundError:
    """The NotFoundError for a missing row: a Relay node is named by its global id, anything
    else (a visit) by its key, and a reference that names no row at all as it was sent."""
    name = failure.entity.__name__
    named = failure.named or (
        encode_id(name, failure.key) if name in NODE_TYPES else str(failure.key)
    )
    return NotFoundError.of(named, failure.message)


class ExpectedFailures(FieldExtension):
    """Answers a mutation's expected failures as its payload's error member."""

    async def resolve_async(
        self, next_: AsyncExtensionResolver, source: Any, info: Info, **kwargs: Any
    ) -> Any:
        try:
            return await next_(source, info, **kwargs)
        except EXPECTED as failure:
            return payload_of(failure)


def mutation(*, description: str) -> Any:
    """`strawberry.mutation` with the error convention: use it for every mutation."""
    return strawberry.mutation(description=description, extensions=[ExpectedFailures()])


async def in_transaction(info: Info, work: Callable[[Session, str], Awaitable[T]]) -> T:
    """Run `work(session, user_id)` in one transaction; any exception rolls it back."""
    user_id = info.context.user_id
    async with info.context.db.transaction() as session:
        return await work(session, user_id)

