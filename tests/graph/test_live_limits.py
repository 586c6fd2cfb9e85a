"""Every limit on live subscriptions, through real servers (issue 22), lowered by settings.

- Caps: subscriptions past one (per connection, per user, per process) get an `error`
  message for that operation with `extensions.code` TOO_MANY_SUBSCRIPTIONS; the socket and
  its other subscriptions stay open. Sockets past one (without a token, per user) are closed
  with 1013 at `connection_init`. The idle-socket case (issue 22 part 2: 1,001 anonymous
  sockets took uvicorn's 1,000 slots) runs with 40 slots.
- Falling behind: a client that stops reading, and a stream whose changes wait past the
  backlog, are each ended with an `error` FELL_BEHIND for that operation, never a silent
  drop, while the socket's other subscriptions carry on.
- The budget: a user past it waits, while another user's deliveries go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import websockets

from tests.conftest import DATABASE_URL, ON_POSTGRES
from tests.graph.test_live_sharing import STATUSES, fresh, new_tasks, set_status, sockets
from tests.graph.test_subscriptions import create_task, start_conversation, users
from tests.servers import (
    PROTOCOL,
    Operations,
    StalledSocket,
    graphql,
    open_operations,
    running_server,
    token,
)

__all__ = ["fresh", "sockets", "users"]  # fixtures, used by name
pytestmark = pytest.mark.slow

TASK_CHANGES = "subscription { taskChanges { kind nodeId event { eventType toStatus } } }"
CAPS = {
    "MAX_SUBSCRIPTIONS_PER_CONNECTION": "3", "MAX_SUBSCRIPTIONS_PER_USER": "4",
    "MAX_SOCKETS_PER_USER": "2", "MAX_ANONYMOUS_SOCKETS": "2", "LIMIT_CONCURRENCY": "40",
    "MAX_CONNECTIONS_PER_CLIENT": "20",  # at most half the slots (serve refuses more)
    "LIVE_BACKLOG_PER_USER": "60", "LIVE_SEND_BUFFER_PER_SOCKET": "65536",
}
CONVERSATION_CHANGES = "subscription { conversationChanges { kind nodeId } }"
FELL_BEHIND = {"message": (
    "This subscription fell behind and was ended; changes were missed. Refetch what it "
    "shows, then subscribe again (a change stream may instead subscribe with `after` set "
    "to the last cursor it received)."), "extensions": {"code": "FELL_BEHIND"}}


def refusal(operation_id: str, limit: str, maximum: int) -> dict[str, Any]:
    where = {"connection": "on this connection", "user": "for this user",
             "process": "on this server"}[limit]
    return {"id": operation_id, "type": "error", "payload": [{
        "message": f"Too many subscriptions {where} (at most {maximum}); complete one first.",
        "extensions": {"code": "TOO_MANY_SUBSCRIPTIONS", "limit": limit, "max": maximum},
    }]}


def start_server(tmp_path_factory: pytest.TempPathFactory, **env: str) -> Iterator[str]:
    database = {"DATABASE_URL": DATABASE_URL} if ON_POSTGRES else {}
    with running_server(tmp_path_factory.mktemp("live-caps"), **env, **database) as base:
        yield base


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from start_server(tmp_path_factory, **CAPS)


@pytest.fixture(scope="module")
def small_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from start_server(tmp_path_factory, MAX_SUBSCRIPTIONS_PER_PROCESS="3")


@pytest.fixture(scope="module")
def small_budget(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # A TASK_CHANGES delivery to one subscriber costs 109 (6 estimated, 100 for any
    # delivery, 3 for its send): 3 at once, then ~3.7 a second.
    yield from start_server(tmp_path_factory, LIVE_COST_PER_SECOND="400", LIVE_COST_BURST="400")


async def every_one_receives(base: str, user: str, expected: dict[Operations, set[str]]) -> None:
    """After one change of `user`'s, each socket receives it on exactly those operations."""
    await create_task(base, user, "a change")
    for socket, operations in expected.items():
        received = await socket.messages(len(operations))
        assert {message["id"] for message in received} == operations
        assert {message["type"] for message in received} == {"next"}
        assert await socket.nothing_within(0.2)


