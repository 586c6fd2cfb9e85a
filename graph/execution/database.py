"""Database access for one request: one AsyncSession, used by one task at a time.

Strawberry resolves sibling fields and dataloader batches as concurrent tasks, and an
AsyncSession must never be used by two tasks at once. Every use of the request's session
goes through a lock here. What that costs: the statements of one request run one after
another, never in parallel; requests still run in parallel with each other, and loaders keep
a request to a handful of statements anyway.

Every session opened here acts for the request's viewer (`models.rls`: PostgreSQL's
row-level security reads it per transaction). A subscription's delivery has a
RequestDatabase of its own (`Context.renew_reads`), so it never holds another's connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any, TypeVar

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.events import staged
from domain.viewers import Viewer
from graph.errors import DATABASE_OUTAGE
from graph.observability import FirstThenCounted
from graph.pubsub import LocalBroker
from models.database import (
    SQLITE_IMMEDIATE,
    StatementStats,
    current_stats,
    snapshot_read_options,
    sqlite_write_turn,
)
from models.rls import DatabaseViewer, set_viewer, viewer_session

T = TypeVar("T")
logger = logging.getLogger(__name__)
# Where the statements of the current task (and of the tasks and loader batches it starts)
# are counted when not in the request's own stats: see `RequestDatabase.counted_apart`.
_counted_apart: ContextVar[StatementStats | None] = ContextVar("counted_apart", default=None)
# Closing a session whose connection died (an outage) raises; after the response is sent,
# where the request's context ends, that used to escape the app ("Exception in ASGI
# application"). It is logged here instead, first-then-counted like the outage itself.
CLOSE_FAILURES = FirstThenCounted(logger, "closing a request's session failed",
                                  level=logging.WARNING)


def database_viewer(viewer: Viewer) -> DatabaseViewer:
    """The request's viewer as row-level security sees it."""
    return DatabaseViewer(viewer.user_id, viewer.is_admin, viewer.session_id)


