"""The audit log: AuditLog, its analytics, and the inputs and payload of `recordGeneration`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, TypeAlias
from zoneinfo import ZoneInfo

import strawberry
from sqlalchemy import Select, func, select
from strawberry import relay

import models
from domain import audit as service
from graph.execution.database import RequestDatabase
from graph.execution.keyset import SortColumn, paginate
from graph.execution.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    Page,
    build_connection,
    window,
)
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


@strawberry.enum(description=(
    "Who recorded a generation, so analytics can tell a recorded fact from a client's claim."
))
class AuditSource(Enum):
    _value_: str
    SERVER = strawberry.enum_value("server", description=(
        "The server, about a generation it made itself (a breakdown, a chat turn, panic "
        "support): its figures are measured, not claimed."
    ))
    CLIENT = strawberry.enum_value("client", description=(
        "A client, through recordGeneration, about a generation made elsewhere: its claim. "
        "Every entry recorded before sources were kept is one."
    ))


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
    source: AuditSource = strawberry.field(
        description="Who recorded it: the server (a fact) or a client (a claim)."
    )

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
            source=AuditSource(log.source),
        )


# Inputs -------------------------------------------------------------------------------------


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


# Analytics ---------------------------------------------------------------------------------

# Every group (document type, day, user) has the same figures as the totals, over its rows.
_SUCCESSES = "Of those, the SUCCESS rows."
_ERRORS = "Of those, the ERROR rows."
_ERROR_RATE = "The share of errors, errorCount / count (0..1)."
_AVERAGE = "Mean milliseconds of the successes that report a time; null with none."


def _figures(figures: service.Figures) -> dict[str, Any]:
    """A group's figures as the keyword arguments its type takes."""
    return {
        "count": figures.count,
        "success_count": figures.success_count,
        "error_count": figures.error_count,
        "error_rate": figures.error_rate,
        "avg_generation_time_ms": figures.avg_generation_time_ms,
        "total_tokens": float(figures.total_tokens),
    }


@strawberry.type(description="Figures for one document type.")
class AuditDocumentTypeStats:
    document_type: str = strawberry.field(description="The document type.")
    count: int = strawberry.field(description="Rows of this type.")
    success_count: int = strawberry.field(description=_SUCCESSES)
    error_count: int = strawberry.field(description=_ERRORS)
    error_rate: float = strawberry.field(description=_ERROR_RATE)
    avg_generation_time_ms: float | None = strawberry.field(description=_AVERAGE)
    total_tokens: float = strawberry.field(description=_TOKENS_NOTE)


@strawberry.type(description=(
    "Figures for one calendar day in the time zone `auditStats(timeZone:)` names (UTC unless "
    "given)."
))
class AuditDayStats:
    day: date = strawberry.field(description="The date in that time zone, e.g. 2024-05-01.")
    count: int = strawberry.field(description="Rows recorded that day.")
    success_count: int = strawberry.field(description=_SUCCESSES)
    error_count: int = strawberry.field(description=_ERRORS)
    error_rate: float = strawberry.field(description=_ERROR_RATE)
    avg_generation_time_ms: float | None = strawberry.field(description=_AVERAGE)
    total_tokens: float = strawberry.field(description=_TOKENS_NOTE)


@strawberry.type(description="Figures for one user (admins only).")
class AuditUserStats:
    user_id: strawberry.ID = strawberry.field(
        description="The user id (a token's `sub`), not a global id."
    )
    count: int = strawberry.field(description="That user's rows matching the filter.")
    success_count: int = strawberry.field(description=_SUCCESSES)
    error_count: int = strawberry.field(description=_ERRORS)
    error_rate: float = strawberry.field(description=_ERROR_RATE)
    avg_generation_time_ms: float | None = strawberry.field(description=_AVERAGE)
    total_tokens: float = strawberry.field(description=_TOKENS_NOTE)

    @classmethod
    def of(cls, row: Any) -> AuditUserStats:
        """A row of `service.per_user`."""
        figures = service.UserFigures.of(row)
        return cls(user_id=strawberry.ID(figures.user_id), **_figures(figures.figures))


