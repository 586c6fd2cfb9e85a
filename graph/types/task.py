"""Task, TaskStep and TaskEvent, mapped from their models; children come through loaders."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from datetime import datetime
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

import models
from graph.context import Info
from graph.execution.loaders import TASK_EVENT_SORT
from graph.execution.lookahead import node_fields
from graph.execution.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    Page,
    fetch_child_connection,
)
from graph.ids import encode_id
from models.task import STEPS_MAX, TaskStepRow


@strawberry.enum(description="Where a task stands. Any status may follow any other.")
class TaskStatus(Enum):
    _value_: str  # for mypy: `.value` is this text; enum_value() only adds a description
    PENDING = strawberry.enum_value("pending", description="Not started; the default.")
    IN_PROGRESS = strawberry.enum_value("in_progress", description="Started, not finished.")
    COMPLETED = strawberry.enum_value("completed", description="Done; sets completedAt.")
    FAILED = strawberry.enum_value("failed", description="Attempted and not achieved.")
    CANCELLED = strawberry.enum_value("cancelled", description="Dropped; no longer wanted.")


@strawberry.enum(description="What a task event records; its payload tells the details.")
class TaskEventType(Enum):
    _value_: str  # for mypy: `.value` is this text; enum_value() only adds a description
    CREATED = strawberry.enum_value(
        "created", description="The task was created: toStatus is its first status."
    )
    UPDATED = strawberry.enum_value(
        "updated", description="Title, description, kind or metadata changed."
    )
    STATUS_CHANGED = strawberry.enum_value(
        "status_changed", description="The status moved from fromStatus to toStatus."
    )
    STEP_ADDED = strawberry.enum_value("step_added", description="A step was added.")
    STEP_UPDATED = strawberry.enum_value(
        "step_updated", description="A step's content or completion changed."
    )
    STEP_REMOVED = strawberry.enum_value(
        "step_removed", description="A step was removed; the later steps moved up."
    )
    STEPS_REORDERED = strawberry.enum_value(
        "steps_reordered", description="The steps were put in a new order."
    )


@strawberry.type(description="One step of a task, numbered 1..n without gaps.")
class TaskStep(relay.Node):
    id: relay.NodeID[int]
    step_number: int = strawberry.field(
        description=f"Its place in the task, 1..n (n at most {STEPS_MAX}); renumbered when steps"
        " are inserted, removed or reordered."
    )
    content: str = strawberry.field(description="What to do, 1..2,000 characters.")
    completed: bool = strawberry.field(description="Whether it is done.")
    created_at: datetime = strawberry.field(description="When it was added.")
    updated_at: datetime = strawberry.field(
        description="When its content, completion or number last changed."
    )
    _task_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, step: TaskStepRow) -> TaskStep:
        return cls(
            id=step.id,
            step_number=step.step_number,
            content=step.content,
            completed=step.completed,
            created_at=step.created_at,
            updated_at=step.updated_at,
            _task_id=step.task_id,
        )

    @strawberry.field(description="The task it belongs to.")
    async def task(self, info: Info) -> Task:
        return await _parent_task(info, self._task_id)


def _with_global_step_ids(payload: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stored payload names steps by table key; clients see the global ids they use
    everywhere else (TaskStep.id), so a payload never shows a raw database number."""
    if not payload or ("stepId" not in payload and "stepIds" not in payload):
        return payload
    shown = dict(payload)
    if "stepId" in shown:
        shown["stepId"] = encode_id("TaskStep", shown["stepId"])
    if "stepIds" in shown:
        shown["stepIds"] = [encode_id("TaskStep", key) for key in shown["stepIds"]]
    return shown


