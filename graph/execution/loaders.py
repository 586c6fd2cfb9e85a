"""The per-request loader registry.

Loaders are created per request and never shared: a module-level loader would cache one
user's rows for the next. Each batch function runs one scoped statement for all its keys and
returns results in key order.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable, Sequence
from contextvars import ContextVar
from datetime import datetime
from typing import Any, TypeVar, cast

from aiodataloader import DataLoader
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import aliased

import models
from domain import scope
from domain.viewers import Viewer
from graph.execution.database import RequestDatabase
from graph.execution.keyset import SortColumn, Window, after_cursor, order_by
from graph.execution.pagination import Conditions, CountKey, Slice
from models.task import TaskStepRow

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
R = TypeVar("R")
# Set by a split operation (graph/compiler/split.py) for each of its two parts: the loaders
# the part loaded from or primed. Parts that used a loader in common may have batched
# differently than graphql-core alone would have (one statement or two), so such a split
# runs again whole through graphql-core.
loaders_used: ContextVar[set[int] | None] = ContextVar("loaders_used", default=None)

TASK_EVENT_SORT = (
    SortColumn(models.TaskEvent.created_at, kind=datetime),
    SortColumn(models.TaskEvent.id, kind=int),
)
MESSAGE_SORT = (
    SortColumn(models.Message.created_at, kind=datetime),
    SortColumn(models.Message.id, kind=int),
)


class Loader(DataLoader[K, V]):
    """A DataLoader the request's database knows is busy while a key it queued waits for
    its batch (`RequestDatabase.quiet`), that notes its use by a part of a split operation
    (`loaders_used`), and that can hand over a value it already holds without awaiting it.

    `get(key, convert)` returns `convert(value)` at once when the key's batch has completed
    (a connection prefetched it), else an awaitable of it. A resolver that returns a plain
    value costs graphql-core no coroutine, no task and no event-loop turn; on a 50-task page
    with steps and counts the awaited way cost ~600 loop callbacks, a third of the request.
    """

    def __init__(self, db: RequestDatabase,
                 batch_load_fn: Callable[[list[K]], Coroutine[Any, Any, list[V]]]) -> None:
        self._db = db
        self._held: dict[K, asyncio.Future[V]] = {}

        async def batch(keys: list[K]) -> list[V]:
            try:
                return await batch_load_fn(keys)
            finally:
                db.end(len(keys))

        super().__init__(batch, cache_map=self._held)

    def load(self, key: K) -> asyncio.Future[V]:
        _note_use(self)
        queued = key not in self._held  # else aiodataloader hands over the cached future
        future = super().load(key)
        if queued:
            self._db.begin()
        return future

    def prime(self, key: K, value: V) -> Loader[K, V]:
        _note_use(self)
        return super().prime(key, value)

    def get(self, key: K, convert: Callable[[V], R]) -> R | Awaitable[R]:
        _note_use(self)
        future = self._held.get(key)
        if future is not None and future.done():
            if not future.cancelled() and future.exception() is None:
                return convert(future.result())
            # A cancelled load stays cached (aiodataloader forgets only failed batches):
            # load it afresh rather than hand the cancellation to another field.
            self.clear(key)
        return _converted(self.load(key), convert)


def _note_use(loader: Loader[Any, Any]) -> None:
    used = loaders_used.get()
    if used is not None:
        used.add(id(loader))


async def _converted(value: Awaitable[V], convert: Callable[[V], R]) -> R:
    # Shielded: several fields await one key's future (stepCount and completedStepCount
    # share it), and graphql-core cancels a failed field's siblings. Cancelling an awaiter
    # cancels the future it awaits, which then raised CancelledError (not a field error) in
    # every other field awaiting it, and the request itself failed with it.
    return convert(await asyncio.shield(value))


class Loaders:
    def __init__(self, db: RequestDatabase, viewer: Viewer) -> None:
        self._db = db
        # No identity means no rows: an empty owner id matches nothing.
        self._user_id = viewer.user_id or ""
        # One by-id loader per model, made when first asked for (`by_id`). Owner-only,
        # admins included: `node` never crosses users.
        self._by_id: dict[type, Loader[Any, Any]] = {}
        self.task_steps = Loader(db, self._task_steps)
        self.task_step_counts = Loader(db, self._task_step_counts)
        self.task_events = Loader(db, self._task_events)
        self.task_event_counts = Loader(db, self._task_event_counts)
        self.messages = Loader(db, self._messages)
        self.message_counts = Loader(db, self._message_counts)
        self.last_message = Loader(db, self._last_messages)
        self.exercises = Loader(db, self._exercises)
        # A mutation's result is read after its commit; the next mutation of the same
        # operation must not see the rows (or expired objects) cached before it.
        db.on_reset(self.clear)

    def by_id(self, model: type) -> Loader[Any, Any]:
        """The viewer's rows of `model` by primary key, None where missing or not theirs."""
        loader = self._by_id.get(model)
        if loader is None:
            loader = self._by_id[model] = Loader(self._db, self._load_by_id(model))
        return loader

    def clear(self) -> None:
        """Forget every cached row, in every loader."""
        for loader in [*vars(self).values(), *self._by_id.values()]:
            if isinstance(loader, DataLoader):
                loader.clear_all()

    async def prefetch_task_children(
        self, task_ids: list[int], *, steps: bool, counts: bool
    ) -> None:
        """Load a page's steps and/or step counts, one statement each, before its tasks'
        fields resolve. Counts come from loaded steps, at no statement: both read the same
        viewer-scoped rows in the same transaction."""
        if steps:
            groups = await self.task_steps.load_many(task_ids)
            if counts:
                for task_id, rows in zip(task_ids, groups, strict=True):
                    done = sum(1 for row in rows if row.completed)
                    self.task_step_counts.prime(task_id, (len(rows), done))
        elif counts:
            await self.task_step_counts.load_many(task_ids)

    def _load_by_id(self, model: Any) -> Callable[[list[Any]], Any]:
        async def load(ids: list[Any]) -> list[Any]:
            statement = scope.owned(model, self._user_id).where(model.id.in_(ids))
            rows = await self._db.scalars(statement)
            by_id = {row.id: row for row in rows}
            return [by_id.get(key) for key in ids]

        return load

    async def _task_steps(self, task_ids: list[int]) -> list[list[TaskStepRow]]:
        statement = task_steps_statement(self._user_id, task_ids)
        rows = cast(Sequence[TaskStepRow], await self._db.rows(statement))
        return _grouped(task_ids, rows, lambda step: step.task_id)

    async def _task_step_counts(self, task_ids: list[int]) -> list[tuple[int, int]]:
        statement = (
            scope.owned_columns(
                models.TaskStep, self._user_id,
                models.TaskStep.task_id,
                func.count(models.TaskStep.id),
                func.coalesce(func.sum(case((models.TaskStep.completed, 1), else_=0)), 0),
            )
            .where(models.TaskStep.task_id.in_(task_ids))
            .group_by(models.TaskStep.task_id)
        )
        rows = await self._db.rows(statement)
        counts = {tid: (int(total), int(done)) for tid, total, done in rows}
        return [counts.get(key, (0, 0)) for key in task_ids]

    async def _task_event_counts(self, keys: list[CountKey]) -> list[int]:
        event = models.TaskEvent
        return await self._counts(keys, event, event.task_id)

    async def _task_events(self, keys: list[tuple[int, Slice]]) -> list[list[models.TaskEvent]]:
        event = models.TaskEvent
        return await self._pages(keys, scope.owned(event, self._user_id), event, event.task_id)

    async def _messages(self, keys: list[tuple[str, Slice]]) -> list[list[models.Message]]:
        message = models.Message
        return await self._pages(
            keys, scope.owned(message, self._user_id), message, message.conversation_id
        )

    async def _message_counts(self, keys: list[CountKey]) -> list[int]:
        message = models.Message
        return await self._counts(keys, message, message.conversation_id)

    async def _last_messages(self, conversation_ids: list[str]) -> list[models.Message | None]:
        newest = Window(size=1, backward=True, cursor=None, has_cursor_before=False)
        newest_of = Slice(newest, MESSAGE_SORT)
        pages = await self._messages([(cid, newest_of) for cid in conversation_ids])
        return [page[0] if page else None for page in pages]

    async def _counts(self, keys: list[CountKey], model: Any, parent: Any) -> list[int]:
        """Children per parent, one GROUP BY statement per distinct filter (usually one)."""
        by_filter: dict[Conditions | None, list[Any]] = defaultdict(list)
        for parent_id, where in keys:
            by_filter[where].append(parent_id)
        counts: dict[CountKey, int] = {}
        for where, parent_ids in by_filter.items():
            statement = (
                scope.owned_columns(model, self._user_id, parent, func.count(model.id))
                .where(parent.in_(parent_ids))
                .group_by(parent)
            )
            if where is not None:
                statement = where.apply(statement)
            for parent_id, total in await self._db.rows(statement):
                counts[(parent_id, where)] = int(total)
        return [counts.get(key, 0) for key in keys]

    async def _exercises(self, event_ids: list[int]) -> list[list[models.GroundingExercise]]:
        """Each panic event's exercises in position order, one statement for all events."""
        statement = (
            scope.owned(models.GroundingExercise, self._user_id)
            .where(models.GroundingExercise.panic_event_id.in_(event_ids))
            .order_by(models.GroundingExercise.panic_event_id, models.GroundingExercise.position)
        )
        rows = await self._db.scalars(statement)
        return _grouped(event_ids, rows, lambda exercise: exercise.panic_event_id)

    async def _pages(
        self, keys: list[tuple[Any, Slice]], base: Select[Any], model: Any, parent: Any
    ) -> list[list[Any]]:
        """A page per parent in one statement per distinct slice (window, sort and filter;
        the parents of one field ask the same, so usually exactly one).

        ROW_NUMBER() partitioned by parent limits each parent on its own; one LIMIT for the
        whole batch would starve every parent but the first.
        """
        results: dict[tuple[Any, Slice], list[Any]] = {}
        by_slice: dict[Slice, list[Any]] = defaultdict(list)
        for parent_id, asked in keys:
            by_slice[asked].append(parent_id)
        for asked, parent_ids in by_slice.items():
            scoped = asked.where.apply(base) if asked.where is not None else base
            statement = child_page_statement(
                scoped, model, parent, asked.sort, asked.page, parent_ids
            )
            rows = await self._db.scalars(statement)
            grouped = _grouped(parent_ids, rows, lambda row: getattr(row, parent.key))
            for parent_id, group in zip(parent_ids, grouped, strict=True):
                results[(parent_id, asked)] = group
        return [results[key] for key in keys]


