"""Sibling fields and loader batches run concurrently; one request's session must not.

These tests go through the real engine and session factory that `create_app` builds: the
rolled-back test session of the other tests shares one connection and hides the bug
("This session is provisioning a new connection; concurrent operations are not permitted").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.assistant import Answer, OfflineAssistant, PanicSupport, Turn
from domain.assistant.breakdown import Breakdown
from graph.app import create_app
from graph.migrations import upgrade_head
from tests.conftest import DATABASE_URL, ON_POSTGRES, CommittedUsers, GraphQL, make_settings

SIBLINGS = """
query Siblings($id: ID!) {
  newest: tasks(first: 5) { totalCount edges { node { id stepCount steps { content } } } }
  byTitle: tasks(first: 3, orderBy: {field: TITLE, direction: ASC}) {
    edges { node { title completedStepCount events(first: 2) { totalCount } } }
  }
  one: task(id: $id) { title steps { stepNumber } }
  asNode: node(id: $id) { id }
  viewer { id }
}
"""


@pytest.fixture
async def real_app(engine: AsyncEngine, tmp_path: Path) -> AsyncIterator[FastAPI]:
    # `engine` has migrated the PostgreSQL test database; a SQLite file is migrated here.
    url = DATABASE_URL if ON_POSTGRES else f"sqlite+aiosqlite:///{tmp_path / 'real.db'}"
    if not ON_POSTGRES:
        await asyncio.to_thread(upgrade_head, url)
    app = create_app(make_settings(database_url=url, anonymous_sessions=True))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def real_gql(real_app: FastAPI) -> AsyncIterator[GraphQL]:
    transport = httpx.ASGITransport(app=real_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://real") as client:
        yield GraphQL(client, real_app.state.resources.settings)


@pytest.fixture
def user(committed_users: CommittedUsers) -> str:
    return committed_users("concurrency")


async def _create(gql: GraphQL, user: str, title: str) -> str:
    data = await gql.data(
        """mutation($input: CreateTaskInput!) {
             createTask(input: $input) { ... on CreateTaskSuccess { task { id } } }
           }""",
        {"input": {"title": title, "steps": ["first", "second"]}},
        user=user,
    )
    return str(data["createTask"]["task"]["id"])


async def test_sibling_fields_share_the_request_session_safely(
    real_gql: GraphQL, user: str
) -> None:
    ids = [await _create(real_gql, user, f"task {n}") for n in range(6)]
    data = await real_gql.data(SIBLINGS, {"id": ids[0]}, user=user)
    assert data["newest"]["totalCount"] == 6
    assert len(data["byTitle"]["edges"]) == 3
    assert data["one"]["steps"] == [{"stepNumber": 1}, {"stepNumber": 2}]
    assert data["asNode"] == {"id": ids[0]}


async def test_concurrent_requests_each_get_their_own_session(
    real_gql: GraphQL, user: str
) -> None:
    first = await _create(real_gql, user, "shared")
    results = await asyncio.gather(
        *(real_gql(SIBLINGS, {"id": first}, user=user) for _ in range(8)),
        *(_create(real_gql, user, f"parallel {n}") for n in range(4)),
    )
    for payload in results[:8]:
        assert isinstance(payload, dict)
        assert "errors" not in payload, payload
    final = await real_gql.data("{ tasks { totalCount } }", user=user)
    assert final["tasks"]["totalCount"] == 5


class PoolWatchingAssistant(OfflineAssistant):
    """Answers like the offline assistant, noting how many connections are checked out."""

    name = "watching"
    model = "watching"

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.checked_out: list[int] = []

    async def turn(self, messages: Any, tools: Any, *, on_text: Any = None) -> Answer[Turn]:
        self.checked_out.append(self.pool.checkedout())
        return await super().turn(messages, tools, on_text=on_text)

    async def complete(self, purpose: str, prompt: str) -> Answer[str]:
        self.checked_out.append(self.pool.checkedout())
        return await super().complete(purpose, prompt)

    async def break_down(self, text: str) -> Answer[Breakdown]:
        self.checked_out.append(self.pool.checkedout())
        return await super().break_down(text)

    async def panic_support(self, note: str | None, intensity: int | None) -> Answer[PanicSupport]:
        self.checked_out.append(self.pool.checkedout())
        return await super().panic_support(note, intensity)


async def test_the_assistant_is_asked_with_no_database_connection_held(
    real_app: FastAPI, real_gql: GraphQL, user: str
) -> None:
    engine = real_app.state.resources.session_factory.kw["bind"]
    watcher = PoolWatchingAssistant(engine.pool)
    real_app.state.resources.assistant = watcher
    started = await real_gql.data(
        """mutation { startConversation(input: {}) {
             ... on StartConversationSuccess { conversation { id } } } }""", user=user,
    )
    conversation = started["startConversation"]["conversation"]["id"]
    sent = await real_gql.data(
        """mutation($id: ID!, $words: String!) {
             sendMessage(input: {conversationId: $id, content: $words}) { __typename } }""",
        {"id": conversation, "words": "add task: buy milk"}, user=user,
    )
    await real_gql.data(
        """mutation { breakDownTask(input: {input: "plan it"}) { __typename } }""", user=user
    )
    pressed = await real_gql.data(
        """mutation { pressPanic(input: {intensity: 7}) { __typename } }""", user=user
    )
    assert sent["sendMessage"]["__typename"] == "SendMessageSuccess"
    assert pressed["pressPanic"]["__typename"] == "PressPanicSuccess"
    # The agent's two rounds (the tool call, then the reply), the title, the breakdown, the
    # panic support: none is asked while a connection is checked out.
    assert watcher.checked_out == [0, 0, 0, 0, 0]


CLAIM = """mutation($sid: String!) { claimSession(input: {sessionId: $sid}) {
    __typename ... on ClaimSessionSuccess { tasksMoved } } }"""


async def test_of_two_users_claiming_one_visit_at_once_exactly_one_wins(
    real_gql: GraphQL, committed_users: CommittedUsers
) -> None:
    visit, claimers = real_gql.visit(), [committed_users("claimer") for _ in range(2)]
    committed_users.also(f"session:{visit.visit_id}")
    sid, headers = visit.text, {"X-Session-Id": visit.text}
    await real_gql.data('mutation { createTask(input: {title: "visitor\'s"}) { __typename } }',
                        user=None, headers=headers)
    answers = await asyncio.gather(*(
        real_gql.data(CLAIM, {"sid": sid}, user=claimer, headers=headers)
        for claimer in claimers
    ))
    kinds = sorted(answer["claimSession"]["__typename"] for answer in answers)
    assert kinds == ["ClaimSessionSuccess", "NotFoundError"]
    winner = claimers[[a["claimSession"]["__typename"] for a in answers].index(
        "ClaimSessionSuccess")]
    owned = await real_gql.data("{ tasks { totalCount } }", user=winner)
    assert owned["tasks"]["totalCount"] == 1
