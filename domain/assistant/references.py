"""Which task or step the user means: never a guess.

A task is named, by the user or the model, in one of four ways:

- a pronoun ("it", "that one", "the last one"): the task this conversation last named or
  acted on (`ToolContext.focus`); with none, the assistant asks which;
- a number ("3", "#3", "task 3", "the third one"): that line of the list last shown in this
  conversation or, with none shown, of the app's default list (all tasks, newest first);
- quoted words: the task titled exactly so (any case);
- words: the tasks whose titles match them by `matching`'s rules (whole words or typos
  within a documented distance). One best match is the task; several equally good ones are
  listed, numbered, and nothing changes; none is said plainly.

A reference that fails or is unclear clears the focus, so a following "it" asks rather
than acting on an older task. Steps are named by their number within the task ("step 2",
"the second step", "the last step") or by words of their content ("the eggs step").
"""

from __future__ import annotations

import re
from typing import Any, Final

from sqlalchemy.ext.asyncio import AsyncSession

from domain import scope
from domain import tasks as service
from domain.assistant import matching
from domain.assistant.listing import STEPS, Listing, listed_tasks
from domain.assistant.toolkit import Ambiguous, ToolContext, ToolError
from domain.errors import NotFound
from models import Task, TaskStep
from models.task import OPEN_STATUSES

# Titles read to match words against: the newest ones. What it costs: an older task past
# this many can still be named by number, by its exact quoted title or through a search.
CANDIDATES_MAX: Final = 2000
OPTIONS_MAX: Final = 10  # candidates listed when a reference is unclear
ASK_WHICH: Final = ("Which task do you mean? Name it (“the taxes”) or give its number in a "
                    "list (say “list my tasks” to see them).")
PRONOUNS: Final = frozenset({
    "it", "that", "this", "that one", "this one", "the last one", "the same one", "same one",
    "that task", "this task", "the task", "the one", "that thing", "it all", "them",
})
ORDINALS: Final = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh",
                   "eighth", "ninth", "tenth")
_COUNTS: Final = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_NUMBER = re.compile(
    r"(?:the )?(?:(?:task|item|todo|number|no\.?|step) ?)?#? ?(?P<n>\d{1,9})(?:st|nd|rd|th)?"
    r"(?: (?:one|task|item|step))?|(?:the )?(?P<ordinal>" + "|".join(ORDINALS) + r"|last)"
    r"(?: (?:one|task|item|step))?|(?:task|number|step) (?P<count>" + "|".join(_COUNTS) + ")",
    re.I,
)
_QUOTES = "\"'\u201c\u201d\u2018\u2019"


def number_of(text: str) -> int | None:
    """The list number `text` is ("3", "#3", "task 3", "the third one"), -1 for "the last",
    else None."""
    found = _NUMBER.fullmatch(" ".join(text.split()))
    if found is None:
        return None
    if found["n"]:
        return int(found["n"])
    if found["count"]:
        return _COUNTS.index(found["count"].lower()) + 1
    ordinal = found["ordinal"].lower()
    return -1 if ordinal == "last" else ORDINALS.index(ordinal) + 1


def is_pronoun(text: str) -> bool:
    return " ".join(text.casefold().split()).strip(" .!?") in PRONOUNS


def quoted(text: str) -> str | None:
    text = text.strip()
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        return text[1:-1].strip()
    return None


async def target(
    session: AsyncSession, context: ToolContext, args: dict[str, Any], *,
    prefer_open: bool = False,
) -> Task:
    """The task a call names, locked for the change: `task_id` when the call was resolved
    already (a proposal confirmed), else its `task` reference. With `prefer_open`, words
    that match open and closed tasks equally name the open ones (finishing or starting a
    task, or changing its steps, is about an open task); a rename or a delete asks."""
    if isinstance(args.get("task_id"), int):
        try:
            task = await service.owned_task(session, context.user_id, args["task_id"])
        except NotFound:
            raise ToolError("That task is gone.") from None
        context.focus = task.id
        return task
    return await resolve_task(session, context, str(args.get("task") or ""),
                              prefer_open=prefer_open)


async def resolve_task(
    session: AsyncSession, context: ToolContext, ref: str, *, prefer_open: bool = False
) -> Task:
    task_id = await resolve_task_id(session, context, ref, prefer_open=prefer_open)
    task = await service.owned_task(session, context.user_id, task_id)
    context.focus = task.id
    return task


async def resolve_task_id(
    session: AsyncSession, context: ToolContext, ref: str, *, prefer_open: bool = False
) -> int:
    """The id of the one task `ref` names (module doc); ToolError otherwise."""
    ref = " ".join(ref.split())
    if not ref or is_pronoun(ref):
        if context.focus is None or not ref:
            raise ToolError(ASK_WHICH)
        return context.focus
    try:
        number = number_of(ref)
        if number is not None:
            return await _numbered(session, context, number)
        return await _titled(session, context, ref, prefer_open=prefer_open)
    except ToolError:
        context.focus = None
        raise


