"""The in-process broker: wakes this process's readers, bounds what waits for them."""

from __future__ import annotations

import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Collection, Mapping

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.events import (
    Event,
    EventKind,
    record,
    wakes,
)
from graph.metrics import delivered_locally
from graph.observability import FirstThenCounted
from graph.pubsub.reader import Backlog, Fetch, Head, Last, Reader, outbox_reads

logger = logging.getLogger(__name__)

EPHEMERAL_KINDS = frozenset({EventKind.MESSAGE_DRAFT})  # announced, never recorded


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
