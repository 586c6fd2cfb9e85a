"""Subscriptions over a real WebSocket to real uvicorn processes (graphql-transport-ws)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
import websockets
from websockets.typing import Subprotocol

from graph.ids import encode_id
from tests.conftest import DATABASE_URL, ON_POSTGRES
from tests.servers import (
    DELIVERY_SECONDS,
    PROTOCOL,
    Subscriber,
    graphql,
    open_subscriber,
    running_server,
)

MESSAGES = "subscription($id: ID!) { messageAdded(conversationId: $id) { content role } }"
TASK_EVENTS = "subscription { taskEvents { eventType toStatus task { title } } }"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two processes on one PostgreSQL database; one process on a SQLite file."""
    workdir = tmp_path_factory.mktemp("ws")
    if not ON_POSTGRES:
        with running_server(workdir) as base:
            yield [base]
        return
    with running_server(workdir, DATABASE_URL=DATABASE_URL) as first, running_server(
        workdir, DATABASE_URL=DATABASE_URL
    ) as second:
        yield [first, second]


@pytest.fixture
def users(committed_users: Callable[[str], str]) -> tuple[str, str]:
    # Fresh user ids keep the servers' committed rows apart from every other test's, and
    # `committed_users` removes them after.
    return committed_users("alice"), committed_users("bob")


async def start_conversation(base: str, user: str) -> str:
    data = await graphql(base, user, """mutation {
        startConversation(input: {title: "live"}) {
          ... on StartConversationSuccess { conversation { id } } } }""", {})
    return str(data["startConversation"]["conversation"]["id"])


async def send(base: str, user: str, conversation_id: str, content: str) -> None:
    await graphql(base, user, """mutation($input: SendMessageInput!) {
        sendMessage(input: $input) { __typename } }""",
                  {"input": {"conversationId": conversation_id, "content": content}})


async def create_task(base: str, user: str, title: str) -> None:
    await graphql(base, user, """mutation($title: String!) {
        createTask(input: {title: $title}) { __typename } }""", {"title": title})


@pytest.fixture
async def connect() -> AsyncIterator[Any]:
    sockets: list[Any] = []

    async def open_socket(base: str, user: str | None) -> Subscriber:
        return await open_subscriber(base, user, sockets)

    yield open_socket
    for socket in sockets:
        await socket.close()


