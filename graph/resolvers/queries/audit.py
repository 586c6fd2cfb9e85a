"""`auditLogs` and `auditStats`.

Scope (`domain.scope.audit_logs`, the one place, through `domain.audit.readable`): a
non-admin reads their own rows (naming another user with `filter.userId` is FORBIDDEN); an
admin reads every user's, or the named user's, and alone gets `auditStats.byUser`.
`node(id)` is not part of this: it answers only the viewer's own logs, admins included.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

import strawberry

from domain import audit as service
from domain import days, lists
from graph.context import Info
from graph.execution.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    Page,
    fetch_connection,
)
from graph.types.audit import AuditLog, AuditStats, StatsScope
from graph.types.audit_inputs import (
    AuditLogFilter,
    AuditLogOrder,
    AuditStatsFilter,
    audit_log_sort,
)


def _conditions(where: AuditLogFilter | None) -> service.LogFilter:
    if where is None:
        return service.LogFilter()
    return service.LogFilter(
        document_type=lists.plain("documentType", where.document_type),
        status=where.status.value if where.status is not None else None,
        source=where.source.value if where.source is not None else None,
        created_after=lists.aware("createdAfter", where.created_after),
        created_before=lists.aware("createdBefore", where.created_before),
    )


def _named_user(where: AuditLogFilter | None) -> str | None:
    return lists.plain("userId", where.user_id) if where is not None else None


@strawberry.type
class AuditQueries:
    @strawberry.field(description=(
        "The audit log, newest first unless ordered otherwise: the viewer's own; an admin's "
        "lists every user's, or the user `filter.userId` names."
    ))
    async def audit_logs(
        self,
        info: Info,
        filter: Annotated[AuditLogFilter | None, strawberry.argument(
            description="Which rows; null or omitted: all the viewer may read."
        )] = None,
        order_by: Annotated[AuditLogOrder | None, strawberry.argument(
            description="The order; null or omitted: newest first (CREATED_AT, DESC)."
        )] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AuditLog]:
        context = info.context
        context.require_identity()
        # Not `owned_connection`: it primes the by-id loader that `node` reads, and an
        # admin's page holds other users' rows, which `node` must keep answering as null.
        rows = service.readable(context.viewer, _named_user(filter), partial(_conditions, filter))
        return await fetch_connection(
            context.db, rows, audit_log_sort(order_by), AuditLog.from_model,
            Page(first, after, last, before), max_size=context.settings.max_page_size,
        )

    @strawberry.field(description=(
        "Figures over the audit log, filtered: the viewer's own; an admin's cover every "
        "user, or the user `filter.userId` names."
    ))
    async def audit_stats(
        self, info: Info,
        filter: Annotated[AuditStatsFilter | None, strawberry.argument(
            description="Which rows to count; null or omitted: all the viewer may read."
        )] = None,
        time_zone: Annotated[str, strawberry.argument(description=(
            "The IANA time zone `byDay` takes its days in, e.g. `Europe/Paris`, at most 64 "
            "characters; an unknown name is a BAD_USER_INPUT error."
        ))] = days.UTC_NAME,
    ) -> AuditStats:
        context = info.context
        context.require_identity()
        zone = days.time_zone("timeZone", time_zone)
        named = _named_user(filter)
        conditions = _conditions(filter)
        # Admins only: the scope refuses anyone else, on `byUser` alone (so, built there).
        per_user = partial(service.readable_across_users, context.viewer, named, conditions)
        return await AuditStats.compute(StatsScope(
            db=context.db, rows=service.readable(context.viewer, named, lambda: conditions),
            per_user=per_user,
            max_page_size=context.settings.max_page_size, zone=zone,
        ))
