"""The chat agent with the OpenAI-compatible provider, against a fake model over real HTTP:
tool calls through the task services and the viewer's scope, several per turn, bounded
rounds, the records each turn leaves, and what a provider failure leaves behind."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.assistant.agent import MAX_ROUNDS, SYSTEM_PROMPT
from domain.assistant.tools import SPECS
from graph.ids import encode_id
from models import AiLog, Conversation, Message, Task, TaskEvent, TaskStep
from models.audit import AuditLog
from tests.conftest import GqlWith, GraphQL
from tests.factories import make_task, tick
from tests.fake_openai import FakeOpenAI, calls, fails, model, says, tool_call

__all__ = ["model"]  # a fixture, used by name

SEND = """
mutation($input: SendMessageInput!) {
  sendMessage(input: $input) {
    __typename
    ... on SendMessageSuccess { message { content } reply { content } }
    ... on UserError { code errorMessage: message }
  }
}"""



@pytest.fixture
async def gql(gql_with: GqlWith, model: FakeOpenAI) -> GraphQL:
    return await gql_with(assistant_provider="openai", openai_base_url=model.base_url,
                          openai_api_key="test-key", openai_model="fake-model")


async def conversation_of(db: AsyncSession, user_id: str = "alice") -> Conversation:
    stamp = tick()
    conversation = Conversation(user_id=user_id, title="Chat", created_at=stamp,
                                updated_at=stamp)
    db.add(conversation)
    await db.commit()
    return conversation


async def say(gql: GraphQL, conversation: Conversation, content: str) -> dict[str, Any]:
    variables = {"input": {"conversationId": encode_id("Conversation", conversation.id),
                           "content": content}}
    result: dict[str, Any] = (await gql.data(SEND, variables))["sendMessage"]
    return result


async def titles(db: AsyncSession, user_id: str = "alice") -> dict[str, str]:
    db.expire_all()
    rows = await db.scalars(select(Task).where(Task.user_id == user_id))
    return {task.title: task.status for task in rows}


async def test_one_message_creates_a_task_with_steps_completes_another_and_lists_the_rest(
    gql: GraphQL, db: AsyncSession, model: FakeOpenAI
) -> None:
    await make_task(db, title="Water plants")
    mum = await make_task(db, title="Call mum")
    await make_task(db, user_id="bob", title="Bob's secret")
    conversation = await conversation_of(db)
    model.answer(
        calls(tool_call("create_task", title="Plan the party",
                        steps=["Book the venue", "Send invites"]),
              tool_call("complete_task", task="call mum"), tokens=120),
        calls(tool_call("list_tasks", status="open"), tokens=80),
        says("Added the party with two steps, completed Call mum; two tasks are open.",
             tokens=40),
    )
    result = await say(gql, conversation, "Plan the party, I called mum, what's left?")
    assert result["reply"]["content"].startswith("Added the party with two steps")
    assert await titles(db) == {"Water plants": "pending", "Call mum": "completed",
                                "Plan the party": "pending"}
    party = await db.scalar(select(Task).where(Task.title == "Plan the party"))
    assert party is not None
    steps = await db.scalars(select(TaskStep.content).where(TaskStep.task_id == party.id)
                             .order_by(TaskStep.step_number))
    assert list(steps) == ["Book the venue", "Send invites"]
    events = await db.scalars(select(TaskEvent.event_type)
                              .where(TaskEvent.task_id.in_([party.id, mum.id]))
                              .order_by(TaskEvent.id))
    assert list(events) == ["created", "status_changed"]
    listed = model.tool_results(2)[-1]
    # Newest first, as the app lists tasks by default.
    assert [row["title"] for row in listed["tasks"]] == ["Plan the party", "Water plants"]
    assert "Bob's secret" not in str(model.requests)


async def test_the_model_is_given_the_tools_the_history_and_each_tool_result(
    gql: GraphQL, db: AsyncSession, model: FakeOpenAI
) -> None:
    conversation = await conversation_of(db)
    db.add(Message(conversation_id=conversation.id, role="user", content="earlier question",
                   created_at=tick()))
    await db.commit()
    model.answer(calls(tool_call("create_task", title="Buy milk")), says("Added."))
    await say(gql, conversation, "add buy milk")
    first, second = model.requests
    assert [tool["function"] for tool in first["tools"]] == SPECS
    assert first["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert first["messages"][1:] == [{"role": "user", "content": "earlier question"},
                                     {"role": "user", "content": "add buy milk"}]
    call_message, result_message = second["messages"][-2:]
    assert call_message["tool_calls"][0]["function"]["name"] == "create_task"
    assert result_message["tool_call_id"] == call_message["tool_calls"][0]["id"]
    assert model.tool_results(1) == [{"ok": True, "say": "Added “Buy milk”", "title": "Buy milk",
                                      "steps": []}]


async def test_a_turn_leaves_one_ai_log_per_call_and_one_server_audit_entry(
    gql: GraphQL, db: AsyncSession, model: FakeOpenAI
) -> None:
    conversation = await conversation_of(db)
    model.answer(calls(tool_call("create_task", title="Buy milk"), tokens=70),
                 says("Added Buy milk.", tokens=25))
    await say(gql, conversation, "add buy milk")
    logs = list(await db.scalars(select(AiLog).order_by(AiLog.id)))
    assert [(log.purpose, log.tokens, log.request_id is not None) for log in logs] == [
        ("chat_reply", 70, True), ("chat_reply", 25, True)]
    assert "tool_calls" in (logs[0].response or "")  # the raw answers, kept as given
    assert "Added Buy milk." in (logs[1].response or "")
    entry = await db.scalar(select(AuditLog))
    assert entry is not None
    assert (entry.source, entry.document_type, entry.status, entry.model_used,
            entry.tokens_used) == ("server", "chat_reply", "success", "fake-model", 95)
    assert entry.input_data == {"message": "add buy milk"}
    assert entry.generated_text["reply"] == "Added Buy milk."
    assert entry.generated_text["tools"] == [{"tool": "create_task", "ok": True,
                                              "changed": True}]
    assert entry.generation_time_ms == sum(log.latency_ms or 0 for log in logs)


async def test_the_user_message_and_the_reply_are_stored_together(
    gql: GraphQL, db: AsyncSession, model: FakeOpenAI
) -> None:
    conversation = await conversation_of(db)
    model.answer(says("Hello!"))
    await say(gql, conversation, "hi")
    stored = await db.execute(select(Message.role, Message.content)
                              .where(Message.conversation_id == conversation.id)
                              .order_by(Message.id))
    assert [tuple(row) for row in stored] == [("user", "hi"), ("assistant", "Hello!")]


async def test_no_tool_call_reaches_another_users_task(
    gql: GraphQL, db: AsyncSession, model: FakeOpenAI
) -> None:
    theirs = await make_task(db, user_id="bob", title="Bob's secret", steps=["one", "two"])
    conversation = await conversation_of(db)
    model.answer(
        calls(tool_call("complete_task", task="Bob's secret"),
              tool_call("delete_task", task=str(theirs.id)),
              tool_call("show_task", task=f"#{theirs.id}"),
              tool_call("update_task", task="secret", title="Mine now"),
              tool_call("add_step", task="Bob", content="sneak in"),
              tool_call("set_status", task="Bob's secret", status="cancelled"),
              tool_call("reopen_task", task="Bob's secret"),
              tool_call("complete_step", task="Bob's secret", step=1),
              tool_call("remove_step", task="Bob's secret", step=2),
              tool_call("list_tasks", status="all", search="secret")),
        says("I could not find that."),
    )
    await say(gql, conversation, "finish Bob's secret")
    results = model.tool_results(1)
    assert [result["ok"] for result in results] == [False] * 9 + [True]
    assert results[9]["tasks"] == []
    db.expire_all()
    await db.refresh(theirs)
    assert (theirs.title, theirs.status) == ("Bob's secret", "pending")
    steps = await db.execute(select(TaskStep.content, TaskStep.completed)
                             .where(TaskStep.task_id == theirs.id).order_by(TaskStep.step_number))
    assert [tuple(row) for row in steps] == [("one", False), ("two", False)]
    assert await db.scalar(select(TaskEvent.id).where(TaskEvent.task_id == theirs.id).offset(1)) \
        is None  # only its creation


async def test_a_bad_tool_call_is_answered_to_the_model_not_the_user(
    gql: GraphQL, db: AsyncSession, model: FakeOpenAI
) -> None:
    conversation = await conversation_of(db)
    model.answer(
        calls(tool_call("create_task", title="", steps=["x"] * 101),
              tool_call("launch_rockets"),
              {"type": "function", "function": {"name": "create_task", "arguments": "{not json"}}),
        says("Sorry, I could not add that."),
    )
    result = await say(gql, conversation, "add a task")
    assert result["reply"]["content"] == "Sorry, I could not add that."
    errors = [r["error"] for r in model.tool_results(1)]
    assert "title: must not be empty" in errors[0] and "steps: must have at most 100" in errors[0]
    assert "no tool named" in errors[1] and "must be a JSON object" in errors[2]
    assert await titles(db) == {}


async def test_a_provider_failure_mid_turn_keeps_each_finished_tool_and_says_so(
    gql: GraphQL, db: AsyncSession, model: FakeOpenAI
) -> None:
    conversation = await conversation_of(db)
    model.answer(calls(tool_call("create_task", title="Plan the party", steps=["Book"])),
                 *[fails(503)] * 4)  # the first answer and each retry
    result = await say(gql, conversation, "plan the party and then list everything")
    reply = result["reply"]["content"]
    assert "stopped answering partway" in reply and "Added “Plan the party”" in reply
    assert "not done" in reply
    party = await db.scalar(select(Task).where(Task.title == "Plan the party"))
    assert party is not None
    assert await db.scalar(select(TaskStep.content).where(TaskStep.task_id == party.id)) == "Book"
    entry = await db.scalar(select(AuditLog))
    assert entry is not None and entry.status == "error"
    assert "503" not in (entry.error_message or "") and "error " in (entry.error_message or "")
    log = await db.scalar(select(AiLog.error).where(AiLog.error.is_not(None)))
    assert log is not None and "503" in log  # the reason is kept where users never see it
    messages = await db.scalars(select(Message.role).where(
        Message.conversation_id == conversation.id).order_by(Message.id))
    assert list(messages) == ["user", "assistant"]


async def test_a_provider_failure_before_any_change_stores_nothing_but_the_records(
    gql: GraphQL, db: AsyncSession, model: FakeOpenAI
) -> None:
    conversation = await conversation_of(db)
    model.answer(fails(500))
    result = await say(gql, conversation, "add buy milk")
    assert result["__typename"] == "AssistantError"
    assert await db.scalar(select(Message).where(Message.conversation_id == conversation.id)) \
        is None
    log = await db.scalar(select(AiLog))
    assert log is not None and "500" in (log.error or "")
    assert (log.request_id or "").startswith("req_")
    entry = await db.scalar(select(AuditLog))
    assert entry is not None and (entry.source, entry.status) == ("server", "error")


async def test_the_rounds_of_a_turn_are_bounded(
    gql: GraphQL, db: AsyncSession, model: FakeOpenAI
) -> None:
    conversation = await conversation_of(db)
    model.answer(*[calls(tool_call("list_tasks"))] * (MAX_ROUNDS + 3))
    result = await say(gql, conversation, "keep listing")
    assert len(model.requests) == MAX_ROUNDS
    assert f"stopped after {MAX_ROUNDS} rounds" in result["reply"]["content"]
