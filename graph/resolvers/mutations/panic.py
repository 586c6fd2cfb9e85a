"""Panic and grounding mutations: each maps its input to a use case (pressing the button:
`domain.assistant.panics`, which asks the assistant before its write transaction opens;
the others: `domain.panic`, in one transaction) and the rows it answers to the payload."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain import panic as service
from domain.assistant.panics import press_panic
from domain.transactions import Session
from graph.context import Info
from graph.ids import int_ref
from graph.resolvers.mutations.base import in_transaction, mutation
from graph.types import panic_payloads as payloads
from graph.types.panic import GroundingExercise, PanicEvent


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
        event = await press_panic(
            context.db, context.resources.assistant, context.viewer, input.note,
            input.intensity, seconds=context.settings.assistant_timeout_seconds)
        return payloads.PressPanicSuccess(panic_event=PanicEvent.from_model(event))

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
            session: Session, user_id: str
        ) -> payloads.CompleteGroundingExerciseSuccess:
            exercise, event = await service.complete_grounding_exercise(
                session, user_id, int_ref(input.id, "GroundingExercise"))
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
        async def work(session: Session, user_id: str) -> payloads.ResolvePanicEventSuccess:
            event = await service.resolve_panic_event(session, user_id,
                                                      int_ref(input.id, "PanicEvent"))
            return payloads.ResolvePanicEventSuccess(panic_event=PanicEvent.from_model(event))

        return await in_transaction(info, work)
