"""The statements a bench app ran per request, in the header the load generator reads
(`x-sql-statements`), counted as the server counts its own: the same number, or the
comparison is unfair."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request, Response

from models.database import StatementStats, current_stats


def count_statements(app: FastAPI) -> None:
    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Response:
        stats = StatementStats()
        token = current_stats.set(stats)
        try:
            response: Response = await call_next(request)
        finally:
            current_stats.reset(token)
        response.headers["x-sql-statements"] = str(stats.statements)
        return response
