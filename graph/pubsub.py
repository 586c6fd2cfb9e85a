"""Live events for subscriptions: in-process on SQLite, PostgreSQL LISTEN/NOTIFY across processes.

Only keys travel (NOTIFY payloads are capped at 8,000 bytes; one notification per event, each
a kind, an owner of at most 255 characters and a key): a subscriber loads the row on delivery,
scoped to its own viewer, and a deletion's key is all there is to deliver. Events are staged
on the session during a transaction and announced when it commits, never before and never
for a rolled-back change:

- `publish(session, events)` runs inside the write transaction, just before its commit. On
  PostgreSQL it is one `pg_notify` statement: NOTIFY is transactional, so PostgreSQL delivers
  it on commit and drops it on rollback, and a failure to notify fails (and rolls back) the
  mutation instead of leaving a committed change reported to the client as an error.
- `committed(events)` runs after the commit; the in-process broker delivers there.

Delivery is at most once: a subscriber whose LISTEN connection is down (the database
restarted) misses what is committed until the broker has reconnected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import orjson
from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, TEXT
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from domain.events import Event, EventKind
from graph.observability import FirstThenCounted
from models.tls import split_tls

logger = logging.getLogger(__name__)

CHANNEL = "clarity_events"
QUEUE_LIMIT = 1_000
CONNECT_TIMEOUT_SECONDS = 5.0
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)  # seconds; the last one repeats


class LocalBroker:
    """Delivers to subscribers in this process."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, session: AsyncSession, events: list[Event]) -> None:
        """Inside the transaction, before its commit: nothing to do in-process."""
        return None

    def committed(self, events: list[Event]) -> None:
        """After the commit."""
        for event in events:
            self.deliver(event)

    def deliver(self, event: Event) -> None:
        for queue in list(self._queues.get(event.user_id, ())):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A subscriber that stopped reading loses events rather than growing memory.
                logger.warning("subscriber queue full; an event was dropped")

    @contextlib.asynccontextmanager
    async def subscribe(self, user_id: str) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=QUEUE_LIMIT)
        self._queues[user_id].add(queue)
        try:
            yield queue
        finally:
            self._queues[user_id].discard(queue)
            if not self._queues[user_id]:
                del self._queues[user_id]


class PostgresBroker(LocalBroker):
    """Publishes with NOTIFY in the writing transaction and delivers what LISTEN hears, its
    own events included, so every process (this one too) delivers the same way."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        # The same TLS as the engine's (models/tls.py): asyncpg's DSN takes no CA file.
        url, self._tls = split_tls(make_url(database_url).set(drivername="postgresql"))
        self._dsn = url.render_as_string(hide_password=False)
        self._connection: Any = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._stopped = False
        self._reconnect_failures = FirstThenCounted(
            logger, "LISTEN reconnect failing", level=logging.WARNING
        )

    async def start(self) -> None:
        self._stopped = False
        await self._listen()

    async def stop(self) -> None:
        self._stopped = True
        if self._reconnecting is not None:
            self._reconnecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnecting
            self._reconnecting = None
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None

    @property
    def listening(self) -> bool:
        return self._connection is not None and not self._connection.is_closed()

    async def publish(self, session: AsyncSession, events: list[Event]) -> None:
        if not events:
            return
        payloads = [orjson.dumps([e.kind, e.user_id, e.key]).decode() for e in events]
        # One statement for all of a transaction's events, whatever their number.
        payload = func.unnest(bindparam("payloads", payloads, type_=ARRAY(TEXT))).column_valued()
        await session.execute(select(func.pg_notify(CHANNEL, payload)))

    def committed(self, events: list[Event]) -> None:
        return None  # LISTEN delivers, in this process as in every other

    async def _listen(self) -> None:
        import asyncpg

        # Bounded: an unreachable database must not stall start-up (or a retry) for 60 s.
        connection = await asyncpg.connect(
            self._dsn, timeout=CONNECT_TIMEOUT_SECONDS, **self._tls
        )
        try:
            await connection.add_listener(CHANNEL, self._heard)
        except BaseException:  # failed or cancelled (`stop` during a reconnect): not leaked
            connection.terminate()
            raise
        connection.add_termination_listener(self._lost)
        self._connection = connection

    def _lost(self, _connection: Any) -> None:
        if self._stopped or self._reconnecting is not None:
            return
        logger.warning("the LISTEN connection was lost; reconnecting")
        self._reconnecting = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        attempt = 0
        while not self._stopped:
            await asyncio.sleep(RECONNECT_DELAYS[min(attempt, len(RECONNECT_DELAYS) - 1)])
            try:
                await self._listen()
            except Exception as error:  # whatever stops a connect (refused, auth, timeout)
                attempt += 1
                self._reconnect_failures.failed("LISTEN reconnect failed; retrying",
                                                exc_info=error)
                continue
            self._reconnect_failures.recovered()
            logger.info("the LISTEN connection is back")
            break
        self._reconnecting = None

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            kind, user_id, key = orjson.loads(payload)
            if not isinstance(user_id, str) or not isinstance(key, int | str):
                raise TypeError("a notification names its owner and a key")
            # An unknown kind (a newer process during a rolling deploy) is not delivered.
            self.deliver(Event(EventKind(kind), user_id, key))
        except (ValueError, TypeError):
            logger.warning("ignored a malformed notification")


def build_broker(database_url: str) -> LocalBroker:
    if make_url(database_url).get_backend_name() == "postgresql":
        return PostgresBroker(database_url)
    return LocalBroker()
