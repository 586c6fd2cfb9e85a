"""The offline chat assistant: a small task chatbot (seed 003's phase 3).

It reads a message as one of a few commands; the server carries the command out on the
viewer's own tasks through the task services (so events are written) and words the reply.
Anything else gets a helpful, deterministic answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

HELP = (
    "I can keep your task list for you. Try:\n"
    "- add task: buy milk\n"
    "- list my tasks\n"
    "- complete task 3\n"
    "- delete task 3"
)


@dataclass(frozen=True)
class Command:
    action: Literal["add", "list", "complete", "delete", "help"]
    title: str | None = None
    task_number: int | None = None


@dataclass(frozen=True)
class ChatAnswer:
    """A reply text, or a command for the server to carry out and word."""

    text: str | None = None
    command: Command | None = None


# "add task: X", "add task - X", "add task X", "add a task to X": the title needs a letter or
# digit, so "add tasks" or a bare "add task:" gets the help reply, not a task titled "s".
_ADD = re.compile(
    r"^(?:please\s+)?(?:add|create|new)\s+(?:a\s+)?task(?:\s*[:\-]\s*|\s+(?:to\s+)?)"
    r"(?P<title>(?=.*\w).+)$",
    re.I,
)
_LIST = re.compile(r"^(?:please\s+)?(?:list|show)(?:\s+me)?\s+(?:all\s+)?(?:my\s+)?tasks\??$", re.I)
_COMPLETE = re.compile(
    r"^(?:please\s+)?(?:complete|finish|done(?:\s+with)?|mark)\s+task\s*#?(?P<n>\d{1,9})"
    r"(?:\s+(?:as\s+)?(?:done|complete|completed))?$",
    re.I,
)
_DELETE = re.compile(r"^(?:please\s+)?(?:delete|remove)\s+task\s*#?(?P<n>\d{1,9})$", re.I)
_HELP = re.compile(r"^(?:help|\?|what can you do\??)$", re.I)


def understand(message: str) -> ChatAnswer:
    text = " ".join(message.split()).rstrip(".!")
    if match := _ADD.match(text):
        return ChatAnswer(command=Command("add", title=match["title"].strip()))
    if _LIST.match(text):
        return ChatAnswer(command=Command("list"))
    if match := _COMPLETE.match(text):
        return ChatAnswer(command=Command("complete", task_number=int(match["n"])))
    if match := _DELETE.match(text):
        return ChatAnswer(command=Command("delete", task_number=int(match["n"])))
    if _HELP.match(text):
        return ChatAnswer(command=Command("help"))
    return ChatAnswer(
        text="I'm not sure what to do with that yet. " + HELP.replace("I can", "I can also", 1)
    )
