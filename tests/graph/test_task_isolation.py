"""Isolation: bob never reads or changes alice's tasks, steps or events, by any route.

Another user's object answers exactly as a missing one does: null, empty, or NotFoundError.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from graph.ids import encode_id
from models import Task, TaskEvent, TaskStep
from tests.conftest import GraphQL
from tests.factories import make_task, task_gid

MISSING_ERROR = "... on UserError { __typename message code } ... on NotFoundError { missingId }"


async def snapshot(db: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    tables = {}
    for table in ("tasks", "task_steps", "task_events"):
        result = await db.execute(text(f"SELECT * FROM {table} ORDER BY id"))
        tables[table] = [tuple(row) for row in result]
    return tables


async def alices_task(db: AsyncSession) -> tuple[Task, list[str], list[str]]:
    """Alice's task with two steps and two events, and the global ids of those."""
    task = await make_task(db, user_id="alice", title="Alice's secret", steps=["a1", "a2"],
                           events=2, description="private")
    steps = await db.scalars(select(TaskStep.id).where(TaskStep.task_id == task.id))
    events = await db.scalars(select(TaskEvent.id).where(TaskEvent.task_id == task.id))
    return (
        task,
        [encode_id("TaskStep", i) for i in steps],
        [encode_id("TaskEvent", i) for i in events],
    )


def missing_task_gid(task: Task) -> str:
    return task_gid(task.id + 10_000)


# --- queries --------------------------------------------------------------------------------


async def test_tasks_lists_only_the_viewers_own(db: AsyncSession, gql: GraphQL) -> None:
    await alices_task(db)
    mine = await make_task(db, user_id="bob", title="Bob's")
    data = await gql.data("{ tasks { totalCount edges { node { id } } } }", user="bob")
    assert data["tasks"]["totalCount"] == 1
    assert [e["node"]["id"] for e in data["tasks"]["edges"]] == [task_gid(mine)]


async def test_tasks_search_does_not_count_another_users_matches(
    db: AsyncSession, gql: GraphQL
) -> None:
    await alices_task(db)
    data = await gql.data(
        '{ tasks(filter: {search: "secret"}) { totalCount edges { node { id } } } }', user="bob"
    )
    assert data["tasks"] == {"totalCount": 0, "edges": []}


async def test_task_of_another_user_is_null(db: AsyncSession, gql: GraphQL) -> None:
    task, _, _ = await alices_task(db)
    data = await gql.data("query($id: ID!) { task(id: $id) { id title } }",
                          {"id": task_gid(task)}, user="bob")
    assert data["task"] is None


async def test_task_of_another_user_is_still_the_owners(db: AsyncSession, gql: GraphQL) -> None:
    task, _, _ = await alices_task(db)
    data = await gql.data("query($id: ID!) { task(id: $id) { title } }", {"id": task_gid(task)})
    assert data["task"] == {"title": "Alice's secret"}


@pytest.mark.parametrize("kind", ["task", "step", "event"])
async def test_node_of_another_user_is_null(db: AsyncSession, gql: GraphQL, kind: str) -> None:
    task, steps, events = await alices_task(db)
    gid = {"task": task_gid(task), "step": steps[0], "event": events[0]}[kind]
    query = """query($id: ID!) { node(id: $id) { id
               ... on TaskStep { content task { title } }
               ... on TaskEvent { task { title } } } }"""
    assert (await gql.data(query, {"id": gid}, user="bob"))["node"] is None
    assert (await gql.data(query, {"id": gid}, user="alice"))["node"]["id"] == gid


async def test_nodes_of_another_user_are_null_beside_the_viewers_own(
    db: AsyncSession, gql: GraphQL
) -> None:
    task, steps, events = await alices_task(db)
    mine = await make_task(db, user_id="bob")
    ids = [task_gid(task), steps[0], events[0], task_gid(mine)]
    data = await gql.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids},
                          user="bob")
    assert data["nodes"] == [None, None, None, {"id": task_gid(mine)}]


async def test_nested_steps_and_events_hold_only_the_viewers_rows(
    db: AsyncSession, gql: GraphQL
) -> None:
    await alices_task(db)
    mine = await make_task(db, user_id="bob", steps=["b1"], events=1)
    data = await gql.data(
        """{ tasks { edges { node { id stepCount completedStepCount steps { content }
             events { totalCount edges { node { id task { id } } } } } } } }""",
        user="bob",
    )
    [node] = [edge["node"] for edge in data["tasks"]["edges"]]
    assert node["id"] == task_gid(mine)
    assert [s["content"] for s in node["steps"]] == ["b1"]
    assert (node["stepCount"], node["completedStepCount"]) == (1, 0)
    assert node["events"]["totalCount"] == 1
    assert node["events"]["edges"][0]["node"]["task"] == {"id": task_gid(mine)}


