"""Pressing the panic button, as a use case: the viewer's note and intensity checked, the
assistant's calming reply and exercises, the event stored with them. No GraphQL here.

The assistant is asked before the write transaction opens, so a slow model never holds a
database connection. Its answer is kept within the tables' rules (`usable`). The event, the
generation's ai_logs row and its audit entry are written in one transaction; when there is
no usable answer (or the write fails), the records alone, so they outlive it.
"""

from __future__ import annotations

import dataclasses

from domain import panic
from domain.assistant import Assistant, PanicSupport, generations, grounding, timed
from domain.assistant.generations import Generation
from domain.assistant.grounding import ExerciseChoice
from domain.errors import AssistantUnavailable
from domain.transactions import Session, Transactions
from domain.validation import Checks
from domain.viewers import Viewer
from models import PanicEvent
from models.panic import EXERCISES_MAX, NOTE_MAX

INTENSITY_MIN, INTENSITY_MAX = 0, 10
# Column limits of grounding_exercises (kind varchar(30), title varchar(200)).
KIND_MAX = 30
EXERCISE_TITLE_MAX = 200


async def press_panic(
    db: Transactions, assistant: Assistant, viewer: Viewer, note: str | None,
    intensity: int | None, *, seconds: float | None,
) -> PanicEvent:
    """The viewer's new panic event with the assistant's reply and exercises."""
    if viewer.user_id is None:
        raise ValueError("a panic press needs a viewer with an identity")
    user_id = viewer.user_id
    note = _checked(note, intensity)
    support, generation = await _ask(db, assistant, note, intensity, seconds)

    async def work(session: Session) -> PanicEvent:
        if support is None:
            raise AssistantUnavailable(
                "The assistant could not answer; nothing was saved. Try again.")
        return await panic.create_event(
            session, user_id=user_id, session_id=viewer.session_id, note=note,
            intensity=intensity, reply=support.reply, exercises=support.exercises)

    return await generations.recorded(db, assistant, generation, user_id=user_id,
                                      session_id=viewer.session_id, work=work)


def _checked(note: str | None, intensity: int | None) -> str | None:
    """The note, trimmed (None when blank); every problem of the input at once."""
    checks = Checks()
    text = checks.text("note", note, max_len=NOTE_MAX, required=False) or None
    if intensity is not None and not INTENSITY_MIN <= intensity <= INTENSITY_MAX:
        checks.fail("intensity", f"must be between {INTENSITY_MIN} and {INTENSITY_MAX}")
    checks.raise_if_any()
    return text


async def _ask(
    db: Transactions, assistant: Assistant, note: str | None, intensity: int | None,
    seconds: float | None,
) -> tuple[PanicSupport | None, Generation]:
    """Ask the assistant with no transaction open (a slow model holds no connection)."""
    await db.release()
    prompt = grounding.describe(note, intensity)
    answer = await timed(generations.PANIC_RESPONSE, prompt,
                         assistant.panic_support(note, intensity), seconds=seconds)
    support = usable(answer.value, intensity)
    call = answer.call
    if support is None and call.error is None:
        call = dataclasses.replace(call, error="the answer held no usable reply")
    generation = Generation(generations.PANIC_RESPONSE, {"note": note, "intensity": intensity},
                            calls=[call], error=call.error)
    if support is not None:
        generation.output = {"reply": support.reply,
                             "exercises": [exercise.kind for exercise in support.exercises]}
    return support, generation


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


def usable(result: object, intensity: int | None) -> PanicSupport | None:
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