async def init_outcome(
    base: str, authorization: str | None, sockets: list[Any], source: str = "127.0.0.1"
) -> int | str:
    """Open a socket (from the loopback address `source`) and send `connection_init`:
    "ack", or the code it was closed with."""
    url = base.replace("http://", "ws://") + "/graphql"
    socket = await websockets.connect(url, subprotocols=[PROTOCOL], local_addr=(source, 0))
    sockets.append(socket)
    payload = {"authorization": authorization} if authorization else {}
    await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
    try:
        message = json.loads(await asyncio.wait_for(socket.recv(), 5))
    except websockets.ConnectionClosed as closed:
        assert closed.rcvd is not None
        return closed.rcvd.code
    assert message["type"] == "connection_ack", message
    return "ack"


async def test_operations_past_the_connection_cap_are_refused_with_a_code(
    capped: str, sockets: list[Any], fresh: Callable[[str], str]
) -> None:
    user = fresh("per-connection")
    socket = await open_operations(capped, user, sockets)
    for number in range(4):
        await socket.start(str(number), TASK_CHANGES)
    assert await socket.next() == refusal("3", "connection", 3)
    await socket.settled()
    await every_one_receives(capped, user, {socket: {"0", "1", "2"}})
    await socket.complete("0")  # a completed one makes room
    await socket.start("4", TASK_CHANGES)
    await socket.settled()
    await every_one_receives(capped, user, {socket: {"1", "2", "4"}})


async def test_subscriptions_past_the_user_cap_are_refused_with_a_code(
    capped: str, sockets: list[Any], fresh: Callable[[str], str]
) -> None:
    user = fresh("per-user")
    first = await open_operations(capped, user, sockets, {
        f"a{number}": TASK_CHANGES for number in range(3)})
    second = await open_operations(capped, user, sockets)
    await second.start("b0", TASK_CHANGES)
    await second.start("b1", TASK_CHANGES)  # the fifth of this user's
    assert await second.next() == refusal("b1", "user", 4)
    await every_one_receives(capped, user, {first: {"a0", "a1", "a2"}, second: {"b0"}})
    # Accepted (`settled` would meet a refusal first): another user's count is their own.
    await open_operations(capped, fresh("someone-else"), sockets, {"mine": TASK_CHANGES})
    await first.complete("a0")
    await first.settled()  # the server has let go of it before the other socket asks
    await second.start("b2", TASK_CHANGES)
    await second.settled()
    await every_one_receives(capped, user, {first: {"a1", "a2"}, second: {"b0", "b2"}})


async def test_subscriptions_past_the_process_cap_are_refused_with_a_code(
    small_process: str, sockets: list[Any], fresh: Callable[[str], str]
) -> None:
    alice, bob = fresh("process-a"), fresh("process-b")
    hers = await open_operations(small_process, alice, sockets, {
        "a0": TASK_CHANGES, "a1": TASK_CHANGES})
    his = await open_operations(small_process, bob, sockets)
    await his.start("b0", TASK_CHANGES)
    await his.start("b1", TASK_CHANGES)
    assert await his.next() == refusal("b1", "process", 3)
    await hers.complete("a1")
    await hers.settled()  # the server has let go of it before the other socket asks
    await his.start("b2", TASK_CHANGES)
    await his.settled()
    await every_one_receives(small_process, bob, {his: {"b0", "b2"}})
    await every_one_receives(small_process, alice, {hers: {"a0"}})


async def test_sockets_past_the_user_cap_are_closed_with_1013(
    capped: str, sockets: list[Any], fresh: Callable[[str], str]
) -> None:
    user = fresh("sockets")
    authorization = f"Bearer {token(user)}"
    outcomes = [await init_outcome(capped, authorization, sockets) for _ in range(3)]
    assert outcomes == ["ack", "ack", 1013]
    assert await init_outcome(capped, f"Bearer {token(fresh('other'))}", sockets) == "ack"
    await sockets[0].close()
    await asyncio.sleep(0.2)  # the server lets go of the closed socket
    assert await init_outcome(capped, authorization, sockets) == "ack"


