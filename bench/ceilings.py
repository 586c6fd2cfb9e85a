"""The ceilings of the chat page and the audit list page: no GraphQL, no ORM objects, the
same statements the server runs for the page (the viewer's scope, the by-id lookup, the
loader's per-parent page, the keyset page) and exactly the JSON it writes (global ids, enum
names, ISO times, cursors), serialized with orjson. The most a Python server can hope for
on these pages; bench/pages.py drives them beside the server.

- `/ceiling/chat?user=U&conversation=ID`: the conversation by id (the by-id loader's
  statement), then its newest 200 messages (the messages loader's statement), oldest first;
- `/ceiling/audit?user=U`: the viewer's newest 100 audit logs (the keyset page the
  connection reads), with cursors and `pageInfo`.

Neither authenticates (the user is a query parameter): that flatters both a little.
Run: python -m bench.ceilings --database-url URL --port PORT
"""

from __future__ import annotations

import argparse
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI, Response
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.relay.utils import to_base64

import models
from bench.counting import count_statements
from domain import audit as service
from domain import scope
from domain.viewers import Viewer
from graph.execution.keyset import Window, encode_cursor, paginate

# The loader's own statement builder, so the ceiling runs exactly what the server runs.
from graph.execution.loaders import MESSAGE_SORT, child_page_statement
from graph.execution.pagination import window
from graph.ids import decode_key
from graph.types.audit_inputs import audit_log_sort
from models.database import EngineOptions, create_engine

CHAT_PAGE = 200  # the chat page: a conversation's newest 200 messages
AUDIT_PAGE = 100  # the audit list page: the newest 100 entries


def build(database_url: str) -> FastAPI:
    engine = create_engine(EngineOptions(url=database_url))
    app = FastAPI()

    count_statements(app)

    @app.get("/ceiling/chat")
    async def chat(user: str, conversation: str) -> Response:
        async with engine.connect() as connection:
            body = await chat_page(connection, user, conversation)
        return Response(orjson.dumps(body), media_type="application/json")

    @app.get("/ceiling/audit")
    async def audit(user: str) -> Response:
        async with engine.connect() as connection:
            body = await audit_page(connection, user)
        return Response(orjson.dumps(body), media_type="application/json")

    return app


async def chat_page(connection: AsyncConnection, user: str, global_id: str) -> dict[str, Any]:
    """`conversation(id) { messages(last: 200) { edges { node { id role content
    createdAt } } } }`, from the server's two statements."""
    key = decode_key(global_id, "Conversation")
    found = key is not None and (await connection.execute(
        scope.owned(models.Conversation, user).where(models.Conversation.id.in_([key]))
    )).first()
    if not found:
        return {"data": {"conversation": None}}
    page = window(MESSAGE_SORT, first=None, after=None, last=CHAT_PAGE, before=None,
                  max_size=CHAT_PAGE)
    statement = child_page_statement(
        scope.owned(models.Message, user), models.Message, models.Message.conversation_id,
        MESSAGE_SORT, page, [key],
    )
    rows = (await connection.execute(statement)).all()[:CHAT_PAGE]
    rows.reverse()  # read newest first, shown in the list's order
    edges = [{"node": {
        "id": to_base64("Message", str(row.id)), "role": row.role.upper(),
        "content": row.content, "createdAt": row.created_at.isoformat(),
    }} for row in rows]
    return {"data": {"conversation": {"messages": {"edges": edges}}}}


async def audit_page(connection: AsyncConnection, user: str) -> dict[str, Any]:
    """`auditLogs(first: 100) { pageInfo { hasNextPage endCursor } edges { cursor node {
    ...every column but the JSON ones } } }`, from the server's one statement."""
    sort = audit_log_sort(None)
    page: Window = window(sort, first=AUDIT_PAGE, after=None, last=None, before=None,
                          max_size=AUDIT_PAGE)
    rows = (await connection.execute(paginate(
        service.filtered(scope.audit_logs(Viewer(user)), service.LogFilter()), sort, page,
    ))).all()
    more = len(rows) > AUDIT_PAGE
    keys = [column.column.key for column in sort]
    edges = [{
        "cursor": encode_cursor(page.ordering, tuple(getattr(row, k) for k in keys)),
        "node": _log(row),
    } for row in rows[:AUDIT_PAGE]]
    info = {"hasNextPage": more, "endCursor": edges[-1]["cursor"] if edges else None}
    return {"data": {"auditLogs": {"pageInfo": info, "edges": edges}}}


def _log(row: Any) -> dict[str, Any]:
    return {
        "id": to_base64("AuditLog", row.id), "documentType": row.document_type,
        "documentVersion": row.document_version, "status": row.status.upper(),
        "source": row.source.upper(), "modelUsed": row.model_used,
        "tokensUsed": row.tokens_used, "generationTimeMs": row.generation_time_ms,
        "errorMessage": row.error_message, "createdAt": row.created_at.isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(build(args.database_url), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
