"""Live events for subscriptions: in-process on SQLite, PostgreSQL LISTEN/NOTIFY across processes.

Only ids travel (NOTIFY payloads are capped at 8,000 bytes): a subscriber loads the row on
delivery, scoped to its own viewer. Events are staged on the session during a transaction and
published only after it commits, so a rolled-back change is never announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger(__name__)

CHANNEL = "clarity_events"
QUEUE_LIMIT = 1_000
CONNECT_TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Event:
    kind: str  # "message" or "task_event"
    user_id: str
    row_id: int


def stage(session: AsyncSession, kind: str, user_id: str, row: Any) -> None:
    """Remember a row to announce once the session's transaction commits."""
    session.info.setdefault("outbox", []).append((kind, user_id, row))


def staged(session: AsyncSession) -> list[Event]:
    """Take the staged rows (their ids are known after the flush) as events."""
    entries = session.info.pop("outbox", [])
    return [Event(kind, user_id, int(row.id)) for kind, user_id, row in entries]


class LocalBroker:
    """Delivers to subscribers in this process."""

    def __init__(self) -> None:
        self._queues: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, events: list[Event]) -> None:
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
    """Publishes with NOTIFY and delivers what LISTEN hears, its own events included, so
    every process (this one too) delivers the same way."""

    def __init__(self, database_url: str) -> None:
        super().__init__()
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._connection: Any = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        import asyncpg

        # Bounded: an unreachable database must not stall start-up or a publish for 60 s.
        self._connection = await asyncpg.connect(self._dsn, timeout=CONNECT_TIMEOUT_SECONDS)
        await self._connection.add_listener(CHANNEL, self._heard)

    async def stop(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None

    async def publish(self, events: list[Event]) -> None:
        if not events:
            return
        async with self._lock:
            if self._connection is None or self._connection.is_closed():
                await self.stop()
                await self.start()
            for event in events:
                payload = orjson.dumps([event.kind, event.user_id, event.row_id]).decode()
                await self._connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            kind, user_id, row_id = orjson.loads(payload)
            self.deliver(Event(str(kind), str(user_id), int(row_id)))
        except (ValueError, TypeError):
            logger.warning("ignored a malformed notification")


def build_broker(database_url: str) -> LocalBroker:
    if make_url(database_url).get_backend_name() == "postgresql":
        return PostgresBroker(database_url)
    return LocalBroker()
