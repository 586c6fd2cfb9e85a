"""`auditLogs` and `auditStats`.

Scope: the viewer's own rows. An admin may name another user with `filter.userId` (logs and
figures of that user) and sees `byUser`; anyone else doing either gets a FORBIDDEN error.
`node(id)` is not part of this: it answers only the viewer's own logs, admins included.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import Select

import models
from domain import audit as service
from domain import scope
from graph.context import Context, Info
from graph.execution.pagination import (
    After,
    Before,
    Connection,
    First,
    Last,
    Page,
    SortColumn,
)
from graph.resolvers.queries.base import owned_connection
from graph.types.audit import AuditLog, AuditLogFilter, AuditStats, AuditStatsFilter

# Newest first; the id breaks ties.
AUDIT_LOG_SORT = (
    SortColumn(models.AuditLog.created_at, descending=True, kind=datetime),
    SortColumn(models.AuditLog.id, descending=True, kind=str),
)


def _conditions(where: AuditLogFilter | None) -> service.LogFilter:
    if where is None:
        return service.LogFilter()
    return service.LogFilter(
        document_type=service.plain("documentType", where.document_type),
        status=where.status.value if where.status is not None else None,
        created_after=service.aware("createdAfter", where.created_after),
        created_before=service.aware("createdBefore", where.created_before),
    )


def _named_user(where: AuditLogFilter | None) -> str | None:
    return service.plain("userId", where.user_id) if where is not None else None


def _rows(context: Context, where: AuditLogFilter | None) -> Select[Any]:
    """The viewer's rows, or (admins only) the named user's, filtered."""
    scoped = scope.audit_logs(context.viewer, _named_user(where))
    return service.filtered(scoped, _conditions(where))


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="The viewer's audit log, newest first; admins may name a user in the filter."
    )
    async def audit_logs(
        self,
        info: Info,
        filter: Annotated[AuditLogFilter | None, strawberry.argument(
            description="Which rows; null or omitted: all of the viewer's."
        )] = None,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
    ) -> Connection[AuditLog]:
        context = info.context
        context.require_identity()
        return await owned_connection(
            info, models.AuditLog, AUDIT_LOG_SORT, AuditLog.from_model,
            Page(first, after, last, before), statement=_rows(context, filter),
        )

    @strawberry.field(
        description="Figures over the viewer's audit log (admins: a named user's), filtered."
    )
    async def audit_stats(
        self, info: Info,
        filter: Annotated[AuditStatsFilter | None, strawberry.argument(
            description="Which rows to count; null or omitted: all of the viewer's."
        )] = None,
    ) -> AuditStats:
        context = info.context
        context.require_identity()
        rows = _rows(context, filter)
        named = _named_user(filter)
        conditions = _conditions(filter)

        def everyone() -> Select[Any]:
            # Admins only (scope refuses anyone else): across all users unless one is named.
            if named is not None:
                return rows
            return service.filtered(scope.all_audit_logs(context.viewer), conditions)

        return await AuditStats.compute(context.db, rows, everyone)
