"""Every AI generation the server makes leaves its records: an ai_logs row per provider call
(the raw answer, tokens, latency, the provider's request id) and one audit entry with source
SERVER, success or error alike; and the breakdown's protocol with a real model endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.assistant.breakdown import BREAKDOWN_SYSTEM_PROMPT, response_format
from models import AiLog, Task, TaskStep
from models.audit import AuditLog
from tests.conftest import GqlWith, GraphQL, table_count
from tests.fake_openai import FakeOpenAI, fails, model, says

__all__ = ["model"]  # a fixture, used by name

BREAK_DOWN = """
mutation($words: String!) {
  breakDownTask(input: {input: $words}) {
    __typename ... on BreakDownTaskSuccess { task { title steps { content } } }
  }
}"""
PANIC = """mutation { pressPanic(input: {intensity: 6, note: "shaky"}) { __typename } }"""



@pytest.fixture
async def with_model(gql_with: GqlWith, model: FakeOpenAI) -> GraphQL:
    return await gql_with(assistant_provider="openai", openai_base_url=model.base_url,
                          openai_api_key="test-key", openai_model="fake-model")


async def break_down(gql: GraphQL, words: str) -> dict[str, Any]:
    result: dict[str, Any] = (await gql.data(BREAK_DOWN, {"words": words}))["breakDownTask"]
    return result


async def audit_entries(db: AsyncSession) -> list[AuditLog]:
    return list(await db.scalars(select(AuditLog).order_by(AuditLog.created_at)))


async def test_an_offline_breakdown_is_audited_as_a_server_generation(
    gql: GraphQL, db: AsyncSession
) -> None:
    await break_down(gql, "buy milk, call mom")
    [entry] = await audit_entries(db)
    assert (entry.source, entry.document_type, entry.status, entry.user_id, entry.model_used) \
        == ("server", "task_breakdown", "success", "alice", "rules-v1")
    assert entry.input_data == {"input": "buy milk, call mom"}
    assert entry.generated_text == {"title": "Buy milk (+1 more)",
                                    "steps": ["Buy milk", "Call mom"]}


async def test_panic_support_is_audited_as_a_server_generation(
    gql: GraphQL, db: AsyncSession
) -> None:
    await gql.data(PANIC)
    [entry] = await audit_entries(db)
    assert (entry.source, entry.document_type, entry.status) == (
        "server", "panic_response", "success")
    assert entry.input_data == {"note": "shaky", "intensity": 6}
    assert entry.generated_text["reply"]


async def test_the_model_is_asked_for_structured_json(
    with_model: GraphQL, model: FakeOpenAI
) -> None:
    model.answer(says('{"title": "Party", "steps": ["Book", "Invite"]}'))
    await break_down(with_model, "plan the party")
    [asked] = model.requests
    assert asked["response_format"] == response_format()
    assert asked["messages"] == [{"role": "system", "content": BREAKDOWN_SYSTEM_PROMPT},
                                 {"role": "user", "content": "plan the party"}]


async def test_a_fenced_answer_is_accepted(with_model: GraphQL, model: FakeOpenAI) -> None:
    model.answer(says('Here you go:\n```json\n{"title": "Party", "steps": ["Book"]}\n```'))
    result = await break_down(with_model, "plan the party")
    assert result["task"] == {"title": "Party", "steps": [{"content": "Book"}]}


async def test_an_answer_without_steps_is_asked_once_more(
    with_model: GraphQL, db: AsyncSession, model: FakeOpenAI
) -> None:
    model.answer(says('{"title": "Party", "steps": []}', tokens=20),
                 says('{"title": "Party", "steps": ["Book"]}', tokens=22))
    result = await break_down(with_model, "plan the party")
    assert result["task"]["steps"] == [{"content": "Book"}]
    logs = list(await db.scalars(select(AiLog).order_by(AiLog.id)))
    assert [(log.error is None, log.tokens) for log in logs] == [(False, 20), (True, 22)]
    assert logs[0].response is not None and '"steps": []' in logs[0].response  # kept raw
    [entry] = await audit_entries(db)
    assert (entry.status, entry.tokens_used) == ("success", 42)


async def test_two_answers_without_steps_are_an_assistant_error_with_nothing_stored(
    with_model: GraphQL, db: AsyncSession, model: FakeOpenAI
) -> None:
    model.answer(says("I cannot help with that."), says('{"title": "Party", "steps": []}'))
    result = await break_down(with_model, "plan the party")
    assert result["__typename"] == "AssistantError"
    assert (await table_count(db, "tasks"), await table_count(db, "task_steps")) == (0, 0)
    logs = list(await db.scalars(select(AiLog).order_by(AiLog.id)))
    assert "I cannot help with that." in (logs[0].response or "")  # the unparsed answer
    assert all(log.request_id for log in logs)
    [entry] = await audit_entries(db)
    assert (entry.source, entry.status) == ("server", "error")
    assert entry.error_message


async def test_a_provider_failure_is_audited_as_an_error_and_not_asked_again(
    with_model: GraphQL, db: AsyncSession, model: FakeOpenAI
) -> None:
    model.answer(*[fails(503)] * 4)
    result = await break_down(with_model, "plan the party")
    assert result["__typename"] == "AssistantError"
    assert len(model.requests) == 1 + with_model.settings.assistant_retries  # HTTP retries only
    [entry] = await audit_entries(db)
    assert entry.status == "error" and "503" not in (entry.error_message or "")
    assert (entry.error_message or "").startswith("The assistant could not complete this")
    assert entry.tokens_used is None
    assert await db.scalar(select(Task.id)) is None
    assert await db.scalar(select(TaskStep.id)) is None