@strawberry.type(description="A change to a task, written with the change. Never updated.")
class TaskEvent(relay.Node):
    id: relay.NodeID[int]
    event_type: TaskEventType = strawberry.field(description="What changed.")
    from_status: TaskStatus | None = strawberry.field(
        description="The status before, for STATUS_CHANGED; null otherwise."
    )
    to_status: TaskStatus | None = strawberry.field(
        description="The status after, for STATUS_CHANGED and CREATED; null otherwise."
    )
    payload: JSON | None = strawberry.field(description=(
        "Details by eventType: CREATED {steps: count}; UPDATED {fields: [names]}; STEP_ADDED "
        "{stepId, position}; STEP_UPDATED {stepId, fields}; STEP_REMOVED {stepId}; "
        "STEPS_REORDERED {stepIds}; null for STATUS_CHANGED. Step ids are TaskStep global ids, "
        "the same as TaskStep.id (a removed step\'s id no longer resolves)."
    ))
    created_at: datetime = strawberry.field(description="When the change was made.")
    _task_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, event: models.TaskEvent) -> TaskEvent:
        return cls(
            id=event.id,
            event_type=TaskEventType(event.event_type),
            from_status=TaskStatus(event.from_status) if event.from_status else None,
            to_status=TaskStatus(event.to_status) if event.to_status else None,
            payload=cast(JSON | None, _with_global_step_ids(event.payload)),
            created_at=event.created_at,
            _task_id=event.task_id,
        )

    @strawberry.field(description="The task it belongs to.")
    async def task(self, info: Info) -> Task:
        return await _parent_task(info, self._task_id)


@strawberry.type(description="Something to do, with ordered steps and a history of changes.")
class Task(relay.Node):
    id: relay.NodeID[int]
    title: str = strawberry.field(description="1..200 characters.")
    description: str | None = strawberry.field(
        description="Free text up to 10,000 characters; null when none."
    )
    original_input: str | None = strawberry.field(description=(
        "The raw words the assistant turned into this task (breakDownTask); null for a task "
        "created directly."
    ))
    kind: str = strawberry.field(
        description="A free label of 1..50 characters for grouping, `todo` unless given."
    )
    status: TaskStatus = strawberry.field(description="Where it stands.")
    metadata: JSON | None = strawberry.field(
        description="The client's own JSON object, up to 16 KiB serialized; null when none."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(
        description="When it or one of its steps last changed (each change writes an event)."
    )
    completed_at: datetime | None = strawberry.field(
        description="When it last became COMPLETED; null in any other status."
    )

    @classmethod
    def from_model(cls, task: models.Task) -> Task:
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
    @strawberry.field(
        description=f"All its steps (at most {STEPS_MAX}), in step order.",
        graphql_type=list[TaskStep],
    )
    def steps(self, info: Info) -> list[TaskStep] | Awaitable[list[TaskStep]]:
        return info.context.loaders.task_steps.get(self.id, _steps)

    @strawberry.field(description="How many steps it has, 0..40.", graphql_type=int)
    def step_count(self, info: Info) -> int | Awaitable[int]:
        return info.context.loaders.task_step_counts.get(self.id, _total)

    @strawberry.field(description="How many of its steps are done.", graphql_type=int)
    def completed_step_count(self, info: Info) -> int | Awaitable[int]:
        return info.context.loaders.task_step_counts.get(self.id, _done)

    @strawberry.field(description="Its history, oldest first (by time, then id).")
    async def events(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[TaskEvent]:
        loaders = info.context.loaders
        return await fetch_child_connection(
            loaders.task_events, loaders.task_event_counts, self.id, TASK_EVENT_SORT,
            TaskEvent.from_model, Page(first, after, last, before),
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


def _steps(rows: list[TaskStepRow]) -> list[TaskStep]:
    return [TaskStep.from_model(row) for row in rows]


def _total(counts: tuple[int, int]) -> int:
    return counts[0]


def _done(counts: tuple[int, int]) -> int:
    return counts[1]


async def _parent_task(info: Info, task_id: int) -> Task:
    model = await info.context.loaders.by_id(models.Task).load(task_id)
    if model is None:  # the child was read in this request, so its parent is the viewer's
        raise LookupError(f"task {task_id} vanished during the request")
    return Task.from_model(model)
