"""What each assistant tool that changes data does, through the same task services and scope
as the mutations.

Every action runs inside the caller's transaction for one tool call and answers an
`Outcome`: the words for the user (`say`), the facts for the model (`data`), and, for a
change, what it would be asked as (`proposal`), which tasks it touched and the resolved
arguments to replay it with (`bound`: ids, never shown), so that a change confirmed later
does exactly what was proposed. Tasks are named as `references` says; table ids never
reach the model or the user.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain import scope
from domain import tasks as service
from domain.assistant import answers, matching
from domain.assistant.breakdown_offline import offline_breakdown
from domain.assistant.listing import STEPS
from domain.assistant.references import (
    candidates,
    is_pronoun,
    matching_ids,
    number_of,
    resolve_step,
    steps_of,
    target,
)
from domain.assistant.toolkit import STATUS_WORDS, Outcome, ToolContext, ToolError, quoted
from domain.validation import Checks
from models import Task, TaskStep
from models.task import OPEN_STATUSES, STEP_CONTENT_MAX

__all__ = ["ACTIONS", "Outcome", "ToolContext", "ToolError"]
BULK_SHOWN = 20
Action = Callable[[AsyncSession, ToolContext, dict[str, Any]], Awaitable[Outcome]]


async def create_task(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
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
    context.focus = task.id
    said = f"Added {quoted(task)}"
    if steps:
        said += f" with {len(steps)} steps:\n" + "\n".join(
            f"{n}. {step}" for n, step in enumerate(steps, start=1))
    return Outcome(said, {"title": task.title, "steps": steps}, changed=True,
                   proposal=f"add {quoted(task)}")


async def update_task(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    if "title" not in args and "description" not in args:
        raise ToolError("Give a new title or description.")
    task = await target(session, context, args)
    before = task.title
    checks = Checks()
    values = service.task_values(checks, {k: args[k] for k in ("title", "description")
                                          if k in args})
    checks.raise_if_any()
    await service.update_task(session, task, values)
    if task.title != before:
        said, asked = f"Renamed {quoted(before)} to {quoted(task)}.", (
            f"rename {quoted(before)} to {quoted(task)}")
    else:
        said, asked = f"Updated the description of {quoted(task)}.", (
            f"change the description of {quoted(task)}")
    return Outcome(said, {"title": task.title, "description": task.description}, changed=True,
                   proposal=asked, touched=(task.id,), bound={"task_id": task.id})


async def _to_status(
    session: AsyncSession, context: ToolContext, args: dict[str, Any], status: str
) -> Outcome:
    task = await target(session, context, args, prefer_open=status != "cancelled")
    bound, data = {"task_id": task.id}, {"title": task.title, "status": status}
    words = STATUS_WORDS[status]
    asked = f"cancel {quoted(task)}" if status == "cancelled" else (
        f"mark {quoted(task)} as {words}")
    if task.status == status:
        return Outcome(f"{quoted(task)} is already {words}.", data, proposal=asked,
                       bound=bound)
    await service.set_status(session, task, status)
    return Outcome(f"Marked {quoted(task)} as {words}.", data, changed=True, proposal=asked,
                   touched=(task.id,), bound=bound)


async def set_status(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    return await _to_status(session, context, args, args["status"])


async def complete_task(
    session: AsyncSession, context: ToolContext, args: dict[str, Any]
) -> Outcome:
    return await _to_status(session, context, args, "completed")


async def reopen_task(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    task = await target(session, context, args)
    bound, asked = {"task_id": task.id}, f"reopen {quoted(task)}"
    if task.status in OPEN_STATUSES:
        return Outcome(f"{quoted(task)} is already open.",
                       {"title": task.title, "status": task.status}, proposal=asked,
                       bound=bound)
    await service.set_status(session, task, "pending")
    return Outcome(f"Reopened {quoted(task)}.", {"title": task.title, "status": "pending"},
                   changed=True, proposal=asked, touched=(task.id,), bound=bound)


async def add_step(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    new_title = args.get("or_new_task")
    if new_title and "task_id" not in args and not await _names_a_task(
            session, context, str(args.get("task") or "")):
        return await _instead_new(session, context, str(new_title))
    task = await target(session, context, args, prefer_open=True)
    content = str(args["content"])[:STEP_CONTENT_MAX]
    step = await service.add_step(session, task, content, None)
    return Outcome(f"Added step {step.step_number} to {quoted(task)}: {content}",
                   {"title": task.title, "step": step.step_number}, changed=True,
                   proposal=f"add the step {quoted(content)} to {quoted(task)}",
                   touched=(task.id,), bound={"task_id": task.id})


async def _instead_new(session: AsyncSession, context: ToolContext, title: str) -> Outcome:
    """The new task an "add X to Y" meant when no task is Y; once, however many steps X was
    read as (the task just made is the focus)."""
    if context.focus is not None:
        made = await session.get(Task, context.focus)
        if made is not None and made.title == title:
            return Outcome("", {"title": title})
    return await create_task(session, context, {"title": title})


async def _bound_step(
    session: AsyncSession, context: ToolContext, task: Task, args: dict[str, Any]
) -> TaskStep:
    if isinstance(args.get("step_id"), int):
        step: TaskStep | None = await session.scalar(
            scope.owned(TaskStep, context.user_id)
            .where(TaskStep.id == args["step_id"], TaskStep.task_id == task.id))
        if step is None:
            raise ToolError(f"That step of {quoted(task)} is gone.")
        return step
    return await resolve_step(session, context, task, args.get("step"))


async def complete_step(
    session: AsyncSession, context: ToolContext, args: dict[str, Any]
) -> Outcome:
    task = await target(session, context, args, prefer_open=True)
    step = await _bound_step(session, context, task, args)
    return await _check_step(session, task, step, done=args.get("done", True) is not False)


async def _check_step(session: AsyncSession, task: Task, step: TaskStep, *, done: bool) -> Outcome:
    verb = "Checked off" if done else "Unchecked"
    asked = f"{verb.lower()} step {step.step_number} of {quoted(task)}: {step.content}"
    bound = {"task_id": task.id, "step_id": step.id, "done": done}
    data = {"title": task.title, "step": step.step_number, "done": done}
    if step.completed == done:
        state = "done" if done else "not done"
        return Outcome(f"Step {step.step_number} of {quoted(task)} ({step.content}) is already "
                       f"{state}.", data, proposal=asked, bound=bound)
    await service.update_step(session, step, task, {"completed": done})
    return Outcome(f"{verb} step {step.step_number} of {quoted(task)}: {step.content}", data,
                   changed=True, proposal=asked, touched=(task.id,), bound=bound)


async def remove_step(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    if args.get("task") == args.get("step") and "task_id" not in args and not (
            await _names_a_task(session, context, str(args.get("task") or ""))):
        # The step named alone ("take the candles step off"): the one open step it matches.
        task, step = await _open_step(session, context, str(args["step"]), done=False)
    else:
        task = await target(session, context, args)
        step = await _bound_step(session, context, task, args)
    number, content = step.step_number, step.content
    bound = {"task_id": task.id, "step_id": step.id}
    await service.remove_step(session, step, task)
    return Outcome(f"Removed step {number} of {quoted(task)}: {content}",
                   {"title": task.title, "step": number}, changed=True,
                   proposal=f"remove step {number} of {quoted(task)}: {content}",
                   touched=(task.id,), bound=bound)


async def delete_task(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    task = await target(session, context, args)
    title, task_id = task.title, task.id
    await service.delete_task(session, task)
    context.focus = None
    return Outcome(f"Deleted {quoted(title)}.", {"title": title}, changed=True,
                   proposal=f"delete {quoted(title)}", touched=(task_id,),
                   bound={"task_id": task_id})


async def check_off(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> Outcome:
    """Whatever the words name: a task by its title or, when no title matches, a step of an
    open task by its content ("I bought the milk"). With `done` false, the reverse: the task
    reopened, the step unchecked."""
    done = args.get("done", True) is not False
    if "step_id" in args:  # a confirmed proposal, replayed
        task = await target(session, context, args)
        step = await _bound_step(session, context, task, args)
        return await _check_step(session, task, step, done=done)
    words, verb = str(args.get("what") or ""), str(args.get("verb") or "")
    if "task_id" not in args and (shown := await _shown_step(session, context, words)):
        return await _check_step(session, *shown, done=done)
    if "task_id" in args or await _names_a_task(session, context, words):
        named = args if "task_id" in args else {"task": words}
        if verb:
            task = await target(session, context, named, prefer_open=True)
            _verb_fits(verb, words, task.title)
            named = {"task_id": task.id}
        if done:
            return await _to_status(session, context, named, "completed")
        return await reopen_task(session, context, named)
    found = await _step_of_named_task(session, context, words, done=not done)
    if found is None:
        found = await _open_step(session, context, words, done=not done)
    if verb:
        _verb_fits(verb, words, found[1].content)
    return await _check_step(session, *found, done=done)


def _verb_fits(verb: str, words: str, text: str) -> None:
    """Refuses a check-off whose verb is none of the thing's words ("delayed the report" is
    not "Write the report")."""
    if matching.score([verb.casefold()], text) is None:
        raise ToolError(f"No task or open step matches “{verb} {words}”.")


async def _shown_step(
    session: AsyncSession, context: ToolContext, words: str
) -> tuple[Task, TaskStep] | None:
    """After a task's steps were shown, a number or "the last one" is one of those steps."""
    listing, number = context.listing, number_of(words)
    if listing is None or listing.status != STEPS or number is None or not listing.search:
        return None
    task = await target(session, context, {"task_id": int(listing.search)})
    steps = await steps_of(session, context.user_id, task)
    wanted = listing.ids[-1] if number == -1 else None
    found = [s for s in steps if s.id == wanted or (wanted is None and s.step_number == number)]
    if not found:
        raise ToolError(f"“{task.title}” has no step {number} (it has {len(steps)}). "
                        "Which step do you mean?")
    return task, found[0]


