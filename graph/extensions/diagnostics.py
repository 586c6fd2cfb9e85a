"""With DIAGNOSTICS on, each response's extensions carry the request's SQL statement count."""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension


class SqlDiagnostics(SchemaExtension):
    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        db = getattr(context, "db", None)
        if db is None:
            return {}
        return {"sql": {"statements": db.stats.statements, "ms": db.stats.milliseconds}}
