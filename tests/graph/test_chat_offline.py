"""The offline agent through `sendMessage`: every everyday phrasing of the issue acts on the
viewer's tasks through the same tools a model calls, and says so without table ids."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.assistant.phrasing import GREETING, HELP
from graph.ids import encode_id
from models import Conversation, Task
from tests.conftest import GraphQL
from tests.factories import make_task, tick

SEND = """
mutation($input: SendMessageInput!) {
  sendMessage(input: $input) { ... on SendMessageSuccess { reply { content } } }
}"""


async def chat(db: AsyncSession) -> str:
    stamp = tick()
    conversation = Conversation(user_id="alice", title="Chat", created_at=stamp,
                                updated_at=stamp)
    db.add(conversation)
    await db.commit()
    return encode_id("Conversation", conversation.id)


async def say(gql: GraphQL, conversation: str, content: str) -> str:
    data = await gql.data(SEND, {"input": {"conversationId": conversation, "content": content}})
    reply: str = data["sendMessage"]["reply"]["content"]
    return reply


async def numbered_tasks(db: AsyncSession, count: int) -> list[Task]:
    """Tasks titled by their number in the app's default list: newest first, so "Task 1"
    is made last."""
    return [await make_task(db, title=f"Task {n}") for n in range(count, 0, -1)]


async def status_of(db: AsyncSession, title: str) -> str | None:
    db.expire_all()
    return await db.scalar(select(Task.status).where(Task.title == title,
                                                     Task.user_id == "alice"))


@pytest.mark.parametrize("phrase", ["add task: buy milk", "Add task: Buy milk!",
                                    "please add a task to buy milk", "remind me to buy milk"])
async def test_adding_a_task(gql: GraphQL, db: AsyncSession, phrase: str) -> None:
    reply = await say(gql, await chat(db), phrase)
    assert reply.lower() == "added “buy milk”"
    assert (await status_of(db, reply[7:-1])) == "pending"


@pytest.mark.parametrize("phrase", ["list my tasks", "what are my tasks?", "What are my tasks",
                                    "show open tasks"])
async def test_listing_the_open_tasks(gql: GraphQL, db: AsyncSession, phrase: str) -> None:
    await make_task(db, title="Buy milk")
    await make_task(db, title="Old", status="completed")
    reply = await say(gql, await chat(db), phrase)
    assert reply == "Your open tasks (1\u20131 of 1):\n1. Buy milk"


async def test_list_completed_tasks(gql: GraphQL, db: AsyncSession) -> None:
    await make_task(db, title="Buy milk")
    await make_task(db, title="Old", status="completed")
    reply = await say(gql, await chat(db), "list completed tasks")
    assert reply == "Your completed tasks (1\u20131 of 1):\n1. Old"


async def test_show_all_tasks_marks_each_status(gql: GraphQL, db: AsyncSession) -> None:
    await make_task(db, title="Old", status="completed")
    await make_task(db, title="Buy milk")
    reply = await say(gql, await chat(db), "show all tasks")
    assert reply == "Your tasks (1\u20132 of 2):\n1. Buy milk\n2. Old (completed)"


async def test_a_long_list_pages_with_more_and_numbers_continue(
    gql: GraphQL, db: AsyncSession
) -> None:
    await numbered_tasks(db, 25)
    conversation = await chat(db)
    first = await say(gql, conversation, "list my tasks")
    assert first.splitlines()[0] == "Your open tasks (1\u201320 of 25):"
    assert first.splitlines()[-1] == "Say “more” to see the next 5."
    more = await say(gql, conversation, "more")
    assert more.splitlines() == ["Your open tasks (21\u201325 of 25):",
                                 *[f"{n}. Task {n}" for n in range(21, 26)]]
    assert await say(gql, conversation, "complete task 23") == "Marked “Task 23” as completed."
    assert await say(gql, conversation, "more") == "No more open tasks."


@pytest.mark.parametrize("phrase", ["complete task 12", "done 12", "Done 12.", "finished 12"])
async def test_completing_by_number(gql: GraphQL, db: AsyncSession, phrase: str) -> None:
    # No list shown yet: the number is read in the app's order and asked about first.
    await numbered_tasks(db, 13)
    conversation = await chat(db)
    asked = await say(gql, conversation, phrase)
    assert asked.startswith("Do you want me to mark “Task 12” as completed?")
    assert await status_of(db, "Task 12") == "pending"
    assert await say(gql, conversation, "yes") == "Marked “Task 12” as completed."
    assert await status_of(db, "Task 12") == "completed"
    assert await status_of(db, "Task 13") == "pending"


@pytest.mark.parametrize("phrase", ["complete task buy milk", "COMPLETE TASK BUY MILK!!!",
                                    "check off buy milk", "I finished buy milk"])
async def test_completing_by_title(gql: GraphQL, db: AsyncSession, phrase: str) -> None:
    await make_task(db, title="Buy milk")
    assert await say(gql, await chat(db), phrase) == "Marked “Buy milk” as completed."
    assert await status_of(db, "Buy milk") == "completed"


async def test_mark_the_report_as_done(gql: GraphQL, db: AsyncSession) -> None:
    await make_task(db, title="Write the quarterly report")
    reply = await say(gql, await chat(db), "mark the report as done")
    assert reply == "Marked “Write the quarterly report” as completed."


async def test_delete_task_by_number_after_a_yes(gql: GraphQL, db: AsyncSession) -> None:
    await numbered_tasks(db, 13)
    conversation = await chat(db)
    asked = await say(gql, conversation, "delete task 13")
    assert asked.startswith("Do you want me to delete “Task 13”?")
    assert await status_of(db, "Task 13") == "pending"
    assert await say(gql, conversation, "yes") == "Deleted “Task 13”."
    assert await status_of(db, "Task 13") is None


async def test_update_task_by_number_renames_it(gql: GraphQL, db: AsyncSession) -> None:
    await numbered_tasks(db, 30)
    conversation = await chat(db)
    asked = await say(gql, conversation, "update task 30: call at 5")
    assert asked.startswith("Do you want me to rename “Task 30” to “call at 5”?")
    assert await say(gql, conversation, "yes") == "Renamed “Task 30” to “call at 5”."
    assert await status_of(db, "call at 5") == "pending"


async def test_rename_by_title(gql: GraphQL, db: AsyncSession) -> None:
    await make_task(db, title="buy milk")
    reply = await say(gql, await chat(db), "rename buy milk to buy oat milk")
    assert reply == "Renamed “buy milk” to “buy oat milk”."


@pytest.mark.parametrize("phrase", ["reopen the report", "reopen task 1"])
async def test_reopening(gql: GraphQL, db: AsyncSession, phrase: str) -> None:
    await make_task(db, title="The report", status="completed")
    conversation = await chat(db)
    await say(gql, conversation, "list completed tasks")
    assert await say(gql, conversation, phrase) == "Reopened “The report”."
    assert await status_of(db, "The report") == "pending"


async def test_help_and_greetings_reply_without_touching_tasks(
    gql: GraphQL, db: AsyncSession
) -> None:
    conversation = await chat(db)
    assert await say(gql, conversation, "help") == HELP
    assert await say(gql, conversation, "hi there") == GREETING
    assert await db.scalar(select(Task.id)) is None


async def test_an_unclear_title_asks_which_and_a_number_then_answers(
    gql: GraphQL, db: AsyncSession
) -> None:
    await make_task(db, title="Call mum")
    await make_task(db, title="Call the bank")
    conversation = await chat(db)
    asked = await say(gql, conversation, "complete call")
    assert asked == "“call” matches 2 tasks. Which one?\n1. Call the bank\n2. Call mum"
    assert await status_of(db, "Call mum") == await status_of(db, "Call the bank") == "pending"
    assert await say(gql, conversation, "complete 2") == "Marked “Call mum” as completed."


async def test_steps_are_added_checked_off_and_removed_by_number(
    gql: GraphQL, db: AsyncSession
) -> None:
    await make_task(db, title="Party", steps=["Book venue", "Send invites"])
    conversation = await chat(db)
    said: list[Any] = [
        await say(gql, conversation, "add step to party: buy cake"),
        await say(gql, conversation, "complete step 1 of party"),
        await say(gql, conversation, "remove step 2 from party"),
        await say(gql, conversation, "yes"),
        await say(gql, conversation, "show party"),
    ]
    assert said == [
        "Added step 3 to “Party”: buy cake",
        "Checked off step 1 of “Party”: Book venue",
        "Do you want me to remove step 2 of “Party”: Send invites?\n"
        "Say “yes” to go ahead; anything else leaves everything as it is.",
        "Removed step 2 of “Party”: Send invites",
        "“Party” (not started)\n1. [x] Book venue\n2. [ ] buy cake",
    ]


async def test_break_down_creates_a_task_with_a_step_per_clause(
    gql: GraphQL, db: AsyncSession
) -> None:
    reply = await say(gql, await chat(db), "break down: buy milk, call mom, then write the report")
    assert reply.splitlines() == [
        "Added “Buy milk (+2 more)” with 3 steps:",
        "1. Buy milk", "2. Call mom", "3. Write the report",
    ]
