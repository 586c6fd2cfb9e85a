"""Title order and text search fold case and Unicode the same way on SQLite and PostgreSQL
(this module runs on both): the same rows come back in the same order on either engine."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from models import Conversation
from models.folding import folded_key
from tests.conftest import GraphQL
from tests.factories import gid, make_conversation, make_task
from tests.graph.paging import backward, expected_order, forward, ids_of

# Created in this order (so ids rise along it); the ties "Été", "ÉTÉ", "été" fold alike.
TITLES = ["Zebra", "Été", "beta", "ete", "Gamma", "ÉTÉ", "Alpha", "delta", "été", "etz"]
# Folded, code point by code point: an accented letter sorts just after its base letter.
ASCENDING = ["Alpha", "beta", "delta", "ete", "etz", "Été", "ÉTÉ", "été", "Gamma", "Zebra"]
# Descending reverses everything, the ties (broken by id) included.
DESCENDING = list(reversed(ASCENDING))

TASKS = """query($order: TaskOrder, $filter: TaskFilter, $first: Int, $after: String,
  $last: Int, $before: String) {
  list: tasks(orderBy: $order, filter: $filter, first: $first, after: $after, last: $last,
    before: $before) { edges { node { id title } } pageInfo { hasNextPage hasPreviousPage
    startCursor endCursor } } }"""
CONVERSATIONS = TASKS.replace("TaskOrder", "ConversationOrder").replace(
    "TaskFilter", "ConversationFilter").replace("list: tasks", "list: conversations")


def titles(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in connection["edges"]]


async def listed(gql: GraphQL, query: str, **variables: Any) -> dict[str, Any]:
    connection: dict[str, Any] = (await gql.data(query, variables))["list"]
    return connection


@pytest.fixture
async def tasks(db: AsyncSession) -> dict[str, str]:
    """Each title's task id; bob's tasks share every title and must never show."""
    ids: dict[str, str] = {}
    for title in TITLES:
        ids.setdefault(title, gid(await make_task(db, title=title)))
        await make_task(db, title=title, user_id="bob")
    return ids


@pytest.mark.parametrize(("direction", "expected"), [("ASC", ASCENDING), ("DESC", DESCENDING)])
async def test_tasks_by_title_are_in_folded_order(
    gql: GraphQL, tasks: dict[str, str], direction: str, expected: list[str]
) -> None:
    order = {"field": "TITLE", "direction": direction}
    assert titles(await listed(gql, TASKS, order=order, first=50)) == expected


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_tasks_by_title_page_across_every_boundary_both_ways(
    gql: GraphQL, tasks: dict[str, str], direction: str
) -> None:
    order = {"field": "TITLE", "direction": direction}
    expected = ASCENDING if direction == "ASC" else DESCENDING

    async def fetch(page: dict[str, Any]) -> dict[str, Any]:
        return await listed(gql, TASKS, order=order, **page)

    assert await forward(fetch, 3) == [tasks[t] for t in expected]
    assert await backward(fetch, 3) == [tasks[t] for t in expected]


@pytest.mark.parametrize("search", ["ÉTÉ", "été", "  Été "])
async def test_a_task_search_finds_every_case_of_an_accented_word(
    gql: GraphQL, tasks: dict[str, str], search: str
) -> None:
    connection = await listed(gql, TASKS, filter={"search": search}, first=50)
    assert sorted(titles(connection)) == sorted(["Été", "ÉTÉ", "été"])


async def test_a_task_search_folds_the_description_too(db: AsyncSession, gql: GraphQL) -> None:
    summer = await make_task(db, title="Plans", description="Un ÉTÉ à la mer")
    await make_task(db, title="Other", description="Winter")
    connection = await listed(gql, TASKS, filter={"search": "été à"})
    assert ids_of(connection) == [gid(summer)]


async def test_a_search_for_the_capital_spelling_finds_sharp_s(
    db: AsyncSession, gql: GraphQL
) -> None:
    street = await make_task(db, title="Straße fegen")
    connection = await listed(gql, TASKS, filter={"search": "STRASSE"})
    assert ids_of(connection) == [gid(street)]


async def test_a_search_does_not_fold_accents_away(gql: GraphQL, tasks: dict[str, str]) -> None:
    # Canonical caseless matching folds case, not accents: "ete" is another word.
    connection = await listed(gql, TASKS, filter={"search": "ete"}, first=50)
    assert titles(connection) == ["ete"]


@pytest.fixture
async def conversations(db: AsyncSession) -> list[Conversation]:
    """Alice's, one per title and an untitled one; bob's share every title and must never
    show. Their ids are UUIDs, so ties ("Été", "ÉTÉ", "été") fall in the ids' order."""
    mine = []
    for title in [*TITLES, None]:
        mine.append(await make_conversation(db, title=title))
        await make_conversation(db, title=title, user_id="bob")
    return mine


def by_title(rows: list[Conversation], direction: str) -> list[str]:
    ordered = expected_order(
        rows, lambda row: row.title_folded, lambda row: row.id, descending=direction == "DESC"
    )
    return [gid(row) for row in ordered]


@pytest.mark.parametrize(("direction", "expected"), [("ASC", ASCENDING), ("DESC", DESCENDING)])
async def test_conversations_by_title_are_in_folded_order_untitled_last(
    gql: GraphQL, conversations: list[Conversation], direction: str, expected: list[str]
) -> None:
    order = {"field": "TITLE", "direction": direction}
    connection = await listed(gql, CONVERSATIONS, order=order, first=50)
    assert [folded_key(title) for title in titles(connection)] == [
        *(folded_key(title) for title in expected), None
    ]
    assert ids_of(connection) == by_title(conversations, direction)


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_conversations_by_title_page_across_the_untitled_boundary_both_ways(
    gql: GraphQL, conversations: list[Conversation], direction: str
) -> None:
    order = {"field": "TITLE", "direction": direction}

    async def fetch(page: dict[str, Any]) -> dict[str, Any]:
        return await listed(gql, CONVERSATIONS, order=order, **page)

    for size in (2, 3, 10):  # the untitled one alone, and in a page with titled ones
        assert await forward(fetch, size) == by_title(conversations, direction)
        assert await backward(fetch, size) == by_title(conversations, direction)


async def test_a_conversation_search_finds_every_case_of_an_accented_word(
    gql: GraphQL, conversations: list[Conversation]
) -> None:
    connection = await listed(gql, CONVERSATIONS, filter={"search": "ÉTÉ"}, first=50)
    assert sorted(titles(connection)) == sorted(["Été", "ÉTÉ", "été"])