async def _numbered(session: AsyncSession, context: ToolContext, number: int) -> int:
    listing = context.listing
    if listing is not None and listing.status == STEPS:
        raise ToolError("The last list I showed was the steps of a task. Which task do you "
                        "mean? Name it, or say “list my tasks” to see their numbers.")
    if listing is None:  # nothing shown yet: the app's default list, newest first
        if number == -1:
            if context.focus is not None:  # "the last one": the task last named
                return context.focus
            raise ToolError("The last of which list? Say “list my tasks” first.")
        shown = await listed_tasks(session, context.user_id, status="all", search=None,
                                   offset=max(number - 1, 0), limit=1)
        if not shown.ids or number < 1:
            raise ToolError(f"You have no task number {number}. Which task do you mean?")
        context.unsure = True
        return shown.ids[0]
    number = listing.offset + len(listing.ids) if number == -1 else number
    task_id = listing.id_of(number)
    if task_id is None:
        raise ToolError(f"The last list showed numbers {listing.span()}; there is no "
                        f"{number}. Which one do you mean?")
    return task_id


async def candidates(session: AsyncSession, user_id: str) -> list[tuple[int, str, str]]:
    """(id, title, status) of the viewer's newest tasks, newest first."""
    rows = await session.execute(
        scope.owned_columns(Task, user_id, Task.id, Task.title, Task.status)
        .order_by(Task.created_at.desc(), Task.id.desc()).limit(CANDIDATES_MAX))
    return [(row[0], row[1], row[2]) for row in rows]


async def matching_ids(session: AsyncSession, user_id: str, ref: str) -> list[int]:
    """Every task whose title `ref` matches (not only the best): what "everything about X"
    means. Quoted: the exact title."""
    rows = await candidates(session, user_id)
    exact = quoted(ref)
    if exact is not None:
        return [key for key, title, _ in rows if title.casefold() == exact.casefold()]
    found = matching.scores(matching.words(ref), ((key, title) for key, title, _ in rows))
    return [key for key, _, _ in rows if key in found]


async def _titled(
    session: AsyncSession, context: ToolContext, ref: str, *, prefer_open: bool
) -> int:
    rows = await candidates(session, context.user_id)
    exact = quoted(ref)
    if exact is not None:
        found = [key for key, title, _ in rows if title.casefold() == exact.casefold()]
    else:
        found = matching.best(matching.words(ref), ((key, title) for key, title, _ in rows))
    if not found:
        raise ToolError(f"No task matches “{exact or ref}”.")
    if len(found) > 1 and prefer_open:
        open_ones = [key for key, _, status in rows if key in found and status in OPEN_STATUSES]
        found = open_ones if 0 < len(open_ones) < len(found) else found
    if len(found) > 1:
        raise _ambiguous(context, exact or ref, found, {key: title for key, title, _ in rows})
    return found[0]


def _ambiguous(
    context: ToolContext, ref: str, found: list[int], titles: dict[int, str]
) -> Ambiguous:
    shown = tuple(found[:OPTIONS_MAX])
    context.listing = Listing("matches", ref, 0, shown, len(found))
    options = "\n".join(f"{n}. {titles[key]}" for n, key in enumerate(shown, start=1))
    more = f"\n(and {len(found) - len(shown)} more)" if len(found) > len(shown) else ""
    return Ambiguous(f"“{ref}” matches {len(found)} tasks. Which one?\n{options}{more}", shown)


async def steps_of(session: AsyncSession, user_id: str, task: Task) -> list[TaskStep]:
    return list(await session.scalars(
        scope.owned(TaskStep, user_id).where(TaskStep.task_id == task.id)
        .order_by(TaskStep.step_number)))


async def resolve_step(
    session: AsyncSession, context: ToolContext, task: Task, ref: object
) -> TaskStep:
    """The step of `task` that `ref` names: a number, an ordinal or words of its content."""
    steps = await steps_of(session, context.user_id, task)
    text = str(ref).strip()
    number = ref if isinstance(ref, int) else number_of(text)
    if number is not None:
        number = len(steps) if number == -1 else number
        found = [step for step in steps if step.step_number == number]
        if not found:
            raise ToolError(f"“{task.title}” has no step {number}"
                            f" (it has {len(steps)}).")
        return found[0]
    best = matching.best(matching.words(text), ((s.id, s.content) for s in steps))
    if len(best) == 1:
        return next(step for step in steps if step.id == best[0])
    if not best:
        raise ToolError(f"No step of “{task.title}” matches “{text}”.")
    options = "\n".join(f"{s.step_number}. {s.content}" for s in steps if s.id in best)
    raise ToolError(f"“{text}” matches several steps of “{task.title}”. Which one?\n{options}")