_STEP_OF = re.compile(r" (?:on|in|for|of|from) ", re.I)


async def _step_of_named_task(
    session: AsyncSession, context: ToolContext, words: str, *, done: bool
) -> tuple[Task, TaskStep] | None:
    """"wine on the dinner party thing": a step (by its words, checked or not as `done`
    says) of the one open task named after the last "on"/"in"/"for"/"of"/"from", when no
    step matches the words whole; None when the words do not read so."""
    rows = (await session.execute(
        scope.owned_columns(TaskStep, context.user_id, TaskStep.id, TaskStep.content)
        .where(Task.status.in_(OPEN_STATUSES), TaskStep.completed.is_(done)))).all()
    if matching.best(matching.words(words), ((row[0], row[1]) for row in rows)):
        return None
    for split in reversed(list(_STEP_OF.finditer(words))):
        named, ref = words[: split.start()], words[split.end():]
        titles = await candidates(session, context.user_id)
        keys = matching.best(matching.words(ref), ((k, t) for k, t, s in titles
                                                   if s in OPEN_STATUSES))
        if len(keys) != 1 or not matching.significant(matching.words(named)):
            continue
        task = await target(session, context, {"task_id": keys[0]})
        steps = [s for s in await steps_of(session, context.user_id, task)
                 if s.completed is done]
        best = matching.best(matching.words(named), ((s.id, s.content) for s in steps))
        if len(best) == 1:
            return task, next(s for s in steps if s.id == best[0])
    # The task named no task ("coffee on the grocery list"): the step's own words decide
    # when they name exactly one open step.
    for split in _STEP_OF.finditer(words):
        alone = matching.best(matching.words(words[: split.start()]),
                              ((row[0], row[1]) for row in rows))
        if len(alone) == 1:
            step = await session.scalar(
                scope.owned(TaskStep, context.user_id).where(TaskStep.id == alone[0]))
            return await target(session, context, {"task_id": step.task_id}), step
    return None


