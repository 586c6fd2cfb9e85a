"""Changes the domain announces: staged on the session during a transaction, delivered by
the app's broker (`graph/pubsub.py`) when it commits, never for a rolled-back change.

An event is small on purpose (PostgreSQL's NOTIFY carries at most 8,000 bytes): its kind,
the owner it is for, and the key of the row it names. Subscribers load that row scoped to
themselves; a deletion has no row left to load, so its key is the whole news, and the
broker's routing by owner is what keeps it the owner's.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


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


@dataclass(frozen=True)
class Event:
    kind: str  # an EventKind
    user_id: str
    key: int | str  # the row's primary key (conversations have text keys)


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
