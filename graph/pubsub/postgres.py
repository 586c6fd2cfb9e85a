"""The PostgreSQL broker: NOTIFY in the writing transaction, LISTEN in every process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.events import (
    Event,
    EventKind,
    record,
    wakes,
)
from graph.metrics import NOTIFY_CLOCK
from graph.observability import FirstThenCounted
from graph.pubsub.local import EPHEMERAL_KINDS, LocalBroker
from graph.pubsub.reader import Backlog
from models.tls import split_tls

logger = logging.getLogger(__name__)

CHANNEL = "clarity_events"  # migration 0010's record_changes notifies on it
CONNECT_TIMEOUT_SECONDS = 5.0
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)  # seconds; the last one repeats


class PostgresBroker(LocalBroker):
    """Announces with NOTIFY in the writing transaction (`record_changes`) and wakes readers
    on what LISTEN hears, its own changes included, so every process (this one too) delivers
    the same way."""

    def __init__(self, database_url: str, backlog: Backlog = Backlog(),
                 factory: async_sessionmaker[AsyncSession] | None = None) -> None:
        super().__init__(backlog, factory)
        # The same TLS as the engine's (models/tls.py): asyncpg's DSN takes no CA file.
        url, self._tls = split_tls(make_url(database_url).set(drivername="postgresql"))
        self._dsn = url.render_as_string(hide_password=False)
        self._connection: Any = None
        self._reconnecting: asyncio.Task[None] | None = None
        self._announcing = asyncio.Lock()
        self._stopped = False
        self._reconnect_failures = FirstThenCounted(
            logger, "LISTEN reconnect failing", level=logging.WARNING
        )

    async def start(self) -> None:
        self._stopped = False
        await self._listen()
        await self.learn_head()  # after LISTEN: what commits later is heard

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

    async def publish(self, session: AsyncSession, events: list[Event]) -> list[Event]:
        recorded = await record(session, events)  # record_changes() sends the NOTIFYs
        # Heard back by this process's LISTEN: the lag, keyed by what each NOTIFY names.
        NOTIFY_CLOCK.sent([_clock_key(owner, highest)
                           for owner, (_, highest) in wakes(recorded).items()])
        return recorded

    def committed(self, events: list[Event]) -> None:
        # LISTEN wakes readers, in this process as in every other; what this process just
        # committed is known here first: a stream accepted from now starts after it.
        highest = max((event.id or 0 for event in events), default=0)
        if highest and (self.head is None or highest > self.head):
            self.head = highest

    async def announce(self, event: Event) -> None:
        """NOTIFY on the LISTEN connection (no transaction, no table); dropped while it is
        down, as every event is then. One statement at a time on that connection."""
        if not self.listening:
            return
        payload = orjson.dumps([event.kind, event.user_id, event.key]).decode()
        async with self._announcing:
            with contextlib.suppress(Exception):  # at most once: a lost draft is no error
                await self._connection.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)

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
            self.wake_all()  # what was announced meanwhile is read from the outbox
            break
        self._reconnecting = None

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            body = orjson.loads(payload)
            if not isinstance(body, list) or len(body) != 3:
                raise TypeError("a notification is a list of three")
            if isinstance(body[1], str):
                # [kind, owner, key]: an ephemeral event (`announce`, a draft), not a wake-up.
                kind, owner, key = body
                # Only kinds that are ephemeral: an older process's change notifications
                # had this shape too, and a change is read from the outbox, never taken so.
                if EventKind(kind) not in EPHEMERAL_KINDS or not isinstance(key, int | str):
                    raise TypeError("not an ephemeral event")
                self.offer(Event(EventKind(kind), owner, key))
                return
            user_id, counts, highest = body
            if (not isinstance(user_id, str) or not isinstance(counts, dict)
                    or not isinstance(highest, int)
                    or not all(isinstance(n, int) for n in counts.values())):
                raise TypeError("a notification names its owner, counts and an id")
            NOTIFY_CLOCK.heard(_clock_key(user_id, highest))
            # A kind no reader asked for (a newer process's) wakes no reader.
            self.deliver(user_id, counts, highest)
        except (ValueError, TypeError):
            logger.warning("ignored a malformed notification")


def _clock_key(owner: str, highest: int) -> str:
    return f"{highest}:{owner}"


def build_broker(
    database_url: str, backlog: Backlog = Backlog(),
    factory: async_sessionmaker[AsyncSession] | None = None,
) -> LocalBroker:
    """The process's broker; its readers read the outbox through `factory`'s sessions.
    `database_url` is where LISTEN connects (the settings' `listener_database_url`): a
    direct one, never a PgBouncer in transaction mode, which accepts LISTEN and then hands
    the server connection to other clients, so nothing is heard. NOTIFY goes with the write
    transaction, on the app's own engine, and works through it."""
    if make_url(database_url).get_backend_name() == "postgresql":
        return PostgresBroker(database_url, backlog, factory)
    return LocalBroker(backlog, factory)
