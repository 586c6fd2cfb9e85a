"""A subscription stream's reader of its user's changes, what may wait for it (`Backlog`),
and its reads of the change outbox (graph/pubsub/__init__.py says how it all fits)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.events import (
    Event,
    as_events,
    changes_after,
    last_recorded,
    latest_change,
)
from models.rls import DatabaseViewer, viewer_session

if TYPE_CHECKING:
    from graph.pubsub.local import LocalBroker

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
