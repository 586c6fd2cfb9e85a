"""The statements a bench app ran per request, in the header the load generator reads
(`x-sql-statements`), counted as the server counts its own: the same number, or the
comparison is unfair."""

from __future__ import annotations

import os
from pathlib import Path
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


# A server process's every SQL statement, counted process-wide by a `sitecustomize` module
# (`statement_counter`), for work no request's header carries: a subscription's deliveries.
# The count is rewritten in place as a fixed-width number, so a reader never sees half of one.
STATEMENT_COUNTER = '''
"""Counts every SQL statement this process runs, in statements.txt in its working
directory (bench/counting.py)."""
import os

from sqlalchemy import event
from sqlalchemy.engine import Engine

_count = 0
_file = os.open("statements.txt", os.O_RDWR | os.O_CREAT, 0o644)


@event.listens_for(Engine, "before_cursor_execute")
def _counted(*_args):
    global _count
    _count += 1
    os.pwrite(_file, b"%020d" % _count, 0)
'''


def statement_counter(workdir: Path) -> dict[str, str]:
    """Environment for a server started in `workdir` that counts its statements
    (`statements_counted`)."""
    hooks = workdir / "hooks"
    hooks.mkdir(exist_ok=True)
    (hooks / "sitecustomize.py").write_text(STATEMENT_COUNTER)
    path = os.pathsep.join(p for p in (str(hooks), os.environ.get("PYTHONPATH")) if p)
    return {"PYTHONPATH": path}


def statements_counted(workdir: Path) -> int:
    """How many SQL statements the server counting in `workdir` has run so far."""
    counted = workdir / "statements.txt"
    return int(counted.read_bytes() or 0) if counted.exists() else 0
