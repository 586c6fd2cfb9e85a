"""What a use case runs in.

`Session` is the caller's open transaction as the domain's services take it. The resolvers
hand it from `graph`'s one transaction per mutation to a use case without ever using it:
they name this alias, not SQLAlchemy, so that no SQL can be written in `graph/resolvers/`
(tests/test_layers.py checks that nothing there imports SQLAlchemy). `Transactions` is the
request's database for a use case that opens its transactions itself (the assistant's: its
model is asked with no transaction held).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol, TypeAlias

from sqlalchemy.ext.asyncio import AsyncSession

Session: TypeAlias = AsyncSession


class Transactions(Protocol):
    """The request's database as the use cases see it (graph's RequestDatabase)."""

    def transaction(self) -> AbstractAsyncContextManager[AsyncSession]: ...

    async def release(self) -> None: ...
