"""Inputs and payload unions of the panic and grounding mutations."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry

from graph.types.errors import AssistantError, NotFoundError, ValidationError, payload_union
from graph.types.panic import GroundingExercise, PanicEvent


@strawberry.input(description="A press of the panic button; both fields are optional.")
class PressPanicInput:
    note: str | None = strawberry.field(default=None, description=(
        "What is happening, in the viewer's words; up to 2,000 characters, blank counts as null."
    ))
    intensity: int | None = strawberry.field(default=None, description=(
        "How strong it feels, 0 (calm) to 10 (overwhelming); it picks the exercises."
    ))


@strawberry.input(description="The grounding exercise to mark done.")
class CompleteGroundingExerciseInput:
    id: strawberry.ID = strawberry.field(
        description="The exercise's global id (`GroundingExercise.id`)."
    )


@strawberry.input(description="The panic event to mark resolved.")
class ResolvePanicEventInput:
    id: strawberry.ID = strawberry.field(description="The event's global id (`PanicEvent.id`).")


@strawberry.type(description="The event was stored with the reply and its exercises.")
class PressPanicSuccess:
    panic_event: PanicEvent = strawberry.field(description="The new event.")


@strawberry.type(description="The exercise is marked done (since its first completion).")
class CompleteGroundingExerciseSuccess:
    exercise: GroundingExercise = strawberry.field(description="The exercise as it is now.")
    panic_event: PanicEvent = strawberry.field(description="The event the exercise belongs to.")


@strawberry.type(description="The event is marked resolved (since its first resolution).")
class ResolvePanicEventSuccess:
    panic_event: PanicEvent = strawberry.field(description="The event as it is now.")


PressPanicPayload: TypeAlias = Annotated[
    PressPanicSuccess | ValidationError | AssistantError,
    payload_union("PressPanicPayload", "pressPanic"),
]
CompleteGroundingExercisePayload: TypeAlias = Annotated[
    CompleteGroundingExerciseSuccess | NotFoundError,
    payload_union("CompleteGroundingExercisePayload", "completeGroundingExercise"),
]
ResolvePanicEventPayload: TypeAlias = Annotated[
    ResolvePanicEventSuccess | NotFoundError,
    payload_union("ResolvePanicEventPayload", "resolvePanicEvent"),
]