async def test_subscriber_receives_its_own_messages(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    alice, _ = users
    conversation = await start_conversation(servers[0], alice)
    subscriber = await connect(servers[0], alice)
    await subscriber.subscribe(MESSAGES, {"id": conversation})
    await asyncio.sleep(0.2)  # the subscription is registered before the first event
    await send(servers[0], alice, conversation, "hello")
    first, second = await subscriber.next(), await subscriber.next()
    assert first["payload"]["data"]["messageAdded"] == {"content": "hello", "role": "USER"}
    assert second["payload"]["data"]["messageAdded"]["role"] == "ASSISTANT"


async def test_subscriber_receives_its_own_task_events(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    alice, _ = users
    subscriber = await connect(servers[0], alice)
    await subscriber.subscribe(TASK_EVENTS)
    await asyncio.sleep(0.2)
    await create_task(servers[0], alice, "live task")
    event = (await subscriber.next())["payload"]["data"]["taskEvents"]
    assert event == {"eventType": "CREATED", "toStatus": "PENDING", "task": {"title": "live task"}}


async def test_a_user_never_receives_another_users_task_events(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    alice, bob = users
    watcher = await connect(servers[0], bob)
    await watcher.subscribe(TASK_EVENTS)
    await asyncio.sleep(0.2)
    await create_task(servers[0], alice, "alice only")
    assert await watcher.nothing_within(DELIVERY_SECONDS)
    await create_task(servers[0], bob, "bob's own")
    event = (await watcher.next())["payload"]["data"]["taskEvents"]
    assert event["task"] == {"title": "bob's own"}


async def test_subscribing_to_another_users_conversation_looks_like_a_missing_one(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    alice, bob = users
    conversation = await start_conversation(servers[0], alice)
    intruder = await connect(servers[0], bob)
    await intruder.subscribe(MESSAGES, {"id": conversation})
    refused = await intruder.next()
    missing_socket = await connect(servers[0], bob)
    await missing_socket.subscribe(MESSAGES, {"id": encode_id("Conversation", uuid.uuid4())})
    missing = await missing_socket.next()
    assert refused["type"] == missing["type"] == "next"
    assert refused["payload"] == missing["payload"]
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    await send(servers[0], alice, conversation, "private")
    assert await intruder.nothing_within(0.5)


async def test_a_bad_token_in_connection_init_closes_the_socket(servers: list[str]) -> None:
    url = servers[0].replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL]) as socket:
        await socket.send(json.dumps(
            {"type": "connection_init", "payload": {"authorization": "Bearer forged"}}
        ))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def test_subscriptions_without_identity_are_refused(
    servers: list[str], connect: Any
) -> None:
    anonymous = await connect(servers[0], None)
    await anonymous.subscribe(TASK_EVENTS)
    refused = await anonymous.next()
    assert refused["payload"]["data"] is None
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.skipif(not ON_POSTGRES, reason="cross-process delivery needs PostgreSQL")
async def test_a_message_sent_through_one_process_reaches_a_subscriber_on_another(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    alice, _ = users
    conversation = await start_conversation(servers[0], alice)
    subscriber = await connect(servers[1], alice)
    await subscriber.subscribe(MESSAGES, {"id": conversation})
    await asyncio.sleep(0.2)
    await send(servers[0], alice, conversation, "across processes")
    received = await subscriber.next()
    assert received["payload"]["data"]["messageAdded"]["content"] == "across processes"


@pytest.mark.skipif(not ON_POSTGRES, reason="cross-process delivery needs PostgreSQL")
async def test_task_events_cross_processes_too(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    alice, _ = users
    subscriber = await connect(servers[1], alice)
    await subscriber.subscribe(TASK_EVENTS)
    await asyncio.sleep(0.2)
    await create_task(servers[0], alice, "from process A")
    event = (await subscriber.next())["payload"]["data"]["taskEvents"]
    assert event["task"] == {"title": "from process A"}


async def test_the_legacy_graphql_ws_protocol_is_refused(servers: list[str]) -> None:
    url = servers[0].replace("http://", "ws://") + "/graphql"
    with pytest.raises((websockets.InvalidHandshake, websockets.ConnectionClosed)):
        async with websockets.connect(url, subprotocols=[Subprotocol("graphql-ws")]) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            await asyncio.wait_for(socket.recv(), 5)


async def test_each_delivery_reads_fresh_rows(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    alice, _ = users
    subscriber = await connect(servers[0], alice)
    await subscriber.subscribe(TASK_EVENTS)
    await asyncio.sleep(0.2)
    created = await graphql(servers[0], alice, """mutation {
        createTask(input: {title: "first title"}) {
          ... on CreateTaskSuccess { task { id } } } }""", {})
    task_id = created["createTask"]["task"]["id"]
    assert (await subscriber.next())["payload"]["data"]["taskEvents"]["task"] == {
        "title": "first title"
    }
    await graphql(servers[0], alice, """mutation($id: ID!) {
        updateTask(input: {id: $id, title: "second title"}) { __typename } }""", {"id": task_id})
    event = (await subscriber.next())["payload"]["data"]["taskEvents"]
    assert event["eventType"] == "UPDATED"
    assert event["task"] == {"title": "second title"}


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server with a small subscription cap and a short connection_init timeout."""
    workdir = tmp_path_factory.mktemp("strict")
    with running_server(
        workdir, MAX_SUBSCRIPTIONS_PER_CONNECTION="2", WS_INIT_TIMEOUT_SECONDS="0.5"
    ) as base:
        yield base


async def test_subscriptions_per_connection_are_capped(strict_server: str, connect: Any) -> None:
    subscriber = await connect(strict_server, "capped-user")
    for n in range(3):
        await subscriber.socket.send(json.dumps({
            "id": str(n), "type": "subscribe", "payload": {"query": TASK_EVENTS},
        }))
    refused = await subscriber.next(wait=5)
    assert refused["id"] == "2"
    assert refused["type"] == "error"
    assert refused["payload"][0]["extensions"] == {
        "code": "TOO_MANY_SUBSCRIPTIONS", "limit": "connection", "max": 2,
    }


async def test_a_socket_that_never_sends_connection_init_is_closed(strict_server: str) -> None:
    url = strict_server.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL]) as socket:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(socket.recv(), 5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4408
