"""The numbered task lists the assistant shows, and finding a task by its title.

A conversation remembers the list it last showed (`conversations.listing`), so "complete 3"
means the third line the user saw, whatever the table ids are and whoever else has rows.
Lists are paged: "more" continues where the last page ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_
from sqlalchemy.ext.asyncio import AsyncSession

from domain import scope
from models import Task
from models.folding import contains
from models.task import OPEN_STATUSES

PAGE = 20
# A listing of one task's steps as shown (`search`: the task's id; `ids`: the steps shown):
# after it, a bare number or "the last one" is a step of that task.
STEPS = "steps"
_WORDS = {"open": "open tasks", "all": "tasks", "pending": "pending tasks",
          "in_progress": "tasks in progress", "completed": "completed tasks",
          "failed": "failed tasks", "cancelled": "cancelled tasks"}


@dataclass(frozen=True)
class Listing:
    """A page of a list as shown: numbers `offset + 1 ...` name `ids` in order."""

    status: str  # a list_tasks status, or "matches" for the candidates of an unclear title
    search: str | None
    offset: int
    ids: tuple[int, ...]
    total: int = 0

    def id_of(self, number: int) -> int | None:
        index = number - self.offset - 1
        return self.ids[index] if 0 <= index < len(self.ids) else None

    def numbers(self) -> range:
        return range(self.offset + 1, self.offset + len(self.ids) + 1)

    def span(self) -> str:
        return f"{self.offset + 1}\u2013{self.offset + len(self.ids)}" if self.ids else "none"

    def describe(self, rows: list[dict[str, Any]]) -> str:
        what = _WORDS.get(self.status, "tasks")
        if self.search:
            what += f" matching “{self.search}”"
        if not rows:
            return f"No more {what}." if self.offset else f"You have no {what}."
        lines = [f"{row['number']}. {row['title']}" + _status_note(self.status, row["status"])
                 for row in rows]
        heading = f"Your {what} ({self.span()} of {self.total}):"
        left = self.total - self.offset - len(rows)
        tail = [f"Say “more” to see the next {min(left, PAGE)}."] if left > 0 else []
        return "\n".join([heading, *lines, *tail])

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "search": self.search, "offset": self.offset,
                "ids": list(self.ids), "total": self.total}

    @classmethod
    def from_json(cls, stored: dict[str, Any] | None) -> Listing | None:
        if not stored:
            return None
        return cls(str(stored["status"]), stored.get("search"), int(stored["offset"]),
                   tuple(int(i) for i in stored["ids"]), int(stored.get("total", 0)))


def _status_note(listed: str, status: str) -> str:
    if listed not in ("open", "all", "matches") or status == "pending":
        return ""
    return f" ({status.replace('_', ' ')})"


def _filtered(statement: Select[Any], status: str, search: str | None) -> Select[Any]:
    if status == "open":
        statement = statement.where(Task.status.in_(OPEN_STATUSES))
    elif status != "all":
        statement = statement.where(Task.status == status)
    if search:
        # Folded as the API's `search` is (models/folding.py): any case, any script.
        statement = statement.where(or_(
            contains(Task.title_folded, search), contains(Task.description_folded, search)
        ))
    return statement


async def listed_tasks(
    session: AsyncSession, user_id: str, *, status: str, search: str | None, offset: int,
    limit: int,
) -> Listing:
    """A page of the viewer's tasks in the app's default order, newest first (`tasks` with
    no `orderBy`), so "the second" means the same task here and in the app."""
    ids = await session.scalars(
        _filtered(scope.owned_columns(Task, user_id, Task.id), status, search)
        .order_by(Task.created_at.desc(), Task.id.desc()).offset(offset).limit(limit))
    total = await session.scalar(
        _filtered(scope.owned_columns(Task, user_id, func.count(Task.id)), status, search))
    return Listing(status, search, offset, tuple(ids), int(total or 0))
