"""Conversations and messages: queries, paging per conversation, every mutation and its errors."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.assistant import Answer, OfflineAssistant, Turn
from graph.ids import encode_id
from models import AiLog, Conversation, Message, Task, TaskEvent
from models.base import utcnow
from tests.conftest import GraphQL, table_count
from tests.factories import make_task, tick

START = """
mutation($input: StartConversationInput!) {
  startConversation(input: $input) {
    __typename
    ... on StartConversationSuccess {
      conversation { id title messageCount }
      message { role content } reply { role content }
    }
    ... on ValidationError { fields { field message } }
    ... on UserError { code errorMessage: message }
  }
}"""
SEND = """
mutation($input: SendMessageInput!) {
  sendMessage(input: $input) {
    __typename
    ... on SendMessageSuccess {
      message { id role content } reply { id role content }
      conversation { id title updatedAt messageCount }
    }
    ... on ValidationError { fields { field message } }
    ... on NotFoundError { missingId }
    ... on UserError { code errorMessage: message }
  }
}"""
RENAME = """
mutation($input: RenameConversationInput!) {
  renameConversation(input: $input) {
    __typename
    ... on RenameConversationSuccess { conversation { title } }
    ... on ValidationError { fields { field } }
    ... on NotFoundError { missingId }
  }
}"""
DELETE = """
mutation($input: DeleteConversationInput!) {
  deleteConversation(input: $input) {
    __typename ... on DeleteConversationSuccess { deletedId } ... on NotFoundError { missingId }
  }
}"""


async def make_conversation(
    db: AsyncSession, *, user_id: str = "alice", title: str | None = "Chat", messages: int = 0
) -> Conversation:
    stamp = tick()
    conversation = Conversation(user_id=user_id, title=title, created_at=stamp, updated_at=stamp)
    db.add(conversation)
    await db.flush()
    for n in range(messages):
        role = "user" if n % 2 == 0 else "assistant"
        db.add(
            Message(conversation_id=conversation.id, role=role, content=f"m{n}", created_at=tick())
        )
    conversation.updated_at = tick()
    await db.commit()
    return conversation


def gid(conversation: Conversation) -> str:
    return encode_id("Conversation", conversation.id)


async def start(gql: GraphQL, user: str = "alice", **fields: Any) -> dict[str, Any]:
    data = await gql.data(START, {"input": fields}, user=user)
    result: dict[str, Any] = data["startConversation"]
    return result


async def send(gql: GraphQL, conversation_id: str, content: str, user: str = "alice") -> Any:
    data = await gql.data(
        SEND, {"input": {"conversationId": conversation_id, "content": content}}, user=user
    )
    return data["sendMessage"]


async def test_start_conversation_without_a_message_is_untitled_and_empty(gql: GraphQL) -> None:
    result = await start(gql)
    assert result["__typename"] == "StartConversationSuccess"
    assert result["conversation"]["title"] is None
    assert result["conversation"]["messageCount"] == 0
    assert result["message"] is None and result["reply"] is None


async def test_start_conversation_with_a_message_stores_both_and_titles_it(gql: GraphQL) -> None:
    result = await start(gql, message="help")
    assert result["message"] == {"role": "USER", "content": "help"}
    assert result["reply"]["role"] == "ASSISTANT"
    assert "add task" in result["reply"]["content"]
    assert result["conversation"]["title"] == "Help"
    assert result["conversation"]["messageCount"] == 2


async def test_send_message_stores_the_message_and_the_reply(
    gql: GraphQL, db: AsyncSession
) -> None:
    conversation = await make_conversation(db)
    before = conversation.updated_at
    result = await send(gql, gid(conversation), "hello there")
    assert result["__typename"] == "SendMessageSuccess"
    assert result["message"]["content"] == "hello there"
    assert result["reply"]["role"] == "ASSISTANT" and result["reply"]["content"]
    assert result["conversation"]["messageCount"] == 2
    assert result["conversation"]["updatedAt"] > before.isoformat()


async def test_send_message_titles_an_untitled_conversation(gql: GraphQL, db: AsyncSession) -> None:
    conversation = await make_conversation(db, title=None)
    result = await send(gql, gid(conversation), "plan the garden party")
    assert result["conversation"]["title"] == "Plan the garden party"


async def test_send_message_keeps_an_existing_title(gql: GraphQL, db: AsyncSession) -> None:
    conversation = await make_conversation(db, title="Mine")
    result = await send(gql, gid(conversation), "plan the garden party")
    assert result["conversation"]["title"] == "Mine"


async def test_add_task_creates_a_task_with_its_event(gql: GraphQL, db: AsyncSession) -> None:
    conversation = await make_conversation(db)
    result = await send(gql, gid(conversation), "add task: buy milk")
    task = await db.scalar(select(Task).where(Task.user_id == "alice"))
    assert task is not None and task.title == "buy milk"
    assert result["reply"]["content"] == "Added “buy milk”"
    events = (await db.scalars(select(TaskEvent).where(TaskEvent.task_id == task.id))).all()
    assert [event.event_type for event in events] == ["created"]


async def test_a_list_numbers_only_the_viewers_open_tasks_without_table_ids(
    gql: GraphQL, db: AsyncSession
) -> None:
    await make_task(db, user_id="bob", title="bobs secret")
    await make_task(db, title="water plants")
    await make_task(db, title="done already", status="completed")
    await make_task(db, title="call mum", status="in_progress")
    conversation = await make_conversation(db)
    reply = (await send(gql, gid(conversation), "list my tasks"))["reply"]["content"]
    # Newest first, as the app lists tasks by default.
    assert reply == "Your open tasks (1\u20132 of 2):\n1. call mum (in progress)\n2. water plants"


async def test_a_number_means_the_line_of_the_list_last_shown(
    gql: GraphQL, db: AsyncSession
) -> None:
    second = await make_task(db, title="call mum")
    await make_task(db, title="newest")
    conversation = await make_conversation(db)
    await send(gql, gid(conversation), "list my tasks")
    reply = (await send(gql, gid(conversation), "complete task 2"))["reply"]["content"]
    assert reply == "Marked “call mum” as completed."
    await db.refresh(second)
    assert second.status == "completed" and second.completed_at is not None
    event = await db.scalar(select(TaskEvent).where(TaskEvent.task_id == second.id,
                                                    TaskEvent.event_type == "status_changed"))
    assert event is not None and (event.from_status, event.to_status) == ("pending", "completed")


async def test_delete_by_title_asks_first_and_deletes_after_a_yes(
    gql: GraphQL, db: AsyncSession
) -> None:
    task = await make_task(db, title="old chore")
    task_id = task.id
    conversation = gid(await make_conversation(db))
    asked = (await send(gql, conversation, "delete the old chore"))["reply"]["content"]
    assert asked.splitlines()[0] == "Do you want me to delete “old chore”?"
    db.expire_all()
    assert await db.scalar(select(Task).where(Task.id == task_id)) is not None
    reply = (await send(gql, conversation, "yes"))["reply"]["content"]
    assert reply == "Deleted “old chore”."
    db.expire_all()
    assert await db.scalar(select(Task).where(Task.id == task_id)) is None


async def test_commands_never_touch_another_users_task(gql: GraphQL, db: AsyncSession) -> None:
    theirs = await make_task(db, user_id="bob", title="bobs task")
    conversation = await make_conversation(db)
    for command, said in (
        (f"complete task {theirs.id}",
         f"You have no task number {theirs.id}. Which task do you mean?"),
        (f"delete task {theirs.id}",
         f"You have no task number {theirs.id}. Which task do you mean?"),
        ("complete bobs task", "No task or open step matches “bobs task”."),
    ):
        reply = (await send(gql, gid(conversation), command))["reply"]["content"]
        assert reply == said
    await db.refresh(theirs)
    assert theirs.status == "pending"


async def test_every_assistant_call_is_logged(gql: GraphQL, db: AsyncSession) -> None:
    conversation = await make_conversation(db, title=None)
    await send(gql, gid(conversation), "hello")
    purposes = sorted((await db.scalars(select(AiLog.purpose))).all())
    assert purposes == ["chat_reply", "title"]


class FailingAssistant(OfflineAssistant):
    name = "failing"
    model = "none"

    async def turn(self, messages: Any, tools: Any, *, on_text: Any = None) -> Answer[Turn]:
        raise RuntimeError("model unavailable")


async def test_a_provider_failure_stores_neither_message(
    gql: GraphQL, db: AsyncSession, app: Any
) -> None:
    conversation = await make_conversation(db)
    app.state.resources.assistant = FailingAssistant()
    result = await send(gql, gid(conversation), "add task: never")
    assert result["__typename"] == "AssistantError"
    assert result["code"] == "ASSISTANT_ERROR"
    assert "unavailable" not in result["errorMessage"]
    assert await table_count(db, "messages") == 0
    assert await table_count(db, "tasks") == 0
    error = await db.scalar(select(AiLog.error))
    assert error is not None and "model unavailable" in error


async def test_start_conversation_provider_failure_stores_nothing(
    gql: GraphQL, db: AsyncSession, app: Any
) -> None:
    app.state.resources.assistant = FailingAssistant()
    result = await start(gql, title="Plans", message="add task: never")
    assert result["__typename"] == "AssistantError"
    assert result["code"] == "ASSISTANT_ERROR"
    for table in ("conversations", "messages", "tasks"):
        assert await table_count(db, table) == 0


async def test_start_conversation_refuses_a_long_title_and_a_blank_message(
    gql: GraphQL, db: AsyncSession
) -> None:
    for fields, field in (({"title": "t" * 201}, "title"), ({"message": "   "}, "message")):
        result = await start(gql, **fields)
        assert result["__typename"] == "ValidationError"
        assert [f["field"] for f in result["fields"]] == [field]
    assert await table_count(db, "conversations") == 0


async def test_empty_and_oversized_messages_are_refused(gql: GraphQL, db: AsyncSession) -> None:
    conversation = await make_conversation(db)
    for content in ("   ", "x" * 32_001):
        result = await send(gql, gid(conversation), content)
        assert result["__typename"] == "ValidationError"
        assert result["fields"][0]["field"] == "content"
    assert await table_count(db, "messages") == 0


async def test_sending_to_another_users_conversation_is_not_found(
    gql: GraphQL, db: AsyncSession
) -> None:
    theirs = await make_conversation(db, user_id="bob")
    result = await send(gql, gid(theirs), "hi")
    assert (result["__typename"], result["missingId"], result["code"]) == (
        "NotFoundError",
        gid(theirs),
        "NOT_FOUND",
    )
    assert await table_count(db, "messages") == 0


async def test_rename_sets_and_clears_the_title(gql: GraphQL, db: AsyncSession) -> None:
    conversation = await make_conversation(db)
    renamed = await gql.data(RENAME, {"input": {"id": gid(conversation), "title": " New "}})
    assert renamed["renameConversation"]["conversation"]["title"] == "New"
    cleared = await gql.data(RENAME, {"input": {"id": gid(conversation), "title": None}})
    assert cleared["renameConversation"]["conversation"]["title"] is None


async def test_rename_refuses_a_long_title_and_a_foreign_conversation(
    gql: GraphQL, db: AsyncSession
) -> None:
    mine = await make_conversation(db)
    theirs = await make_conversation(db, user_id="bob", title="Bob's")
    too_long = await gql.data(RENAME, {"input": {"id": gid(mine), "title": "x" * 201}})
    assert too_long["renameConversation"]["fields"] == [{"field": "title"}]
    foreign = await gql.data(RENAME, {"input": {"id": gid(theirs), "title": "taken"}})
    assert foreign["renameConversation"] == {
        "__typename": "NotFoundError", "missingId": gid(theirs)
    }
    await db.refresh(theirs)
    assert theirs.title == "Bob's"


async def test_delete_cascades_to_messages(gql: GraphQL, db: AsyncSession) -> None:
    conversation = await make_conversation(db, messages=3)
    result = await gql.data(DELETE, {"input": {"id": gid(conversation)}})
    assert result["deleteConversation"] == {
        "__typename": "DeleteConversationSuccess",
        "deletedId": gid(conversation),
    }
    assert await table_count(db, "messages") == 0


async def test_delete_of_another_users_conversation_is_not_found(
    gql: GraphQL, db: AsyncSession
) -> None:
    theirs = await make_conversation(db, user_id="bob", messages=2)
    result = await gql.data(DELETE, {"input": {"id": gid(theirs)}})
    assert result["deleteConversation"]["__typename"] == "NotFoundError"
    assert await table_count(db, "messages") == 2


async def test_conversations_are_most_recently_active_first(gql: GraphQL, db: AsyncSession) -> None:
    older = await make_conversation(db, title="older")
    newer = await make_conversation(db, title="newer")
    await make_conversation(db, user_id="bob", title="bob's")
    older.updated_at = utcnow()
    await db.commit()
    data = await gql.data("{ conversations { totalCount edges { node { title } } } }")
    titles = [edge["node"]["title"] for edge in data["conversations"]["edges"]]
    assert titles == ["older", "newer"]
    assert data["conversations"]["totalCount"] == 2
    assert newer.title == "newer"


async def test_messages_last_n_is_the_newest_n_in_chronological_order(
    gql: GraphQL, db: AsyncSession
) -> None:
    conversation = await make_conversation(db, messages=6)
    query = """query($id: ID!) { conversation(id: $id) {
        messageCount lastMessage { content }
        messages(last: 3) { edges { node { content } } pageInfo { hasPreviousPage } } } }"""
    data = (await gql.data(query, {"id": gid(conversation)}))["conversation"]
    assert [e["node"]["content"] for e in data["messages"]["edges"]] == ["m3", "m4", "m5"]
    assert data["messages"]["pageInfo"]["hasPreviousPage"] is True
    assert data["messageCount"] == 6
    assert data["lastMessage"] == {"content": "m5"}


async def test_messages_page_forward_with_cursors(gql: GraphQL, db: AsyncSession) -> None:
    conversation = await make_conversation(db, messages=5)
    query = """query($id: ID!, $after: String) { conversation(id: $id) {
        messages(first: 2, after: $after) {
          edges { node { content } } pageInfo { hasNextPage endCursor } } } }"""
    seen: list[str] = []
    after = None
    while True:
        data = await gql.data(query, {"id": gid(conversation), "after": after})
        page = data["conversation"]["messages"]
        seen += [edge["node"]["content"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["m0", "m1", "m2", "m3", "m4"]


async def test_messages_page_backward_with_cursors(gql: GraphQL, db: AsyncSession) -> None:
    conversation = await make_conversation(db, messages=5)
    query = """query($id: ID!, $before: String) { conversation(id: $id) {
        messages(last: 2, before: $before) {
          edges { node { content } } pageInfo { hasPreviousPage startCursor } } } }"""
    pages: list[list[str]] = []
    before = None
    while True:
        data = await gql.data(query, {"id": gid(conversation), "before": before})
        page = data["conversation"]["messages"]
        pages.append([edge["node"]["content"] for edge in page["edges"]])
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert pages == [["m3", "m4"], ["m1", "m2"], ["m0"]]


async def test_conversations_page_forward_with_cursors(gql: GraphQL, db: AsyncSession) -> None:
    for title in ("oldest", "middle", "newest"):
        await make_conversation(db, title=title)
    query = """query($after: String) { conversations(first: 2, after: $after) {
        edges { node { title } } pageInfo { hasNextPage endCursor } } }"""
    first = (await gql.data(query))["conversations"]
    second = (await gql.data(query, {"after": first["pageInfo"]["endCursor"]}))["conversations"]
    assert [e["node"]["title"] for e in first["edges"]] == ["newest", "middle"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["title"] for e in second["edges"]] == ["oldest"]
    assert second["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize("bad_id", ["not-an-id", encode_id("Task", 1)])
async def test_send_and_rename_with_a_malformed_or_wrong_kind_id_are_not_found(
    gql: GraphQL, bad_id: str
) -> None:
    sent = await send(gql, bad_id, "hello")
    renamed = (await gql.data(RENAME, {"input": {"id": bad_id, "title": "x"}}))[
        "renameConversation"
    ]
    assert sent["__typename"] == renamed["__typename"] == "NotFoundError"


async def test_messages_page_per_conversation_in_a_batch(gql: GraphQL, db: AsyncSession) -> None:
    for count in (5, 1, 0, 4):
        await make_conversation(db, messages=count)
    data = await gql.data("""{ conversations(first: 20) { edges { node {
        messages(last: 3) { edges { node { content } } pageInfo { hasPreviousPage } } } } } }""")
    pages = [edge["node"]["messages"] for edge in data["conversations"]["edges"]]
    got = [
        ([e["node"]["content"] for e in p["edges"]], p["pageInfo"]["hasPreviousPage"])
        for p in pages
    ]
    assert got == [
        (["m1", "m2", "m3"], True),
        ([], False),
        (["m0"], False),
        (["m2", "m3", "m4"], True),
    ]


async def test_a_page_of_conversations_costs_the_same_statements_as_one(
    gql: GraphQL, db: AsyncSession
) -> None:
    query = """query($n: Int!) { conversations(first: $n) { edges { node {
        title messageCount lastMessage { content }
        messages(last: 3) { totalCount edges { node { content } } } } } } }"""
    await make_conversation(db, messages=3)
    one = await gql(query, {"n": 1})
    for _ in range(19):
        await make_conversation(db, messages=3)
    twenty = await gql(query, {"n": 20})
    assert len(twenty["data"]["conversations"]["edges"]) == 20
    statements = one["extensions"]["sql"]["statements"]
    assert twenty["extensions"]["sql"]["statements"] == statements == 4


async def test_another_users_conversation_and_messages_are_invisible(
    gql: GraphQL, db: AsyncSession
) -> None:
    theirs = await make_conversation(db, user_id="bob", messages=2)
    query = """query($id: ID!) { conversation(id: $id) { id } node(id: $id) { id } }"""
    data = await gql.data(query, {"id": gid(theirs)})
    assert data == {"conversation": None, "node": None}
    message_id = await db.scalar(select(Message.id))
    node = await gql.data(
        "query($id: ID!) { node(id: $id) { id } }", {"id": encode_id("Message", message_id)}
    )
    assert node == {"node": None}
    listing = await gql.data("{ conversations { totalCount } }")
    assert listing["conversations"]["totalCount"] == 0
