"""`Loader.get`: a value already loaded is handed over at once; anything else is awaited."""

from __future__ import annotations

import inspect

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.viewers import Viewer
from graph.execution.database import RequestDatabase
from graph.execution.loaders import Loader
from graph.pubsub import LocalBroker


@pytest.fixture
def request_db(session_factory: async_sessionmaker[AsyncSession]) -> RequestDatabase:
    return RequestDatabase(session_factory, LocalBroker(), Viewer("alice"))


def doubling(request_db: RequestDatabase) -> tuple[Loader[int, int], list[list[int]]]:
    batches: list[list[int]] = []

    async def load(keys: list[int]) -> list[int]:
        batches.append(keys)
        if 13 in keys:
            raise LookupError("unlucky")
        return [key * 2 for key in keys]

    return Loader(request_db, load), batches


async def test_a_loaded_value_is_returned_at_once_converted(request_db: RequestDatabase) -> None:
    loader, batches = doubling(request_db)
    await loader.load_many([1, 2])
    assert loader.get(2, str) == "4"
    assert batches == [[1, 2]]


async def test_a_value_not_loaded_yet_is_an_awaitable_batched_with_its_siblings(
    request_db: RequestDatabase,
) -> None:
    loader, batches = doubling(request_db)
    first, second = loader.get(1, str), loader.get(2, str)
    assert inspect.isawaitable(first) and inspect.isawaitable(second)
    assert (await first, await second) == ("2", "4")
    assert batches == [[1, 2]]


async def test_a_failed_load_is_awaited_again_and_raises(request_db: RequestDatabase) -> None:
    loader, _ = doubling(request_db)
    with pytest.raises(LookupError):
        await loader.load(13)
    pending = loader.get(13, str)
    assert inspect.isawaitable(pending)
    with pytest.raises(LookupError):
        await pending


async def test_a_cancelled_load_is_loaded_afresh(request_db: RequestDatabase) -> None:
    loader, batches = doubling(request_db)
    pending = loader.load(3)
    pending.cancel()
    assert await loader.get(3, str) == "6"  # type: ignore[misc]  # an awaitable here
    assert len(batches) == 1  # one batch still (it names the key twice: a cancelled load
    # keeps its place in the queue)
