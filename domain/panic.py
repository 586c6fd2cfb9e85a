"""Panic and grounding writes, each run inside the caller's transaction, and the use cases
of marking an exercise done and an event resolved (pressing the button is the assistant's:
`domain.assistant.panics`).

Reads of the viewer's rows go through `domain.scope`. Marking an exercise completed or an
event resolved is idempotent: the row is locked first (FOR UPDATE on PostgreSQL; SQLite's
write transactions are exclusive already), so of two concurrent calls the second sees the
first one's time and keeps it. Each change is staged for live delivery (`domain.events`):
a press, an exercise's first completion, an event's first resolution.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from domain import scope
from domain.assistant.grounding import ExerciseChoice
from domain.errors import NotFound, Ref
from domain.events import EventKind, stage
from domain.sessions import known_visit
from models import GroundingExercise, PanicEvent
from models.base import utcnow


async def create_event(
    session: AsyncSession,
    *,
    user_id: str,
    session_id: str | None,
    note: str | None,
    intensity: int | None,
    reply: str,
    exercises: list[ExerciseChoice],
) -> PanicEvent:
    """The event and its exercises, numbered 1..n in the order given."""
    now = utcnow()
    event = PanicEvent(
        user_id=user_id,
        session_id=await known_visit(session, session_id),
        note=note,
        intensity=intensity,
        ai_response=reply,
        created_at=now,
    )
    session.add(event)
    await session.flush()
    session.add_all(
        GroundingExercise(
            panic_event_id=event.id,
            kind=choice.kind,
            title=choice.title,
            instructions=choice.instructions,
            position=position,
            created_at=now,
        )
        for position, choice in enumerate(exercises, start=1)
    )
    await session.flush()
    stage(session, EventKind.PANIC_PRESSED, user_id, event)
    return event


async def owned_event(
    session: AsyncSession, user_id: str, event_id: int, *, lock: bool = False
) -> PanicEvent:
    statement = (
        scope.owned(PanicEvent, user_id)
        .where(PanicEvent.id == event_id)
        .execution_options(populate_existing=True)
    )
    if lock:
        statement = statement.with_for_update(of=PanicEvent)
    event: PanicEvent | None = await session.scalar(statement)
    if event is None:
        raise NotFound(PanicEvent, event_id)
    return event


async def owned_exercise(
    session: AsyncSession, user_id: str, exercise_id: int
) -> GroundingExercise:
    """The viewer's exercise, locked for this transaction (its event is not locked)."""
    statement = (
        scope.owned(GroundingExercise, user_id)
        .where(GroundingExercise.id == exercise_id)
        .with_for_update(of=GroundingExercise)
        .execution_options(populate_existing=True)
    )
    exercise: GroundingExercise | None = await session.scalar(statement)
    if exercise is None:
        raise NotFound(GroundingExercise, exercise_id)
    return exercise


async def resolve(session: AsyncSession, event: PanicEvent) -> PanicEvent:
    if event.resolved_at is None:
        event.resolved_at = utcnow()
        await session.flush()
        stage(session, EventKind.PANIC_RESOLVED, event.user_id, event)
    return event


async def complete_exercise(
    session: AsyncSession, user_id: str, exercise: GroundingExercise
) -> tuple[GroundingExercise, PanicEvent]:
    """Mark the exercise done (once; announced then) and answer it with its event."""
    if exercise.completed_at is None:
        exercise.completed_at = utcnow()
        await session.flush()
        stage(session, EventKind.EXERCISE_COMPLETED, user_id, exercise)
    event = await owned_event(session, user_id, exercise.panic_event_id)
    return exercise, event


async def complete_grounding_exercise(
    session: AsyncSession, user_id: str, exercise: Ref[int]
) -> tuple[GroundingExercise, PanicEvent]:
    """The viewer's exercise marked done (the first time kept), with its event."""
    found = await owned_exercise(session, user_id, exercise.key_of(GroundingExercise))
    return await complete_exercise(session, user_id, found)


async def resolve_panic_event(session: AsyncSession, user_id: str, event: Ref[int]) -> PanicEvent:
    """The viewer's event marked resolved (the first time kept)."""
    found = await owned_event(session, user_id, event.key_of(PanicEvent), lock=True)
    return await resolve(session, found)
