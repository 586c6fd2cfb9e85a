"""Changes the domain announces: staged on the session during a transaction, delivered by
the app's broker (`graph/pubsub.py`) when it commits, never for a rolled-back change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


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
