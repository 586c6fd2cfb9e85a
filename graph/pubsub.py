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

What waits to be delivered is bounded, and nothing is dropped unseen. Each reader (one per
running subscription stream, `subscribe`) queues the events of the kinds it asked for; the
events waiting across all of one user's readers are at most `Backlog.per_user`, and across
the process at most `Backlog.per_process`. Past a bound, the reader furthest behind (the
longest queue: of that user, or of the user with the most waiting) is cut: its queue is
dropped and its next `get` raises `FellBehind`, which its subscriber is told
(graph/live/source.py). Every other reader keeps everything it was sent. Before, each reader
held 1,000 events and dropped the rest with a log line the client never saw: a burst of
12 bulk changes over 100 tasks lost 190 of 1,200.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, TEXT
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from domain.events import Event, EventKind
from graph.metrics import NOTIFY_CLOCK, delivered_locally
from graph.observability import FirstThenCounted
from models.tls import split_tls

logger = logging.getLogger(__name__)

CHANNEL = "clarity_events"
CONNECT_TIMEOUT_SECONDS = 5.0
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)  # seconds; the last one repeats


@dataclass(frozen=True)
class Backlog:
    """How many events may wait to be delivered: all of one user's readers together, and
    every reader of the process (LIVE_BACKLOG_PER_USER, LIVE_BACKLOG_PER_PROCESS; these
    defaults are the settings' own). An event waiting costs ~100 bytes."""

    per_user: int = 10_000
    per_process: int = 200_000


class FellBehind(Exception):
    """A reader was cut: more events waited for it than the backlog allows."""


class Reader:
    """One subscription stream's events, in the order they were committed."""

    def __init__(self, broker: LocalBroker, user_id: str, kinds: Collection[str] | None) -> None:
        self.user_id = user_id
        self._broker = broker
        self._kinds = frozenset(kinds) if kinds is not None else None
        self._events: deque[Event] = deque()
        self._ready = asyncio.Event()
        self.cut = False

    def wants(self, event: Event) -> bool:
        return not self.cut and (self._kinds is None or event.kind in self._kinds)

    def waiting(self) -> int:
        return len(self._events)

    def empty(self) -> bool:
        return not self._events

    async def get(self) -> Event:
        """The next event; `FellBehind` once this reader has been cut."""
        while not self._events:
            if self.cut:
                raise FellBehind
            self._ready.clear()
            await self._ready.wait()
        self._broker.taken(self, 1)
        return self._events.popleft()

    def push(self, event: Event) -> None:
        self._events.append(event)
        self._ready.set()

    def keep_only(self, kinds: Collection[str]) -> None:
        """From now on only events of `kinds`; those of other kinds already waiting go."""
        self._kinds = frozenset(kinds)
        kept = deque(event for event in self._events if event.kind in self._kinds)
        self._broker.taken(self, len(self._events) - len(kept))
        self._events = kept

    def close(self) -> None:
        """Stop receiving (idempotent)."""
        self._broker.unsubscribe(self)

    def drop(self) -> int:
        """Cut this reader: forget what it had waiting; its next `get` raises."""
        dropped = len(self._events)
        self._events.clear()
        self.cut = True
        self._ready.set()
        return dropped


class LocalBroker:
    """Delivers to subscribers in this process."""

    def __init__(self, backlog: Backlog = Backlog()) -> None:
        self.backlog = backlog
        self._readers: dict[str, set[Reader]] = defaultdict(set)
        self._waiting: dict[str, int] = defaultdict(int)  # events queued, per user
        self._waiting_total = 0
        self._cuts = FirstThenCounted(logger, "subscribers falling behind",
                                      level=logging.WARNING)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, session: AsyncSession, events: list[Event]) -> None:
        """Inside the transaction, before its commit: nothing to do in-process."""
        return None

    def committed(self, events: list[Event]) -> None:
        """After the commit."""
        committed_at = time.monotonic()
        for event in events:
            self.deliver(event)
        delivered_locally(len(events), committed_at)

    async def announce(self, event: Event) -> None:
        """An ephemeral event (a reply's draft, graph/drafts.py), outside any transaction:
        delivered now, stored nowhere."""
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        user_id = event.user_id
        for reader in self._readers.get(user_id, ()):
            if reader.wants(event):
                reader.push(event)
                self._waiting[user_id] += 1
                self._waiting_total += 1
        while self._waiting.get(user_id, 0) > self.backlog.per_user:
            self._cut_longest(user_id)
        while self._waiting_total > self.backlog.per_process:
            self._cut_longest(max(self._waiting, key=self._waiting.__getitem__))

    def taken(self, reader: Reader, count: int) -> None:
        """`count` of `reader`'s events left its queue."""
        self._waiting_total -= count
        left = self._waiting[reader.user_id] - count
        if left:
            self._waiting[reader.user_id] = left
        else:
            del self._waiting[reader.user_id]

    def _cut_longest(self, user_id: str) -> None:
        reader = max(self._readers[user_id], key=Reader.waiting)
        waiting = reader.waiting()
        self.taken(reader, reader.drop())
        self._cuts.failed(
            "a subscription fell behind (%d events waiting for it, %d for its user); it is "
            "told FELL_BEHIND", waiting, self._waiting.get(user_id, 0), exc_info=None,
        )

    def reader(self, user_id: str, kinds: Collection[str] | None = None) -> Reader:
        """A reader of `user_id`'s events (of `kinds` only, when given), receiving from now
        until it is closed."""
        reader = Reader(self, user_id, kinds)
        self._readers[user_id].add(reader)
        return reader

    def unsubscribe(self, reader: Reader) -> None:
        readers = self._readers.get(reader.user_id)
        if readers is None or reader not in readers:
            return
        self.taken(reader, reader.drop())
        readers.discard(reader)
        if not readers:
            del self._readers[reader.user_id]

    @contextlib.asynccontextmanager
    async def subscribe(
        self, user_id: str, kinds: Collection[str] | None = None
    ) -> AsyncIterator[Reader]:
        """A reader of `user_id`'s events (of `kinds` only, when given) while the block runs."""
        reader = self.reader(user_id, kinds)
        try:
            yield reader
        finally:
            reader.close()


class PostgresBroker(LocalBroker):
    """Publishes with NOTIFY in the writing transaction and delivers what LISTEN hears, its
    own events included, so every process (this one too) delivers the same way."""

    def __init__(self, database_url: str, backlog: Backlog = Backlog()) -> None:
        super().__init__(backlog)
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
        NOTIFY_CLOCK.sent(payloads)  # heard back by this process's LISTEN: the lag

    def committed(self, events: list[Event]) -> None:
        return None  # LISTEN delivers, in this process as in every other

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
            break
        self._reconnecting = None

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        NOTIFY_CLOCK.heard(payload)
        try:
            kind, user_id, key = orjson.loads(payload)
            if not isinstance(user_id, str) or not isinstance(key, int | str):
                raise TypeError("a notification names its owner and a key")
            # An unknown kind (a newer process during a rolling deploy) is not delivered.
            self.deliver(Event(EventKind(kind), user_id, key))
        except (ValueError, TypeError):
            logger.warning("ignored a malformed notification")


def build_broker(database_url: str, backlog: Backlog = Backlog()) -> LocalBroker:
    if make_url(database_url).get_backend_name() == "postgresql":
        return PostgresBroker(database_url, backlog)
    return LocalBroker(backlog)
