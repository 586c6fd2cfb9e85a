"""Asking before harm, through `sendMessage`: deletes, cancels and changes to several tasks
wait for a yes in the next message; a no, any other message or the expiry drops them and
changes nothing; a model's destructive tool calls are proposed the same way."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Task, TaskStep
from tests.conftest import GqlWith, GraphQL
from tests.factories import make_task
from tests.fake_openai import FakeOpenAI, calls, model, says, tool_call
from tests.graph.test_chat_offline import chat, say

__all__ = ["model"]  # a fixture, used by name

async def tasks(db: AsyncSession) -> dict[str, str]:
    db.expire_all()
    return {t.title: t.status for t in await db.scalars(select(Task).where(
        Task.user_id == "alice"))}


async def three_tasks(db: AsyncSession) -> dict[str, str]:
    for title in ("Call the plumber", "Do the taxes", "Book the dentist"):
        await make_task(db, title=title)
    return await tasks(db)


@pytest.mark.parametrize("asked", ["delete the plumber task", "cancel the plumber task",
                                   "mark all as done", "delete everything about taxes",
                                   "complete tasks 1 and 2", "delete all"])
@pytest.mark.parametrize("answer", ["no", "nope, leave it", "add buy stamps", "what?"])
async def test_a_destructive_request_asks_first_and_anything_but_yes_changes_nothing(
    gql: GraphQL, db: AsyncSession, asked: str, answer: str
) -> None:
    before = await three_tasks(db)
    conversation = await chat(db)
    question = await say(gql, conversation, asked)
    assert "?" in question and "yes" in question
    assert await tasks(db) == before
    await say(gql, conversation, answer)
    after = await tasks(db)
    if answer == "add buy stamps":  # read as a message of its own, the proposal dropped
        assert after == {**before, "buy stamps": "pending"}
    else:
        assert after == before
    await say(gql, conversation, "yes")  # too late: nothing is waiting any more
    assert await tasks(db) == after


async def test_a_yes_does_exactly_what_was_proposed(gql: GraphQL, db: AsyncSession) -> None:
    await three_tasks(db)
    conversation = await chat(db)
    question = await say(gql, conversation, "mark all as done")
    assert question.splitlines()[0] == "Do you want me to mark as completed these 3 tasks:"
    await make_task(db, title="Added meanwhile")
    reply = await say(gql, conversation, "yes please")
    assert reply.startswith("Done: mark as completed, 3 tasks:")
    assert await tasks(db) == {"Call the plumber": "completed", "Do the taxes": "completed",
                               "Book the dentist": "completed", "Added meanwhile": "pending"}


async def test_a_proposal_expires(gql_with: GqlWith, db: AsyncSession) -> None:
    gql = await gql_with(assistant_confirmation_seconds=0.001)
    before = await three_tasks(db)
    conversation = await chat(db)
    await say(gql, conversation, "delete the plumber task")
    reply = await say(gql, conversation, "yes")
    assert "expired" in reply
    assert await tasks(db) == before


async def test_removing_a_step_asks_first(gql: GraphQL, db: AsyncSession) -> None:
    task_id = (await make_task(db, title="Buy groceries", steps=["Milk", "Eggs"])).id
    conversation = await chat(db)
    assert "?" in await say(gql, conversation, "remove the eggs step from groceries")
    await say(gql, conversation, "no")
    db.expire_all()
    steps = await db.scalars(select(TaskStep.content).where(TaskStep.task_id == task_id)
                             .order_by(TaskStep.step_number))
    assert list(steps) == ["Milk", "Eggs"]


async def test_it_with_nothing_named_asks_and_changes_nothing(
    gql: GraphQL, db: AsyncSession
) -> None:
    before = await three_tasks(db)
    for message in ("delete it", "complete it", "mark that one as done", "start it"):
        reply = await say(gql, await chat(db), message)
        assert reply.startswith("Which task do you mean?")
    assert await tasks(db) == before


async def test_a_word_inside_another_word_matches_nothing(
    gql: GraphQL, db: AsyncSession
) -> None:
    await make_task(db, title="Write the quarterly report")
    await make_task(db, title="Call the plumber")
    before = await tasks(db)
    conversation = await chat(db)
    assert await say(gql, conversation, "complete rite") == "No task or open step matches “rite”."
    assert "No task matches" in await say(gql, conversation, "delete lumber")
    assert await tasks(db) == before


async def test_a_failed_reference_clears_what_it_means(gql: GraphQL, db: AsyncSession) -> None:
    before = await three_tasks(db)
    conversation = await chat(db)
    await say(gql, conversation, "show the taxes")
    await say(gql, conversation, "show me the car task")  # matches nothing
    assert (await say(gql, conversation, "mark it as done")).startswith("Which task")
    assert await tasks(db) == before


async def test_a_number_with_no_list_shown_follows_the_apps_order_and_is_asked_first(
    gql: GraphQL, db: AsyncSession
) -> None:
    before = await three_tasks(db)
    conversation = await chat(db)
    reply = await say(gql, conversation, "complete 1")
    # The newest, as the app lists them; but the user may see another order: asked first.
    assert reply.startswith("Do you want me to mark “Book the dentist” as completed?")
    assert await tasks(db) == before
    assert await say(gql, conversation, "yes") == "Marked “Book the dentist” as completed."


async def test_after_a_list_a_number_acts_at_once(gql: GraphQL, db: AsyncSession) -> None:
    await three_tasks(db)
    conversation = await chat(db)
    await say(gql, conversation, "list my tasks")
    assert await say(gql, conversation, "complete 1") == "Marked “Book the dentist” as completed."



async def test_a_models_delete_is_proposed_and_the_yes_needs_no_model(
    gql_with: GqlWith, db: AsyncSession, model: FakeOpenAI
) -> None:
    gql = await gql_with(assistant_provider="openai", openai_base_url=model.base_url,
                         openai_api_key="k", openai_model="fake-model")
    before = await three_tasks(db)
    conversation = await chat(db)
    model.answer(calls(tool_call("delete_task", task="plumber")), says("never used"))
    question = await say(gql, conversation, "get rid of the plumber thing")
    assert question.startswith("Do you want me to delete “Call the plumber”?")
    assert await tasks(db) == before and len(model.requests) == 1
    assert await say(gql, conversation, "yes") == "Deleted “Call the plumber”."
    assert len(model.requests) == 1  # the yes was answered here, not by the model
    assert "Call the plumber" not in await tasks(db)
