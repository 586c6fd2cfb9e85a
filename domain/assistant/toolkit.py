"""What every assistant tool shares: who it acts for and what the conversation remembers
(`ToolContext`), how it answers (`Outcome`) and how it refuses (`ToolError`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from domain.assistant.listing import Listing
from domain.errors import DomainError
from models import Task

STATUS_WORDS: Final = {"pending": "not started", "in_progress": "in progress",
                       "completed": "completed", "failed": "failed", "cancelled": "cancelled"}


class ToolError(DomainError):
    """The call cannot be carried out as asked; the message tells the user (or model) why."""


class Ambiguous(ToolError):
    """Several tasks match equally well; they were listed and nothing changed."""

    def __init__(self, message: str, candidates: tuple[int, ...]) -> None:
        super().__init__(message)
        self.candidates = candidates


@dataclass
class ToolContext:
    """Who the tools act for and what the conversation remembers: the list last shown and
    the task last named or acted on (tools update both)."""

    user_id: str
    session_id: str | None
    listing: Listing | None = None
    focus: int | None = None
    # A number was read in the app's default list because no list was shown here: what it
    # changes is asked first (the user may see another order).
    unsure: bool = False


@dataclass(frozen=True)
class Outcome:
    """A tool's answer. For a change, also what it is when asked as a question
    (`proposal`), the existing tasks it writes (`touched`), and the resolved arguments that
    replay it exactly once confirmed (`bound`: ids, never shown to anyone)."""

    say: str
    data: dict[str, Any] = field(default_factory=dict)
    changed: bool = False
    proposal: str | None = None
    touched: tuple[int, ...] = ()
    bound: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolCall:
    """A call of a tool by name, its arguments as values (the offline plan; a stored
    proposal, its arguments resolved to ids)."""

    name: str
    arguments: dict[str, Any]


def quoted(task: Task | str) -> str:
    return f"“{task if isinstance(task, str) else task.title}”"
