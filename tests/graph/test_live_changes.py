"""The change streams over a real WebSocket to real uvicorn processes: every kind of change
(deletions included) reaches its owner, in order, and no one else; what fails sends nothing;
on PostgreSQL a change made through one process reaches a subscriber on another.

"No one else" is shown with a marker: the other user changes something of their own last,
and the first thing they receive is that (deliveries follow commit order on both brokers).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import DATABASE_URL, ON_POSTGRES
from tests.graph.test_subscriptions import connect, users
from tests.servers import Subscriber, graphql, running_server

__all__ = ["connect", "users"]  # fixtures, used by name
TASK_CHANGES = """subscription { taskChanges {
  kind nodeId deletedId task { id title status } event { eventType } } }"""
CONVERSATION_CHANGES = """subscription { conversationChanges {
  kind nodeId deletedId conversation { id title updatedAt } message { role createdAt } } }"""
PANIC_CHANGES = """subscription { panicEventChanges {
  kind nodeId deletedId panicEvent { id resolved } exercise { id completed } } }"""
REGISTERED = 0.2  # seconds for a subscription to be listening before the first change


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Two processes on one PostgreSQL database; one process on a SQLite file."""
    workdir = tmp_path_factory.mktemp("live")
    if not ON_POSTGRES:
        with running_server(workdir) as base:
            yield [base]
        return
    with running_server(workdir, DATABASE_URL=DATABASE_URL) as first, running_server(
        workdir, DATABASE_URL=DATABASE_URL
    ) as second:
        yield [first, second]


async def mutate(base: str, user: str, name: str, values: dict[str, Any], sel: str = "") -> Any:
    """Run mutation `name` with `input: values`; its payload (`__typename` and `sel`)."""
    query = (f"mutation($input: {name[0].upper()}{name[1:]}Input!) "
             f"{{ {name}(input: $input) {{ __typename {sel} }} }}")
    return (await graphql(base, user, query, {"input": values}))[name]


async def new_task(base: str, user: str, title: str, **fields: Any) -> dict[str, Any]:
    payload = await mutate(base, user, "createTask", {"title": title, **fields},
                           "... on CreateTaskSuccess { task { id steps { id } } }")
    task: dict[str, Any] = payload["task"]
    return task


async def subscribed(connect: Any, base: str, user: str | None, query: str) -> Subscriber:
    subscriber: Subscriber = await connect(base, user)
    await subscriber.subscribe(query)
    return subscriber


