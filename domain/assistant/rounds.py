"""Carrying out one round of the agent's tool calls: checked, each in its own transaction,
or all tried in one transaction that is rolled back (a proposal's dry run)."""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain import scope
from domain.assistant import ToolRequest, matching
from domain.assistant.actions import ACTIONS, names_something
from domain.assistant.references import number_of
from domain.assistant.toolkit import Ambiguous, Outcome, ToolContext
from domain.assistant.tools import checked_arguments
from domain.errors import DomainError, Invalid, NotFound
from domain.transactions import Transactions
from models import Task

logger = logging.getLogger(__name__)
CALLS_PER_ROUND_MAX = 10


@dataclass(frozen=True)
class Planned:
    """One call of a round: checked arguments, or why they were refused."""

    id: str
    tool: str
    args: dict[str, Any] | None
    error: str = ""


@dataclass(frozen=True)
class Refusal:
    """A call that changed nothing, and why (with the candidates of an unclear reference)."""

    message: str
    candidates: tuple[int, ...] = ()


def planned_call(request: ToolRequest, *, refused: bool) -> Planned:
    if refused:
        return Planned(request.id, request.name, None,
                       f"At most {CALLS_PER_ROUND_MAX} tool calls per round; this one was not run.")
    try:
        return Planned(request.id, request.name, checked_arguments(request.name, request.arguments))
    except Invalid as invalid:
        problems = "; ".join(f"{k}: {v}" for k, v in invalid.problems.items())
        return Planned(request.id, request.name, None, f"Invalid arguments: {problems}")


async def _act(session: AsyncSession, context: ToolContext, call: Planned) -> Outcome:
    outcome: Outcome = await ACTIONS[call.tool](session, context, dict(call.args or {}))
    return outcome


def _refusal(call: Planned, error: Exception) -> Refusal:
    if isinstance(error, Ambiguous):
        return Refusal(error.message, error.candidates)
    if isinstance(error, Invalid):
        return Refusal("That didn't work: " + "; ".join(
            f"{k} {v}" for k, v in error.problems.items()) + ".")
    if isinstance(error, DomainError):  # not found, a rule of the domain: rolled back
        return Refusal("That task is gone." if isinstance(error, NotFound) else error.message)
    error_id = uuid.uuid4().hex
    logger.error("the %s tool failed: error %s", call.tool, error_id, exc_info=error)
    return Refusal(f"Something went wrong on our side (error {error_id}); nothing was changed.")


async def carry_out(db: Transactions, context: ToolContext, call: Planned) -> Outcome | Refusal:
    """Run one call in its own transaction; a refusal rolls it back."""
    if call.args is None:
        return Refusal(call.error)
    try:
        async with db.transaction() as session:
            return await _act(session, context, call)
    except Exception as error:  # every failure is answered, none escapes the turn
        return _refusal(call, error)


class _RolledBack(Exception):
    """Ends a dry run's transaction, undoing everything it wrote."""


async def dry_run(
    db: Transactions, context: ToolContext, planned: list[Planned]
) -> list[Outcome | Refusal]:
    """What the calls would do, in order, each seeing the ones before; nothing is kept."""
    tried: list[Outcome | Refusal] = []
    try:
        async with db.transaction() as session:
            for call in planned:
                tried.append(await _attempt(session, context, call))
            raise _RolledBack
    except _RolledBack:
        pass
    return tried


async def _attempt(session: AsyncSession, context: ToolContext, call: Planned) -> Outcome | Refusal:
    if call.args is None:
        return Refusal(call.error)
    try:
        async with session.begin_nested():
            return await _act(session, context, call)
    except Exception as error:  # answered like a real run's failure
        return _refusal(call, error)


async def choose(
    db: Transactions, context: ToolContext, content: str, candidates: tuple[int, ...]
) -> int | None:
    """The candidate `content` names: its number in the candidates' list, or words matching
    one candidate's title better than the others; None when it names none of them."""
    number = number_of(content.strip(" .!?"))
    if number is not None:
        listing = context.listing
        chosen = listing.id_of(number) if listing is not None else None
        return chosen if chosen in candidates else None
    async with db.transaction() as session:
        rows = (await session.execute(
            scope.owned_columns(Task, context.user_id, Task.id, Task.title)
            .where(Task.id.in_(candidates)))).all()
    titles: list[tuple[int, str]] = [(row[0], row[1]) for row in rows]
    best = matching.best(matching.words(content), titles)
    return best[0] if len(best) == 1 else None


# The tools whose one reference may name several things joined by "and", and its argument.
_SPLITTABLE = {"check_off": "what", "set_status": "task", "reopen_task": "task",
               "complete_task": "task", "delete_task": "task", "show_task": "task",
               "task_progress": "task"}
_JOINED = re.compile(r",? (?:and|&) |, ", re.I)


async def expanded(db: Transactions, context: ToolContext, planned: list[Planned]) -> list[Planned]:
    """Each call whose reference is "X and Y" (or "X, Y and Z"), when that names nothing
    whole but each part names something, as one call per part: "finish the vet and the
    library books" is two tasks (then asked about, being several), "picked up the cheese
    and the candles" two steps. A title with "and" in it ("salt and pepper") stays whole."""
    result: list[Planned] = []
    for call in planned:
        key = _SPLITTABLE.get(call.tool)
        words = str((call.args or {}).get(key or "") or "")
        parts = [part for part in _JOINED.split(words) if part.strip()] if key else []
        if call.args is None or key is None or len(parts) < 2 or len(parts) > CALLS_PER_ROUND_MAX:
            result.append(call)
            continue
        steps = call.tool == "check_off"
        async with db.transaction() as session:
            whole = await names_something(session, context, words, steps=steps)
            each = [await names_something(session, context, part, steps=steps)
                    for part in parts]
        if whole or not all(each):
            result.append(call)
            continue
        result += [Planned(f"{call.id}_{n}", call.tool, {**call.args, key: part})
                   for n, part in enumerate(parts, start=1)]
    return result
