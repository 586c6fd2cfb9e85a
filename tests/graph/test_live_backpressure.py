"""Bursts are delivered whole; a subscriber that falls behind is told (issue 22, case 4).

Through real servers: a burst of 1,200 changes reaches one subscriber complete and in commit
order; a client that stops reading, and a stream whose changes wait past the backlog, are
each ended with an `error` FELL_BEHIND for that operation, never a silent drop, while the
socket's other subscriptions carry on.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from tests.conftest import DATABASE_URL, ON_POSTGRES
from tests.graph.test_live_sharing import STATUSES, new_tasks, set_status
from tests.graph.test_subscriptions import start_conversation, users
from tests.servers import StalledSocket, graphql, open_operations, running_server

__all__ = ["users"]  # a fixture, used by name
pytestmark = pytest.mark.slow

TASK_CHANGES = "subscription { taskChanges { kind nodeId event { eventType toStatus } } }"
CONVERSATION_CHANGES = "subscription { conversationChanges { kind nodeId } }"
FELL_BEHIND = {"message": (
    "This subscription fell behind and was ended; changes were missed. Refetch what it "
    "shows, then subscribe again."), "extensions": {"code": "FELL_BEHIND"}}
LISTENING = 0.3


def server(tmp_path_factory: pytest.TempPathFactory, name: str, **env: str) -> Iterator[str]:
    database = {"DATABASE_URL": DATABASE_URL} if ON_POSTGRES else {}
    with running_server(tmp_path_factory.mktemp(name), **env, **database) as base:
        yield base


@pytest.fixture(scope="module")
def default_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from server(tmp_path_factory, "live-burst")


@pytest.fixture(scope="module")
def small_send_buffer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from server(tmp_path_factory, "live-stalled", LIVE_SEND_BUFFER_PER_SOCKET="65536")


@pytest.fixture(scope="module")
def small_backlog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from server(tmp_path_factory, "live-backlog", LIVE_BACKLOG_PER_USER="20")


@pytest.fixture
async def sockets() -> AsyncIterator[list[Any]]:
    opened: list[Any] = []
    yield opened
    for socket in opened:
        await socket.close()


async def test_a_burst_of_1200_changes_reaches_its_subscriber_whole_and_in_order(
    default_server: str, users: tuple[str, str], sockets: list[Any]
) -> None:
    base, user = default_server, users[0]
    tasks = await new_tasks(base, user, 100)
    subscriber = await open_operations(base, user, sockets)
    await subscriber.start("changes", TASK_CHANGES)
    await asyncio.sleep(LISTENING)
    # 12 bulk changes x 100 tasks, back to back: one request, its 12 mutations run (and
    # commit) one after another, ~0.2 s in all.
    burst = " ".join(
        f"m{number}: setTasksStatus(input: {{ids: $ids, status: {STATUSES[number % 3]}}}) "
        "{ __typename }" for number in range(12)
    )
    done = await graphql(base, user, f"mutation($ids: [ID!]!) {{ {burst} }}", {"ids": tasks})
    assert {result["__typename"] for result in done.values()} == {"SetTasksStatusSuccess"}
    messages = await subscriber.messages(1_200, wait=60)
    assert all(message["type"] == "next" for message in messages)
    changes = [message["payload"]["data"]["taskChanges"] for message in messages]
    for number in range(12):  # in commit order: each bulk change's 100, then the next's
        batch = changes[number * 100:(number + 1) * 100]
        assert {change["event"]["toStatus"] for change in batch} == {STATUSES[number % 3]}
        assert {change["nodeId"] for change in batch} == set(tasks)
    assert await subscriber.nothing_within(0.3)


async def test_a_client_that_stops_reading_is_told_it_fell_behind(
    small_send_buffer: str, users: tuple[str, str]
) -> None:
    base, user = small_send_buffer, users[0]
    created = [(await graphql(base, user, """mutation($d: String!) {
        createTask(input: {title: "big", description: $d}) {
          ... on CreateTaskSuccess { task { id } } } }""", {"d": "x" * 10_000})
    )["createTask"]["task"]["id"] for _ in range(20)]
    client = StalledSocket(base, user)
    try:
        client.send({"id": "big", "type": "subscribe", "payload": {
            "query": "subscription { taskChanges { nodeId task { description } } }"}})
        client.send({"id": "quiet", "type": "subscribe",
                     "payload": {"query": CONVERSATION_CHANGES}})
        await asyncio.sleep(LISTENING)
        # ~10 KB a change, 800 changes: far past what the kernel holds for a client that
        # reads nothing, and past the server's 64 KiB send buffer for that socket.
        for number in range(40):
            await set_status(base, user, created, STATUSES[number % 3])
        await asyncio.sleep(1)
        received = [client.receive() for _ in range(2)]
        while received[-1]["type"] == "next":
            received.append(client.receive())
        assert received[-1] == {"id": "big", "type": "error", "payload": [FELL_BEHIND]}
        assert 0 < len(received) - 1 < 800  # some were sent before it fell behind
        # The socket, and its other subscription, carry on.
        conversation = await start_conversation(base, user)
        change = client.receive()
        assert change["id"] == "quiet"
        assert change["payload"]["data"]["conversationChanges"]["nodeId"] == conversation
    finally:
        client.close()


async def test_a_stream_whose_changes_wait_past_the_backlog_is_told_it_fell_behind(
    small_backlog: str, users: tuple[str, str], sockets: list[Any]
) -> None:
    base, user = small_backlog, users[0]
    tasks = await new_tasks(base, user, 50)
    subscriber = await open_operations(base, user, sockets)
    await subscriber.start("tasks", TASK_CHANGES)
    await subscriber.start("conversations", CONVERSATION_CHANGES)
    await asyncio.sleep(LISTENING)
    await set_status(base, user, tasks, "IN_PROGRESS")  # 50 changes at once: past the 20
    message = await subscriber.next(wait=5)
    while message["type"] == "next":
        message = await subscriber.next(wait=5)
    assert message == {"id": "tasks", "type": "error", "payload": [FELL_BEHIND]}
    conversation = await start_conversation(base, user)
    change = await subscriber.next(wait=5)
    assert change["id"] == "conversations"
    assert change["payload"]["data"]["conversationChanges"]["nodeId"] == conversation
