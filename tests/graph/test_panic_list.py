"""`panicEvents(filter, orderBy)`: each order both ways across page boundaries (events
without an intensity last either way), each filter, and never another user's events."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import PanicEvent
from models.base import utcnow
from tests.conftest import GraphQL
from tests.factories import gid, make_panic_event
from tests.graph.paging import backward, expected_order, forward, ids_of

LIST = """query($order: PanicEventOrder, $filter: PanicEventFilter, $first: Int,
  $after: String, $last: Int, $before: String) {
  list: panicEvents(orderBy: $order, filter: $filter, first: $first, after: $after,
    last: $last, before: $before) {
    totalCount edges { node { id intensity resolved } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"""

NOW = utcnow()
# (intensity, pressed hours ago, resolved): ties and missing intensities on purpose.
SPECS = [(7, 10, True), (None, 9, False), (3, 8, True), (7, 7, False), (None, 6, True),
         (0, 5, False), (10, 4, True)]
ORDERS = {"CREATED_AT": lambda row: row.created_at, "INTENSITY": lambda row: row.intensity}


async def listed(gql: GraphQL, **variables: Any) -> dict[str, Any]:
    connection: dict[str, Any] = (await gql.data(LIST, variables))["list"]
    return connection


@pytest.fixture
async def mine(db: AsyncSession) -> list[PanicEvent]:
    rows = []
    for intensity, hours, resolved in SPECS:
        pressed = NOW - timedelta(hours=hours)
        done = pressed + timedelta(minutes=5) if resolved else None
        rows.append(await make_panic_event(
            db, intensity=intensity, created_at=pressed, resolved_at=done
        ))
        await make_panic_event(  # bob's twin, never in alice's list
            db, user_id="bob", intensity=intensity, created_at=pressed, resolved_at=done
        )
    return rows


def expected(rows: list[PanicEvent], field: str, direction: str) -> list[str]:
    ordered = expected_order(
        rows, ORDERS[field], lambda row: row.id, descending=direction == "DESC"
    )
    return [gid(row) for row in ordered]


@pytest.mark.parametrize("field", ORDERS)
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
@pytest.mark.parametrize("size", [2, 3])
async def test_each_order_pages_both_ways_across_every_boundary(
    gql: GraphQL, mine: list[PanicEvent], field: str, direction: str, size: int
) -> None:
    order = {"field": field, "direction": direction}

    async def fetch(page: dict[str, Any]) -> dict[str, Any]:
        return await listed(gql, order=order, **page)

    assert await forward(fetch, size) == expected(mine, field, direction)
    assert await backward(fetch, size) == expected(mine, field, direction)


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_events_without_an_intensity_come_last_either_way(
    gql: GraphQL, mine: list[PanicEvent], direction: str
) -> None:
    connection = await listed(gql, order={"field": "INTENSITY", "direction": direction})
    intensities = [edge["node"]["intensity"] for edge in connection["edges"]]
    valued = sorted((i for i, *_ in SPECS if i is not None), reverse=direction == "DESC")
    assert intensities == [*valued, None, None]


@pytest.mark.parametrize("resolved", [True, False])
async def test_the_resolved_filter_keeps_one_side(
    gql: GraphQL, mine: list[PanicEvent], resolved: bool
) -> None:
    connection = await listed(gql, filter={"resolved": resolved})
    wanted = [row for row, (*_, done) in zip(mine, SPECS, strict=True) if done is resolved]
    assert set(ids_of(connection)) == {gid(row) for row in wanted}
    assert connection["totalCount"] == len(wanted)


async def test_unresolved_strongest_first(gql: GraphQL, mine: list[PanicEvent]) -> None:
    connection = await listed(
        gql, filter={"resolved": False}, order={"field": "INTENSITY", "direction": "DESC"}
    )
    assert ids_of(connection) == [gid(mine[3]), gid(mine[5]), gid(mine[1])]


async def test_the_intensity_range_is_exclusive_and_skips_events_without_one(
    gql: GraphQL, mine: list[PanicEvent]
) -> None:
    connection = await listed(gql, filter={"intensityAbove": 3, "intensityBelow": 10})
    assert set(ids_of(connection)) == {gid(mine[0]), gid(mine[3])}


async def test_the_time_range_is_exclusive_at_both_ends(
    gql: GraphQL, mine: list[PanicEvent]
) -> None:
    connection = await listed(gql, filter={
        "createdAfter": mine[1].created_at.isoformat(),
        "createdBefore": mine[4].created_at.isoformat(),
    })
    assert ids_of(connection) == [gid(mine[3]), gid(mine[2])]


async def test_a_range_without_an_offset_is_refused(gql: GraphQL) -> None:
    payload = await gql(LIST, {"filter": {"createdBefore": "2024-05-01T09:00:00"}})
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_another_users_events_never_appear(gql: GraphQL, mine: list[PanicEvent]) -> None:
    for field in ORDERS:
        for resolved in (True, False):
            connection = await listed(
                gql, order={"field": field, "direction": "DESC"},
                filter={"resolved": resolved}, first=50,
            )
            assert set(ids_of(connection)) <= {gid(row) for row in mine}
