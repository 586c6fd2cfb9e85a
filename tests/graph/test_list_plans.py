"""Every order (and every range that leads an index) is served by an index on both
databases: the page statement each list sends is captured and explained, and its plan must
name the index. SQLite: EXPLAIN QUERY PLAN. PostgreSQL: EXPLAIN, after ANALYZE of rows in
production's proportions (other users' rows, most panic events resolved, most audit figures
unreported), with sequential scans and sorts priced out (the tables are still tiny, and a
planner would rightly scan them whole), so the plan shows the index that serves the
statement as it is written.

Text search ("contains") cannot use a b-tree: it is checked row by row over the rows the
owner's index selects (docs/decisions.md, "What serves each list", says what serves what)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from models import AuditLog, PanicEvent
from models.base import utcnow
from tests.conftest import ON_POSTGRES, GraphQL
from tests.domain.test_scope import statements
from tests.factories import (
    gid,
    make_audit_log,
    make_conversation,
    make_panic_event,
    make_task,
)

FULL_SCAN = re.compile(r"^SCAN (tasks|conversations|messages|panic_events|audit_logs)$", re.M)


@dataclass(frozen=True)
class Case:
    name: str
    query: str  # `$parent` stands for a conversation's global id where needed
    index: str
    runs: int = 1  # a sort whose column holds NULLs reads two runs, each through the index
    admin: bool = False


def _list(field: str, arguments: str) -> str:
    return f"{{ {field}({arguments}, first: 5) {{ edges {{ node {{ id }} }} }} }}"


CASES = [
    Case("tasks by title", _list("tasks", "orderBy: {field: TITLE, direction: ASC}"),
         "ix_tasks_user_id_title_folded_id"),
    Case("tasks created lately", _list("tasks", 'filter: {createdAfter: "2000-01-01T00:00:00Z"}'),
         "ix_tasks_user_id_created_at"),
    Case("tasks by status", _list("tasks", "orderBy: {field: STATUS, direction: ASC}"),
         "ix_tasks_user_id_status"),
    Case("tasks by last change", _list("tasks", "orderBy: {field: UPDATED_AT, direction: DESC}"),
         "ix_tasks_user_id_updated_at_id"),
    Case("conversations by activity", _list("conversations", "orderBy: {field: UPDATED_AT}"),
         "ix_conversations_user_id_updated_at_id"),
    Case("conversations active lately",
         _list("conversations", 'filter: {updatedAfter: "2000-01-01T00:00:00Z"}'),
         "ix_conversations_user_id_updated_at_id"),
    Case("conversations by start",
         _list("conversations", "orderBy: {field: CREATED_AT, direction: ASC}"),
         "ix_conversations_user_id_created_at_id"),
    Case("conversations by title",
         _list("conversations", "orderBy: {field: TITLE, direction: DESC}"),
         "ix_conversations_user_id_title_folded_id", runs=2),
    Case("messages newest first",
         '{ conversation(id: "$parent") { messages(orderBy: {direction: DESC}, '
         "filter: {role: USER}, first: 5) { edges { node { id } } } } }",
         "ix_messages_conversation_id_created_at_id"),
    Case("panic events by time", _list("panicEvents", "orderBy: {field: CREATED_AT}"),
         "ix_panic_events_user_id_created_at_id"),
    Case("unresolved panic events", _list("panicEvents", "filter: {resolved: false}"),
         "ix_panic_events_unresolved_user_id_created_at_id"),
    Case("panic events by intensity",
         _list("panicEvents", "orderBy: {field: INTENSITY, direction: DESC}"),
         "ix_panic_events_user_id_intensity_id", runs=2),
    Case("own audit logs by time", _list("auditLogs", "orderBy: {field: CREATED_AT}"),
         "ix_audit_logs_user_id_created_at"),
    Case("own audit logs by tokens",
         _list("auditLogs", "orderBy: {field: TOKENS_USED, direction: DESC}"),
         "ix_audit_logs_user_id_tokens_used_id", runs=2),
    Case("own audit logs by generation time",
         _list("auditLogs", "orderBy: {field: GENERATION_TIME_MS, direction: ASC}"),
         "ix_audit_logs_user_id_generation_time_ms_id", runs=2),
    Case("everyone's audit logs by time", _list("auditLogs", "orderBy: {field: CREATED_AT}"),
         "ix_audit_logs_created_at", admin=True),
    Case("everyone's audit logs by tokens",
         _list("auditLogs", "orderBy: {field: TOKENS_USED, direction: DESC}"),
         "ix_audit_logs_tokens_used_id", runs=2, admin=True),
    Case("everyone's audit logs by generation time",
         _list("auditLogs", "orderBy: {field: GENERATION_TIME_MS, direction: DESC}"),
         "ix_audit_logs_generation_time_ms_id", runs=2, admin=True),
]


@pytest.fixture
async def parent(db: AsyncSession) -> str:
    """A few rows in every list, for two users; the id of alice's first conversation."""
    first = None
    for user in ("alice", "bob"):
        for n in range(3):
            await make_task(db, user_id=user, title=f"Task {n}")
            conversation = await make_conversation(
                db, user_id=user, title=None if n == 0 else f"Chat {n}",
                messages=[("user", "hi"), ("assistant", "hello")],
            )
            first = first or conversation
            await make_panic_event(db, user_id=user, intensity=None if n == 0 else n)
            await make_audit_log(db, user_id=user, tokens_used=None if n == 0 else 10 * n)
    assert first is not None
    # Other users' rows, as in production: the owner's predicate narrows more than a figure
    # does; most panic events get resolved (alice's too), so the unresolved ones are few;
    # most audit entries report no figures.
    resolved = utcnow()
    await db.execute(insert(PanicEvent), [
        {"user_id": f"user-{n % 40}", "resolved_at": resolved} for n in range(400)
    ])
    await db.execute(insert(PanicEvent), [{"user_id": "alice", "resolved_at": resolved}] * 20)
    await db.execute(insert(AuditLog), [
        {"user_id": f"user-{n % 40}", "document_type": "memo", "status": "success",
         "input_data": {}, "generated_text": {}}
        for n in range(400)
    ])
    if ON_POSTGRES:  # statistics of the rows above, this transaction's included
        await db.execute(text("ANALYZE"))
    return gid(first)


async def plan(connection: AsyncConnection, sql: str, parameters: Any) -> str:
    if ON_POSTGRES:
        lines = await connection.exec_driver_sql(f"EXPLAIN {sql}", parameters)
        return "\n".join(str(row[0]) for row in lines)
    lines = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", parameters)
    return "\n".join(str(row[-1]) for row in lines)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
async def test_each_order_is_served_by_its_index(
    gql: GraphQL, connection: AsyncConnection, parent: str, case: Case
) -> None:
    if ON_POSTGRES:
        for setting in ("enable_seqscan", "enable_sort", "enable_bitmapscan"):
            await connection.exec_driver_sql(f"SET LOCAL {setting} = off")
    with statements(connection) as seen:
        await gql.data(case.query.replace("$parent", parent), admin=case.admin)
    # The page: the last SELECT the request sent (savepoints come and go around it).
    sql, parameters = [found for found in seen if found[0].lstrip().startswith("SELECT")][-1]
    explained = await plan(connection, sql, parameters)
    assert explained.count(case.index) == case.runs, explained
    # No table read whole: SQLite's "SCAN <table>" without an index, PostgreSQL's Seq Scan.
    assert not FULL_SCAN.search(explained) and "Seq Scan" not in explained, explained
