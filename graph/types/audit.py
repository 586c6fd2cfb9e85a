"""The audit log: AuditLog, its analytics, and the inputs and payload of `recordGeneration`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, TypeAlias

import strawberry
from sqlalchemy import Select
from strawberry import relay

import models
from domain import audit as service
from graph.execution.database import RequestDatabase
from graph.types.errors import ValidationError, payload_union
from graph.types.scalars import JSONObject

# Token sums can pass GraphQL's 32-bit Int; a Float is exact for integers up to 2^53.
_TOKENS_NOTE = (
    "Tokens used, summed (rows without a count add 0). A Float because a sum can exceed the "
    "32-bit Int; always a whole number."
)


@strawberry.enum(description="How a document generation ended.")
class AuditStatus(Enum):
    _value_: str  # for mypy: `.value` is this text; enum_value() only adds a description
    SUCCESS = strawberry.enum_value("success", description="A document was generated.")
    ERROR = strawberry.enum_value("error", description="The generation failed; see errorMessage.")


@strawberry.type(description="One recorded document generation. Never changed or deleted.")
class AuditLog(relay.Node):
    id: relay.NodeID[str]
    user_id: strawberry.ID = strawberry.field(
        description="Who ran the generation: the user id (a token's `sub`), not a global id."
    )
    document_type: str = strawberry.field(
        description="What kind of document, 1..100 characters (e.g. `treatment_summary`)."
    )
    document_version: str = strawberry.field(
        description="The document template's version, 1..20 characters."
    )
    input_data: JSONObject = strawberry.field(description="What was asked, at most 64 KiB.")
    generated_text: JSONObject = strawberry.field(
        description="What was generated, at most 64 KiB."
    )
    model_used: str = strawberry.field(description="The model's name, 1..100 characters.")
    tokens_used: int | None = strawberry.field(
        description="Tokens the generation used, 0 or more; null when not reported."
    )
    generation_time_ms: int | None = strawberry.field(
        description="How long it took, in milliseconds; null when not reported."
    )
    status: AuditStatus = strawberry.field(description="How it ended.")
    error_message: str | None = strawberry.field(
        description="Why it failed (always set for ERROR); up to 10,000 characters."
    )
    created_at: datetime = strawberry.field(description="When it was recorded.")

    @classmethod
    def from_model(cls, log: models.AuditLog) -> AuditLog:
        return cls(
            id=log.id,
            user_id=strawberry.ID(log.user_id),
            document_type=log.document_type,
            document_version=log.document_version,
            input_data=JSONObject(log.input_data),
            generated_text=JSONObject(log.generated_text),
            model_used=log.model_used,
            tokens_used=log.tokens_used,
            generation_time_ms=log.generation_time_ms,
            status=AuditStatus(log.status),
            error_message=log.error_message,
            created_at=log.created_at,
        )




# Inputs -------------------------------------------------------------------------------------


@strawberry.input(description="All given conditions must hold; both instants are exclusive.")
class AuditLogFilter:
    document_type: str | None = strawberry.field(
        default=None, description="Exactly this document type; at most 100 characters."
    )
    status: AuditStatus | None = strawberry.field(default=None, description="Only this status.")
    created_after: datetime | None = strawberry.field(
        default=None, description="Recorded strictly after this instant (an offset is required)."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Recorded strictly before this instant (an offset is required)."
    )
    user_id: strawberry.ID | None = strawberry.field(default=None, description=(
        "Admins only: this user's rows instead of the viewer's (FORBIDDEN otherwise). A user "
        "id (a token's `sub`, at most 255 characters), not a global id."
    ))


@strawberry.input(description=(
    "All given conditions must hold; both instants are exclusive. The same as AuditLogFilter."
))
class AuditStatsFilter(AuditLogFilter):
    pass


@strawberry.input(description="One document generation to append to the audit log.")
class RecordGenerationInput:
    document_type: str = strawberry.field(
        description="What kind of document, 1..100 characters (e.g. `treatment_summary`)."
    )
    input_data: JSONObject = strawberry.field(
        description="What was asked: a JSON object of at most 64 KiB serialized."
    )
    generated_text: JSONObject = strawberry.field(
        description="What was generated: a JSON object of at most 64 KiB serialized."
    )
    status: AuditStatus = strawberry.field(
        default=AuditStatus.SUCCESS, description="How it ended; SUCCESS unless given."
    )
    document_version: str = strawberry.field(
        default="1.0", description="The template's version, 1..20 characters."
    )
    model_used: str = strawberry.field(
        default="gpt-4o", description="The model's name, 1..100 characters."
    )
    tokens_used: int | None = strawberry.field(
        default=None, description="Tokens used, zero or more; null when unknown."
    )
    generation_time_ms: int | None = strawberry.field(
        default=None, description="Milliseconds it took, zero or more; null when unknown."
    )
    error_message: str | None = strawberry.field(default=None, description=(
        "Up to 10,000 characters; required (not blank) when status is ERROR, kept if given "
        "with SUCCESS."
    ))


# Payloads -----------------------------------------------------------------------------------


@strawberry.type(description="The generation was appended to the audit log.")
class RecordGenerationSuccess:
    audit_log: AuditLog = strawberry.field(description="The new row.")


RecordGenerationPayload: TypeAlias = Annotated[
    RecordGenerationSuccess | ValidationError,
    payload_union("RecordGenerationPayload", "recordGeneration"),
]


# Analytics ----------------------------------------------------------------------------------


@strawberry.type(description="Figures for one document type.")
class AuditDocumentTypeStats:
    document_type: str = strawberry.field(description="The document type.")
    count: int = strawberry.field(description="Rows of this type.")
    error_count: int = strawberry.field(description="Of those, the ERROR rows.")
    error_rate: float = strawberry.field(
        description="The share of errors, errorCount / count (0..1)."
    )
    avg_generation_time_ms: float | None = strawberry.field(
        description="Mean milliseconds of the successes that report a time; null with none."
    )

    @classmethod
    def of(cls, figures: service.DocumentTypeFigures) -> AuditDocumentTypeStats:
        return cls(
            document_type=figures.document_type,
            count=figures.count,
            error_count=figures.error_count,
            error_rate=service.error_rate(figures.error_count, figures.count),
            avg_generation_time_ms=figures.avg_generation_time_ms,
        )


@strawberry.type(description="Figures for one calendar day in UTC.")
class AuditDayStats:
    day: date = strawberry.field(description="The UTC date, e.g. 2024-05-01.")
    count: int = strawberry.field(description="Rows recorded that day.")
    error_count: int = strawberry.field(description="Of those, the ERROR rows.")


@strawberry.type(description="Figures for one user (admins only).")
class AuditUserStats:
    user_id: strawberry.ID = strawberry.field(
        description="The user id (a token's `sub`), not a global id."
    )
    count: int = strawberry.field(description="That user's rows.")
    error_count: int = strawberry.field(description="Of those, the ERROR rows.")
    total_tokens: float = strawberry.field(description=_TOKENS_NOTE)


@strawberry.type(description="Audit log figures over the filtered rows, computed in the database.")
class AuditStats:
    total: int = strawberry.field(description="Rows matching the filter.")
    success_count: int = strawberry.field(description="Of those, the SUCCESS rows.")
    error_count: int = strawberry.field(description="Of those, the ERROR rows.")
    error_rate: float = strawberry.field(
        description="The share of errors, errorCount / total (0..1); 0 when total is 0."
    )
    avg_generation_time_ms: float | None = strawberry.field(
        description="Mean milliseconds of the successes that report a time; null with none."
    )
    total_tokens: float = strawberry.field(description=_TOKENS_NOTE)
    _db: strawberry.Private[RequestDatabase]
    _rows: strawberry.Private[Select[Any]]
    _everyone: strawberry.Private[Callable[[], Select[Any]]]

    @classmethod
    async def compute(
        cls, db: RequestDatabase, rows: Select[Any], everyone: Callable[[], Select[Any]]
    ) -> AuditStats:
        """`rows` is the viewer's (or the named user's) scope; `everyone` builds the admin's
        cross-user scope for `byUser`, and refuses anyone else."""
        totals = await service.totals(db, rows)
        return cls(
            total=totals.total,
            success_count=totals.success_count,
            error_count=totals.error_count,
            error_rate=service.error_rate(totals.error_count, totals.total),
            avg_generation_time_ms=totals.avg_generation_time_ms,
            total_tokens=float(totals.total_tokens),
            _db=db,
            _rows=rows,
            _everyone=everyone,
        )

    @strawberry.field(description="Per document type, most used first (ties by name).")
    async def by_document_type(self) -> list[AuditDocumentTypeStats]:
        return [AuditDocumentTypeStats.of(f) for f in await service.by_document_type(
            self._db, self._rows
        )]

    @strawberry.field(description="Per UTC day with at least one row, oldest first.")
    async def by_day(self) -> list[AuditDayStats]:
        return [
            AuditDayStats(day=f.day, count=f.count, error_count=f.error_count)
            for f in await service.by_day(self._db, self._rows)
        ]

    @strawberry.field(
        description="Admins only (FORBIDDEN otherwise): per user, most active first; across "
        "all users unless the filter names one."
    )
    async def by_user(self) -> list[AuditUserStats] | None:
        rows = self._everyone()
        return [
            AuditUserStats(
                user_id=strawberry.ID(f.user_id), count=f.count, error_count=f.error_count,
                total_tokens=float(f.total_tokens),
            )
            for f in await service.by_user(self._db, rows)
        ]