async def names_something(
    session: AsyncSession, context: ToolContext, words: str, *, steps: bool
) -> bool:
    """Whether `words` name a task (a pronoun, a number, words of a title) or, with `steps`,
    an open step of an open task."""
    if await _names_a_task(session, context, words):
        return True
    if not steps:
        return False
    rows = (await session.execute(
        scope.owned_columns(TaskStep, context.user_id, TaskStep.id, TaskStep.content)
        .where(Task.status.in_(OPEN_STATUSES), TaskStep.completed.is_(False)))).all()
    return bool(matching.best(matching.words(words), ((row[0], row[1]) for row in rows)))


async def _names_a_task(session: AsyncSession, context: ToolContext, words: str) -> bool:
    if is_pronoun(words) or number_of(words) is not None:
        return True
    titles = await candidates(session, context.user_id)
    return bool(matching.best(matching.words(words), ((k, t) for k, t, _ in titles)))


async def _open_step(
    session: AsyncSession, context: ToolContext, words: str, *, done: bool
) -> tuple[Task, TaskStep]:
    """The one step of an open task, checked or not as `done` says, that `words` name."""
    rows = (await session.execute(
        scope.owned_columns(TaskStep, context.user_id, TaskStep.id, TaskStep.content)
        .where(Task.status.in_(OPEN_STATUSES), TaskStep.completed.is_(done)))).all()
    found = matching.best(matching.words(words), ((row[0], row[1]) for row in rows))
    if not found:
        context.focus = None
        raise ToolError(f"No task or open step matches “{words}”.")
    if len(found) > 1:
        context.focus = None
        options = "\n".join(f"- {content}" for key, content in rows if key in found)
        raise ToolError(f"“{words}” matches several steps. Which one?\n{options}")
    step: TaskStep = await session.scalar(
        scope.owned(TaskStep, context.user_id).where(TaskStep.id == found[0]))
    task = await target(session, context, {"task_id": step.task_id})
    return task, step