async def test_every_kind_of_task_change_reaches_its_owner_alone(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    base, (alice, bob) = servers[0], users
    mine = await subscribed(connect, base, alice, TASK_CHANGES)
    theirs = await subscribed(connect, base, bob, TASK_CHANGES)
    await asyncio.sleep(REGISTERED)
    task = await new_task(base, alice, "live", steps=["one", "two"])
    one, two = (step["id"] for step in task["steps"])
    changes = [await mine.data("taskChanges")]
    added = await mutate(base, alice, "addTaskStep", {"taskId": task["id"], "content": "3"},
                         "... on AddTaskStepSuccess { step { id } }")
    changes.append(await mine.data("taskChanges"))
    for name, values in [
        ("updateTask", {"id": task["id"], "title": "renamed"}),
        ("setTaskStatus", {"id": task["id"], "status": "IN_PROGRESS"}),
        ("updateTaskStep", {"id": one, "completed": True}),
        ("removeTaskStep", {"id": two}),
        ("reorderTaskSteps", {"taskId": task["id"], "stepIds": [added["step"]["id"], one]}),
        ("deleteTask", {"id": task["id"]}),
    ]:
        assert (await mutate(base, alice, name, values))["__typename"].endswith("Success")
        # Read before the next change: a delivery reads its row, which a deletion removes.
        changes.append(await mine.data("taskChanges"))
    assert [(c["kind"], (c["event"] or {}).get("eventType")) for c in changes] == [
        ("CREATED", "CREATED"), ("UPDATED", "STEP_ADDED"), ("UPDATED", "UPDATED"),
        ("UPDATED", "STATUS_CHANGED"), ("UPDATED", "STEP_UPDATED"), ("UPDATED", "STEP_REMOVED"),
        ("UPDATED", "STEPS_REORDERED"), ("DELETED", None),
    ]
    assert {c["nodeId"] for c in changes} == {task["id"]}
    assert changes[3]["task"] == {"id": task["id"], "title": "renamed", "status": "IN_PROGRESS"}
    assert changes[-1] == {"kind": "DELETED", "nodeId": task["id"], "deletedId": task["id"],
                           "task": None, "event": None}
    marker = await new_task(base, bob, "bob's own")
    assert (await theirs.data("taskChanges"))["nodeId"] == marker["id"]


async def test_every_kind_of_conversation_change_reaches_its_owner_alone(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    base, (alice, bob) = servers[0], users
    mine = await subscribed(connect, base, alice, CONVERSATION_CHANGES)
    theirs = await subscribed(connect, base, bob, CONVERSATION_CHANGES)
    await asyncio.sleep(REGISTERED)
    started = await mutate(base, alice, "startConversation", {"title": "first"},
                           "... on StartConversationSuccess { conversation { id } }")
    gid = started["conversation"]["id"]
    await mutate(base, alice, "renameConversation", {"id": gid, "title": "second"})
    await mutate(base, alice, "sendMessage", {"conversationId": gid, "content": "hello"})
    # Read before deleting: a delivery reads its row, which the deletion removes.
    changes = [await mine.data("conversationChanges") for _ in range(4)]
    await mutate(base, alice, "deleteConversation", {"id": gid})
    assert [(c["kind"], (c["message"] or {}).get("role")) for c in changes] == [
        ("CREATED", None), ("UPDATED", None), ("UPDATED", "USER"), ("UPDATED", "ASSISTANT"),
    ]
    assert {c["nodeId"] for c in changes} == {gid}
    assert changes[0]["deletedId"] is None
    reply = changes[3]
    assert reply["conversation"]["updatedAt"] == reply["message"]["createdAt"]
    assert await mine.data("conversationChanges") == {
        "kind": "DELETED", "nodeId": gid, "deletedId": gid, "conversation": None, "message": None,
    }
    marker = await mutate(base, bob, "startConversation", {},
                          "... on StartConversationSuccess { conversation { id } }")
    assert (await theirs.data("conversationChanges"))["nodeId"] == marker["conversation"]["id"]


async def press(base: str, user: str) -> dict[str, Any]:
    payload = await mutate(base, user, "pressPanic", {"intensity": 5},
                           "... on PressPanicSuccess { panicEvent { id exercises { id } } }")
    event: dict[str, Any] = payload["panicEvent"]
    return event


async def test_every_kind_of_panic_event_change_reaches_its_owner_alone(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    base, (alice, bob) = servers[0], users
    mine = await subscribed(connect, base, alice, PANIC_CHANGES)
    theirs = await subscribed(connect, base, bob, PANIC_CHANGES)
    await asyncio.sleep(REGISTERED)
    event = await press(base, alice)
    exercise = event["exercises"][0]["id"]
    for _ in range(2):  # the second time changes nothing, and sends nothing
        await mutate(base, alice, "completeGroundingExercise", {"id": exercise})
        await mutate(base, alice, "resolvePanicEvent", {"id": event["id"]})
    later = await press(base, alice)
    changes = [await mine.data("panicEventChanges") for _ in range(4)]
    assert [(c["kind"], c["nodeId"]) for c in changes] == [
        ("CREATED", event["id"]), ("UPDATED", event["id"]), ("UPDATED", event["id"]),
        ("CREATED", later["id"]),
    ]
    assert changes[1]["exercise"] == {"id": exercise, "completed": True}
    assert changes[2]["exercise"] is None
    assert changes[2]["panicEvent"] == {"id": event["id"], "resolved": True}
    marker = await press(base, bob)
    assert (await theirs.data("panicEventChanges"))["nodeId"] == marker["id"]


async def test_a_bulk_mutation_sends_one_change_per_changed_task(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    base, (alice, bob) = servers[0], users
    foreign = await new_task(base, bob, "bob's")
    tasks = [await new_task(base, alice, "a"), await new_task(base, alice, "b"),
             await new_task(base, alice, "done already", status="COMPLETED")]
    mine = await subscribed(connect, base, alice, TASK_CHANGES)
    await asyncio.sleep(REGISTERED)
    ids = [task["id"] for task in tasks]
    await mutate(base, alice, "setTasksStatus", {"ids": [*ids, foreign["id"]],
                                                 "status": "COMPLETED"})
    changed = [await mine.data("taskChanges") for _ in range(2)]
    await mutate(base, alice, "deleteTasks", {"ids": ids})
    deleted = [await mine.data("taskChanges") for _ in range(3)]
    assert {(c["nodeId"], c["event"]["eventType"]) for c in changed} == {
        (ids[0], "STATUS_CHANGED"), (ids[1], "STATUS_CHANGED"),
    }
    assert sorted((c["kind"], c["nodeId"]) for c in deleted) == sorted(
        ("DELETED", gid) for gid in ids
    )
    marker = await new_task(base, alice, "marker")
    assert (await mine.data("taskChanges"))["nodeId"] == marker["id"]


async def test_a_mutation_that_fails_sends_nothing(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    base, (alice, bob) = servers[0], users
    task = await new_task(base, alice, "kept")
    foreign = await new_task(base, bob, "bob's")
    mine = await subscribed(connect, base, alice, TASK_CHANGES)
    await asyncio.sleep(REGISTERED)
    refusals = [
        ("deleteTasks", {"ids": [task["id"], task["id"]]}),  # a repeat: ValidationError
        ("deleteTask", {"id": foreign["id"]}),  # another user's: NotFoundError
        ("updateTask", {"id": task["id"], "title": ""}),  # ValidationError
    ]
    for name, values in refusals:
        answer = await mutate(base, alice, name, values)
        assert answer["__typename"] in {"ValidationError", "NotFoundError"}
    marker = await new_task(base, alice, "marker")
    assert (await mine.data("taskChanges"))["nodeId"] == marker["id"]


async def test_task_events_leave_deletions_to_task_changes(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    # api.md's `taskEvents: TaskEvent!` has no deletion to carry: existing clients see none.
    base, (alice, _) = servers[0], users
    task = await new_task(base, alice, "short-lived")
    events = await subscribed(connect, base, alice, "subscription { taskEvents { task { id } } }")
    await asyncio.sleep(REGISTERED)
    await mutate(base, alice, "deleteTask", {"id": task["id"]})
    marker = await new_task(base, alice, "marker")
    assert (await events.data("taskEvents"))["task"] == {"id": marker["id"]}


@pytest.mark.parametrize("query", [TASK_CHANGES, CONVERSATION_CHANGES, PANIC_CHANGES])
async def test_change_streams_need_an_identity(
    servers: list[str], connect: Any, query: str
) -> None:
    anonymous = await subscribed(connect, servers[0], None, query)
    refused = await anonymous.next()
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.skipif(not ON_POSTGRES, reason="cross-process delivery needs PostgreSQL")
async def test_changes_cross_processes_deletions_included(
    servers: list[str], users: tuple[str, str], connect: Any
) -> None:
    alice, _ = users
    task = await new_task(servers[0], alice, "doomed")
    started = await mutate(servers[0], alice, "startConversation", {},
                           "... on StartConversationSuccess { conversation { id } }")
    streams = [await subscribed(connect, servers[1], alice, query)
               for query in (TASK_CHANGES, CONVERSATION_CHANGES, PANIC_CHANGES)]
    await asyncio.sleep(REGISTERED)
    await mutate(servers[0], alice, "deleteTask", {"id": task["id"]})
    await mutate(servers[0], alice, "deleteConversation", {"id": started["conversation"]["id"]})
    event = await press(servers[0], alice)
    tasks, conversations, panics = streams
    assert (await tasks.data("taskChanges"))["deletedId"] == task["id"]
    gone = await conversations.data("conversationChanges")
    assert gone["deletedId"] == started["conversation"]["id"]
    assert (await panics.data("panicEventChanges"))["nodeId"] == event["id"]