async def test_a_cursor_from_another_users_page_shows_only_the_viewers_tasks(
    db: AsyncSession, gql: GraphQL
) -> None:
    alice = [await make_task(db, user_id="alice") for _ in range(3)]
    bob = [await make_task(db, user_id="bob") for _ in range(2)]
    alice_page = await gql.data("{ tasks(first: 1) { pageInfo { endCursor } } }")
    cursor = alice_page["tasks"]["pageInfo"]["endCursor"]
    data = await gql.data(
        "query($after: String) { tasks(first: 10, after: $after) { edges { node { id } } } }",
        {"after": cursor}, user="bob",
    )
    seen = {edge["node"]["id"] for edge in data["tasks"]["edges"]}
    assert seen <= {task_gid(t) for t in bob}
    assert not seen & {task_gid(t) for t in alice}


async def test_a_cursor_from_another_users_page_backwards_shows_only_the_viewers_tasks(
    db: AsyncSession, gql: GraphQL
) -> None:
    alice = [await make_task(db, user_id="alice") for _ in range(3)]
    bob = [await make_task(db, user_id="bob") for _ in range(2)]  # newer: before alice's
    alice_page = await gql.data("{ tasks(last: 1) { pageInfo { startCursor } } }")
    cursor = alice_page["tasks"]["pageInfo"]["startCursor"]
    data = await gql.data(
        "query($before: String) { tasks(last: 10, before: $before) { edges { node { id } } } }",
        {"before": cursor}, user="bob",
    )
    seen = [edge["node"]["id"] for edge in data["tasks"]["edges"]]
    assert seen == [task_gid(t) for t in reversed(bob)]
    assert not set(seen) & {task_gid(t) for t in alice}


async def test_an_event_cursor_from_another_users_task_shows_only_the_viewers_events(
    db: AsyncSession, gql: GraphQL
) -> None:
    alice, _, alice_events = await alices_task(db)
    mine = await make_task(db, user_id="bob", events=2)
    query = """query($id: ID!, $after: String) { task(id: $id) {
                 events(first: 5, after: $after) { edges { node { id } } } } }"""
    first = await gql.data(
        "query($id: ID!) { task(id: $id) { events(first: 1) { pageInfo { endCursor } } } }",
        {"id": task_gid(alice)},
    )
    cursor = first["task"]["events"]["pageInfo"]["endCursor"]
    data = await gql.data(query, {"id": task_gid(mine), "after": cursor}, user="bob")
    seen = {edge["node"]["id"] for edge in data["task"]["events"]["edges"]}
    assert not seen & set(alice_events)
    bob_events = await db.scalars(select(TaskEvent.id).where(TaskEvent.task_id == mine.id))
    assert seen <= {encode_id("TaskEvent", i) for i in bob_events}


async def test_tasks_without_a_token_is_unauthenticated_not_empty(
    db: AsyncSession, gql: GraphQL
) -> None:
    await alices_task(db)
    payload = await gql("{ tasks { totalCount } }", user=None)
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- mutations ------------------------------------------------------------------------------

MUTATIONS: dict[str, str] = {
    "updateTask": "UpdateTaskInput",
    "setTaskStatus": "SetTaskStatusInput",
    "deleteTask": "DeleteTaskInput",
    "addTaskStep": "AddTaskStepInput",
    "updateTaskStep": "UpdateTaskStepInput",
    "removeTaskStep": "RemoveTaskStepInput",
    "reorderTaskSteps": "ReorderTaskStepsInput",
}


def mutation_input(name: str, task_id: str, steps: list[str]) -> dict[str, Any]:
    """A valid input for `name` aimed at the task `task_id` and its `steps`."""
    inputs: dict[str, dict[str, Any]] = {
        "updateTask": {"id": task_id, "title": "Hijacked", "description": None},
        "setTaskStatus": {"id": task_id, "status": "COMPLETED"},
        "deleteTask": {"id": task_id},
        "addTaskStep": {"taskId": task_id, "content": "injected", "position": 1},
        "updateTaskStep": {"id": steps[0], "content": "x", "completed": True},
        "removeTaskStep": {"id": steps[0]},
        "reorderTaskSteps": {"taskId": task_id, "stepIds": steps[::-1]},
    }
    return inputs[name]


