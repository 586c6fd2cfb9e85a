"""Live changes (`taskChanges`, `conversationChanges`, `panicEventChanges`): one per change to
one of the viewer's objects, deletions included.

Every change names its object by global id (`nodeId`), which is all a deletion can carry:
the row is gone. The object itself is read when the change is delivered, scoped to the
subscriber, through the request's loaders (the subscription primes them with the row it
checked), so it is what the object is now, not what it was when the change was made.
"""

from __future__ import annotations

from enum import Enum

import strawberry

import models
from graph.context import Info
from graph.ids import encode_id
from graph.types.chat import Conversation, Message
from graph.types.panic import GroundingExercise, PanicEvent
from graph.types.task import Task, TaskEvent


@strawberry.enum(description="What happened to the object a change names.")
class ChangeKind(Enum):
    _value_: str  # for mypy: `.value` is this text; enum_value() only adds a description
    CREATED = strawberry.enum_value(
        "created", description="It was created: add it to the lists that show it."
    )
    UPDATED = strawberry.enum_value(
        "updated", description="It changed: the object field holds it as it is now."
    )
    DELETED = strawberry.enum_value(
        "deleted", description="It was deleted: only nodeId (and deletedId) is left of it."
    )


@strawberry.interface(description=(
    "A change to one of the viewer's objects, delivered once its transaction committed. "
    "Change types have no `id` of their own (Relay and Apollo would take it for the object's)."
))
class Change:
    kind: ChangeKind = strawberry.field(description="Created, updated or deleted.")
    node_id: strawberry.ID = strawberry.field(description=(
        "The changed object's global id (its `id`), for every kind: a deletion carries nothing "
        "else."
    ))
    cursor: str = strawberry.field(description=(
        "This change's place in the viewer's changes (opaque). Keep the last one received: "
        "after a reconnect, subscribe with `after` set to it to be given every change since, "
        "in order, then the live ones. Kept for CHANGE_RETENTION_SECONDS (a day by default)."
    ))

    @strawberry.field(description=(
        "The deleted object's global id (nodeId) when kind is DELETED, else null: for "
        "Relay's @deleteRecord, which removes the record a non-null id names."
    ))
    def deleted_id(self) -> strawberry.ID | None:
        return self.node_id if self.kind is ChangeKind.DELETED else None


@strawberry.type(description=(
    "A change to one of the viewer's tasks: CREATED, UPDATED (fields, status or steps: `event` "
    "tells which) or DELETED."
))
class TaskChange(Change):
    event: TaskEvent | None = strawberry.field(description=(
        "The history entry the change wrote (Task.events): what changed and how; null for "
        "DELETED, whose entries went with the task."
    ))
    _task_id: strawberry.Private[int]

    @classmethod
    def of_event(cls, row: models.TaskEvent, cursor: str) -> TaskChange:
        kind = ChangeKind.CREATED if row.event_type == "created" else ChangeKind.UPDATED
        return cls(kind=kind, node_id=_gid("Task", row.task_id), cursor=cursor,
                   event=TaskEvent.from_model(row), _task_id=row.task_id)

    @classmethod
    def deleted(cls, task_id: int, cursor: str) -> TaskChange:
        return cls(kind=ChangeKind.DELETED, node_id=_gid("Task", task_id), cursor=cursor,
                   event=None, _task_id=task_id)

    @strawberry.field(description=(
        "The task as it is now; null for DELETED, or when it is no longer the viewer's by "
        "delivery (deleted since, or moved by claimSession)."
    ))
    async def task(self, info: Info) -> Task | None:
        if self.kind is ChangeKind.DELETED:
            return None
        row = await info.context.loaders.by_id(models.Task).load(self._task_id)
        return Task.from_model(row) if row is not None else None


@strawberry.type(description=(
    "A change to one of the viewer's conversations: CREATED, UPDATED (renamed, or a new "
    "message: `message` is set, and updatedAt moved to its time) or DELETED."
))
class ConversationChange(Change):
    message: Message | None = strawberry.field(description=(
        "The message added, the viewer's or the assistant's; null for any other change."
    ))
    _conversation_id: strawberry.Private[str]

    @strawberry.field(description=(
        "The conversation as it is now; null for DELETED, or when it is no longer the "
        "viewer's by delivery (deleted since, or moved by claimSession)."
    ))
    async def conversation(self, info: Info) -> Conversation | None:
        if self.kind is ChangeKind.DELETED:
            return None
        row = await info.context.loaders.by_id(models.Conversation).load(self._conversation_id)
        return Conversation.from_model(row) if row is not None else None


@strawberry.type(description=(
    "A change to one of the viewer's panic events: CREATED (the button was pressed) or "
    "UPDATED (an exercise completed: `exercise` is set; or the event resolved). Panic events "
    "are never deleted."
))
class PanicEventChange(Change):
    exercise: GroundingExercise | None = strawberry.field(
        description="The exercise just completed; null for any other change."
    )
    _panic_event_id: strawberry.Private[int]

    @strawberry.field(description=(
        "The panic event as it is now, its exercises included; null only when it is no longer "
        "the viewer's by delivery (moved by claimSession)."
    ))
    async def panic_event(self, info: Info) -> PanicEvent | None:
        row = await info.context.loaders.by_id(models.PanicEvent).load(self._panic_event_id)
        return PanicEvent.from_model(row) if row is not None else None


def _gid(type_name: str, key: object) -> strawberry.ID:
    return strawberry.ID(encode_id(type_name, key))
