"""Inputs and payload unions of the panic and grounding mutations."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry

from graph.types.errors import AssistantError, NotFoundError, ValidationError
from graph.types.panic import GroundingExercise, PanicEvent


@strawberry.input
class PressPanicInput:
    note: str | None = strawberry.field(
        default=None, description="What is happening, in the viewer's words; up to 2,000 chars."
    )
    intensity: int | None = strawberry.field(
        default=None, description="How strong it feels, 0 (calm) to 10 (overwhelming)."
    )


@strawberry.input
class CompleteGroundingExerciseInput:
    id: strawberry.ID


@strawberry.input
class ResolvePanicEventInput:
    id: strawberry.ID


@strawberry.type
class PressPanicSuccess:
    panic_event: PanicEvent


@strawberry.type
class CompleteGroundingExerciseSuccess:
    exercise: GroundingExercise
    panic_event: PanicEvent = strawberry.field(description="The event the exercise belongs to.")


@strawberry.type
class ResolvePanicEventSuccess:
    panic_event: PanicEvent


PressPanicPayload: TypeAlias = Annotated[
    PressPanicSuccess | ValidationError | AssistantError, strawberry.union("PressPanicPayload")
]
CompleteGroundingExercisePayload: TypeAlias = Annotated[
    CompleteGroundingExerciseSuccess | NotFoundError,
    strawberry.union("CompleteGroundingExercisePayload"),
]
ResolvePanicEventPayload: TypeAlias = Annotated[
    ResolvePanicEventSuccess | NotFoundError, strawberry.union("ResolvePanicEventPayload")
]
