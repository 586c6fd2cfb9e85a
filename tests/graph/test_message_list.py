"""`Conversation.messages(filter, orderBy)`: chronological both ways across page boundaries,
each filter, and the loaders' batching: a page of conversations, each with its filtered and
ordered messages, costs the same statements for one conversation as for many."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Conversation, Message
from tests.conftest import GraphQL
from tests.factories import gid, make_conversation
from tests.graph.paging import backward, forward, ids_of
from tests.graph.test_task_statements import statements

HISTORY = """query($id: ID!, $order: MessageOrder, $filter: MessageFilter, $first: Int,
  $after: String, $last: Int, $before: String) {
  conversation(id: $id) { messageCount list: messages(orderBy: $order, filter: $filter,
    first: $first, after: $after, last: $last, before: $before) {
    totalCount edges { node { id role content } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }"""

EXCHANGE = [
    ("user", "Add task: buy MILK"), ("assistant", "Added “buy milk”."),
    ("user", "Été plans?"), ("assistant", "Nothing planned for the ÉTÉ."),
    ("user", "list my tasks"), ("assistant", "1. buy milk"),
]


async def history(gql: GraphQL, conversation: Conversation, **variables: Any) -> dict[str, Any]:
    data = await gql.data(HISTORY, {"id": gid(conversation), **variables})
    connection: dict[str, Any] = data["conversation"]["list"]
    return connection


@pytest.fixture
async def chat(db: AsyncSession) -> Conversation:
    return await make_conversation(db, messages=EXCHANGE)


async def message_ids(db: AsyncSession, chat: Conversation) -> list[str]:
    rows = await db.scalars(
        select(Message).where(Message.conversation_id == chat.id).order_by(Message.id)
    )
    return [gid(row) for row in rows]


@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_messages_page_both_ways_in_either_direction(
    db: AsyncSession, gql: GraphQL, chat: Conversation, direction: str
) -> None:
    chronological = await message_ids(db, chat)
    expected = chronological if direction == "ASC" else chronological[::-1]
    order = {"field": "CREATED_AT", "direction": direction}

    async def fetch(page: dict[str, Any]) -> dict[str, Any]:
        return await history(gql, chat, order=order, **page)

    assert await forward(fetch, 4) == expected
    assert await backward(fetch, 4) == expected


async def test_newest_first_pages_from_the_newest(
    db: AsyncSession, gql: GraphQL, chat: Conversation
) -> None:
    connection = await history(gql, chat, order={"direction": "DESC"}, first=2)
    assert ids_of(connection) == (await message_ids(db, chat))[::-1][:2]


async def test_a_role_filter_keeps_that_role_and_counts_it(
    gql: GraphQL, chat: Conversation
) -> None:
    connection = await history(gql, chat, filter={"role": "ASSISTANT"})
    assert [edge["node"]["role"] for edge in connection["edges"]] == ["ASSISTANT"] * 3
    assert connection["totalCount"] == 3


async def test_a_content_search_folds_case_in_every_script(
    gql: GraphQL, chat: Conversation
) -> None:
    connection = await history(gql, chat, filter={"search": "été"})
    contents = [edge["node"]["content"] for edge in connection["edges"]]
    assert contents == ["Été plans?", "Nothing planned for the ÉTÉ."]


async def test_filters_combine_and_message_count_stays_the_whole_conversation(
    gql: GraphQL, chat: Conversation
) -> None:
    data = await gql.data(HISTORY, {
        "id": gid(chat), "filter": {"role": "USER", "search": "milk"},
    })
    assert [e["node"]["content"] for e in data["conversation"]["list"]["edges"]] == [
        "Add task: buy MILK"
    ]
    assert data["conversation"]["messageCount"] == len(EXCHANGE)


async def test_the_time_range_is_exclusive_at_both_ends(
    db: AsyncSession, gql: GraphQL, chat: Conversation
) -> None:
    rows = list(await db.scalars(
        select(Message).where(Message.conversation_id == chat.id).order_by(Message.id)
    ))
    connection = await history(gql, chat, filter={
        "createdAfter": rows[1].created_at.isoformat(),
        "createdBefore": rows[4].created_at.isoformat(),
    })
    assert ids_of(connection) == [gid(rows[2]), gid(rows[3])]


PAGE = """query($first: Int!) {
  conversations(first: $first, orderBy: {field: TITLE, direction: ASC}) {
    edges { node { id messageCount lastMessage { id }
      oldest: messages(last: 2, orderBy: {direction: DESC}, filter: {role: USER}) {
        totalCount edges { node { id content } } }
      found: messages(first: 2, filter: {search: "milk"}) { totalCount edges { node { id } } }
    } } } }"""
# The conversations, messageCount, lastMessage, and per aliased list its page and its count.
PAGE_STATEMENTS = 7


@pytest.mark.parametrize("size", [1, 12])
async def test_filtered_ordered_messages_of_a_page_cost_the_same_statements_at_any_size(
    db: AsyncSession, gql: GraphQL, size: int
) -> None:
    for n in range(12):
        await make_conversation(db, title=f"chat {n:02}", messages=EXCHANGE)
    payload = await gql(PAGE, {"first": size})
    assert statements(payload) == PAGE_STATEMENTS
    nodes = [edge["node"] for edge in payload["data"]["conversations"]["edges"]]
    assert len(nodes) == size
    for node in nodes:
        # The last two of newest first: the oldest two, still newest first.
        assert [e["node"]["content"] for e in node["oldest"]["edges"]] == [
            "Été plans?", "Add task: buy MILK"
        ]
        assert (node["oldest"]["totalCount"], node["found"]["totalCount"]) == (3, 3)


async def test_another_users_messages_never_appear_in_a_search(
    db: AsyncSession, gql: GraphQL, chat: Conversation
) -> None:
    await make_conversation(db, user_id="bob", messages=EXCHANGE)
    data = await gql.data("""{ conversations(first: 50) { edges { node {
        messages(filter: {search: "milk"}) { totalCount } } } } }""")
    counts = [e["node"]["messages"]["totalCount"] for e in data["conversations"]["edges"]]
    assert counts == [3]
