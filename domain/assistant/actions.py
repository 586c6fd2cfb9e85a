"""What each assistant tool does, through the same task services and scope as the mutations.

Every action runs inside the caller's transaction for one tool call and answers an
`Outcome`: the words for the user (`say`) and the facts for the model (`data`). Tasks are
named as the user sees them: a number of the list last shown in the conversation, or words
of a title; table ids never reach the model or the user.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain import scope
from domain import tasks as service
from domain.assistant.breakdown import offline_breakdown
from domain.assistant.listing import PAGE, Listing, listed_tasks, title_matches
from domain.errors import DomainError
from domain.validation import Checks
from models import Task, TaskStep
from models.task import OPEN_STATUSES, STEP_CONTENT_MAX


class ToolError(DomainError):
    """The call cannot be carried out as asked; the message tells the model why."""


@dataclass
class ToolContext:
    """Who the tools act for, and the list last shown in the conversation (tools replace it)."""

    user_id: str
    session_id: str | None
    listing: Listing | None = None


@dataclass(frozen=True)
class Outcome:
    say: str
    data: dict[str, Any] = field(default_factory=dict)
    changed: bool = False


Action = Callable[[AsyncSession, ToolContext, dict[str, Any]], Awaitable[Outcome]]
_NUMBER = re.compile(r"(?:task\s*)?#?\s*(\d{1,9})", re.I)
_STATUS_WORDS = {"pending": "pending", "in_progress": "in progress", "completed": "completed",
                 "failed": "failed", "cancelled": "cancelled"}


def quoted(task: Task) -> str:
    return f"“{task.title}”"


async def find_task(session: AsyncSession, context: ToolContext, ref: str) -> Task:
    """The viewer's task the user means, locked for the change (as the mutations lock it)."""
    ref = ref.strip()
    if match := _NUMBER.fullmatch(ref):
        task_id = await _numbered(session, context, int(match[1]))
    else:
        task_id = await _titled(session, context, ref)
    return await service.owned_task(session, context.user_id, task_id)


async def _numbered(session: AsyncSession, context: ToolContext, number: int) -> int:
    listing = context.listing
    if listing is None:  # nothing shown yet: the numbers a fresh list of open tasks would show
        listing = await listed_tasks(session, context.user_id, status="open", search=None,
                                     offset=max(number - 1, 0), limit=1)
        if not listing.ids or number < 1:
            raise ToolError(f"There is no open task number {number}.")
        return listing.ids[0]
    task_id = listing.id_of(number)
    if task_id is None:
        raise ToolError(f"The last list showed numbers {listing.span()}; there is no {number}.")
    return task_id


async def _titled(session: AsyncSession, context: ToolContext, ref: str) -> int:
    words = re.sub(r"^(?:the|my)\s+", "", ref.strip("\"' \u201c\u201d\u2018\u2019"), flags=re.I)
    matches = await title_matches(session, context.user_id, words)
    if not matches:
        raise ToolError(f"No task matches “{words}”.")
    if len(matches) > 1:
        context.listing = Listing("matches", words, 0, tuple(task.id for task in matches))
        options = "\n".join(f"{n}. {task.title}" for n, task in enumerate(matches, start=1))
        raise ToolError(f"“{words}” matches {len(matches)} tasks; which one?\n{options}")
    return matches[0].id


