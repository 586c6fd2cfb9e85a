"""Changes the domain announces: staged on the session during a transaction, recorded in the
change outbox (models/outbox.py) in that same transaction just before its commit, and read
back by subscribers after it (graph/pubsub/ wakes them, graph/live/ delivers).

An event is small on purpose: its kind, the owner it is for, and the key of the row it
names, plus, once recorded, its outbox id (its place in commit order, a client's cursor).
Subscribers load that row scoped to themselves; a deletion has no row left to load, so its
key is the whole news, and the owner column of the outbox row is what keeps it the owner's.

Order. On SQLite one writer commits at a time: ids are commit order. On PostgreSQL a
sequence's ids are not (a transaction may draw id 10, another 11 and commit first): the
outbox rows are inserted by `record_changes` (migration 0010), which first takes a
transaction-level advisory lock held until the commit, so the next recorder draws its ids
only after this transaction is visible. A reader that sees id N sees every id below it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, Text, bindparam, delete, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from domain import scope
from models.base import utcnow
from models.outbox import ChangeOutbox


class EventKind(StrEnum):
    """What changed, and so which table the key names."""

    TASK_EVENT = "task_event"  # a task_events row: created, updated, status, steps
    TASK_DELETED = "task_deleted"  # a task's key (its events went with it)
    CONVERSATION_CREATED = "conversation_created"
    CONVERSATION_RENAMED = "conversation_renamed"
    CONVERSATION_DELETED = "conversation_deleted"
    MESSAGE = "message"  # a messages row
    PANIC_PRESSED = "panic_pressed"  # a panic_events row
    PANIC_RESOLVED = "panic_resolved"
    EXERCISE_COMPLETED = "exercise_completed"  # a grounding_exercises row
    # Ephemeral: a reply being written, its text in the key (graph/drafts.py); published
    # with `announce`, never staged, never stored.
    MESSAGE_DRAFT = "message_draft"


# Kinds whose key is text (a conversation's); every other kind's is an integer.
TEXT_KEYS = frozenset({
    EventKind.CONVERSATION_CREATED, EventKind.CONVERSATION_RENAMED,
    EventKind.CONVERSATION_DELETED,
})


@dataclass(frozen=True)
class Event:
    kind: str  # an EventKind
    user_id: str
    key: int | str  # the row's primary key (conversations have text keys)
    id: int | None = None  # its change_outbox id once recorded: its place in commit order


def stage(session: AsyncSession, kind: EventKind, user_id: str, row: Any) -> None:
    """Remember a change to announce once the session's transaction commits: a row whose
    key the next flush assigns, or a key itself (a deleted row's)."""
    session.info.setdefault("outbox", []).append((kind, user_id, row))


def staged(session: AsyncSession) -> list[Event]:
    """Take the staged changes (their keys are known after the flush) as events."""
    entries = session.info.pop("outbox", [])
    return [Event(kind, user_id, _key(row)) for kind, user_id, row in entries]


def _key(row: Any) -> int | str:
    if isinstance(row, int | str):
        return row
    key = row.id
    return key if isinstance(key, str) else int(key)


async def record(session: AsyncSession, events: list[Event]) -> list[Event]:
    """Write `events` to the change outbox, in the caller's transaction (just before its
    commit); the events with their ids. On PostgreSQL one statement, which also wakes every
    process's readers (NOTIFY, sent on commit)."""
    if not events:
        return []
    kinds = [event.kind for event in events]
    owners = [event.user_id for event in events]
    keys = [str(event.key) for event in events]
    if _on_postgres(session):
        text_array = ARRAY(Text)
        ids = list(await session.scalars(select(func.record_changes(
            bindparam("kinds", kinds, type_=text_array),
            bindparam("owners", owners, type_=text_array),
            bindparam("keys", keys, type_=text_array),
        ).column_valued())))
    else:
        now = utcnow()
        rows = [{"kind": kind, "user_id": owner, "key": key, "created_at": now}
                for kind, owner, key in zip(kinds, owners, keys, strict=True)]
        # One statement (asking SQLAlchemy to sort what RETURNING gives back costs one
        # statement per row on SQLite). SQLite numbers a statement's rows in the order of
        # its VALUES, so the ids, sorted, are the rows' in order.
        ids = sorted(await session.scalars(insert(ChangeOutbox).returning(ChangeOutbox.id), rows))
    return [Event(event.kind, event.user_id, event.key, int(id_))
            for event, id_ in zip(events, ids, strict=True)]


def _on_postgres(session: AsyncSession) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def wakes(events: Collection[Event]) -> dict[str, tuple[dict[str, int], int]]:
    """What readers are told of committed events, per owner: how many of each kind, and the
    highest outbox id."""
    told: dict[str, tuple[Counter[str], int]] = {}
    for event in events:
        counts, highest = told.get(event.user_id, (Counter(), 0))
        counts[event.kind] += 1
        told[event.user_id] = (counts, max(highest, event.id or 0))
    return {owner: (dict(counts), highest) for owner, (counts, highest) in told.items()}


def _event(row: Any) -> Event:
    kind = EventKind(row.kind)
    key: int | str = row.key if kind in TEXT_KEYS else int(row.key)
    return Event(kind, row.user_id, key, int(row.id))


def changes_after(
    user_id: str, after: int, kinds: Collection[str] | None, limit: int
) -> Select[Any]:
    """`user_id`'s recorded changes (of `kinds` when given) after outbox id `after`, in commit
    order, at most `limit` (`as_events` makes them events)."""
    statement = (
        scope.owned_columns(ChangeOutbox, user_id, ChangeOutbox.id, ChangeOutbox.kind,
                            ChangeOutbox.user_id, ChangeOutbox.key)
        .where(ChangeOutbox.id > after).order_by(ChangeOutbox.id).limit(limit)
    )
    if kinds is not None:
        statement = statement.where(ChangeOutbox.kind.in_(sorted(kinds)))
    return statement


def as_events(rows: Iterable[Any]) -> list[Event]:
    """`changes_after`'s rows as events. A kind this version does not know (a newer
    process's, during a rolling deploy) is skipped."""
    known = set(EventKind)
    return [_event(row) for row in rows if row.kind in known]


def latest_change(user_id: str) -> Select[Any]:
    """The outbox id of `user_id`'s last recorded change (NULL when none is kept)."""
    return scope.owned_columns(ChangeOutbox, user_id, func.max(ChangeOutbox.id))


async def last_recorded(session: AsyncSession) -> int:
    """The highest outbox id recorded, whoever's (0: none kept); on PostgreSQL by the owner's
    function, as the policies show the application role its viewer's rows only."""
    if _on_postgres(session):
        value = await session.scalar(select(func.last_change_id()))
    else:
        value = await session.scalar(select(func.max(ChangeOutbox.id)))
    return int(value or 0)


def kept_change(user_id: str, change_id: int) -> Select[Any]:
    """The id of `user_id`'s change `change_id` while it is kept (no row once pruned, or if it
    is not theirs). Pruning deletes a prefix of ids: a kept change has lost nothing after it."""
    return (scope.owned_columns(ChangeOutbox, user_id, ChangeOutbox.id)
            .where(ChangeOutbox.id == change_id))


PRUNE_MAX_ROWS = 10_000  # per call: migration 0010's prune_changes refuses more


async def prune_changes(session: AsyncSession, *, retention_seconds: int, max_rows: int) -> int:
    """Delete at most `max_rows` changes recorded more than `retention_seconds` ago, oldest
    first and only a prefix of ids (every id up to the last one past the retention), so a
    kept change has lost nothing after it; the number deleted. PostgreSQL: by the owner's
    function (the application role may delete no outbox row itself)."""
    if _on_postgres(session):
        deleted = await session.scalar(
            select(func.prune_changes(retention_seconds, max_rows))
        )
        return int(deleted or 0)
    cutoff = utcnow() - timedelta(seconds=retention_seconds)
    bound = await session.scalar(
        select(func.max(ChangeOutbox.id)).where(ChangeOutbox.created_at < cutoff)
    )
    if bound is None:
        return 0
    oldest = select(ChangeOutbox.id).where(ChangeOutbox.id <= bound) \
        .order_by(ChangeOutbox.id).limit(max_rows)
    result = await session.execute(delete(ChangeOutbox).where(ChangeOutbox.id.in_(oldest)))
    return int(getattr(result, "rowcount", 0) or 0)

