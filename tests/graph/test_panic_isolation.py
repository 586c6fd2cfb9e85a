"""Isolation: bob never reads or changes alice's panic events or exercises, by any route.

Another user's object answers exactly as a missing one does: null, empty, or NotFoundError.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from models import PanicEvent
from tests.conftest import GraphQL
from tests.factories import make_panic_event
from tests.graph.test_panic import COMPLETE, ONE, RESOLVE, event_gid, exercise_gid, exercise_ids


async def snapshot(db: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    tables = {}
    for table in ("panic_events", "grounding_exercises"):
        result = await db.execute(text(f"SELECT * FROM {table} ORDER BY id"))
        tables[table] = [tuple(row) for row in result]
    return tables


async def alices_event(db: AsyncSession) -> tuple[PanicEvent, list[str]]:
    """Alice's event with two exercises, and the exercises' global ids."""
    event = await make_panic_event(db, user_id="alice", note="alice's secret",
                                   exercises=["breathing", "body_scan"])
    return event, [exercise_gid(i) for i in await exercise_ids(db, event)]


# --- queries --------------------------------------------------------------------------------


async def test_panic_events_lists_only_the_viewers_own(db: AsyncSession, gql: GraphQL) -> None:
    await alices_event(db)
    mine = await make_panic_event(db, user_id="bob", note="bob's")
    data = await gql.data("{ panicEvents { totalCount edges { node { id } } } }", user="bob")
    assert data["panicEvents"]["totalCount"] == 1
    assert [e["node"]["id"] for e in data["panicEvents"]["edges"]] == [event_gid(mine)]


async def test_panic_events_of_a_user_with_none_is_empty(db: AsyncSession, gql: GraphQL) -> None:
    await alices_event(db)
    data = await gql.data("{ panicEvents { totalCount edges { node { id } } } }", user="bob")
    assert data["panicEvents"] == {"totalCount": 0, "edges": []}


async def test_panic_event_of_another_user_is_null(db: AsyncSession, gql: GraphQL) -> None:
    event, _ = await alices_event(db)
    assert (await gql.data(ONE, {"id": event_gid(event)}, user="bob"))["panicEvent"] is None


async def test_panic_event_of_another_user_is_still_the_owners(
    db: AsyncSession, gql: GraphQL
) -> None:
    event, exercises = await alices_event(db)
    data = (await gql.data(ONE, {"id": event_gid(event)}, user="alice"))["panicEvent"]
    assert data["note"] == "alice's secret"
    assert [e["id"] for e in data["exercises"]] == exercises


@pytest.mark.parametrize("kind", ["event", "exercise"])
async def test_node_of_another_user_is_null(db: AsyncSession, gql: GraphQL, kind: str) -> None:
    event, exercises = await alices_event(db)
    gid = {"event": event_gid(event), "exercise": exercises[0]}[kind]
    query = """query($id: ID!) { node(id: $id) { id
               ... on PanicEvent { note exercises { id } }
               ... on GroundingExercise { kind panicEvent { note } } } }"""
    assert (await gql.data(query, {"id": gid}, user="bob"))["node"] is None
    assert (await gql.data(query, {"id": gid}, user="alice"))["node"]["id"] == gid


async def test_nodes_of_another_user_are_null_beside_the_viewers_own(
    db: AsyncSession, gql: GraphQL
) -> None:
    event, exercises = await alices_event(db)
    mine = await make_panic_event(db, user_id="bob", exercises=["breathing"])
    (my_exercise,) = await exercise_ids(db, mine)
    ids = [event_gid(event), exercises[0], event_gid(mine), exercise_gid(my_exercise)]
    data = await gql.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids},
                          user="bob")
    assert data["nodes"] == [None, None, {"id": ids[2]}, {"id": ids[3]}]


async def test_another_users_event_and_a_missing_one_read_the_same(
    db: AsyncSession, gql: GraphQL
) -> None:
    event, _ = await alices_event(db)
    query = "query($id: ID!) { panicEvent(id: $id) { id } node(id: $id) { id } }"
    foreign = await gql.data(query, {"id": event_gid(event)}, user="bob")
    missing = await gql.data(query, {"id": event_gid(event.id + 10_000)}, user="bob")
    assert foreign == missing == {"panicEvent": None, "node": None}


async def test_without_an_identity_panic_events_are_refused(gql: GraphQL) -> None:
    payload = await gql("{ panicEvents { totalCount } }", user=None)
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- mutations ------------------------------------------------------------------------------


async def test_completing_another_users_exercise_is_not_found_and_changes_nothing(
    db: AsyncSession, gql: GraphQL
) -> None:
    _, exercises = await alices_event(db)
    before = await snapshot(db)
    result = (await gql.data(COMPLETE, {"id": exercises[0]}, user="bob"))
    assert result["completeGroundingExercise"] == {
        "__typename": "NotFoundError", "missingId": exercises[0], "code": "NOT_FOUND",
    }
    assert await snapshot(db) == before


async def test_resolving_another_users_event_is_not_found_and_changes_nothing(
    db: AsyncSession, gql: GraphQL
) -> None:
    event, _ = await alices_event(db)
    before = await snapshot(db)
    result = await gql.data(RESOLVE, {"id": event_gid(event)}, user="bob")
    assert result["resolvePanicEvent"] == {
        "__typename": "NotFoundError", "missingId": event_gid(event), "code": "NOT_FOUND",
    }
    assert await snapshot(db) == before


async def test_another_users_ids_answer_as_missing_ones_do(db: AsyncSession, gql: GraphQL) -> None:
    event, exercises = await alices_event(db)
    missing_event = event_gid(event.id + 10_000)
    missing_exercise = exercise_gid(event.id + 10_000)
    query = """mutation($e: ID!, $x: ID!) {
      resolvePanicEvent(input: {id: $e}) { ... on NotFoundError { message code } }
      completeGroundingExercise(input: {id: $x}) { ... on NotFoundError { message code } } }"""
    foreign = await gql.data(query, {"e": event_gid(event), "x": exercises[0]}, user="bob")
    missing = await gql.data(query, {"e": missing_event, "x": missing_exercise}, user="bob")
    assert foreign == missing


async def test_pressing_panic_never_shows_another_users_events(
    db: AsyncSession, gql: GraphQL
) -> None:
    await alices_event(db)
    await gql.data("mutation { pressPanic(input: {intensity: 2}) { __typename } }", user="bob")
    data = await gql.data("{ panicEvents { totalCount edges { node { note } } } }", user="bob")
    assert data["panicEvents"]["totalCount"] == 1
    assert data["panicEvents"]["edges"][0]["node"]["note"] is None
