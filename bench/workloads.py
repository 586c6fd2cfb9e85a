"""The fixed workloads: what each request sends, and how its inputs are prepared."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

Request = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]

TASK_PAGE = """{ tasks(first: 50) { edges { node {
  id title status stepCount completedStepCount steps { id content completed } } } } }"""
CHAT_PAGE = """query($id: ID!) { conversation(id: $id) {
  messages(last: 200) { edges { node { id role content createdAt } } } } }"""
SEND = """mutation($id: ID!, $content: String!) {
  sendMessage(input: {conversationId: $id, content: $content}) {
    __typename ... on SendMessageSuccess { reply { content } } } }"""
DASHBOARD = """{ auditStats { total successCount errorCount errorRate avgGenerationTimeMs
  totalTokens byDocumentType { documentType count errorRate avgGenerationTimeMs }
  byDay { day count errorCount } }
  auditLogs(first: 25) { edges { node { id documentType status tokensUsed createdAt } } } }"""
MESSAGES = ["list my tasks", "add task: benchmark item", "how are you?", "help"]


def _post(base: str, tokens: list[str], query: str, variables: Callable[[int], Any]) -> Request:
    async def request(client: httpx.AsyncClient, n: int) -> httpx.Response:
        token = tokens[n % len(tokens)]
        return await client.post(
            f"{base}/graphql", json={"query": query, "variables": variables(n)},
            headers={"Authorization": f"Bearer {token}"},
        )

    return request


async def _first_conversations(base: str, tokens: list[str]) -> list[str]:
    ids = []
    async with httpx.AsyncClient(timeout=30) as client:
        for token in tokens:
            response = await client.post(
                f"{base}/graphql",
                json={"query": "{ conversations(first: 1) { edges { node { id } } } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
            ids.append(response.json()["data"]["conversations"]["edges"][0]["node"]["id"])
    return ids


@dataclass(frozen=True)
class Workload:
    name: str
    kind: str

    async def prepare(self, base: str, tokens: list[str]) -> Request:
        if self.kind == "tasks":
            return _post(base, tokens, TASK_PAGE, lambda n: {})
        if self.kind == "dashboard":
            return _post(base, tokens, DASHBOARD, lambda n: {})
        conversations = await _first_conversations(base, tokens)
        if self.kind == "chat":
            return _post(base, tokens, CHAT_PAGE,
                         lambda n: {"id": conversations[n % len(tokens)]})
        return _post(base, tokens, SEND, lambda n: {
            "id": conversations[n % len(tokens)], "content": MESSAGES[n % len(MESSAGES)],
        })

    @staticmethod
    def naive(base: str, users: int) -> Request:
        query = """query($user: String!) { tasks(user: $user, first: 50) { edges { node {
          id title status stepCount completedStepCount steps { id content completed } } } } }"""

        async def request(client: httpx.AsyncClient, n: int) -> httpx.Response:
            variables = {"user": f"demo-{n % users + 1}"}
            return await client.post(f"{base}/naive/graphql",
                                     json={"query": query, "variables": variables})

        return request

    @staticmethod
    def ceiling(base: str, users: int) -> Request:
        async def request(client: httpx.AsyncClient, n: int) -> httpx.Response:
            return await client.get(f"{base}/ceiling/tasks",
                                    params={"user": f"demo-{n % users + 1}", "first": 50})

        return request

    @staticmethod
    def ceiling_page(base: str, users: int) -> Request:
        async def request(client: httpx.AsyncClient, n: int) -> httpx.Response:
            return await client.get(f"{base}/ceiling/page",
                                    params={"user": f"demo-{n % users + 1}", "first": 50})

        return request


WORKLOADS = [
    Workload("task page (50)", "tasks"),
    Workload("chat page (200)", "chat"),
    Workload("sendMessage mix", "send"),
    Workload("audit dashboard", "dashboard"),
]
