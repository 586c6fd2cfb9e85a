"""PanicEvent and GroundingExercise, mapped from their models, and the filter and order
inputs of the events' list; exercises come through loaders."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry import relay

import models
from domain import lists
from graph.context import Info
from graph.execution.keyset import SortColumn
from graph.types.ordering import (
    NO_VALUE_LAST,
    TIES,
    OrderDirection,
    SortKey,
    after,
    before,
    keyset_sort,
)


@strawberry.type(description="One grounding exercise offered for a panic event.")
class GroundingExercise(relay.Node):
    id: relay.NodeID[int]
    kind: str = strawberry.field(
        description=(
            "What sort of exercise: breathing, paced_breathing, five_senses, body_scan, "
            "cold_water, naming_objects, muscle_release; the catalogue may grow."
        )
    )
    title: str | None = strawberry.field(
        description="Its short name, e.g. `Box breathing`; null if none was stored."
    )
    instructions: str | None = strawberry.field(
        description="What to do, in a few sentences; null if none was stored."
    )
    position: int = strawberry.field(description="Where it comes in the event's order, 1..n.")
    created_at: datetime = strawberry.field(description="When it was offered (with its event).")
    completed_at: datetime | None = strawberry.field(
        description="When it was first marked done; completing again keeps this time."
    )
    _panic_event_id: strawberry.Private[int]

    @classmethod
    def from_model(cls, exercise: models.GroundingExercise) -> GroundingExercise:
        return cls(
            id=exercise.id,
            kind=exercise.kind,
            title=exercise.title,
            instructions=exercise.instructions,
            position=exercise.position,
            created_at=exercise.created_at,
            completed_at=exercise.completed_at,
            _panic_event_id=exercise.panic_event_id,
        )

    @strawberry.field(description="Whether it has been marked done.")
    def completed(self) -> bool:
        return self.completed_at is not None

    @strawberry.field(description="The panic event it was offered for.")
    async def panic_event(self, info: Info) -> PanicEvent:
        model = await info.context.loaders.by_id(models.PanicEvent).load(self._panic_event_id)
        if model is None:  # the exercise was read in this request, so its event is the viewer's
            raise LookupError(f"panic event {self._panic_event_id} vanished during the request")
        return PanicEvent.from_model(model)



@strawberry.type(description="A press of the panic button, with the assistant's calming reply.")
class PanicEvent(relay.Node):
    id: relay.NodeID[int]
    note: str | None = strawberry.field(
        description="What the viewer typed, up to 2,000 characters; null if nothing."
    )
    intensity: int | None = strawberry.field(description="How strong it felt, 0..10, if given.")
    ai_response: str | None = strawberry.field(
        description="The assistant's calming reply; null if none was stored."
    )
    created_at: datetime = strawberry.field(description="When the button was pressed.")
    resolved_at: datetime | None = strawberry.field(
        description="When it was first marked resolved; resolving again keeps this time."
    )

    @classmethod
    def from_model(cls, event: models.PanicEvent) -> PanicEvent:
        return cls(
            id=event.id,
            note=event.note,
            intensity=event.intensity,
            ai_response=event.ai_response,
            created_at=event.created_at,
            resolved_at=event.resolved_at,
        )

    @strawberry.field(description="Whether it has been marked resolved.")
    def resolved(self) -> bool:
        return self.resolved_at is not None

    @strawberry.field(
        description="The grounding exercises offered (at most 8), in position order."
    )
    async def exercises(self, info: Info) -> list[GroundingExercise]:
        rows = await info.context.loaders.exercises.load(self.id)
        return [GroundingExercise.from_model(row) for row in rows]


@strawberry.enum(description=f"What panic events are sorted by; {TIES}.")
class PanicEventOrderField(Enum):
    _value_: str  # for mypy: `.value` is this text; enum_value() only adds a description
    CREATED_AT = strawberry.enum_value("created_at", description="When each was pressed.")
    INTENSITY = strawberry.enum_value("intensity", description=(
        f"How strong each felt (0..10); some were pressed without an intensity: "
        f"{NO_VALUE_LAST}."
    ))


@strawberry.input(description=f"Panic event ordering; {TIES}.")
class PanicEventOrder:
    field: PanicEventOrderField = strawberry.field(
        default=PanicEventOrderField.CREATED_AT, description="What to sort by; CREATED_AT."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC,
        description="Which way; DESC (newest, or strongest, first) by default.",
    )


@strawberry.input(description="All given conditions must hold; null or omitted ones do not apply.")
class PanicEventFilter:
    resolved: bool | None = strawberry.field(
        default=None, description="True: only resolved events; false: only unresolved ones."
    )
    created_after: datetime | None = strawberry.field(default=None, description=after("Pressed"))
    created_before: datetime | None = strawberry.field(
        default=None, description=before("Pressed")
    )
    intensity_above: int | None = strawberry.field(default=None, description=(
        "Intensity strictly above this (exclusive: 6 matches 7..10); events without an "
        "intensity never match a bound."
    ))
    intensity_below: int | None = strawberry.field(default=None, description=(
        "Intensity strictly below this (exclusive: 4 matches 0..3); events without an "
        "intensity never match a bound."
    ))

    def checked(self) -> lists.PanicEventFilter:
        return lists.PanicEventFilter(
            resolved=self.resolved,
            created_after=lists.aware("createdAfter", self.created_after),
            created_before=lists.aware("createdBefore", self.created_before),
            intensity_above=self.intensity_above,
            intensity_below=self.intensity_below,
        )


_KEYS = {
    PanicEventOrderField.CREATED_AT: SortKey(models.PanicEvent.created_at, datetime),
    PanicEventOrderField.INTENSITY: SortKey(models.PanicEvent.intensity, int, nullable=True),
}
_ID = SortKey(models.PanicEvent.id, int)


def panic_event_sort(order: PanicEventOrder | None) -> tuple[SortColumn, ...]:
    order = order or PanicEventOrder()
    return keyset_sort(_KEYS[order.field], order.direction, _ID)