async def test_idle_sockets_without_a_token_cannot_take_every_connection(
    capped: str, sockets: list[Any], fresh: Callable[[str], str]
) -> None:
    # 50 sockets, one after another, that send an empty `connection_init` and idle, against
    # 40 connection slots: 2 are kept (MAX_ANONYMOUS_SOCKETS), the rest closed with 1013 at
    # once. From three loopback addresses: one client may hold 20 (MAX_CONNECTIONS_PER_CLIENT),
    # and it is many clients' sockets that the anonymous cap bounds.
    outcomes = [await init_outcome(capped, None, sockets, f"127.0.0.{2 + number % 3}")
                for number in range(50)]
    assert sorted(outcomes, key=str) == [1013] * 48 + ["ack"] * 2
    await asyncio.sleep(0.2)
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{capped}/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 200
    assert await init_outcome(capped, f"Bearer {token(fresh('signed-in'))}", sockets) == "ack"


async def test_a_client_that_stops_reading_is_told_it_fell_behind(
    capped: str, users: tuple[str, str]
) -> None:
    base, user = capped, users[0]
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
        client.send({"type": "ping"})
        assert client.receive()["type"] == "pong"  # both listen
        # ~10 KB a change, 800 changes: far past what the kernel holds for a client that
        # reads nothing, and past the server's 64 KiB send buffer for that socket.
        for number in range(40):
            await set_status(base, user, created, STATUSES[number % 3])
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
    capped: str, users: tuple[str, str], sockets: list[Any]
) -> None:
    base, user = capped, users[0]
    tasks = await new_tasks(base, user, 100)
    subscriber = await open_operations(base, user, sockets, {
        "tasks": TASK_CHANGES, "conversations": CONVERSATION_CHANGES})
    await set_status(base, user, tasks, "IN_PROGRESS")  # 100 at once: past the 60
    message = await subscriber.next(wait=5)
    while message["type"] == "next":
        message = await subscriber.next(wait=5)
    assert message == {"id": "tasks", "type": "error", "payload": [FELL_BEHIND]}
    conversation = await start_conversation(base, user)
    change = await subscriber.next(wait=5)
    assert change["id"] == "conversations"
    assert change["payload"]["data"]["conversationChanges"]["nodeId"] == conversation


async def received_by_now(socket: Operations) -> list[dict[str, Any]]:
    """What has arrived on `socket`, without waiting for more."""
    arrived: list[dict[str, Any]] = []
    with contextlib.suppress(TimeoutError):
        while True:
            arrived.append(await socket.next(wait=0.05))
    return arrived


async def test_a_user_past_the_budget_waits_while_another_users_deliveries_go_on(
    small_budget: str, users: tuple[str, str], sockets: list[Any]
) -> None:
    base, (spender, other) = small_budget, users
    tasks = await new_tasks(base, spender, 12)
    theirs = await open_operations(base, spender, sockets, {"tasks": TASK_CHANGES})
    mine = await open_operations(base, other, sockets, {"tasks": TASK_CHANGES})
    started = asyncio.get_running_loop().time()
    await set_status(base, spender, tasks, "IN_PROGRESS")  # 12 deliveries, 1,308 units
    await theirs.messages(1)  # the spender's budget is spent now
    await create_task(base, other, "the other user's")
    assert (await mine.next(wait=2))["type"] == "next"  # at once: the other's own budget
    so_far = 1 + len(await received_by_now(theirs))
    assert so_far < 12  # the spender's wait, paced
    rest = await theirs.messages(12 - so_far, wait=10)  # then everything, none dropped
    assert {message["type"] for message in rest} == {"next"}
    assert asyncio.get_running_loop().time() - started > 1.5  # (12 x 109 - 400) / 400 s