class RequestDatabase:
    def __init__(
        self, factory: async_sessionmaker[AsyncSession], broker: LocalBroker, viewer: Viewer
    ) -> None:
        self._factory = factory
        self._broker = broker
        self._viewer = database_viewer(viewer)
        self._read_options = snapshot_read_options(factory.kw.get("bind"))
        self._session: AsyncSession | None = None
        self._lock = asyncio.Lock()
        self.stats = StatementStats()
        self._on_reset: list[Callable[[], None]] = []
        self._worked = False  # some use of the session succeeded: the database is reachable
        self._work = 0  # reads begun and loader keys queued, not yet finished (`quiet`)
        self._idle = asyncio.Event()
        self._idle.set()

    @contextmanager
    def counted_apart(self) -> Iterator[StatementStats]:
        """Count the statements run from inside the block apart, in the stats it yields:
        also those of tasks and loader batches started in it, even after it ends (they
        inherit the context they were started in). The compiled path runs a plan so and adds
        the count to the request's only when the plan answers: a plan that falls back leaves
        no statement in diagnostics, not even one a loader batch it began runs later."""
        apart = StatementStats()
        token = _counted_apart.set(apart)
        try:
            yield apart
        finally:
            _counted_apart.reset(token)

    def count(self, apart: StatementStats) -> None:
        """Add statements counted apart to the request's."""
        self.stats.statements += apart.statements
        self.stats.seconds += apart.seconds

    def begin(self, count: int = 1) -> None:
        """Work that will read through the session has begun: `quiet` waits for it until
        `end`. Reads count themselves; a loader counts each key it queues until its batch
        has ended (graph/execution/loaders.py), since aiodataloader starts a batch two
        event-loop turns after the first key is queued."""
        self._work += count
        self._idle.clear()

    def end(self, count: int = 1) -> None:
        self._work -= count
        if not self._work:
            self._idle.set()

    async def quiet(self) -> None:
        """Return once every read begun and every loader key queued so far has finished.
        Exact, not timed: at return no batch is queued, so a load after it starts a batch of
        its own. The compiled path waits so before graphql-core runs an operation again (a
        batch its plan queued must not take graphql-core's keys, nor its statement be
        counted apart), and diagnostics before counting a failed operation's statements
        (graphql-core waits for the siblings a failure cancels, not for their batches)."""
        while self._work:
            await self._idle.wait()

    def act_as(self, viewer: Viewer) -> None:
        """Later transactions act for `viewer` (a WebSocket signs in after connecting)."""
        self._viewer = database_viewer(viewer)
        if self._session is not None:
            set_viewer(self._session, self._viewer)

    def on_reset(self, callback: Callable[[], None]) -> None:
        """Call `callback` whenever objects read earlier may be stale: after every write
        transaction (it changed rows, and its opening rollback expired what was loaded) and
        after `release`. Loaders register here so a cache never outlives the data it holds."""
        self._on_reset.append(callback)

    def _reset(self) -> None:
        for callback in self._on_reset:
            callback()

    async def scalars(self, statement: Executable) -> Sequence[Any]:
        async def read(session: AsyncSession) -> Sequence[Any]:
            return (await session.scalars(statement)).all()

        return await self._read(read)

    async def scalar(self, statement: Executable) -> Any:
        async def read(session: AsyncSession) -> Any:
            return await session.scalar(statement)

        return await self._read(read)

    async def rows(self, statement: Executable) -> Sequence[Any]:
        """Result rows (they unpack like tuples and name their columns), no ORM objects: a
        hot list's rows cost about half as much as entities. Nothing enters the session's
        identity map, so they are only for reading."""

        async def read(session: AsyncSession) -> Sequence[Any]:
            return (await session.execute(statement)).all()

        return await self._read(read)

    async def _read(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run one read under the lock, to its end even if the caller is cancelled.

        graphql-core cancels a failed field's sibling resolvers; a statement cut off halfway
        leaves the session mid-operation (its close then raises) and the connection inside a
        transaction nobody ends. So a cancelled caller waits for the statement to finish.
        """

        async def run() -> T:
            try:
                async with self._using() as session:
                    if self._read_options and not session.in_transaction():
                        await session.connection(execution_options=self._read_options)
                    result = await work(session)
                    self._worked = True
                    return result
            finally:
                self.end()

        self.begin()
        task = asyncio.ensure_future(run())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            await asyncio.wait([task])
            raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One write transaction: committed when the block ends, rolled back if it raises.
        What the block staged for subscribers (`pubsub.stage`) is announced with the commit.

        Never await a dataloader inside the block: loaders take the same lock.
        """
        async with self._using() as session:
            # End the read snapshot first: on SQLite an old snapshot cannot be upgraded to a
            # write, and later reads must see what this transaction commits.
            if session.in_transaction():
                await session.rollback()
            session.info.pop("outbox", None)  # staged events of a failed transaction
            # SQLite: wait for this process's turn to write before taking a connection.
            turn = sqlite_write_turn(session.bind) or nullcontext()
            try:
                async with turn, session.begin():
                    await session.connection(execution_options={SQLITE_IMMEDIATE: True})
                    yield session
                    await session.flush()  # staged rows get their ids
                    # Recorded in the change outbox, with their ids (graph/pubsub/).
                    events = await self._broker.publish(session, staged(session))
                self._worked = True  # committed
            finally:
                self._reset()
        self._broker.committed(events)

    async def release(self) -> None:
        """End any open read transaction, giving its connection back to the pool."""
        async with self._using() as session:
            if session.in_transaction():
                await session.rollback()
        self._reset()

    async def close(self) -> None:
        """Give the connection back; never raises (it runs after the response is sent).

        A session whose connection died cannot roll back: its close raises. It is then
        invalidated, which discards the dead connection instead of returning it to the pool.
        """
        # Under the lock: a dataloader batch of a cancelled resolver may still be running.
        async with self._lock:
            session, self._session = self._session, None
            if session is None:
                return
            try:
                await session.close()
            except Exception as error:
                CLOSE_FAILURES.failed("could not close a request's session", exc_info=error)
                try:
                    await session.invalidate()
                except Exception:  # nothing more to do; the pool replaces what it lost
                    logger.debug("could not invalidate a request's session", exc_info=True)
                return
        if self._worked:
            DATABASE_OUTAGE.recovered()

    @asynccontextmanager
    async def _using(self) -> AsyncIterator[AsyncSession]:
        async with self._lock:
            if self._session is None:
                self._session = viewer_session(self._factory, self._viewer)
            token = current_stats.set(_counted_apart.get() or self.stats)
            try:
                yield self._session
            finally:
                current_stats.reset(token)
