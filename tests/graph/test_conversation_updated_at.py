"""`Conversation.updatedAt` is the last message's time (domain.md: it "moves with every new
message"), its creation time while it has none; nothing else moves it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from graph.ids import encode_id
from models import Conversation
from models.base import utcnow
from tests.conftest import GraphQL

START = """mutation($title: String, $message: String) {
  startConversation(input: {title: $title, message: $message}) {
    ... on StartConversationSuccess {
      conversation { id createdAt updatedAt } reply { createdAt } } } }"""
SEND = """mutation($id: ID!, $content: String!) {
  sendMessage(input: {conversationId: $id, content: $content}) {
    ... on SendMessageSuccess { reply { createdAt } conversation { updatedAt } } } }"""
RENAME = """mutation($id: ID!, $title: String) {
  renameConversation(input: {id: $id, title: $title}) {
    ... on RenameConversationSuccess { conversation { title updatedAt } } } }"""
READ = """query($id: ID!) { conversation(id: $id) {
  title updatedAt lastMessage { createdAt } } }"""


async def started(gql: GraphQL, **variables: Any) -> dict[str, Any]:
    data = await gql.data(START, variables)
    result: dict[str, Any] = data["startConversation"]
    return result


async def read(gql: GraphQL, gid: str) -> dict[str, Any]:
    conversation: dict[str, Any] = (await gql.data(READ, {"id": gid}))["conversation"]
    return conversation


async def test_a_conversation_without_messages_was_updated_when_it_was_created(
    gql: GraphQL,
) -> None:
    conversation = (await started(gql, title="quiet"))["conversation"]
    assert conversation["updatedAt"] == conversation["createdAt"]


async def test_starting_with_a_message_leaves_updated_at_at_the_reply(gql: GraphQL) -> None:
    result = await started(gql, message="hello")
    assert result["conversation"]["updatedAt"] == result["reply"]["createdAt"]


async def test_a_message_moves_updated_at_to_the_replys_time(gql: GraphQL) -> None:
    gid = (await started(gql, title="chat"))["conversation"]["id"]
    sent = (await gql.data(SEND, {"id": gid, "content": "hello"}))["sendMessage"]
    assert sent["conversation"]["updatedAt"] == sent["reply"]["createdAt"]
    stored = await read(gql, gid)
    assert stored["updatedAt"] == stored["lastMessage"]["createdAt"]


async def test_a_turn_that_shows_a_list_ends_at_the_replys_time(gql: GraphQL) -> None:
    # The list the reply showed is stored after the messages: with an `onupdate` on the
    # column, that write moved updatedAt past the last message.
    gid = (await started(gql, title="chat"))["conversation"]["id"]
    await gql.data(SEND, {"id": gid, "content": "add task: buy milk"})
    await gql.data(SEND, {"id": gid, "content": "list my tasks"})
    stored = await read(gql, gid)
    assert stored["updatedAt"] == stored["lastMessage"]["createdAt"]


async def test_renaming_changes_the_title_only(gql: GraphQL) -> None:
    gid = (await started(gql, message="hello"))["conversation"]["id"]
    before = await read(gql, gid)
    renamed = (await gql.data(RENAME, {"id": gid, "title": "Renamed"}))["renameConversation"]
    assert renamed["conversation"] == {"title": "Renamed", "updatedAt": before["updatedAt"]}
    assert (await read(gql, gid))["updatedAt"] == before["updatedAt"]


async def test_a_renamed_old_chat_stays_below_one_with_a_newer_message(gql: GraphQL) -> None:
    old = (await started(gql, message="old news"))["conversation"]["id"]
    new = (await started(gql, message="fresh news"))["conversation"]["id"]
    await gql.data(RENAME, {"id": old, "title": "Renamed just now"})
    data = await gql.data("{ conversations(first: 2) { edges { node { id } } } }")
    assert [edge["node"]["id"] for edge in data["conversations"]["edges"]] == [new, old]


async def test_claiming_a_visit_leaves_its_conversations_updated_at(
    gql: GraphQL, db: AsyncSession
) -> None:
    visit = gql.visit()
    long_ago = utcnow() - timedelta(days=3)
    conversation = Conversation(user_id=f"session:{visit.visit_id}", title="anon",
                                created_at=long_ago, updated_at=long_ago)
    db.add(conversation)
    await db.commit()
    claimed = await gql.data(
        "mutation($sid: String!) { claimSession(input: {sessionId: $sid}) { __typename } }",
        {"sid": visit.text}, headers={"X-Session-Id": visit.text},
    )
    assert claimed["claimSession"]["__typename"] == "ClaimSessionSuccess"
    stored = await read(gql, encode_id("Conversation", conversation.id))
    assert stored["updatedAt"] == long_ago.isoformat()
