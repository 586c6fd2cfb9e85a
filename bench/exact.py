"""Exact ceilings: the server's response bytes with nothing between the driver and the bytes.

A minimal Starlette app, no FastAPI, no ORM, no SQLAlchemy at all: one raw connection
(aiosqlite) or a raw pool (asyncpg, as the application role with the viewer set in the
transaction as the server sets it), the bearer JWT verified with PyJWT, the request body
parsed with orjson, the fewest statements that read the page, and the response written by
orjson. `bench/honest.py` checks each route's bytes equal the server's before timing it.

- `POST /page`: the 10-step page, `{ tasks(first: 50) { edges { node { id title status
  stepCount completedStepCount steps { id content completed } } } } }` (two statements);
- `POST /chat`: a conversation's newest 200 messages (two statements: the conversation by
  id and owner, its messages);
- `POST /audit`: the viewer's newest 100 audit entries with cursors and `pageInfo` (one);
- `POST /static`: fixed bytes, no database, no JWT: what the load generator can drive.

What it leaves out, and so flatters itself with: GraphQL parsing, validation, limits, the
persisted-query and CORS checks, visits, logging, and every error path.
Run: python -m bench.exact --database-url URL --port PORT --secret SECRET
"""

from __future__ import annotations

import argparse
import base64
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite
import asyncpg
import jwt
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from graph.execution.keyset import encode_cursor, ordering_of
from graph.types.audit_inputs import audit_log_sort
from models.rls import DatabaseViewer, settings_sql

TASKS = ("SELECT id, title, status FROM tasks WHERE user_id = {0} "
         "ORDER BY created_at DESC, id DESC LIMIT 50")
STEPS = ("SELECT task_id, id, content, completed FROM task_steps WHERE task_id IN ({0}) "
         "ORDER BY task_id, step_number")
CONVERSATION = "SELECT id FROM conversations WHERE id = {0} AND user_id = {1}"
MESSAGES = ("SELECT id, role, content, created_at FROM messages WHERE conversation_id = {0} "
            "ORDER BY created_at DESC, id DESC LIMIT 200")
AUDIT = ("SELECT id, document_type, document_version, status, source, model_used, tokens_used,"
         " generation_time_ms, error_message, created_at FROM audit_logs WHERE user_id = {0} "
         "ORDER BY created_at DESC, id DESC LIMIT 101")
JSON = {"content-type": "application/json"}
# The audit list's default order as its cursors name it (computed once, not per request).
AUDIT_ORDERING = ordering_of(audit_log_sort(None))
Rows = list[Any]


def gid(kind: str, key: object) -> str:
    return base64.b64encode(f"{kind}:{key}".encode()).decode()


def iso(value: Any) -> str:
    """A UTC time as the server writes it: SQLite keeps text, asyncpg gives datetimes."""
    if isinstance(value, str):
        return value.replace(" ", "T", 1) + "+00:00"
    return str(value.isoformat())


