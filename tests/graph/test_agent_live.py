"""The agent end to end over real transports: a uvicorn server process whose assistant is
the OpenAI-compatible provider, a fake model over real HTTP calling tools, and a
graphql-transport-ws subscriber receiving the task events those tools cause."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import DATABASE_URL, ON_POSTGRES
from tests.fake_openai import FakeOpenAI, calls, model, says, tool_call
from tests.graph.test_subscriptions import connect, users
from tests.servers import graphql, running_server

__all__ = ["connect", "model", "users"]  # fixtures, used by name
TASK_EVENTS = "subscription { taskEvents { eventType toStatus task { title } } }"



@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model: FakeOpenAI) -> Iterator[str]:
    env = {"ASSISTANT_PROVIDER": "openai", "OPENAI_BASE_URL": model.base_url,
           "OPENAI_API_KEY": "test-key", "OPENAI_MODEL": "fake-model"}
    if ON_POSTGRES:
        env["DATABASE_URL"] = DATABASE_URL
    with running_server(tmp_path_factory.mktemp("agent"), **env) as base:
        yield base


async def tasks_of(base: str, user: str) -> dict[str, str]:
    data = await graphql(base, user, "{ tasks(first: 50) { edges { node { title status } } } }",
                         {})
    return {edge["node"]["title"]: edge["node"]["status"] for edge in data["tasks"]["edges"]}


async def test_a_message_makes_the_model_act_and_subscribers_see_each_change(
    server: str, model: FakeOpenAI, users: tuple[str, str], connect: Any
) -> None:
    alice, bob = users
    await graphql(server, alice, 'mutation { createTask(input: {title: "Call mum"}) '
                                 "{ __typename } }", {})
    await graphql(server, bob, 'mutation { createTask(input: {title: "Bob\'s plan"}) '
                               "{ __typename } }", {})
    started = await graphql(server, alice, """mutation { startConversation(input: {}) {
        ... on StartConversationSuccess { conversation { id } } } }""", {})
    conversation = started["startConversation"]["conversation"]["id"]
    watcher, outsider = await connect(server, alice), await connect(server, bob)
    await watcher.subscribe(TASK_EVENTS)
    await outsider.subscribe(TASK_EVENTS)
    await asyncio.sleep(0.2)  # the subscriptions are registered before the first event
    model.answer(
        calls(tool_call("create_task", title="Plan the party", steps=["Book", "Invite"]),
              tool_call("complete_task", task="call mum"),
              tool_call("complete_task", task="Bob's plan")),
        calls(tool_call("list_tasks")),
        says("Created Plan the party and completed Call mum."),
    )
    sent = await graphql(server, alice, """mutation($input: SendMessageInput!) {
        sendMessage(input: $input) { ... on SendMessageSuccess { reply { content } } } }""",
                         {"input": {"conversationId": conversation,
                                    "content": "plan the party; I called mum"}})
    assert sent["sendMessage"]["reply"]["content"] == (
        "Created Plan the party and completed Call mum.")
    seen = [(await watcher.next())["payload"]["data"]["taskEvents"] for _ in range(2)]
    assert seen == [
        {"eventType": "CREATED", "toStatus": "PENDING", "task": {"title": "Plan the party"}},
        {"eventType": "STATUS_CHANGED", "toStatus": "COMPLETED", "task": {"title": "Call mum"}},
    ]
    assert await outsider.nothing_within(1.0)
    assert await tasks_of(server, alice) == {"Call mum": "COMPLETED",
                                             "Plan the party": "PENDING"}
    assert await tasks_of(server, bob) == {"Bob's plan": "PENDING"}
    assert model.tool_results(1)[2]["ok"] is False  # Bob's task: not found, told to the model
