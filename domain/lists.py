"""What the lists of tasks, conversations, messages and panic events can be filtered by: checked
values (hashable, so the request's loaders can batch parents that ask the same) and the SQL
conditions they add to an already scoped statement.

Instants are exclusive bounds and must carry an offset; texts are searched folded
(models/folding.py), the same on SQLite and PostgreSQL. Which index serves which condition
is docs/decisions.md, "What serves each list".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, or_

from domain.errors import Invalid
from domain.validation import text_problem
from models import Conversation, Message, PanicEvent, Task
from models.folding import contains


def aware(name: str, value: datetime | None) -> datetime | None:
    """A filter instant must say which instant it is: a time without an offset is refused."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid({name: "needs a UTC offset, e.g. 2024-05-01T09:00:00Z"})
    try:
        return value.astimezone(UTC)
    except OverflowError as error:
        raise Invalid({name: "is out of range"}) from error


def plain(name: str, value: str | None) -> str | None:
    # No stored text holds NUL (PostgreSQL refuses it) or a lone surrogate (not UTF-8), and
    # the driver would fail on either.
    problem = text_problem(value) if value is not None else None
    if problem is not None:
        raise Invalid({name: problem})
    return value


def search_text(name: str, value: str | None) -> str | None:
    """A search, trimmed; None when blank (a blank search matches everything)."""
    checked = plain(name, value)
    return checked.strip() or None if checked is not None else None


def _within(
    statement: Select[Any], column: Any, after: Any | None, before: Any | None
) -> Select[Any]:
    """Both bounds exclusive; a row whose value is NULL is outside every range."""
    if after is not None:
        statement = statement.where(column > after)
    if before is not None:
        statement = statement.where(column < before)
    return statement


@dataclass(frozen=True)
class TaskFilter:
    status: tuple[str, ...] | None = None  # any of these; empty matches none, as `IN ()`
    completed: bool | None = None  # completed, or any other status
    kind: str | None = None
    search: str | None = None  # in the title or the description
    created_after: datetime | None = None
    created_before: datetime | None = None

    def apply(self, statement: Select[Any]) -> Select[Any]:
        if self.status is not None:
            statement = statement.where(Task.status.in_(self.status))
        if self.completed is not None:
            done = Task.status == "completed"
            statement = statement.where(done if self.completed else ~done)
        if self.kind is not None:
            statement = statement.where(Task.kind == self.kind)
        if self.search is not None:
            statement = statement.where(or_(contains(Task.title_folded, self.search),
                                            contains(Task.description_folded, self.search)))
        return _within(statement, Task.created_at, self.created_after, self.created_before)


@dataclass(frozen=True)
class ConversationFilter:
    search: str | None = None  # in the title
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None

    def apply(self, statement: Select[Any]) -> Select[Any]:
        if self.search is not None:
            statement = statement.where(contains(Conversation.title_folded, self.search))
        statement = _within(
            statement, Conversation.created_at, self.created_after, self.created_before
        )
        return _within(statement, Conversation.updated_at, self.updated_after, self.updated_before)


@dataclass(frozen=True)
class MessageFilter:
    role: str | None = None
    search: str | None = None  # in the content
    created_after: datetime | None = None
    created_before: datetime | None = None

    def apply(self, statement: Select[Any]) -> Select[Any]:
        if self.role is not None:
            statement = statement.where(Message.role == self.role)
        if self.search is not None:
            statement = statement.where(contains(Message.content_folded, self.search))
        return _within(statement, Message.created_at, self.created_after, self.created_before)


@dataclass(frozen=True)
class PanicEventFilter:
    resolved: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    intensity_above: int | None = None
    intensity_below: int | None = None

    def apply(self, statement: Select[Any]) -> Select[Any]:
        if self.resolved is not None:
            resolved_at = PanicEvent.resolved_at
            statement = statement.where(
                resolved_at.is_not(None) if self.resolved else resolved_at.is_(None)
            )
        statement = _within(
            statement, PanicEvent.created_at, self.created_after, self.created_before
        )
        return _within(
            statement, PanicEvent.intensity, self.intensity_above, self.intensity_below
        )