class Database:
    """The two drivers behind one small face: run a statement, get rows of tuples."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite: aiosqlite.Connection | None = None
        self.pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        if self.url.startswith("sqlite"):
            self.sqlite = await aiosqlite.connect(self.url.split("///", 1)[1])
        else:
            dsn = self.url.replace("postgresql+asyncpg://", "postgresql://")
            self.pool = await asyncpg.create_pool(dsn, min_size=8, max_size=8)

    async def close(self) -> None:
        if self.sqlite is not None:
            await self.sqlite.close()
        if self.pool is not None:
            await self.pool.close()

    def mark(self, n: int) -> str:
        return "?" if self.sqlite is not None else f"${n}"

    async def read(self, user: str, work: Callable[[Reader], Awaitable[Any]]) -> Any:
        if self.sqlite is not None:
            return await work(Reader(self.sqlite, None))
        assert self.pool is not None
        async with self.pool.acquire() as connection:
            # As the server does: the viewer set for this transaction only, in one round trip.
            await connection.execute("BEGIN; " + settings_sql(DatabaseViewer(user_id=user)))
            try:
                return await work(Reader(None, connection))
            finally:
                await connection.execute("COMMIT")


class Reader:
    def __init__(self, sqlite: aiosqlite.Connection | None, pg: Any) -> None:
        self.sqlite, self.pg = sqlite, pg

    async def rows(self, sql: str, *args: Any) -> Rows:
        if self.sqlite is not None:
            async with self.sqlite.execute(sql, args) as cursor:
                return list(await cursor.fetchall())
        return list(await self.pg.fetch(sql, *args))


def build(database_url: str, secret: str) -> Starlette:
    db = Database(database_url)
    m = db.mark

    def viewer(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        try:
            claims = jwt.decode(header[7:], secret, algorithms=["HS256"])
        except jwt.PyJWTError:
            return None
        return str(claims["sub"])

    async def page(request: Request) -> Response:
        user = viewer(request)
        orjson.loads(await request.body())
        if user is None:
            return Response(b"", 401)

        async def work(reader: Reader) -> tuple[Rows, Rows]:
            tasks = await reader.rows(TASKS.format(m(1)), user)
            ids = [row[0] for row in tasks]
            if db.sqlite is not None:
                marks = ", ".join("?" * len(ids))
                return tasks, await reader.rows(STEPS.format(marks), *ids)
            return tasks, await reader.rows(
                STEPS.replace("IN ({0})", "= ANY({0})").format("$1"), ids)

        tasks, steps = await db.read(user, work)
        return Response(orjson.dumps(task_page(tasks, steps)), headers=JSON)

    async def chat(request: Request) -> Response:
        user = viewer(request)
        variables = orjson.loads(await request.body())["variables"]
        if user is None:
            return Response(b"", 401)
        key = base64.b64decode(variables["id"]).decode().split(":", 1)[1]

        async def work(reader: Reader) -> Rows | None:
            if not await reader.rows(CONVERSATION.format(m(1), m(2)), key, user):
                return None
            return await reader.rows(MESSAGES.format(m(1)), key)

        rows = await db.read(user, work)
        return Response(orjson.dumps(chat_page(rows)), headers=JSON)

    async def audit(request: Request) -> Response:
        user = viewer(request)
        orjson.loads(await request.body())
        if user is None:
            return Response(b"", 401)

        async def work(reader: Reader) -> Rows:
            return await reader.rows(AUDIT.format(m(1)), user)

        rows = await db.read(user, work)
        return Response(orjson.dumps(audit_page(rows)), headers=JSON)

    static = orjson.dumps({"data": {"viewer": {"id": "static"}}})

    async def fixed(_request: Request) -> Response:
        return Response(static, headers=JSON)

    routes = [Route("/page", page, methods=["POST"]), Route("/chat", chat, methods=["POST"]),
              Route("/audit", audit, methods=["POST"]), Route("/static", fixed, methods=["POST"])]

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            yield
        finally:
            await db.close()

    return Starlette(routes=routes, lifespan=lifespan)


def task_page(tasks: Rows, steps: Rows) -> dict[str, Any]:
    by_task: dict[int, list[Any]] = defaultdict(list)
    for step in steps:
        by_task[step[0]].append(step)
    edges = []
    for task_id, title, status in tasks:
        mine = by_task[task_id]
        edges.append({"node": {
            "id": gid("Task", task_id), "title": title, "status": status.upper(),
            "stepCount": len(mine), "completedStepCount": sum(1 for s in mine if s[3]),
            "steps": [{"id": gid("TaskStep", s[1]), "content": s[2], "completed": bool(s[3])}
                      for s in mine],
        }})
    return {"data": {"tasks": {"edges": edges}}}


def chat_page(rows: Rows | None) -> dict[str, Any]:
    if rows is None:
        return {"data": {"conversation": None}}
    edges = [{"node": {"id": gid("Message", row[0]), "role": row[1].upper(),
                       "content": row[2], "createdAt": iso(row[3])}} for row in reversed(rows)]
    return {"data": {"conversation": {"messages": {"edges": edges}}}}


def audit_page(rows: Rows) -> dict[str, Any]:
    edges = [{"cursor": encode_cursor(AUDIT_ORDERING, (_datetime(row[9]), row[0])), "node": {
        "id": gid("AuditLog", row[0]), "documentType": row[1], "documentVersion": row[2],
        "status": row[3].upper(), "source": row[4].upper(), "modelUsed": row[5],
        "tokensUsed": row[6], "generationTimeMs": row[7], "errorMessage": row[8],
        "createdAt": iso(row[9]),
    }} for row in rows[:100]]
    info = {"hasNextPage": len(rows) > 100, "endCursor": edges[-1]["cursor"] if edges else None}
    return {"data": {"auditLogs": {"pageInfo": info, "edges": edges}}}


def _datetime(value: Any) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(iso(value)) if isinstance(value, str) else value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--secret", required=True)
    args = parser.parse_args()
    uvicorn.run(build(args.database_url, args.secret), host="127.0.0.1", port=args.port,
                log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
