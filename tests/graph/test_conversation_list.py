"""`conversations(filter, orderBy)`: each order both ways across page boundaries, each
filter, and never another user's conversation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import Conversation
from models.base import utcnow
from tests.conftest import GraphQL
from tests.factories import gid, make_conversation
from tests.graph.paging import backward, expected_order, forward, ids_of

LIST = """query($order: ConversationOrder, $filter: ConversationFilter, $first: Int,
  $after: String, $last: Int, $before: String) {
  list: conversations(orderBy: $order, filter: $filter, first: $first, after: $after,
    last: $last, before: $before) {
    totalCount edges { node { id title } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""

NOW = utcnow()
# (title, started hours ago, last active hours ago): no two orders agree.
SPECS = [("Groceries", 9, 1), (None, 8, 6), ("budget", 7, 2), ("Été", 6, 5), ("alpha", 5, 3)]
ORDERS = {
    "UPDATED_AT": lambda row: row.updated_at,
    "CREATED_AT": lambda row: row.created_at,
    "TITLE": lambda row: row.title_folded,
}


async def listed(gql: GraphQL, **variables: Any) -> dict[str, Any]:
    connection: dict[str, Any] = (await gql.data(LIST, variables))["list"]
    return connection


@pytest.fixture
async def mine(db: AsyncSession) -> list[Conversation]:
    rows = []
    for title, started, active in SPECS:
        created, updated = NOW - timedelta(hours=started), NOW - timedelta(hours=active)
        rows.append(await make_conversation(
            db, title=title, created_at=created, updated_at=updated
        ))
        # Bob's twin: the same title and times, never in alice's list.
        await make_conversation(
            db, user_id="bob", title=title, created_at=created, updated_at=updated
        )
    return rows


def expected(rows: list[Conversation], field: str, direction: str) -> list[str]:
    ordered = expected_order(
        rows, ORDERS[field], lambda row: row.id, descending=direction == "DESC"
    )
    return [gid(row) for row in ordered]


@pytest.mark.parametrize("field", ORDERS)
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_each_order_pages_both_ways_across_every_boundary(
    gql: GraphQL, mine: list[Conversation], field: str, direction: str
) -> None:
    order = {"field": field, "direction": direction}

    async def fetch(page: dict[str, Any]) -> dict[str, Any]:
        return await listed(gql, order=order, **page)

    assert await forward(fetch, 2) == expected(mine, field, direction)
    assert await backward(fetch, 2) == expected(mine, field, direction)


async def test_the_default_order_is_the_latest_activity_first(
    gql: GraphQL, mine: list[Conversation]
) -> None:
    assert ids_of(await listed(gql)) == expected(mine, "UPDATED_AT", "DESC")


async def test_a_title_search_matches_titles_only_and_counts_its_matches(
    gql: GraphQL, mine: list[Conversation]
) -> None:
    connection = await listed(gql, filter={"search": "GROC"})
    assert ids_of(connection) == [gid(mine[0])]
    assert connection["totalCount"] == 1


async def test_a_blank_search_matches_every_conversation(
    gql: GraphQL, mine: list[Conversation]
) -> None:
    assert (await listed(gql, filter={"search": "   "}))["totalCount"] == len(SPECS)


async def test_the_created_range_is_exclusive_at_both_ends(
    gql: GraphQL, mine: list[Conversation]
) -> None:
    after, before = mine[0].created_at, mine[3].created_at  # 9 h and 6 h ago
    connection = await listed(gql, filter={
        "createdAfter": after.isoformat(), "createdBefore": before.isoformat(),
    })
    assert set(ids_of(connection)) == {gid(mine[1]), gid(mine[2])}


async def test_the_updated_range_is_exclusive_at_both_ends(
    gql: GraphQL, mine: list[Conversation]
) -> None:
    after, before = mine[3].updated_at, mine[2].updated_at  # 5 h and 2 h ago
    connection = await listed(gql, filter={
        "updatedAfter": after.isoformat(), "updatedBefore": before.isoformat(),
    })
    assert ids_of(connection) == [gid(mine[4])]


async def test_filters_and_an_order_combine(gql: GraphQL, mine: list[Conversation]) -> None:
    connection = await listed(
        gql, order={"field": "TITLE", "direction": "ASC"},
        filter={"updatedAfter": (NOW - timedelta(hours=5, minutes=30)).isoformat()},
    )
    assert ids_of(connection) == [gid(mine[4]), gid(mine[2]), gid(mine[3]), gid(mine[0])]


async def test_a_range_without_an_offset_is_refused(gql: GraphQL) -> None:
    payload = await gql(LIST, {"filter": {"updatedAfter": "2024-05-01T09:00:00"}})
    assert payload["data"] is None
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "updatedAfter" in payload["errors"][0]["message"]


async def test_another_users_conversations_never_appear(
    gql: GraphQL, mine: list[Conversation]
) -> None:
    for field in ORDERS:
        connection = await listed(
            gql, order={"field": field, "direction": "ASC"}, filter={"search": "a"}, first=50
        )
        assert set(ids_of(connection)) <= {gid(row) for row in mine}
    everything = await listed(gql, first=50)
    assert everything["totalCount"] == len(SPECS)
