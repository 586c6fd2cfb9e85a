"""With DIAGNOSTICS on, each response's extensions carry the request's SQL statement count."""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension


class SqlDiagnostics(SchemaExtension):
    async def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        db = getattr(context, "db", None)
        if db is None:
            return {}
        if self.execution_context.pre_execution_errors:
            # A failed field's siblings are cancelled, but a loader batch one of them began
            # still runs its statement; whether it had finished by now was a matter of timing,
            # so the same failing request reported 0 or 1. Counting waits for it: the count is
            # every statement the request began.
            await db.quiet()
        return {"sql": {"statements": db.stats.statements, "ms": db.stats.milliseconds}}
