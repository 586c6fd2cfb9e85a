"""Constraints live in the database, not only in Python."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    AuditLog,
    Conversation,
    GroundingExercise,
    Message,
    PanicEvent,
    Task,
    TaskEvent,
    TaskStep,
    Visit,
)
from tests.conftest import table_count
from tests.factories import make_task


async def _violates(db: AsyncSession, *rows: object) -> None:
    with pytest.raises(IntegrityError):
        async with db.begin_nested():
            db.add_all(rows)
            await db.flush()


async def test_task_status_outside_the_enumeration_is_refused(db: AsyncSession) -> None:
    await _violates(db, Task(user_id="a", title="t", status="done"))


async def test_task_defaults_come_from_the_database(db: AsyncSession) -> None:
    await db.execute(text("INSERT INTO tasks (user_id, title) VALUES ('a', 'raw insert')"))
    query = text("SELECT kind, status FROM tasks WHERE title = 'raw insert'")
    row = (await db.execute(query)).one()
    assert tuple(row) == ("todo", "pending")


async def test_step_numbers_are_unique_per_task(db: AsyncSession) -> None:
    task = await make_task(db, steps=["one"])
    await _violates(db, TaskStep(task_id=task.id, step_number=1, content="again"))


async def test_step_numbers_start_at_one(db: AsyncSession) -> None:
    task = await make_task(db)
    await _violates(db, TaskStep(task_id=task.id, step_number=0, content="zero"))


async def test_a_step_needs_an_existing_task(db: AsyncSession) -> None:
    await _violates(db, TaskStep(task_id=999_999, step_number=1, content="orphan"))


async def test_deleting_a_task_cascades_to_steps_and_events(db: AsyncSession) -> None:
    task = await make_task(db, steps=["a", "b"], events=2)
    await db.execute(text("DELETE FROM tasks WHERE id = :id"), {"id": task.id})
    assert await table_count(db, "task_steps") == 0
    assert await table_count(db, "task_events") == 0


async def test_deleting_a_visit_keeps_its_tasks(db: AsyncSession) -> None:
    visit = Visit(session_id="6f1c1d8e-0000-4000-8000-000000000001")
    db.add(visit)
    await db.flush()
    task_id = (await make_task(db, session_id=visit.session_id)).id
    await db.execute(text("DELETE FROM sessions"))
    db.expire_all()
    refreshed = await db.scalar(select(Task).where(Task.id == task_id))
    assert refreshed is not None and refreshed.session_id is None


async def test_task_event_type_outside_the_enumeration_is_refused(db: AsyncSession) -> None:
    task = await make_task(db)
    await _violates(db, TaskEvent(task_id=task.id, event_type="renamed"))


async def test_panic_intensity_is_between_zero_and_ten(db: AsyncSession) -> None:
    await _violates(db, PanicEvent(user_id="a", intensity=11))


async def test_exercise_positions_are_unique_per_panic_event(db: AsyncSession) -> None:
    event = PanicEvent(user_id="a", intensity=3)
    db.add(event)
    await db.flush()
    db.add(GroundingExercise(panic_event_id=event.id, kind="breathing", position=1))
    await db.flush()
    await _violates(db, GroundingExercise(panic_event_id=event.id, kind="body_scan", position=1))


async def test_message_role_is_user_or_assistant(db: AsyncSession) -> None:
    conversation = Conversation(user_id="a")
    db.add(conversation)
    await db.flush()
    await _violates(db, Message(conversation_id=conversation.id, role="system", content="x"))


async def test_audit_error_rows_need_an_error_message(db: AsyncSession) -> None:
    await _violates(
        db, AuditLog(user_id="a", document_type="memo", input_data={}, generated_text={},
                     status="error"),
    )


async def test_audit_tokens_are_not_negative(db: AsyncSession) -> None:
    await _violates(
        db, AuditLog(user_id="a", document_type="memo", input_data={}, generated_text={},
                     status="success", tokens_used=-1),
    )


async def test_datetimes_come_back_aware_and_in_utc(db: AsyncSession) -> None:
    plus_two = timezone(timedelta(hours=2))
    stamp = datetime(2026, 5, 1, 14, 30, 15, 123000, tzinfo=plus_two)
    task_id = (await make_task(db, created_at=stamp)).id
    db.expire_all()
    loaded = await db.scalar(select(Task).where(Task.id == task_id))
    assert loaded is not None
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at == stamp
    assert loaded.created_at.utcoffset() == UTC.utcoffset(None)


async def test_naive_datetimes_are_refused(db: AsyncSession) -> None:
    with pytest.raises(Exception, match="naive"):
        await make_task(db, created_at=datetime(2026, 5, 1, 12, 0))


async def test_a_deleted_tasks_id_is_never_given_to_a_new_task(db: AsyncSession) -> None:
    await make_task(db, title="first")
    newest = await make_task(db, title="deleted")
    gone = newest.id
    await db.delete(newest)
    await db.commit()
    replacement = await make_task(db, title="after the delete")
    assert replacement.id > gone


async def test_a_deleted_messages_id_is_never_given_to_a_new_message(db: AsyncSession) -> None:
    conversation = Conversation(user_id="alice")
    db.add(conversation)
    await db.flush()
    newest = Message(conversation_id=conversation.id, role="user", content="deleted")
    db.add(newest)
    await db.flush()
    gone = newest.id
    await db.delete(newest)
    await db.flush()
    replacement = Message(conversation_id=conversation.id, role="user", content="after")
    db.add(replacement)
    await db.flush()
    assert replacement.id > gone