def task_steps_statement(user_id: str, task_ids: list[int]) -> Select[Any]:
    """The steps of the viewer's tasks among `task_ids`, grouped by task in step order; plain
    rows, not ORM objects (a page's steps are the most numerous objects it reads). The
    benchmark's ceiling runs it too."""
    return (
        scope.owned_columns(models.TaskStep, user_id, *models.TaskStep.__table__.columns)
        .where(models.TaskStep.task_id.in_(task_ids))
        .order_by(models.TaskStep.task_id, models.TaskStep.step_number)
    )


def child_page_statement(
    base: Select[Any],
    model: Any,
    parent: Any,
    sort: Sequence[SortColumn],
    page: Window,
    parent_ids: list[Any],
) -> Select[Any]:
    # One ROW_NUMBER() over one ORDER BY: a sort with NULLs (read in two runs, keyset.py)
    # has no place here, and no child list sorts by a column that holds them.
    if any(column.nullable for column in sort):
        raise ValueError("a list under each parent sorts by NOT NULL columns only")
    number = func.row_number().over(
        partition_by=parent, order_by=order_by(sort, backward=page.backward)
    )
    inner = base.add_columns(number.label("row_number")).where(parent.in_(parent_ids))
    condition = after_cursor(sort, page)
    if condition is not None:
        inner = inner.where(condition)
    rows = inner.subquery()
    entity = aliased(model, rows)
    return (
        select(entity)
        .where(rows.c.row_number <= page.size + 1)
        .order_by(rows.c[parent.key], rows.c.row_number)
    )


def _grouped(keys: Iterable[K], rows: Iterable[Any], key_of: Callable[[Any], K]) -> list[list[Any]]:
    groups: dict[K, list[Any]] = defaultdict(list)
    for row in rows:
        groups[key_of(row)].append(row)
    return [groups.get(key, []) for key in keys]

