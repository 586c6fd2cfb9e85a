"""`Task.events`: a connection paged per task, and the event rows each mutation writes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from graph.ids import encode_id
from models import TaskEvent
from tests.conftest import GraphQL, table_count
from tests.factories import make_task, task_gid

EVENTS = """
query Events($first: Int, $after: String, $last: Int, $before: String) {
  tasks(first: 20) {
    edges { node {
      id
      events(first: $first, after: $after, last: $last, before: $before) {
        totalCount
        edges { cursor node { id } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    } }
  }
}
"""

TASK_EVENTS = """
query TaskEvents($id: ID!, $first: Int, $after: String) {
  task(id: $id) {
    events(first: $first, after: $after) {
      totalCount
      edges { cursor node { id eventType fromStatus toStatus payload createdAt task { id } } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
}
"""

CREATE = """
mutation($input: CreateTaskInput!) {
  createTask(input: $input) { __typename ... on CreateTaskSuccess { task { id steps { id } } } }
}
"""


def event_gids(rows: list[TaskEvent]) -> list[str]:
    return [encode_id("TaskEvent", row.id) for row in rows]


async def rows_of(db: AsyncSession, task_id: int) -> list[TaskEvent]:
    statement = select(TaskEvent).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id)
    return list(await db.scalars(statement))


async def events_by_task(gql: GraphQL, **variables: Any) -> dict[str, dict[str, Any]]:
    data = await gql.data(EVENTS, variables)
    return {edge["node"]["id"]: edge["node"]["events"] for edge in data["tasks"]["edges"]}


async def task_events(gql: GraphQL, gid: str, **variables: Any) -> dict[str, Any]:
    data = await gql.data(TASK_EVENTS, {"id": gid, **variables})
    events: dict[str, Any] = data["task"]["events"]
    return events


async def created_task(gql: GraphQL, **fields: Any) -> dict[str, Any]:
    data = await gql.data(CREATE, {"input": {"title": "Tracked", **fields}})
    task: dict[str, Any] = data["createTask"]["task"]
    return task


async def history(gql: GraphQL, gid: str) -> list[dict[str, Any]]:
    events = await task_events(gql, gid, first=100)
    return [edge["node"] for edge in events["edges"]]


async def mutate(gql: GraphQL, name: str, input_type: str, values: dict[str, Any]) -> None:
    query = f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename }} }}"
    data = await gql.data(query, {"input": values})
    assert data[name]["__typename"].endswith("Success"), data


# --- paging per task ------------------------------------------------------------------------


async def test_events_first_two_pages_each_task_on_its_own(
    db: AsyncSession, gql: GraphQL
) -> None:
    counts = [0, 1, 2, 3, 5]
    tasks = [await make_task(db, events=n) for n in counts]
    pages = await events_by_task(gql, first=2)
    for task, count in zip(tasks, counts, strict=True):
        events = pages[task_gid(task)]
        expected = event_gids((await rows_of(db, task.id))[:2])
        assert [e["node"]["id"] for e in events["edges"]] == expected
        assert events["pageInfo"]["hasNextPage"] is (count > 2)
        assert events["totalCount"] == count


async def test_events_come_oldest_first(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, events=4)
    events = await task_events(gql, task_gid(task))
    assert [e["node"]["id"] for e in events["edges"]] == event_gids(await rows_of(db, task.id))


async def test_events_default_page_holds_twenty(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, events=21)
    events = await task_events(gql, task_gid(task))
    assert len(events["edges"]) == 20
    assert events["pageInfo"]["hasNextPage"] is True


async def test_events_after_a_cursor_continue_each_task(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, events=5)
    seen: list[str] = []
    after = None
    while True:
        events = await task_events(gql, task_gid(task), first=2, after=after)
        seen += [e["node"]["id"] for e in events["edges"]]
        if not events["pageInfo"]["hasNextPage"]:
            break
        assert events["pageInfo"]["endCursor"] is not None
        after = events["pageInfo"]["endCursor"]
    assert seen == event_gids(await rows_of(db, task.id))


async def test_events_second_page_reports_a_previous_page(
    db: AsyncSession, gql: GraphQL
) -> None:
    task = await make_task(db, events=3)
    first = await task_events(gql, task_gid(task), first=2)
    second = await task_events(gql, task_gid(task), first=2, after=first["pageInfo"]["endCursor"])
    assert len(second["edges"]) == 1
    assert second["pageInfo"] == {
        "hasNextPage": False, "hasPreviousPage": True,
        "endCursor": second["edges"][0]["cursor"],
    }


async def test_events_last_two_are_the_newest_per_task(db: AsyncSession, gql: GraphQL) -> None:
    tasks = [await make_task(db, events=n) for n in (1, 4)]
    pages = await events_by_task(gql, last=2)
    for task in tasks:
        events = pages[task_gid(task)]
        expected = event_gids((await rows_of(db, task.id))[-2:])
        assert [e["node"]["id"] for e in events["edges"]] == expected
        assert events["pageInfo"]["hasPreviousPage"] is (len(await rows_of(db, task.id)) > 2)


async def test_events_before_a_cursor_page_backwards(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, events=4)
    rows = await rows_of(db, task.id)
    newest = await events_by_task(gql, last=1)
    before = newest[task_gid(task)]["pageInfo"]["startCursor"]
    pages = await events_by_task(gql, last=2, before=before)
    events = pages[task_gid(task)]
    assert [e["node"]["id"] for e in events["edges"]] == event_gids(rows[1:3])
    assert events["pageInfo"]["hasNextPage"] is True
    assert events["pageInfo"]["hasPreviousPage"] is True


async def test_events_page_over_one_hundred_is_a_clear_error(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_task(db, events=1)
    payload = await gql(EVENTS, {"first": 101})
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "100" in payload["errors"][0]["message"]


async def test_events_invalid_cursor_is_a_clear_error(db: AsyncSession, gql: GraphQL) -> None:
    await make_task(db, events=1)
    payload = await gql(EVENTS, {"first": 1, "after": "bogus"})
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_events_of_a_task_without_events_are_empty(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db)
    events = await task_events(gql, task_gid(task), first=2)
    assert events["edges"] == []
    assert events["totalCount"] == 0
    assert events["pageInfo"]["hasNextPage"] is False


async def test_event_links_back_to_its_task(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, events=1)
    events = await task_events(gql, task_gid(task))
    assert events["edges"][0]["node"]["task"] == {"id": task_gid(task)}


# --- the rows mutations write ---------------------------------------------------------------


async def test_create_task_writes_a_created_event(gql: GraphQL) -> None:
    task = await created_task(gql, status="IN_PROGRESS", steps=["a", "b"])
    [event] = await history(gql, task["id"])
    assert (event["eventType"], event["fromStatus"], event["toStatus"]) == (
        "CREATED", None, "IN_PROGRESS",
    )
    assert event["payload"] == {"steps": 2}


async def test_update_task_writes_an_updated_event_naming_the_fields(gql: GraphQL) -> None:
    task = await created_task(gql)
    await mutate(gql, "updateTask", "UpdateTaskInput",
                 {"id": task["id"], "title": "Renamed", "metadata": {"a": 1}})
    events = await history(gql, task["id"])
    assert [e["eventType"] for e in events] == ["CREATED", "UPDATED"]
    assert events[1]["payload"] == {"fields": ["metadata", "title"]}


async def test_update_task_without_a_change_writes_no_event(gql: GraphQL) -> None:
    task = await created_task(gql, title="Same")
    await mutate(gql, "updateTask", "UpdateTaskInput", {"id": task["id"], "title": "Same"})
    assert [e["eventType"] for e in await history(gql, task["id"])] == ["CREATED"]


async def test_set_task_status_writes_from_and_to_status(gql: GraphQL) -> None:
    task = await created_task(gql)
    await mutate(gql, "setTaskStatus", "SetTaskStatusInput",
                 {"id": task["id"], "status": "IN_PROGRESS"})
    await mutate(gql, "setTaskStatus", "SetTaskStatusInput",
                 {"id": task["id"], "status": "COMPLETED"})
    changes = [
        (e["eventType"], e["fromStatus"], e["toStatus"]) for e in await history(gql, task["id"])
    ][1:]
    assert changes == [
        ("STATUS_CHANGED", "PENDING", "IN_PROGRESS"),
        ("STATUS_CHANGED", "IN_PROGRESS", "COMPLETED"),
    ]


async def test_set_task_status_to_the_same_status_writes_no_event(gql: GraphQL) -> None:
    task = await created_task(gql)
    await mutate(gql, "setTaskStatus", "SetTaskStatusInput",
                 {"id": task["id"], "status": "PENDING"})
    assert [e["eventType"] for e in await history(gql, task["id"])] == ["CREATED"]


async def test_add_task_step_writes_a_step_added_event(gql: GraphQL) -> None:
    task = await created_task(gql, steps=["a"])
    await mutate(gql, "addTaskStep", "AddTaskStepInput",
                 {"taskId": task["id"], "content": "b", "position": 1})
    event = (await history(gql, task["id"]))[-1]
    assert event["eventType"] == "STEP_ADDED"
    assert event["payload"]["position"] == 1


async def test_update_task_step_writes_a_step_updated_event(gql: GraphQL) -> None:
    task = await created_task(gql, steps=["a"])
    step_id = task["steps"][0]["id"]
    await mutate(gql, "updateTaskStep", "UpdateTaskStepInput", {"id": step_id, "completed": True})
    event = (await history(gql, task["id"]))[-1]
    assert event["eventType"] == "STEP_UPDATED"
    assert event["payload"] == {"stepId": step_id, "fields": ["completed"]}  # the global id


async def test_remove_task_step_writes_a_step_removed_event(gql: GraphQL) -> None:
    task = await created_task(gql, steps=["a", "b"])
    await mutate(gql, "removeTaskStep", "RemoveTaskStepInput", {"id": task["steps"][0]["id"]})
    event = (await history(gql, task["id"]))[-1]
    assert event["eventType"] == "STEP_REMOVED"
    assert event["payload"] == {"stepId": task["steps"][0]["id"]}


async def test_reorder_task_steps_writes_a_steps_reordered_event(gql: GraphQL) -> None:
    task = await created_task(gql, steps=["a", "b"])
    ids = [s["id"] for s in task["steps"]]
    await mutate(gql, "reorderTaskSteps", "ReorderTaskStepsInput",
                 {"taskId": task["id"], "stepIds": ids[::-1]})
    event = (await history(gql, task["id"]))[-1]
    assert event["eventType"] == "STEPS_REORDERED"
    assert event["payload"] == {"stepIds": ids[::-1]}  # global ids, as the client sent them


async def test_reorder_task_steps_in_the_same_order_writes_no_event(gql: GraphQL) -> None:
    task = await created_task(gql, steps=["a", "b"])
    ids = [s["id"] for s in task["steps"]]
    await mutate(gql, "reorderTaskSteps", "ReorderTaskStepsInput",
                 {"taskId": task["id"], "stepIds": ids})
    assert [e["eventType"] for e in await history(gql, task["id"])] == ["CREATED"]


async def test_events_of_a_task_follow_its_changes_in_order(gql: GraphQL) -> None:
    task = await created_task(gql, steps=["a"])
    await mutate(gql, "addTaskStep", "AddTaskStepInput", {"taskId": task["id"], "content": "b"})
    await mutate(gql, "setTaskStatus", "SetTaskStatusInput",
                 {"id": task["id"], "status": "COMPLETED"})
    await mutate(gql, "updateTask", "UpdateTaskInput", {"id": task["id"], "description": "d"})
    assert [e["eventType"] for e in await history(gql, task["id"])] == [
        "CREATED", "STEP_ADDED", "STATUS_CHANGED", "UPDATED",
    ]


async def test_delete_task_removes_its_events(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, events=3)
    other = await make_task(db, events=2)
    await mutate(gql, "deleteTask", "DeleteTaskInput", {"id": task_gid(task)})
    assert await table_count(db, "task_events") == 2
    assert len(await rows_of(db, other.id)) == 2


@pytest.mark.parametrize(
    ("name", "input_type", "values"),
    [
        ("updateTask", "UpdateTaskInput", {"title": ""}),
        ("addTaskStep", "AddTaskStepInput", {"content": "x", "position": 9}),
        ("setTaskStatus", "SetTaskStatusInput", {"status": "COMPLETED", "id": "bogus"}),
    ],
)
async def test_a_failed_mutation_writes_no_event(
    db: AsyncSession, gql: GraphQL, name: str, input_type: str, values: dict[str, Any]
) -> None:
    task = await make_task(db, steps=["a"])
    before = await table_count(db, "task_events")
    query = f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ __typename }} }}"
    key = "taskId" if name == "addTaskStep" else "id"
    data = await gql.data(query, {"input": {key: task_gid(task), **values}})
    assert data[name]["__typename"] in {"ValidationError", "NotFoundError"}
    assert await table_count(db, "task_events") == before