@dataclass(frozen=True)
class StatsScope:
    """What AuditStats reads: the rows the viewer may read (`rows`, scoped and filtered),
    and how to build the admin-only rows for `byUser` (`per_user`, which refuses anyone
    else, so the refusal lands on that field alone)."""

    db: RequestDatabase
    rows: Select[Any]
    per_user: Callable[[], Select[Any]]
    max_page_size: int
    zone: ZoneInfo


async def _user_page(stats: StatsScope, asked: Page) -> Connection[AuditUserStats]:
    """A keyset page of `service.per_user` over the admin's rows: the page and (only if
    asked) the number of users, each one statement; every figure comes from the database."""
    figures = service.per_user(stats.per_user())
    # Most rows first, then by user id; the cursor holds both (the user id is unique).
    sort = (
        SortColumn(figures.c["count"], descending=True, kind=int),
        SortColumn(figures.c.user_id, kind=str),
    )
    page = window(sort, first=asked.first, after=asked.after, last=asked.last,
                  before=asked.before, max_size=stats.max_page_size)
    rows = await stats.db.rows(paginate(select(figures), sort, page))

    async def count() -> int:
        return int(await stats.db.scalar(select(func.count()).select_from(figures)) or 0)

    return build_connection(
        rows, page, cursor_of=lambda row: (row._mapping["count"], row.user_id),
        to_node=AuditUserStats.of, count=count,
    )


@strawberry.type(description=(
    "Audit log figures over the filtered rows, computed in the database: the viewer's own; "
    "an admin's cover every user, or the one `filter.userId` names."
))
class AuditStats:
    count: int = strawberry.field(description="Rows matching the filter.")
    total: int = strawberry.field(
        description="Rows matching the filter: the same as `count`.",
        deprecation_reason="Use `count`, the name every group's figures use; removed in 0.3.0.",
    )
    success_count: int = strawberry.field(description=_SUCCESSES)
    error_count: int = strawberry.field(description=_ERRORS)
    error_rate: float = strawberry.field(
        description="The share of errors, errorCount / count (0..1); 0 when count is 0."
    )
    avg_generation_time_ms: float | None = strawberry.field(description=_AVERAGE)
    total_tokens: float = strawberry.field(description=_TOKENS_NOTE)
    _scope: strawberry.Private[StatsScope]

    @classmethod
    async def compute(cls, scope: StatsScope) -> AuditStats:
        figures = _figures(await service.totals(scope.db, scope.rows))
        return cls(total=figures["count"], **figures, _scope=scope)

    @strawberry.field(description="Per document type, most used first (ties by name).")
    async def by_document_type(self) -> list[AuditDocumentTypeStats]:
        groups = await service.by_document_type(self._scope.db, self._scope.rows)
        return [
            AuditDocumentTypeStats(document_type=group.document_type, **_figures(group.figures))
            for group in groups
        ]

    @strawberry.field(description=(
        "Per calendar day with at least one row, oldest first, in the time zone "
        "`auditStats(timeZone:)` names (UTC unless given): the same rows land on the same "
        "days on every database, across daylight-saving changes too."
    ))
    async def by_day(self) -> list[AuditDayStats]:
        groups = await service.by_day(self._scope.db, self._scope.rows, self._scope.zone)
        return [AuditDayStats(day=group.day, **_figures(group.figures)) for group in groups]

    @strawberry.field(description=(
        "Admins only (FORBIDDEN otherwise; null then, and the other figures still arrive): "
        "the same figures per user over the same rows (every user's, or only the one "
        "`filter.userId` names), paged. Ordered by count, most rows first, then by user id "
        "(ascending)."
    ))
    async def by_user(
        self, first: First = None, after: After = None, last: Last = None,
        before: Before = None,
    ) -> Connection[AuditUserStats] | None:
        return await _user_page(self._scope, Page(first, after, last, before))
