"""The bulk task use cases: "complete all", "clear completed", "delete selected".

Each runs inside the caller's one transaction through the task writes (`domain.tasks`),
with the single use cases' isolation: the viewer's tasks among the keys are read and locked
in one scoped statement, and every other reference (missing, malformed, another user's) is
the NotFound the single use case raises, answered in its place rather than raised. A bulk of
any size costs the same statements: the lock, then one UPDATE and one INSERT of the events
(status), or one DELETE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain import tasks
from domain.errors import NotFound, Ref
from domain.transactions import Session
from domain.validation import Checks
from models import Task


@dataclass(frozen=True)
class Bulk:
    results: list[Task | NotFound]  # one per reference, in order
    changed: int  # how many tasks changed (a task already as asked is not counted)


def check_distinct(refs: Sequence[Ref[int]]) -> None:
    """Invalid when a task is named twice (`ids.<i>` names the task `ids.<j>` names)."""
    checks, first_at = Checks(), dict[int, int]()
    for index, ref in enumerate(refs):
        if ref.key is None:
            continue
        if ref.key in first_at:
            checks.fail(f"ids.{index}", f"names the task ids.{first_at[ref.key]} names")
        first_at.setdefault(ref.key, index)
    checks.raise_if_any()


async def set_tasks_status(
    session: Session, user_id: str, refs: Sequence[Ref[int]], status: str
) -> Bulk:
    """The viewer's named tasks moved to `status` (check_distinct first)."""
    found = await tasks.owned_tasks(session, user_id, [r.key for r in refs if r.key])
    changed = await tasks.set_statuses(session, list(found.values()), status)
    return Bulk(_results(refs, found), changed)


async def delete_tasks(session: Session, user_id: str, refs: Sequence[Ref[int]]) -> Bulk:
    """The viewer's named tasks deleted with their steps and events (check_distinct first)."""
    found = await tasks.owned_tasks(session, user_id, [r.key for r in refs if r.key])
    await tasks.delete_tasks(session, list(found.values()))
    return Bulk(_results(refs, found), len(found))


def _results(refs: Sequence[Ref[int]], found: dict[int, Task]) -> list[Task | NotFound]:
    """Each reference's task, or the NotFound the single use case raises for it (named by
    its key, or as sent when it held none)."""
    results: list[Task | NotFound] = []
    for ref in refs:
        task = found.get(ref.key) if ref.key is not None else None
        if task is not None:
            results.append(task)
        else:
            results.append(NotFound(Task, ref.key, named=None if ref.key else ref.named))
    return results
