"""No internal text in user-facing fields: when the assistant fails, the reply and
`auditLogs.errorMessage` say a stable message with an error id, never an exception's name or
a provider's body; the reason is kept in ai_logs (which no API exposes) and the log line."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.assistant import Answer, OfflineAssistant, Turn
from models import AiLog
from tests.conftest import GqlWith, GraphQL
from tests.fake_openai import FakeOpenAI, fails, model, says
from tests.graph.test_chat_offline import chat

__all__ = ["model"]  # a fixture, used by name

INTERNAL = ("AssistantFailure", "UnusableAnswer", "TimeoutError", "HTTP", "Traceback",
            "provider", "scripted failure", "unusable", "secret-body")
ERROR_ID = re.compile(r"\(error ([0-9a-f]{32})\)")
SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  __typename ... on AssistantError { message code } } }"""
BREAK = """mutation($input: BreakDownTaskInput!) { breakDownTask(input: $input) {
  __typename ... on AssistantError { message code } } }"""
AUDIT = "{ auditLogs(first: 10) { edges { node { status errorMessage } } } }"



@pytest.fixture
async def with_model(gql_with: GqlWith, model: FakeOpenAI) -> GraphQL:
    return await gql_with(assistant_provider="openai", openai_base_url=model.base_url,
                          openai_api_key="k", openai_model="fake-model")


async def shown_errors(gql: GraphQL) -> list[str]:
    data = await gql.data(AUDIT)
    return [edge["node"]["errorMessage"] for edge in data["auditLogs"]["edges"]
            if edge["node"]["status"] == "ERROR"]


def assert_user_facing(text: str) -> str:
    for word in INTERNAL:
        assert word not in text, text
    found = ERROR_ID.search(text)
    assert found is not None, text
    return found[1]


async def test_a_provider_failure_says_a_stable_message_with_the_error_id(
    with_model: GraphQL, model: FakeOpenAI, db: AsyncSession
) -> None:
    model.answer(*[fails(500, body="secret-body of the provider")] * 4)
    result = await with_model.data(SEND, {"input": {"conversationId": await chat(db),
                                                    "content": "hello"}})
    error = result["sendMessage"]
    assert error["__typename"] == "AssistantError" and error["code"] == "ASSISTANT_ERROR"
    error_id = assert_user_facing(error["message"])
    [audited] = await shown_errors(with_model)
    assert assert_user_facing(audited) == error_id
    reasons = list(await db.scalars(select(AiLog.error).where(AiLog.error.is_not(None))))
    assert reasons and all("HTTP 500" in (reason or "") for reason in reasons)


async def test_an_unusable_breakdown_says_no_exception_name(
    with_model: GraphQL, model: FakeOpenAI
) -> None:
    model.answer(says("I cannot."), says("No."))
    result = await with_model.data(BREAK, {"input": {"input": "plan the party"}})
    assert result["breakDownTask"]["__typename"] == "AssistantError"
    error_id = assert_user_facing(result["breakDownTask"]["message"])
    [audited] = await shown_errors(with_model)
    assert assert_user_facing(audited) == error_id


class SlowAssistant(OfflineAssistant):
    async def turn(self, messages: Any, tools: Any, *, on_text: Any = None) -> Answer[Turn]:
        await asyncio.sleep(5)
        raise AssertionError("not reached: the time limit ends the call")


async def test_a_timeout_says_no_exception_name(gql_with: GqlWith, db: AsyncSession) -> None:
    gql = await gql_with(assistant=SlowAssistant(), assistant_timeout_seconds=0.05)
    result = await gql.data(SEND, {"input": {"conversationId": await chat(db),
                                             "content": "hello"}})
    assert_user_facing(result["sendMessage"]["message"])
    [audited] = await shown_errors(gql)
    assert_user_facing(audited)
    assert await db.scalar(select(AiLog.error)) == "TimeoutError: "  # kept internally
