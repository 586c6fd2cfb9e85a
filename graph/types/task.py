"""Task, TaskStep and TaskEvent, mapped from their models; children come through loaders."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from datetime import datetime
from enum import Enum
from typing import cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from graph.context import Info
from graph.loaders import TASK_EVENT_SORT
from graph.lookahead import node_fields
from graph.pagination import Connection, fetch_child_connection
from models import task as task_model


@strawberry.enum(description="Where a task stands.")
class TaskStatus(Enum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


@strawberry.enum(description="What a task event records.")
class TaskEventType(Enum):
    CREATED = "created"
    UPDATED = "updated"
    STATUS_CHANGED = "status_changed"
    STEP_ADDED = "step_added"
    STEP_UPDATED = "step_updated"
    STEP_REMOVED = "step_removed"
    STEPS_REORDERED = "steps_reordered"


@strawberry.type(description="One step of a task, numbered 1..n without gaps.")
class TaskStep(relay.Node):
    id: relay.NodeID[int]
    step_number: int
    content: str
    completed: bool
    created_at: datetime
    updated_at: datetime
    _task_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, step: task_model.TaskStepRow) -> TaskStep:
        return cls(
            id=step.id,
            step_number=step.step_number,
            content=step.content,
            completed=step.completed,
            created_at=step.created_at,
            updated_at=step.updated_at,
            _task_id=step.task_id,
        )

    @strawberry.field
    async def task(self, info: Info) -> Task:
        return await _parent_task(info, self._task_id)


@strawberry.type(description="A change to a task, written with the change. Never updated.")
class TaskEvent(relay.Node):
    id: relay.NodeID[int]
    event_type: TaskEventType
    from_status: TaskStatus | None
    to_status: TaskStatus | None
    payload: JSON | None
    created_at: datetime
    _task_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, event: task_model.TaskEvent) -> TaskEvent:
        return cls(
            id=event.id,
            event_type=TaskEventType(event.event_type),
            from_status=TaskStatus(event.from_status) if event.from_status else None,
            to_status=TaskStatus(event.to_status) if event.to_status else None,
            payload=cast(JSON | None, event.payload),
            created_at=event.created_at,
            _task_id=event.task_id,
        )

    @strawberry.field
    async def task(self, info: Info) -> Task:
        return await _parent_task(info, self._task_id)


@strawberry.type(description="Something to do, with ordered steps and a history of changes.")
class Task(relay.Node):
    id: relay.NodeID[int]
    title: str
    description: str | None
    original_input: str | None = strawberry.field(
        description="The raw words an assistant turned into this task's title and steps."
    )
    kind: str
    status: TaskStatus
    metadata: JSON | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_model(cls, task: task_model.Task) -> Task:
        return cls(
            id=task.id,
            title=task.title,
            description=task.description,
            original_input=task.original_input,
            kind=task.kind,
            status=TaskStatus(task.status),
            metadata=cast(JSON | None, task.metadata_),
            created_at=task.created_at,
            updated_at=task.updated_at,
            completed_at=task.completed_at,
        )

    @strawberry.field(description="Whether the status is COMPLETED.")
    def completed(self) -> bool:
        return self.status is TaskStatus.COMPLETED

    # The next three return their value at once when the page prefetched it (see
    # `prefetch_children`), else an awaitable; `graphql_type` names the field's type because
    # the annotation says both.
    @strawberry.field(description="The steps, in step order.", graphql_type=list[TaskStep])
    def steps(self, info: Info) -> list[TaskStep] | Awaitable[list[TaskStep]]:
        return info.context.loaders.task_steps.get(self.id, _steps)

    @strawberry.field(graphql_type=int)
    def step_count(self, info: Info) -> int | Awaitable[int]:
        return info.context.loaders.task_step_counts.get(self.id, _total)

    @strawberry.field(graphql_type=int)
    def completed_step_count(self, info: Info) -> int | Awaitable[int]:
        return info.context.loaders.task_step_counts.get(self.id, _done)

    @strawberry.field(description="The task's history, oldest first, paged per task.")
    async def events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[TaskEvent]:
        loaders = info.context.loaders
        return await fetch_child_connection(
            loaders.task_events, loaders.task_event_counts, self.id, TASK_EVENT_SORT,
            TaskEvent.from_model, first=first, after=after, last=last, before=before,
            max_size=info.context.settings.max_page_size,
        )


async def prefetch_children(info: Info, tasks: Iterable[Task]) -> None:
    """Load the children a page of tasks will be asked for, for the whole page at once."""
    wanted = node_fields(info)
    await info.context.loaders.prefetch_task_children(
        [task.id for task in tasks],
        steps="steps" in wanted,
        counts=not wanted.isdisjoint({"stepCount", "completedStepCount"}),
    )


def _steps(rows: list[task_model.TaskStepRow]) -> list[TaskStep]:
    return [TaskStep.from_model(row) for row in rows]


def _total(counts: tuple[int, int]) -> int:
    return counts[0]


def _done(counts: tuple[int, int]) -> int:
    return counts[1]


async def _parent_task(info: Info, task_id: int) -> Task:
    model = await info.context.loaders.task.load(task_id)
    if model is None:  # the child was read in this request, so its parent is the viewer's
        raise LookupError(f"task {task_id} vanished during the request")
    return Task.from_model(model)
