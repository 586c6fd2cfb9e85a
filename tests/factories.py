"""Factories: rows with sensible defaults, overridden by keyword."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from graph.ids import encode_id
from models import (
    AuditLog,
    Conversation,
    GroundingExercise,
    Message,
    PanicEvent,
    Task,
    TaskEvent,
    TaskStep,
)
from models.base import utcnow

_clock = [utcnow()]


def tick() -> datetime:
    """Strictly increasing timestamps, so orderings in tests are deterministic."""
    _clock[0] += timedelta(milliseconds=5)
    return _clock[0]


async def make_task(
    session: AsyncSession,
    *,
    user_id: str = "alice",
    title: str = "Write the report",
    description: str | None = None,
    kind: str = "todo",
    status: str = "pending",
    steps: list[str] | None = None,
    events: int = 0,
    created_at: datetime | None = None,
    **fields: Any,
) -> Task:
    stamp = created_at or tick()
    task = Task(
        user_id=user_id, title=title, description=description, kind=kind, status=status,
        created_at=stamp, updated_at=stamp,
        completed_at=stamp if status == "completed" else None, **fields,
    )
    session.add(task)
    await session.flush()
    for number, content in enumerate(steps or [], start=1):
        session.add(TaskStep(task_id=task.id, step_number=number, content=content))
    for _ in range(events):
        session.add(TaskEvent(task_id=task.id, event_type="updated", created_at=tick()))
    await session.commit()
    return task


def task_gid(task: Task | int) -> str:
    return encode_id("Task", task if isinstance(task, int) else task.id)


async def make_panic_event(
    session: AsyncSession,
    *,
    user_id: str = "alice",
    note: str | None = "heart racing",
    intensity: int | None = 5,
    exercises: list[str] | None = None,
    created_at: datetime | None = None,
    **fields: Any,
) -> PanicEvent:
    """A panic event with exercises of the given kinds at positions 1..n."""
    stamp = created_at or tick()
    event = PanicEvent(
        user_id=user_id, note=note, intensity=intensity, ai_response="Breathe with me.",
        created_at=stamp, **fields,
    )
    session.add(event)
    await session.flush()
    for position, kind in enumerate(exercises or [], start=1):
        session.add(GroundingExercise(
            panic_event_id=event.id, kind=kind, title=kind.title(), instructions=f"Do {kind}.",
            position=position, created_at=stamp,
        ))
    await session.commit()
    return event


async def make_conversation(
    session: AsyncSession,
    *,
    user_id: str = "alice",
    title: str | None = "A chat",
    messages: list[tuple[str, str]] | None = None,
    created_at: datetime | None = None,
    updated_at: datetime | None = None,
) -> Conversation:
    """A conversation with `(role, content)` messages a tick apart; `updated_at` is the last
    message's time unless given."""
    stamp = created_at or tick()
    conversation = Conversation(
        user_id=user_id, title=title, created_at=stamp, updated_at=updated_at or stamp
    )
    session.add(conversation)
    await session.flush()
    for role, content in messages or []:
        said = tick()
        session.add(Message(
            conversation_id=conversation.id, role=role, content=content, created_at=said
        ))
        if updated_at is None:
            conversation.updated_at = said
    await session.commit()
    return conversation


def gid(row: Any) -> str:
    """The global id of a row, as the API names it."""
    return encode_id(type(row).__name__, row.id)


async def make_audit_log(
    session: AsyncSession,
    *,
    user_id: str = "alice",
    document_type: str = "treatment_summary",
    status: str = "success",
    source: str = "client",
    created_at: datetime | None = None,
    **fields: Any,
) -> AuditLog:
    """An audit log row, a client's claim unless `source="server"`; `created_at` may carry
    any offset (it is stored as UTC)."""
    values: dict[str, Any] = {
        "input_data": {"patient": "p-1"},
        "generated_text": {"title": "Your plan"},
        "error_message": "model timed out" if status == "error" else None,
    }
    values.update(fields)
    log = AuditLog(
        user_id=user_id, document_type=document_type, status=status, source=source,
        created_at=created_at or tick(), **values,
    )
    session.add(log)
    await session.commit()
    return log