BULK = {"complete": "completed", "start": "in_progress", "pause": "pending",
        "cancel": "cancelled", "reopen": "pending", "delete": "delete"}
_BULK_VERBS = {"complete": "mark as completed", "start": "mark as in progress",
               "pause": "mark as not started", "cancel": "cancel", "reopen": "reopen",
               "delete": "delete"}


async def change_tasks(
    session: AsyncSession, context: ToolContext, args: dict[str, Any]
) -> Outcome:
    """One change to several tasks: those of a list status, or all that `about` matches."""
    action = args["action"]
    ids = args.get("task_ids")
    if not isinstance(ids, list):
        ids = await _selected(session, context, args)
    tasks = list((await service.owned_tasks(session, context.user_id, ids)).values())
    if not tasks:
        raise ToolError("No task matches that, so nothing would change.")
    tasks.sort(key=lambda task: ids.index(task.id))
    titles = [task.title for task in tasks]
    if action == "delete":
        await service.delete_tasks(session, tasks)
        context.focus = None
    else:
        await service.set_statuses(session, tasks, BULK[action])
    shown = "\n".join(f"- {title}" for title in titles[:BULK_SHOWN])
    more = f"\n- and {len(titles) - BULK_SHOWN} more" if len(titles) > BULK_SHOWN else ""
    verb = _BULK_VERBS[action]
    return Outcome(f"Done: {verb}, {len(titles)} tasks:\n{shown}{more}", {"tasks": titles},
                   changed=True, proposal=f"{verb} these {len(titles)} tasks:\n{shown}{more}",
                   touched=tuple(task.id for task in tasks),
                   bound={"task_ids": [task.id for task in tasks]})


async def _selected(session: AsyncSession, context: ToolContext, args: dict[str, Any]) -> list[int]:
    if args.get("about"):
        return await matching_ids(session, context.user_id, str(args["about"]))
    status = args.get("status") or ("all" if args["action"] == "delete" else "open")
    rows = await candidates(session, context.user_id)
    if args["action"] == "reopen":
        return [key for key, _, state in rows if state not in OPEN_STATUSES]
    return [key for key, _, state in rows
            if status == "all" or state == status or (status == "open" and state in OPEN_STATUSES)]


ACTIONS: dict[str, Action] = {
    "list_tasks": answers.list_tasks, "show_task": answers.show_task,
    "count_tasks": answers.count_tasks, "task_progress": answers.task_progress,
    "suggest_next": answers.suggest_next, "create_task": create_task,
    "update_task": update_task, "set_status": set_status, "complete_task": complete_task,
    "reopen_task": reopen_task, "add_step": add_step, "complete_step": complete_step,
    "remove_step": remove_step, "delete_task": delete_task, "check_off": check_off,
    "change_tasks": change_tasks,
}
