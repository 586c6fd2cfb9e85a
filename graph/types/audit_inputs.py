"""Inputs of the audit log's list and figures: which rows (`AuditLogFilter`, the same for
`AuditStatsFilter`) and in what order (`AuditLogOrder`)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

import models
from graph.execution.keyset import SortColumn
from graph.types.audit import AuditSource, AuditStatus
from graph.types.ordering import (
    NO_VALUE_LAST,
    TIES,
    OrderDirection,
    SortKey,
    after,
    before,
    keyset_sort,
)


@strawberry.input(description="All given conditions must hold; both instants are exclusive.")
class AuditLogFilter:
    document_type: str | None = strawberry.field(
        default=None, description="Exactly this document type; at most 100 characters."
    )
    status: AuditStatus | None = strawberry.field(default=None, description="Only this status.")
    source: AuditSource | None = strawberry.field(
        default=None, description="Only entries from this source."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description=after("Recorded")
    )
    created_before: datetime | None = strawberry.field(
        default=None, description=before("Recorded")
    )
    user_id: strawberry.ID | None = strawberry.field(default=None, description=(
        "Only this user's rows. Admins may name anyone (without it they see every user's); "
        "anyone else only themselves (another id is FORBIDDEN). A user id (a token's `sub`, "
        "at most 255 characters), not a global id."
    ))


@strawberry.enum(description=f"What audit log entries are sorted by; {TIES}.")
class AuditLogOrderField(Enum):
    _value_: str  # for mypy: `.value` is this text; enum_value() only adds a description
    CREATED_AT = strawberry.enum_value("created_at", description="When each was recorded.")
    GENERATION_TIME_MS = strawberry.enum_value("generation_time_ms", description=(
        f"How long each generation took (DESC: the slowest first); some report no time: "
        f"{NO_VALUE_LAST}."
    ))
    TOKENS_USED = strawberry.enum_value("tokens_used", description=(
        f"Tokens each used (DESC: the most expensive first); some report no count: "
        f"{NO_VALUE_LAST}."
    ))


@strawberry.input(description=f"Audit log ordering; {TIES}.")
class AuditLogOrder:
    field: AuditLogOrderField = strawberry.field(
        default=AuditLogOrderField.CREATED_AT, description="What to sort by; CREATED_AT."
    )
    direction: OrderDirection = strawberry.field(
        default=OrderDirection.DESC, description="Which way; DESC (newest, largest) by default."
    )


_ORDER_KEYS = {
    AuditLogOrderField.CREATED_AT: SortKey(models.AuditLog.created_at, datetime),
    AuditLogOrderField.GENERATION_TIME_MS: SortKey(
        models.AuditLog.generation_time_ms, int, nullable=True
    ),
    AuditLogOrderField.TOKENS_USED: SortKey(models.AuditLog.tokens_used, int, nullable=True),
}
_ID = SortKey(models.AuditLog.id, str)


def audit_log_sort(order: AuditLogOrder | None) -> tuple[SortColumn, ...]:
    order = order or AuditLogOrder()
    return keyset_sort(_ORDER_KEYS[order.field], order.direction, _ID)


@strawberry.input(description=(
    "All given conditions must hold; both instants are exclusive. The same as AuditLogFilter."
))
class AuditStatsFilter(AuditLogFilter):
    pass