async def call(gql: GraphQL, name: str, values: dict[str, Any], user: str) -> dict[str, Any]:
    query = f"""mutation($input: {MUTATIONS[name]}!) {{
        {name}(input: $input) {{ __typename {MISSING_ERROR} }} }}"""
    data = await gql.data(query, {"input": values}, user=user)
    result: dict[str, Any] = data[name]
    return result


@pytest.mark.parametrize("name", list(MUTATIONS))
async def test_mutation_on_another_users_task_is_not_found_and_changes_nothing(
    db: AsyncSession, gql: GraphQL, name: str
) -> None:
    task, steps, _ = await alices_task(db)
    before = await snapshot(db)
    result = await call(gql, name, mutation_input(name, task_gid(task), steps), "bob")
    assert result["__typename"] == "NotFoundError"
    assert result["code"] == "NOT_FOUND"
    assert await snapshot(db) == before


@pytest.mark.parametrize("name", list(MUTATIONS))
async def test_mutation_on_another_users_task_answers_as_for_a_missing_one(
    db: AsyncSession, gql: GraphQL, name: str
) -> None:
    task, steps, _ = await alices_task(db)
    foreign = await call(gql, name, mutation_input(name, task_gid(task), steps), "bob")
    missing_steps = [encode_id("TaskStep", 900_000 + n) for n in range(len(steps))]
    absent = await call(gql, name, mutation_input(name, missing_task_gid(task), missing_steps),
                        "bob")
    assert {k: v for k, v in foreign.items() if k != "missingId"} == {
        k: v for k, v in absent.items() if k != "missingId"
    }


@pytest.mark.parametrize("name", list(MUTATIONS))
async def test_mutation_succeeds_for_the_owner(
    db: AsyncSession, gql: GraphQL, name: str
) -> None:
    task, steps, _ = await alices_task(db)
    result = await call(gql, name, mutation_input(name, task_gid(task), steps), "alice")
    assert result["__typename"].endswith("Success"), result


async def test_reorder_with_another_users_step_ids_is_refused(
    db: AsyncSession, gql: GraphQL
) -> None:
    _, alice_steps, _ = await alices_task(db)
    mine = await make_task(db, user_id="bob", steps=["b1", "b2"])
    own = [encode_id("TaskStep", i)
           for i in await db.scalars(select(TaskStep.id).where(TaskStep.task_id == mine.id))]
    before = await snapshot(db)
    data = await gql.data(
        """mutation($input: ReorderTaskStepsInput!) { reorderTaskSteps(input: $input) {
             __typename ... on ValidationError { fields { field } } } }""",
        {"input": {"taskId": task_gid(mine), "stepIds": [own[0], alice_steps[0]]}}, user="bob",
    )
    assert data["reorderTaskSteps"]["__typename"] == "ValidationError"
    assert await snapshot(db) == before


async def test_a_task_created_by_one_user_is_not_listed_for_another(gql: GraphQL) -> None:
    created = await gql.data(
        """mutation { createTask(input: {title: "Bob's own"}) {
             ... on CreateTaskSuccess { task { id } } } }""",
        user="bob",
    )
    gid = created["createTask"]["task"]["id"]
    alice = await gql.data("{ tasks { edges { node { id } } } }")
    bob = await gql.data("{ tasks { edges { node { id } } } }", user="bob")
    assert gid not in [e["node"]["id"] for e in alice["tasks"]["edges"]]
    assert [e["node"]["id"] for e in bob["tasks"]["edges"]] == [gid]


async def test_a_mutation_result_does_not_expose_another_users_rows(
    db: AsyncSession, gql: GraphQL
) -> None:
    await alices_task(db)
    mine = await make_task(db, user_id="bob", steps=["b1"])
    data = await gql.data(
        """mutation($id: ID!) { addTaskStep(input: {taskId: $id, content: "b2"}) {
             ... on AddTaskStepSuccess { task { steps { content } events { totalCount } } } } }""",
        {"id": task_gid(mine)}, user="bob",
    )
    task = data["addTaskStep"]["task"]
    assert [s["content"] for s in task["steps"]] == ["b1", "b2"]
    assert task["events"]["totalCount"] == 1
