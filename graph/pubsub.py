"""Live events for subscriptions: in-process on SQLite, PostgreSQL LISTEN/NOTIFY across processes.

Every change is recorded in the change outbox (models/outbox.py) in the transaction that
makes it (`publish`, just before its commit; `domain.events.record`), so a rolled-back change
is never recorded nor announced. The announcement only wakes readers: a reader then reads its
user's outbox after the last id it read, through a session of its own acting for that user
(row-level security applies), a page (`PAGE`) at a time. So what a reader is given is the
outbox's order (commit order), with no gap and no duplicate whether it reads what was just
committed or replays from a client's cursor (`Reader.resume`), and a lost announcement costs
a delay, never a change:

- `publish(session, events)` runs inside the write transaction, just before its commit. On
  PostgreSQL it is one statement, `record_changes` (migration 0010): the rows, then one
  NOTIFY per owner (`[owner, {kind: count}, highest id]`), which PostgreSQL sends on commit
  and drops on rollback; a failure there fails (and rolls back) the mutation.
- `committed(events)` runs after the commit; the in-process broker wakes its readers there.
- A LISTEN connection that was lost and is back wakes every reader: each reads what it
  missed meanwhile from the outbox.

What waits to be delivered is bounded, and nothing is dropped unseen. Each reader (one per
running subscription stream, `subscribe`) counts the announced changes of the kinds it asked
for that it has not read yet; those waiting across all of one user's readers are at most
`Backlog.per_user`, and across the process at most `Backlog.per_process`. Past a bound, the
reader furthest behind (the most waiting: of that user, or of the user with the most waiting)
is cut: its next `get` raises `FellBehind`, which its subscriber is told (graph/live/source.py).
Every other reader keeps everything. (The outbox keeps the changes, so a cut client can
resume from its last cursor: graph/live/resume.py.) A replay is not counted: its changes wait
in the database, read a page at a time at the stream's pace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.events import (
    Event,
    EventKind,
    as_events,
    changes_after,
    last_recorded,
    latest_change,
    record,
    wakes,
)
from graph.metrics import NOTIFY_CLOCK, delivered_locally
from graph.observability import FirstThenCounted
from models.rls import DatabaseViewer, viewer_session
from models.tls import split_tls

logger = logging.getLogger(__name__)

CHANNEL = "clarity_events"  # migration 0010's record_changes notifies on it
CONNECT_TIMEOUT_SECONDS = 5.0
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)  # seconds; the last one repeats
EPHEMERAL_KINDS = frozenset({EventKind.MESSAGE_DRAFT})  # announced, never recorded
EPHEMERAL = 16  # ephemeral events (drafts) a reader keeps untaken; older ones are dropped
PAGE = 100  # changes a reader reads from the outbox at once (held in memory until taken)

# A reader's outbox reads: (user, after id, kinds or None, at most) -> changes in id order.
Fetch = Callable[[str, int, Collection[str] | None, int], Awaitable[list[Event]]]
Head = Callable[[str], Awaitable[int]]  # a user's last recorded change id (0: none kept)
Last = Callable[[], Awaitable[int]]  # the last recorded change id, whoever's


@dataclass(frozen=True)
class Backlog:
    """How many announced changes may wait to be read: all of one user's readers together,
    and every reader of the process (LIVE_BACKLOG_PER_USER, LIVE_BACKLOG_PER_PROCESS; these
    defaults are the settings' own). A change waiting costs a counter; at most PAGE of a
    reader's are in memory."""

    per_user: int = 10_000
    per_process: int = 200_000


class FellBehind(Exception):
    """A reader was cut: more changes waited for it than the backlog allows."""


class Reader:
    """One subscription stream's changes, in commit order (the outbox's ids)."""

    def __init__(self, broker: LocalBroker, user_id: str, kinds: Collection[str] | None) -> None:
        self.user_id = user_id
        self._broker = broker
        self._kinds = frozenset(kinds) if kinds is not None else None
        self._page: deque[Event] = deque()  # read, not yet taken
        # Ephemeral events (drafts), offered rather than recorded: at most EPHEMERAL kept,
        # the oldest dropped first (each draft carries its whole text, so a dropped one
        # loses nothing the next does not hold).
        self._ephemeral: deque[Event] = deque(maxlen=EPHEMERAL)
        self._pending = 0  # announced (of its kinds), not yet read: counted in the backlog
        # The last id read; from the process's last announced id (None before any: the
        # user's last recorded change is read first), so it gets what commits from now.
        self.position: int | None = broker.head
        self._stale = False  # read even if nothing was announced (resumed; LISTEN came back)
        self._reads: tuple[Fetch, Head] | None = None  # the broker's unless `read_through`
        self._ready = asyncio.Event()
        self.cut = False
        self.idle = False  # waiting in `get` for something to read

    def wants(self, kind: str) -> bool:
        return not self.cut and (self._kinds is None or kind in self._kinds)

    def waiting(self) -> int:
        return self._pending

    def empty(self) -> bool:
        return not self._page and not self._pending and not self._ephemeral

    def resume(self, after: int) -> None:
        """Read from after outbox id `after` (a client's cursor, checked by the caller):
        what was recorded since is given first, then what commits next."""
        self.position = after
        self._page.clear()
        self.stale()

    def read_through(self, fetch: Fetch, head: Head) -> None:
        """Read the outbox with these (a stream's own session) rather than the broker's."""
        self._reads = (fetch, head)

    async def _fetch(self, after: int) -> list[Event]:
        fetch = self._reads[0] if self._reads is not None else self._broker.fetch
        return await fetch(self.user_id, after, self._kinds, PAGE)

    async def place(self) -> None:
        """Fix where reading starts now, if nothing has (a process that has announced no
        change yet does not know the last id): after the user's last recorded change."""
        if self.position is None:
            head = self._reads[1] if self._reads is not None else self._broker.head_of
            self.position = await head(self.user_id)

    def stale(self) -> None:
        """Read the outbox on the next `get` even if nothing was announced."""
        self._stale = True
        self._ready.set()

    def offer(self, event: Event) -> None:
        """An ephemeral event of the reader's user: kept (bounded) if of its kinds."""
        if self.wants(event.kind):
            self._ephemeral.append(event)
            self._ready.set()

    async def get(self) -> Event:
        """The next change; `FellBehind` once this reader has been cut."""
        while not self._page:
            if self._ephemeral:
                return self._ephemeral.popleft()
            if self.cut:
                raise FellBehind
            if self._pending or self._stale:
                await self._read()
                continue
            self._ready.clear()
            self.idle = True
            try:
                await self._ready.wait()
            finally:
                self.idle = False
        return self._page.popleft()

    async def _read(self) -> None:
        self._stale = False
        announced = self._pending  # those announced before this read began are in it
        await self.place()
        after = self.position or 0
        page = await self._fetch(after)
        if self.cut:
            return
        if page:
            self.position = page[-1].id or self.position
        self._page.extend(page)
        if len(page) < PAGE:  # caught up with every change announced before the read
            self._broker.taken(self, announced)
        else:  # more to read, announced or not
            self._broker.taken(self, min(len(page), announced))
            self._stale = True

    def push(self, kind: str, count: int) -> None:
        """`count` changes of `kind` were committed for this reader's user."""
        if self.wants(kind):
            self._pending += count
            self._ready.set()

    def keep_only(self, kinds: Collection[str]) -> None:
        """From now on only changes of `kinds`. Those of other kinds counted as waiting are
        not read; the next read tells what is really there."""
        self._kinds = frozenset(kinds)
        self._page = deque(event for event in self._page if event.kind in self._kinds)

    def close(self) -> None:
        """Stop receiving (idempotent)."""
        self._broker.unsubscribe(self)

    def drop(self) -> int:
        """Cut this reader: forget what it had waiting; its next `get` raises."""
        dropped = self._pending
        self._pending = 0
        self._page.clear()
        self.cut = True
        self._ready.set()
        return dropped

    def forget(self, count: int) -> None:
        """`count` of its waiting changes are counted no more."""
        self._pending -= count


def outbox_reads(factory: async_sessionmaker[AsyncSession]) -> tuple[Fetch, Head, Last]:
    """Reads of the change outbox, each through a session of its own acting for the user
    read (row-level security applies on PostgreSQL), closed before it returns. (A live
    stream reads through its own delivery's session instead: graph/live/source.py.)"""

    async def fetch(user_id: str, after: int, kinds: Collection[str] | None,
                    limit: int) -> list[Event]:
        async with viewer_session(factory, DatabaseViewer(user_id)) as session:
            rows = (await session.execute(changes_after(user_id, after, kinds, limit))).all()
            return as_events(rows)

    async def head(user_id: str) -> int:
        async with viewer_session(factory, DatabaseViewer(user_id)) as session:
            return int(await session.scalar(latest_change(user_id)) or 0)

    async def last() -> int:
        async with factory() as session:
            return await last_recorded(session)

    return fetch, head, last


class LocalBroker:
    """Wakes readers in this process."""

    def __init__(self, backlog: Backlog = Backlog(),
                 factory: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.backlog = backlog
        self.head: int | None = None  # the highest id announced to this process
        self._readers: dict[str, set[Reader]] = defaultdict(set)
        self._waiting: dict[str, int] = defaultdict(int)  # changes announced, unread, per user
        self._waiting_total = 0
        self._cuts = FirstThenCounted(logger, "subscribers falling behind",
                                      level=logging.WARNING)
        self._fetch: Fetch | None = None
        self._head: Head | None = None
        self._last: Last | None = None
        if factory is not None:
            self.reads_from(*outbox_reads(factory))

    def reads_from(self, fetch: Fetch, head: Head, last: Last | None = None) -> None:
        """Where readers read the outbox."""
        self._fetch, self._head, self._last = fetch, head, last

    async def learn_head(self) -> None:
        """Start from the last change recorded: a reader made from now on starts after it
        (without, each stream's first read would find its user's last change, and miss one
        committed between its acceptance and that read)."""
        if self._last is not None:
            last = await self._last()
            if self.head is None or last > self.head:
                self.head = last

    async def fetch(self, user_id: str, after: int, kinds: Collection[str] | None,
                    limit: int) -> list[Event]:
        if self._fetch is None:
            raise RuntimeError("this broker reads no outbox (LocalBroker(factory=...))")
        return await self._fetch(user_id, after, kinds, limit)

    async def head_of(self, user_id: str) -> int:
        if self._head is None:
            raise RuntimeError("this broker reads no outbox (LocalBroker(factory=...))")
        return await self._head(user_id)

    async def start(self) -> None:
        await self.learn_head()

    async def stop(self) -> None:
        return None

    async def publish(self, session: AsyncSession, events: list[Event]) -> list[Event]:
        """Inside the transaction, before its commit: the changes recorded in the outbox;
        the events with their ids."""
        return await record(session, events)

    def committed(self, events: list[Event]) -> None:
        """After the commit."""
        committed_at = time.monotonic()
        woken = wakes(events)  # one announcement per owner, as one NOTIFY per owner
        for user_id, (counts, highest) in woken.items():
            self.deliver(user_id, counts, highest)
        delivered_locally(len(woken), committed_at)

    async def announce(self, event: Event) -> None:
        """An ephemeral event (a reply's draft, graph/drafts.py), outside any transaction:
        offered now to the owner's readers that want its kind, stored nowhere, never
        replayed."""
        self.offer(event)

    def offer(self, event: Event) -> None:
        for reader in self._readers.get(event.user_id, ()):
            reader.offer(event)

    def deliver(self, user_id: str, counts: Mapping[str, int], highest: int) -> None:
        """`counts` changes (by kind) were committed for `user_id`, the last with id
        `highest`: its readers are woken, and the backlog's bounds applied."""
        if highest and (self.head is None or highest > self.head):
            self.head = highest
        for reader in self._readers.get(user_id, ()):
            before = reader.waiting()
            for kind, count in counts.items():
                reader.push(kind, count)
            added = reader.waiting() - before
            if added:
                self._waiting[user_id] += added
                self._waiting_total += added
        while self._waiting.get(user_id, 0) > self.backlog.per_user:
            self._cut_longest(user_id)
        while self._waiting_total > self.backlog.per_process:
            self._cut_longest(max(self._waiting, key=self._waiting.__getitem__))

    def wake_all(self) -> None:
        """Every reader reads the outbox again (announcements may have been lost)."""
        for readers in self._readers.values():
            for reader in readers:
                reader.stale()

    def taken(self, reader: Reader, count: int) -> None:
        """`count` of `reader`'s waiting changes were read (or dropped)."""
        count = min(count, reader.waiting()) if not reader.cut else count
        if count <= 0:
            return
        if not reader.cut:
            reader.forget(count)
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
            "a subscription fell behind (%d changes waiting for it, %d for its user); it is "
            "told FELL_BEHIND", waiting, self._waiting.get(user_id, 0), exc_info=None,
        )

    def reader(self, user_id: str, kinds: Collection[str] | None = None) -> Reader:
        """A reader of `user_id`'s changes (of `kinds` only, when given), receiving from now
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
        """A reader of `user_id`'s changes (of `kinds` only, when given) while the block runs."""
        reader = self.reader(user_id, kinds)
        try:
            yield reader
        finally:
            reader.close()


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