async def list_tasks(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    last = context.listing
    if args.get("more"):
        if last is None or last.status == "matches":
            raise ToolError("There is no list to continue; ask for a list first.")
        status, search, offset = last.status, last.search, last.offset + len(last.ids)
    else:
        status, search, offset = args.get("status", "open"), args.get("search"), 0
    listing = await listed_tasks(session, context.user_id, status=status, search=search,
                                 offset=offset, limit=PAGE)
    context.listing = listing
    tasks = await _tasks_by_id(session, context.user_id, listing.ids)
    rows = [{"number": n, "title": t.title, "status": t.status}
            for n, t in zip(listing.numbers(), tasks, strict=True)]
    return Outcome(listing.describe(rows), {"tasks": rows, "total": listing.total})


async def _tasks_by_id(session: AsyncSession, user_id: str, ids: tuple[int, ...]) -> list[Task]:
    found = {task.id: task for task in await session.scalars(
        scope.owned(Task, user_id).where(Task.id.in_(ids)))}
    return [found[task_id] for task_id in ids]


async def show_task(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    task = await find_task(session, context, args["task"])
    steps = list(await session.scalars(
        scope.owned(TaskStep, context.user_id).where(TaskStep.task_id == task.id)
        .order_by(TaskStep.step_number)))
    lines = [f"{quoted(task)} ({_STATUS_WORDS.get(task.status, task.status)})"]
    if task.description:
        lines.append(task.description)
    lines += [f"{s.step_number}. [{'x' if s.completed else ' '}] {s.content}" for s in steps]
    data = {"title": task.title, "status": task.status, "description": task.description,
            "steps": [{"step": s.step_number, "content": s.content, "done": s.completed}
                      for s in steps]}
    return Outcome("\n".join(lines), data)


async def create_task(
    session: AsyncSession, context: ToolContext, args: dict[str, Any]
) -> Outcome:
    checks = Checks()
    values = service.task_values(checks, {k: args[k] for k in ("title", "description")
                                          if k in args})
    checks.raise_if_any()
    steps = list(args.get("steps") or [])
    if not steps and args.get("break_down"):
        breakdown = offline_breakdown(values["title"])
        values["title"], steps = breakdown.title, breakdown.steps
    task = await service.create_task(session, user_id=context.user_id,
                                     session_id=context.session_id, values=values, steps=steps)
    said = f"Added {quoted(task)}"
    if steps:
        said += f" with {len(steps)} steps:\n" + "\n".join(
            f"{n}. {step}" for n, step in enumerate(steps, start=1))
    return Outcome(said, {"title": task.title, "steps": steps}, changed=True)


async def update_task(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    if "title" not in args and "description" not in args:
        raise ToolError("Give a new title or description.")
    task = await find_task(session, context, args["task"])
    before = task.title
    checks = Checks()
    values = service.task_values(checks, {k: args[k] for k in ("title", "description")
                                          if k in args})
    checks.raise_if_any()
    await service.update_task(session, task, values)
    said = f"Renamed “{before}” to {quoted(task)}." if task.title != before else (
        f"Updated {quoted(task)}.")
    return Outcome(said, {"title": task.title, "description": task.description}, changed=True)


async def _to_status(
    session: AsyncSession, context: ToolContext, ref: str, status: str
) -> Outcome:
    task = await find_task(session, context, ref)
    if task.status == status:
        return Outcome(f"{quoted(task)} is already {_STATUS_WORDS[status]}.",
                       {"title": task.title, "status": status})
    await service.set_status(session, task, status)
    return Outcome(f"Marked {quoted(task)} as {_STATUS_WORDS[status]}.",
                   {"title": task.title, "status": status}, changed=True)


async def set_status(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    return await _to_status(session, context, args["task"], args["status"])


async def complete_task(
    session: AsyncSession, context: ToolContext, args: dict[str, Any]
) -> Outcome:
    return await _to_status(session, context, args["task"], "completed")


async def reopen_task(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    task = await find_task(session, context, args["task"])
    if task.status in OPEN_STATUSES:
        return Outcome(f"{quoted(task)} is already open.", {"title": task.title,
                                                            "status": task.status})
    await service.set_status(session, task, "pending")
    return Outcome(f"Reopened {quoted(task)}.", {"title": task.title, "status": "pending"},
                   changed=True)


async def add_step(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    task = await find_task(session, context, args["task"])
    content = str(args["content"])[:STEP_CONTENT_MAX]
    step = await service.add_step(session, task, content, None)
    return Outcome(f"Added step {step.step_number} to {quoted(task)}: {content}",
                   {"title": task.title, "step": step.step_number}, changed=True)


async def _step(session: AsyncSession, context: ToolContext, task: Task, number: int) -> TaskStep:
    step: TaskStep | None = await session.scalar(
        scope.owned(TaskStep, context.user_id)
        .where(TaskStep.task_id == task.id, TaskStep.step_number == number))
    if step is None:
        raise ToolError(f"{quoted(task)} has no step {number}.")
    return step


async def complete_step(
    session: AsyncSession, context: ToolContext, args: dict[str, Any]
) -> Outcome:
    task = await find_task(session, context, args["task"])
    step = await _step(session, context, task, args["step"])
    await service.update_step(session, step, task, {"completed": True})
    return Outcome(f"Checked off step {step.step_number} of {quoted(task)}: {step.content}",
                   {"title": task.title, "step": step.step_number}, changed=True)


async def remove_step(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    task = await find_task(session, context, args["task"])
    step = await _step(session, context, task, args["step"])
    number, content = step.step_number, step.content
    await service.remove_step(session, step, task)
    return Outcome(f"Removed step {number} of {quoted(task)}: {content}",
                   {"title": task.title, "step": number}, changed=True)


async def delete_task(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    task = await find_task(session, context, args["task"])
    title = task.title
    await service.delete_task(session, task)
    return Outcome(f"Deleted “{title}”.", {"title": title}, changed=True)


ACTIONS: dict[str, Action] = {
    "list_tasks": list_tasks, "show_task": show_task, "create_task": create_task,
    "update_task": update_task, "set_status": set_status, "complete_task": complete_task,
    "reopen_task": reopen_task, "add_step": add_step, "complete_step": complete_step,
    "remove_step": remove_step, "delete_task": delete_task,
}
