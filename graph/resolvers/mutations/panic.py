"""Panic and grounding mutations.

`pressPanic` asks the assistant before its write transaction opens, so a slow model never
holds a database connection. The generation's records (its ai_logs row and audit entry) are
written with the event; when the generation or the write fails, alone, so they outlive it.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

import models
from domain import panic as service
from domain.assistant import PanicSupport, generations, grounding, timed
from domain.assistant.generations import Generation
from domain.assistant.grounding import ExerciseChoice
from domain.errors import AssistantUnavailable, NotFound
from domain.validation import Checks
from graph.context import Context, Info
from graph.ids import decode_int
from graph.resolvers.mutations.base import in_transaction, mutation, with_generation
from graph.types import panic_payloads as payloads
from graph.types.panic import GroundingExercise, PanicEvent
from models.panic import EXERCISES_MAX, NOTE_MAX

INTENSITY_MIN, INTENSITY_MAX = 0, 10
# Column limits of grounding_exercises (kind varchar(30), title varchar(200)).
KIND_MAX = 30
EXERCISE_TITLE_MAX = 200


def _assistant_unavailable() -> AssistantUnavailable:
    return AssistantUnavailable("The assistant could not answer; nothing was saved. Try again.")


def _clean(text: object) -> str:
    """Provider text as the database can store it: no NUL, valid UTF-8, trimmed."""
    raw = str(text).replace("\x00", "")
    return raw.encode("utf-8", "replace").decode("utf-8").strip()


def _exercise(choice: object) -> ExerciseChoice | None:
    if not isinstance(choice, ExerciseChoice):
        return None
    kind = _clean(choice.kind)[:KIND_MAX]
    if not kind:
        return None
    return ExerciseChoice(
        kind=kind,
        title=_clean(choice.title)[:EXERCISE_TITLE_MAX],
        instructions=_clean(choice.instructions),
    )


def _usable(result: object, intensity: int | None) -> PanicSupport | None:
    """The provider's answer within the tables' rules, or None when it has no reply.

    Exercises that cannot be stored are dropped, at most EXERCISES_MAX are kept, and an answer
    with none left gets the catalogue's choice: a panicking viewer is never left without one.
    """
    if not isinstance(result, PanicSupport):
        return None
    reply = _clean(result.reply)
    if not reply:
        return None
    exercises = [e for e in map(_exercise, list(result.exercises)[:EXERCISES_MAX]) if e]
    return PanicSupport(reply=reply, exercises=exercises or grounding.choose(intensity))


async def _ask(
    context: Context, note: str | None, intensity: int | None
) -> tuple[PanicSupport | None, Generation]:
    """Ask the assistant with no transaction open (a slow model holds no connection)."""
    await context.db.release()
    prompt = grounding.describe(note, intensity)
    answer = await timed(
        generations.PANIC_RESPONSE, prompt,
        context.resources.assistant.panic_support(note, intensity),
        seconds=context.settings.assistant_timeout_seconds,
    )
    support = _usable(answer.value, intensity)
    call = answer.call
    if support is None and call.error is None:
        call = dataclasses.replace(call, error="the answer held no usable reply")
    generation = Generation(generations.PANIC_RESPONSE, {"note": note, "intensity": intensity},
                            calls=[call], error=call.error)
    if support is not None:
        generation.output = {"reply": support.reply,
                             "exercises": [exercise.kind for exercise in support.exercises]}
    return support, generation


def _checked(input: payloads.PressPanicInput) -> tuple[str | None, int | None, Checks]:
    checks = Checks()
    note = checks.text("note", input.note, max_len=NOTE_MAX, required=False) or None
    intensity = input.intensity
    if intensity is not None and not INTENSITY_MIN <= intensity <= INTENSITY_MAX:
        checks.fail("intensity", f"must be between {INTENSITY_MIN} and {INTENSITY_MAX}")
    return note, intensity, checks


@strawberry.type
class PanicMutations:
    @mutation(
        description=(
            "Press the panic button: stores the event, the assistant's calming reply and an "
            "ordered set of grounding exercises."
        )
    )
    async def press_panic(
        self,
        info: Info,
        input: Annotated[
            payloads.PressPanicInput,
            strawberry.argument(description="An optional note and intensity."),
        ],
    ) -> payloads.PressPanicPayload:
        context = info.context
        context.require_identity()  # before any work, the assistant's included
        note, intensity, checks = _checked(input)
        checks.raise_if_any()
        support, generation = await _ask(context, note, intensity)
        session_id = context.viewer.session_id

        async def work(session: AsyncSession, user_id: str) -> payloads.PressPanicSuccess:
            if support is None:
                raise _assistant_unavailable()
            event = await service.create_event(
                session, user_id=user_id, session_id=session_id,
                note=note, intensity=intensity,
                reply=support.reply, exercises=support.exercises,
            )
            return payloads.PressPanicSuccess(panic_event=PanicEvent.from_model(event))

        return await with_generation(info, generation, work)

    @mutation(
        description="Mark a grounding exercise done; completing it again keeps the first time."
    )
    async def complete_grounding_exercise(
        self,
        info: Info,
        input: Annotated[
            payloads.CompleteGroundingExerciseInput,
            strawberry.argument(description="The exercise to mark done."),
        ],
    ) -> payloads.CompleteGroundingExercisePayload:
        async def work(
            session: AsyncSession, user_id: str
        ) -> payloads.CompleteGroundingExerciseSuccess:
            exercise_id = decode_int(input.id, "GroundingExercise")
            if exercise_id is None:
                raise NotFound(models.GroundingExercise, None, named=input.id)
            exercise = await service.owned_exercise(session, user_id, exercise_id)
            exercise, event = await service.complete_exercise(session, user_id, exercise)
            return payloads.CompleteGroundingExerciseSuccess(
                exercise=GroundingExercise.from_model(exercise),
                panic_event=PanicEvent.from_model(event),
            )

        return await in_transaction(info, work)

    @mutation(
        description="Mark a panic event resolved; resolving it again keeps the first time."
    )
    async def resolve_panic_event(
        self,
        info: Info,
        input: Annotated[
            payloads.ResolvePanicEventInput,
            strawberry.argument(description="The event to mark resolved."),
        ],
    ) -> payloads.ResolvePanicEventPayload:
        async def work(session: AsyncSession, user_id: str) -> payloads.ResolvePanicEventSuccess:
            event_id = decode_int(input.id, "PanicEvent")
            if event_id is None:
                raise NotFound(models.PanicEvent, None, named=input.id)
            event = await service.owned_event(session, user_id, event_id, lock=True)
            event = await service.resolve(session, event)
            return payloads.ResolvePanicEventSuccess(panic_event=PanicEvent.from_model(event))

        return await in_transaction(info, work)
