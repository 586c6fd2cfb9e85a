"""`auditLogs(orderBy)`: each order both ways across page boundaries (entries without a
figure last either way), for a user's own rows and for an admin's across users, with the
filter applying; a user never sees another's rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from graph.execution.keyset import encode_cursor, ordering_of
from graph.types.audit_inputs import AuditLogOrder, AuditLogOrderField, audit_log_sort
from models import AuditLog
from models.base import utcnow
from tests.conftest import GraphQL
from tests.factories import gid, make_audit_log
from tests.graph.paging import backward, expected_order, forward, ids_of

LIST = """query($order: AuditLogOrder, $filter: AuditLogFilter, $first: Int, $after: String,
  $last: Int, $before: String) {
  list: auditLogs(orderBy: $order, filter: $filter, first: $first, after: $after,
    last: $last, before: $before) {
    totalCount edges { node { id userId tokensUsed generationTimeMs status } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""

NOW = utcnow()
# (user, tokens, milliseconds, status): ties, missing figures and two users on purpose.
SPECS = [
    ("alice", 900, 1200, "success"), ("alice", None, 300, "success"),
    ("alice", 120, None, "error"), ("alice", 900, 4000, "success"),
    ("alice", None, None, "error"), ("bob", 5000, 9000, "success"),
    ("bob", None, 50, "error"), ("alice", 40, 1200, "success"),
]
ORDERS = {
    "CREATED_AT": lambda row: row.created_at,
    "GENERATION_TIME_MS": lambda row: row.generation_time_ms,
    "TOKENS_USED": lambda row: row.tokens_used,
}


async def listed(gql: GraphQL, *, admin: bool = False, **variables: Any) -> dict[str, Any]:
    connection: dict[str, Any] = (await gql.data(LIST, variables, admin=admin))["list"]
    return connection


@pytest.fixture
async def logs(db: AsyncSession) -> list[AuditLog]:
    return [
        await make_audit_log(
            db, user_id=user, tokens_used=tokens, generation_time_ms=ms, status=status,
            created_at=NOW - timedelta(minutes=len(SPECS) - n),
        )
        for n, (user, tokens, ms, status) in enumerate(SPECS)
    ]


def expected(rows: list[AuditLog], field: str, direction: str) -> list[str]:
    ordered = expected_order(
        rows, ORDERS[field], lambda row: row.id, descending=direction == "DESC"
    )
    return [gid(row) for row in ordered]


@pytest.mark.parametrize("field", ORDERS)
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("admin", [False, True], ids=["own", "admin"])
async def test_each_order_pages_both_ways_across_every_boundary(
    gql: GraphQL, logs: list[AuditLog], field: str, direction: str, admin: bool
) -> None:
    order = {"field": field, "direction": direction}
    rows = logs if admin else [row for row in logs if row.user_id == "alice"]

    async def fetch(page: dict[str, Any]) -> dict[str, Any]:
        return await listed(gql, admin=admin, order=order, **page)

    assert await forward(fetch, 2) == expected(rows, field, direction)
    assert await backward(fetch, 2) == expected(rows, field, direction)


async def test_the_most_expensive_first_puts_unreported_counts_last(
    gql: GraphQL, logs: list[AuditLog]
) -> None:
    connection = await listed(gql, order={"field": "TOKENS_USED", "direction": "DESC"})
    tokens = [edge["node"]["tokensUsed"] for edge in connection["edges"]]
    assert tokens == [900, 900, 120, 40, None, None]


async def test_the_filter_applies_under_an_order(gql: GraphQL, logs: list[AuditLog]) -> None:
    connection = await listed(
        gql, admin=True, filter={"status": "ERROR"},
        order={"field": "GENERATION_TIME_MS", "direction": "ASC"},
    )
    errors = [logs[2], logs[4], logs[6]]
    assert ids_of(connection) == expected(errors, "GENERATION_TIME_MS", "ASC")
    assert ids_of(connection)[0] == gid(logs[6])  # the one error with a time
    assert connection["totalCount"] == 3


async def test_an_admin_naming_a_user_gets_that_users_rows_in_order(
    gql: GraphQL, logs: list[AuditLog]
) -> None:
    connection = await listed(
        gql, admin=True, filter={"userId": "bob"},
        order={"field": "TOKENS_USED", "direction": "DESC"},
    )
    assert ids_of(connection) == [gid(logs[5]), gid(logs[6])]


async def test_a_user_never_sees_another_users_rows_under_any_order(
    gql: GraphQL, logs: list[AuditLog]
) -> None:
    for field in ORDERS:
        for direction in ("ASC", "DESC"):
            connection = await listed(gql, order={"field": field, "direction": direction})
            assert {edge["node"]["userId"] for edge in connection["edges"]} == {"alice"}


def crafted(field: str, values: list[Any]) -> str:
    """A cursor as the API writes them, under `field` DESC, holding `values`."""
    sort = audit_log_sort(AuditLogOrder(field=AuditLogOrderField[field]))
    return encode_cursor(ordering_of(sort), values)


async def test_a_cursor_among_the_entries_without_a_figure_pages_on_by_id(
    gql: GraphQL, logs: list[AuditLog]
) -> None:
    unreported = sorted(
        (row for row in logs if row.user_id == "alice" and row.tokens_used is None),
        key=lambda row: row.id, reverse=True,
    )
    order = {"field": "TOKENS_USED", "direction": "DESC"}
    cursor = crafted("TOKENS_USED", [None, unreported[0].id])
    after_first = await listed(gql, order=order, after=cursor)
    assert ids_of(after_first) == [gid(row) for row in unreported[1:]]


@pytest.mark.parametrize("value", ["many", 1.5, True, 2**40])
async def test_a_cursor_with_a_figure_of_another_type_is_refused(
    gql: GraphQL, logs: list[AuditLog], value: Any
) -> None:
    order = {"field": "TOKENS_USED", "direction": "DESC"}
    cursor = crafted("TOKENS_USED", [value, logs[0].id])
    payload = await gql(LIST, {"order": order, "after": cursor})
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
