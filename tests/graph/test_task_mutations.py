"""Task mutations: each success, each error, partial updates, step numbering, atomicity."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from graph.app import create_app
from graph.ids import encode_id
from graph.migrations import upgrade_head
from models import Task, TaskStep
from tests.conftest import (
    DATABASE_URL,
    ON_POSTGRES,
    CommittedUsers,
    GraphQL,
    make_settings,
    table_count,
    visit_whose_row_is_gone,
)
from tests.factories import make_task, task_gid

TASK_FIELDS = """
id title description originalInput kind status completed metadata createdAt updatedAt
completedAt stepCount completedStepCount steps { id stepNumber content completed }
"""
USER_ERROR = "... on UserError { __typename message code }"
INVALID = "... on ValidationError { fields { field message } }"
MISSING = "... on NotFoundError { missingId }"
ERRORS = f"{USER_ERROR} {INVALID} {MISSING}"

CREATE = f"""
mutation($input: CreateTaskInput!) {{
  createTask(input: $input) {{ __typename ... on CreateTaskSuccess {{ task {{ {TASK_FIELDS} }} }}
    {USER_ERROR} {INVALID} }}
}}"""
UPDATE = f"""
mutation($input: UpdateTaskInput!) {{
  updateTask(input: $input) {{ __typename ... on UpdateTaskSuccess {{ task {{ {TASK_FIELDS} }} }}
    {ERRORS} }}
}}"""
SET_STATUS = f"""
mutation($input: SetTaskStatusInput!) {{
  setTaskStatus(input: $input) {{
    __typename ... on SetTaskStatusSuccess {{ task {{ {TASK_FIELDS} }} }}
    {USER_ERROR} {MISSING} }}
}}"""
DELETE = f"""
mutation($input: DeleteTaskInput!) {{
  deleteTask(input: $input) {{
    __typename ... on DeleteTaskSuccess {{ deletedId }} {USER_ERROR} {MISSING} }}
}}"""
ADD_STEP = f"""
mutation($input: AddTaskStepInput!) {{
  addTaskStep(input: $input) {{
    __typename
    ... on AddTaskStepSuccess {{ step {{ id stepNumber content completed }}
                                 task {{ {TASK_FIELDS} }} }}
    {ERRORS}
  }}
}}"""
UPDATE_STEP = f"""
mutation($input: UpdateTaskStepInput!) {{
  updateTaskStep(input: $input) {{
    __typename
    ... on UpdateTaskStepSuccess {{
      step {{ id stepNumber content completed task {{ {TASK_FIELDS} }} }}
      task {{ id completedStepCount }}
    }}
    {ERRORS}
  }}
}}"""
REMOVE_STEP = f"""
mutation($input: RemoveTaskStepInput!) {{
  removeTaskStep(input: $input) {{
    __typename ... on RemoveTaskStepSuccess {{ deletedId task {{ {TASK_FIELDS} }} }}
    {USER_ERROR} {MISSING}
  }}
}}"""
REORDER = f"""
mutation($input: ReorderTaskStepsInput!) {{
  reorderTaskSteps(input: $input) {{
    __typename ... on ReorderTaskStepsSuccess {{ task {{ {TASK_FIELDS} }} }} {ERRORS}
  }}
}}"""


async def run(gql: GraphQL, mutation: str, values: dict[str, Any]) -> dict[str, Any]:
    data = await gql.data(mutation, {"input": values})
    result: dict[str, Any] = next(iter(data.values()))
    return result


async def snapshot(db: AsyncSession) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the task tables, to show that a failed mutation changed nothing."""
    tables = {}
    for table in ("tasks", "task_steps", "task_events", "ai_logs"):
        result = await db.execute(text(f"SELECT * FROM {table} ORDER BY id"))
        tables[table] = [tuple(row) for row in result]
    return tables


async def numbers(db: AsyncSession, task_id: int) -> list[tuple[int, str]]:
    rows = await db.execute(
        select(TaskStep.step_number, TaskStep.content)
        .where(TaskStep.task_id == task_id)
        .order_by(TaskStep.step_number)
    )
    return [(int(n), str(c)) for n, c in rows]


def step_gid(step_id: int) -> str:
    return encode_id("TaskStep", step_id)


async def step_ids(db: AsyncSession, task: Task) -> list[int]:
    rows = await db.scalars(
        select(TaskStep.id).where(TaskStep.task_id == task.id).order_by(TaskStep.step_number)
    )
    return list(rows)


def field_errors(result: dict[str, Any]) -> dict[str, str]:
    assert result["__typename"] == "ValidationError", result
    assert result["code"] == "VALIDATION_ERROR"
    return {error["field"]: error["message"] for error in result["fields"]}


def assert_not_found(result: dict[str, Any], raw_id: str) -> None:
    assert result["__typename"] == "NotFoundError", result
    assert (result["code"], result["missingId"]) == ("NOT_FOUND", raw_id)
    assert result["message"]


# --- createTask -----------------------------------------------------------------------------


async def test_create_task_stores_the_task_with_its_steps(db: AsyncSession, gql: GraphQL) -> None:
    result = await run(gql, CREATE, {
        "title": "  Plan the trip  ", "description": "Two weeks", "kind": "travel",
        "metadata": {"budget": 900}, "steps": ["Book flights", "Pack"],
    })
    task = result["task"]
    assert (task["title"], task["description"], task["kind"]) == ("Plan the trip", "Two weeks",
                                                                  "travel")
    assert (task["status"], task["completed"], task["completedAt"]) == ("PENDING", False, None)
    assert task["metadata"] == {"budget": 900}
    assert [(s["stepNumber"], s["content"]) for s in task["steps"]] == [
        (1, "Book flights"), (2, "Pack"),
    ]
    assert (task["stepCount"], task["completedStepCount"]) == (2, 0)
    row = await db.scalar(select(Task).where(Task.title == "Plan the trip"))
    assert row is not None and row.user_id == "alice"
    assert task["id"] == task_gid(row)
    assert await numbers(db, row.id) == [(1, "Book flights"), (2, "Pack")]


async def test_create_task_defaults_kind_and_status(gql: GraphQL) -> None:
    task = (await run(gql, CREATE, {"title": "Minimal"}))["task"]
    assert (task["kind"], task["status"], task["description"], task["metadata"]) == (
        "todo", "PENDING", None, None,
    )
    assert task["steps"] == []


async def test_create_task_as_completed_sets_completed_at(gql: GraphQL) -> None:
    task = (await run(gql, CREATE, {"title": "Done already", "status": "COMPLETED"}))["task"]
    assert task["completed"] is True
    assert task["completedAt"] is not None


async def test_create_task_title_of_two_hundred_characters_is_allowed(gql: GraphQL) -> None:
    result = await run(gql, CREATE, {"title": "x" * 200})
    assert result["__typename"] == "CreateTaskSuccess"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"title": "ok", "description": "d" * 10_001}, "description"),
        ({"title": "ok", "kind": ""}, "kind"),
        ({"title": "ok", "kind": "k" * 51}, "kind"),
        ({"title": "ok", "metadata": [1, 2]}, "metadata"),
        ({"title": "ok", "metadata": "text"}, "metadata"),
        ({"title": "ok", "metadata": {"blob": "b" * 17_000}}, "metadata"),
        ({"title": "ok", "metadata": {"nul": "a\x00"}}, "metadata"),
        ({"title": "ok", "steps": ["fine", ""]}, "steps.1"),
        ({"title": "ok", "steps": ["s" * 2_001]}, "steps.0"),
    ],
)
async def test_create_task_invalid_input_is_a_validation_error_and_stores_nothing(
    db: AsyncSession, gql: GraphQL, values: dict[str, Any], field: str
) -> None:
    before = await snapshot(db)
    result = await run(gql, CREATE, values)
    assert field in field_errors(result)
    assert await snapshot(db) == before


async def test_create_task_title_with_a_lone_surrogate_is_a_validation_error(
    db: AsyncSession, gql: GraphQL
) -> None:
    # JSON may escape a lone surrogate; such a string cannot be stored as UTF-8 text.
    query = orjson.dumps(CREATE).decode()
    body = '{"query": ' + query + ', "variables": {"input": {"title": "a\\ud800"}}}'
    response = await gql.client.post(
        "/graphql", content=body,
        headers={"Content-Type": "application/json",
                 "Authorization": f"Bearer {gql.token('alice')}"},
    )
    assert "title" in field_errors(response.json()["data"]["createTask"])
    assert await table_count(db, "tasks") == 0


async def test_create_task_reports_every_invalid_field_at_once(gql: GraphQL) -> None:
    result = await run(gql, CREATE, {"title": "", "kind": "k" * 51, "steps": [" "]})
    assert set(field_errors(result)) == {"title", "kind", "steps.0"}


async def test_create_task_length_error_names_the_limit(gql: GraphQL) -> None:
    result = await run(gql, CREATE, {"title": "x" * 201})
    assert "200" in field_errors(result)["title"]


async def test_create_task_metadata_with_big_integers_is_stored(gql: GraphQL) -> None:
    task = (await run(gql, CREATE, {"title": "Big", "metadata": {"n": 10**20}}))["task"]
    assert task["metadata"] == {"n": 10**20}


async def test_create_task_with_an_unknown_status_is_refused_before_running(
    db: AsyncSession, gql: GraphQL
) -> None:
    payload = await gql(CREATE, {"input": {"title": "x", "status": "DONE"}})
    assert payload.get("data") is None
    assert "DONE" in payload["errors"][0]["message"]
    assert await table_count(db, "tasks") == 0


async def test_create_task_without_a_token_is_unauthenticated(
    db: AsyncSession, gql: GraphQL
) -> None:
    payload = await gql(CREATE, {"input": {"title": "x"}}, user=None)
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await table_count(db, "tasks") == 0


# --- updateTask -----------------------------------------------------------------------------


async def test_update_task_changes_only_the_given_fields(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, title="Old", description="Keep me", kind="errand",
                           metadata_={"a": 1})
    result = await run(gql, UPDATE, {"id": task_gid(task), "title": "New"})
    got = result["task"]
    assert (got["title"], got["description"], got["kind"], got["metadata"]) == (
        "New", "Keep me", "errand", {"a": 1},
    )
    await db.refresh(task)
    assert (task.title, task.description, task.kind) == ("New", "Keep me", "errand")


async def test_update_task_explicit_null_clears_description(
    db: AsyncSession, gql: GraphQL
) -> None:
    task = await make_task(db, description="Clear me")
    result = await run(gql, UPDATE, {"id": task_gid(task), "description": None})
    assert result["task"]["description"] is None
    await db.refresh(task)
    assert task.description is None


async def test_update_task_explicit_null_clears_metadata(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, metadata_={"a": 1})
    result = await run(gql, UPDATE, {"id": task_gid(task), "metadata": None})
    assert result["task"]["metadata"] is None
    await db.refresh(task)
    assert task.metadata_ is None


@pytest.mark.parametrize("field", ["title", "kind"])
async def test_update_task_null_for_a_required_field_is_a_validation_error(
    db: AsyncSession, gql: GraphQL, field: str
) -> None:
    task = await make_task(db)
    before = await snapshot(db)
    result = await run(gql, UPDATE, {"id": task_gid(task), field: None})
    assert field in field_errors(result)
    assert await snapshot(db) == before


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"title": "x" * 201}, "title"),
        ({"description": "d" * 10_001}, "description"),
        ({"kind": " "}, "kind"),
        ({"metadata": 5}, "metadata"),
    ],
)
async def test_update_task_invalid_input_changes_nothing(
    db: AsyncSession, gql: GraphQL, values: dict[str, Any], field: str
) -> None:
    task = await make_task(db)
    before = await snapshot(db)
    result = await run(gql, UPDATE, {"id": task_gid(task), "title": "Valid", **values})
    assert field in field_errors(result)
    assert await snapshot(db) == before


async def test_update_task_moves_updated_at_but_not_created_at(gql: GraphQL) -> None:
    created = (await run(gql, CREATE, {"title": "Fresh"}))["task"]
    updated = (await run(gql, UPDATE, {"id": created["id"], "title": "Changed"}))["task"]
    assert datetime.fromisoformat(updated["updatedAt"]) > datetime.fromisoformat(
        created["updatedAt"]
    )
    assert updated["createdAt"] == created["createdAt"]


async def test_update_task_with_only_an_id_changes_nothing(
    db: AsyncSession, gql: GraphQL
) -> None:
    task = await make_task(db)
    before = await snapshot(db)
    result = await run(gql, UPDATE, {"id": task_gid(task)})
    assert result["__typename"] == "UpdateTaskSuccess"
    assert await snapshot(db) == before


@pytest.mark.parametrize(
    "raw", [task_gid(987_654), "garbage", encode_id("TaskStep", 1), encode_id("Task", "x")]
)
async def test_update_task_unknown_id_is_not_found(
    db: AsyncSession, gql: GraphQL, raw: str
) -> None:
    await make_task(db)
    before = await snapshot(db)
    result = await run(gql, UPDATE, {"id": raw, "title": "New"})
    assert_not_found(result, raw)
    assert await snapshot(db) == before


# --- setTaskStatus --------------------------------------------------------------------------


async def test_set_task_status_completed_sets_completed_at(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db)
    got = (await run(gql, SET_STATUS, {"id": task_gid(task), "status": "COMPLETED"}))["task"]
    assert (got["status"], got["completed"]) == ("COMPLETED", True)
    assert got["completedAt"] is not None
    await db.refresh(task)
    assert task.status == "completed" and task.completed_at is not None


async def test_set_task_status_leaving_completed_clears_completed_at(
    db: AsyncSession, gql: GraphQL
) -> None:
    task = await make_task(db, status="completed")
    got = (await run(gql, SET_STATUS, {"id": task_gid(task), "status": "IN_PROGRESS"}))["task"]
    assert (got["status"], got["completed"], got["completedAt"]) == ("IN_PROGRESS", False, None)
    await db.refresh(task)
    assert task.completed_at is None


async def test_set_task_status_to_the_same_status_keeps_completed_at(
    db: AsyncSession, gql: GraphQL
) -> None:
    task = await make_task(db, status="completed")
    got = (await run(gql, SET_STATUS, {"id": task_gid(task), "status": "COMPLETED"}))["task"]
    assert datetime.fromisoformat(got["completedAt"]) == task.completed_at


async def test_set_task_status_unknown_id_is_not_found(db: AsyncSession, gql: GraphQL) -> None:
    before = await snapshot(db)
    raw = task_gid(424_242)
    assert_not_found(await run(gql, SET_STATUS, {"id": raw, "status": "FAILED"}), raw)
    assert await snapshot(db) == before


# --- deleteTask -----------------------------------------------------------------------------


async def test_delete_task_removes_it_with_its_steps_and_events(
    db: AsyncSession, gql: GraphQL
) -> None:
    task = await make_task(db, steps=["a", "b"], events=2)
    keep = await make_task(db, steps=["c"], events=1)
    result = await run(gql, DELETE, {"id": task_gid(task)})
    assert result == {"__typename": "DeleteTaskSuccess", "deletedId": task_gid(task)}
    assert await db.scalar(select(Task.id).where(Task.id == task.id)) is None
    assert (await table_count(db, "task_steps"), await table_count(db, "task_events")) == (1, 1)
    assert await numbers(db, keep.id) == [(1, "c")]


async def test_delete_task_twice_is_not_found_the_second_time(
    db: AsyncSession, gql: GraphQL
) -> None:
    task = await make_task(db)
    await run(gql, DELETE, {"id": task_gid(task)})
    assert_not_found(await run(gql, DELETE, {"id": task_gid(task)}), task_gid(task))


async def test_delete_task_unknown_id_is_not_found(db: AsyncSession, gql: GraphQL) -> None:
    await make_task(db)
    before = await snapshot(db)
    assert_not_found(await run(gql, DELETE, {"id": "garbage"}), "garbage")
    assert await snapshot(db) == before


# --- addTaskStep ----------------------------------------------------------------------------


async def test_add_task_step_appends_by_default(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, steps=["a", "b"])
    result = await run(gql, ADD_STEP, {"taskId": task_gid(task), "content": "  c  "})
    assert (result["step"]["stepNumber"], result["step"]["content"]) == (3, "c")
    assert result["step"]["completed"] is False
    assert [s["content"] for s in result["task"]["steps"]] == ["a", "b", "c"]
    assert await numbers(db, task.id) == [(1, "a"), (2, "b"), (3, "c")]


async def test_add_task_step_at_the_first_position(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, steps=["a", "b"])
    result = await run(gql, ADD_STEP, {"taskId": task_gid(task), "content": "z", "position": 1})
    assert result["step"]["stepNumber"] == 1
    assert await numbers(db, task.id) == [(1, "z"), (2, "a"), (3, "b")]


async def test_add_task_step_in_the_middle(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, steps=["a", "b", "c"])
    result = await run(gql, ADD_STEP, {"taskId": task_gid(task), "content": "m", "position": 3})
    assert result["step"]["stepNumber"] == 3
    assert [s["stepNumber"] for s in result["task"]["steps"]] == [1, 2, 3, 4]
    assert await numbers(db, task.id) == [(1, "a"), (2, "b"), (3, "m"), (4, "c")]


async def test_add_task_step_at_one_past_the_end(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, steps=["a"])
    await run(gql, ADD_STEP, {"taskId": task_gid(task), "content": "b", "position": 2})
    assert await numbers(db, task.id) == [(1, "a"), (2, "b")]


async def test_add_task_step_to_a_task_without_steps(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db)
    result = await run(gql, ADD_STEP, {"taskId": task_gid(task), "content": "only"})
    assert (result["task"]["stepCount"], result["step"]["stepNumber"]) == (1, 1)


async def test_add_task_step_updates_the_task(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, steps=["a"])
    result = await run(gql, ADD_STEP, {"taskId": task_gid(task), "content": "b"})
    assert datetime.fromisoformat(result["task"]["updatedAt"]) != task.updated_at


async def test_two_adds_in_one_operation_each_see_the_steps_so_far(
    db: AsyncSession, gql: GraphQL
) -> None:
    task = await make_task(db, steps=["a"])
    data = await gql.data(
        """mutation($id: ID!) {
          one: addTaskStep(input: {taskId: $id, content: "b"}) {
            ... on AddTaskStepSuccess { task { stepCount steps { content } } } }
          two: addTaskStep(input: {taskId: $id, content: "z", position: 1}) {
            ... on AddTaskStepSuccess { task { stepCount steps { stepNumber content } } } }
        }""",
        {"id": task_gid(task)},
    )
    assert data["one"]["task"]["stepCount"] == 2
    assert data["two"]["task"]["stepCount"] == 3
    assert data["two"]["task"]["steps"] == [
        {"stepNumber": 1, "content": "z"}, {"stepNumber": 2, "content": "a"},
        {"stepNumber": 3, "content": "b"},
    ]


@pytest.mark.parametrize("position", [0, -1, 4])
async def test_add_task_step_position_out_of_range_is_a_validation_error(
    db: AsyncSession, gql: GraphQL, position: int
) -> None:
    task = await make_task(db, steps=["a", "b"])
    before = await snapshot(db)
    result = await run(
        gql, ADD_STEP, {"taskId": task_gid(task), "content": "x", "position": position}
    )
    assert "between 1 and 3" in field_errors(result)["position"]
    assert await snapshot(db) == before


@pytest.mark.parametrize("content", ["", "   ", "c" * 2_001, "nul\x00"])
async def test_add_task_step_invalid_content_is_a_validation_error(
    db: AsyncSession, gql: GraphQL, content: str
) -> None:
    task = await make_task(db, steps=["a"])
    before = await snapshot(db)
    result = await run(gql, ADD_STEP, {"taskId": task_gid(task), "content": content})
    assert "content" in field_errors(result)
    assert await snapshot(db) == before


async def test_add_task_step_unknown_task_is_not_found(db: AsyncSession, gql: GraphQL) -> None:
    before = await snapshot(db)
    raw = task_gid(31_337)
    assert_not_found(await run(gql, ADD_STEP, {"taskId": raw, "content": "x"}), raw)
    assert await snapshot(db) == before


# --- updateTaskStep -------------------------------------------------------------------------


async def test_update_task_step_changes_content_only(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, steps=["a", "b"])
    first, _ = await step_ids(db, task)
    result = await run(gql, UPDATE_STEP, {"id": step_gid(first), "content": " new "})
    assert (result["step"]["content"], result["step"]["completed"]) == ("new", False)
    assert result["step"]["stepNumber"] == 1
    assert await numbers(db, task.id) == [(1, "new"), (2, "b")]


async def test_update_task_step_completes_it(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, steps=["a", "b"])
    _, second = await step_ids(db, task)
    result = await run(gql, UPDATE_STEP, {"id": step_gid(second), "completed": True})
    assert (result["step"]["content"], result["step"]["completed"]) == ("b", True)
    assert result["step"]["task"]["completedStepCount"] == 1
    assert result["task"] == {"id": result["step"]["task"]["id"], "completedStepCount": 1}
    step = await db.get(TaskStep, second)
    assert step is not None
    await db.refresh(step)
    assert step.completed is True


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"content": None}, "content"),
        ({"content": ""}, "content"),
        ({"content": "c" * 2_001}, "content"),
        ({"completed": None}, "completed"),
    ],
)
async def test_update_task_step_invalid_input_changes_nothing(
    db: AsyncSession, gql: GraphQL, values: dict[str, Any], field: str
) -> None:
    task = await make_task(db, steps=["a"])
    [step] = await step_ids(db, task)
    before = await snapshot(db)
    result = await run(gql, UPDATE_STEP, {"id": step_gid(step), **values})
    assert field in field_errors(result)
    assert await snapshot(db) == before


@pytest.mark.parametrize("raw", [step_gid(55_555), "garbage", task_gid(1)])
async def test_update_task_step_unknown_id_is_not_found(
    db: AsyncSession, gql: GraphQL, raw: str
) -> None:
    await make_task(db, steps=["a"])
    before = await snapshot(db)
    assert_not_found(await run(gql, UPDATE_STEP, {"id": raw, "completed": True}), raw)
    assert await snapshot(db) == before


# --- removeTaskStep -------------------------------------------------------------------------


async def test_remove_task_step_closes_the_gap(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, steps=["a", "b", "c", "d"])
    ids = await step_ids(db, task)
    result = await run(gql, REMOVE_STEP, {"id": step_gid(ids[1])})
    assert result["deletedId"] == step_gid(ids[1])
    assert [(s["stepNumber"], s["content"]) for s in result["task"]["steps"]] == [
        (1, "a"), (2, "c"), (3, "d"),
    ]
    assert await numbers(db, task.id) == [(1, "a"), (2, "c"), (3, "d")]


async def test_remove_task_step_first_and_last(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, steps=["a", "b", "c"])
    ids = await step_ids(db, task)
    await run(gql, REMOVE_STEP, {"id": step_gid(ids[0])})
    await run(gql, REMOVE_STEP, {"id": step_gid(ids[2])})
    assert await numbers(db, task.id) == [(1, "b")]


async def test_remove_the_only_step_leaves_none(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, steps=["a"])
    [only] = await step_ids(db, task)
    result = await run(gql, REMOVE_STEP, {"id": step_gid(only)})
    assert (result["task"]["steps"], result["task"]["stepCount"]) == ([], 0)


async def test_remove_task_step_twice_is_not_found(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, steps=["a", "b"])
    first, _ = await step_ids(db, task)
    await run(gql, REMOVE_STEP, {"id": step_gid(first)})
    before = await snapshot(db)
    assert_not_found(await run(gql, REMOVE_STEP, {"id": step_gid(first)}), step_gid(first))
    assert await snapshot(db) == before


# --- reorderTaskSteps -----------------------------------------------------------------------


async def test_reorder_task_steps_applies_the_permutation(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, steps=["a", "b", "c", "d"])
    a, b, c, d = await step_ids(db, task)
    order = [step_gid(i) for i in (c, a, d, b)]
    result = await run(gql, REORDER, {"taskId": task_gid(task), "stepIds": order})
    assert [s["id"] for s in result["task"]["steps"]] == order
    assert [s["stepNumber"] for s in result["task"]["steps"]] == [1, 2, 3, 4]
    assert await numbers(db, task.id) == [(1, "c"), (2, "a"), (3, "d"), (4, "b")]


async def test_reorder_of_a_task_without_steps_accepts_an_empty_list(
    db: AsyncSession, gql: GraphQL
) -> None:
    task = await make_task(db)
    result = await run(gql, REORDER, {"taskId": task_gid(task), "stepIds": []})
    assert result["__typename"] == "ReorderTaskStepsSuccess"


async def test_steps_stay_numbered_one_to_n_through_mixed_changes(
    db: AsyncSession, gql: GraphQL
) -> None:
    task = await make_task(db, steps=["a", "b", "c"])
    gid = task_gid(task)
    await run(gql, ADD_STEP, {"taskId": gid, "content": "x", "position": 2})
    await run(gql, REMOVE_STEP, {"id": step_gid((await step_ids(db, task))[0])})
    ids = await step_ids(db, task)
    await run(gql, REORDER, {"taskId": gid, "stepIds": [step_gid(i) for i in reversed(ids)]})
    await run(gql, ADD_STEP, {"taskId": gid, "content": "y"})
    assert await numbers(db, task.id) == [(1, "c"), (2, "b"), (3, "x"), (4, "y")]


@pytest.mark.parametrize("case", ["missing", "duplicate", "extra", "foreign", "malformed"])
async def test_reorder_task_steps_needs_a_full_permutation(
    db: AsyncSession, gql: GraphQL, case: str
) -> None:
    task = await make_task(db, steps=["a", "b", "c"])
    other = await make_task(db, steps=["z"])
    a, b, c = (step_gid(i) for i in await step_ids(db, task))
    [z] = (step_gid(i) for i in await step_ids(db, other))
    orders = {
        "missing": [c, a],
        "duplicate": [c, a, a],
        "extra": [c, a, b, step_gid(88_888)],
        "foreign": [c, a, z],
        "malformed": [c, a, "garbage"],
    }
    before = await snapshot(db)
    result = await run(gql, REORDER, {"taskId": task_gid(task), "stepIds": orders[case]})
    assert "stepIds" in field_errors(result)
    assert await snapshot(db) == before


async def test_reorder_task_steps_unknown_task_is_not_found(
    db: AsyncSession, gql: GraphQL
) -> None:
    before = await snapshot(db)
    raw = task_gid(77_777)
    assert_not_found(await run(gql, REORDER, {"taskId": raw, "stepIds": []}), raw)
    assert await snapshot(db) == before


# --- concurrent writers (the app's real engine, not the rolled-back test connection) --------


@pytest.fixture
async def real_gql(
    committed_users: CommittedUsers, tmp_path: Path
) -> AsyncIterator[tuple[GraphQL, str]]:
    """A client of an app on its own engine, and a fresh user whose rows are removed after."""
    url = DATABASE_URL if ON_POSTGRES else f"sqlite+aiosqlite:///{tmp_path / 'real.db'}"
    if not ON_POSTGRES:
        await asyncio.to_thread(upgrade_head, url)
    app = create_app(make_settings(database_url=url))
    user = committed_users("writer")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://real") as client:
            yield GraphQL(client, app.state.resources.settings), user


async def test_concurrent_step_changes_keep_steps_numbered_one_to_n(
    real_gql: tuple[GraphQL, str],
) -> None:
    gql, user = real_gql
    created = await gql.data(CREATE, {"input": {"title": "Busy", "steps": ["a", "b"]}}, user=user)
    gid = created["createTask"]["task"]["id"]
    adds = [
        gql.data(ADD_STEP, {"input": {"taskId": gid, "content": f"n{n}", "position": 1 + n % 3}},
                 user=user)
        for n in range(8)
    ]
    results = await asyncio.gather(*adds)
    assert [r["addTaskStep"]["__typename"] for r in results] == ["AddTaskStepSuccess"] * 8
    data = await gql.data(
        "query($id: ID!) { task(id: $id) { stepCount steps { stepNumber content } } }",
        {"id": gid}, user=user,
    )
    steps = data["task"]["steps"]
    assert [s["stepNumber"] for s in steps] == list(range(1, 11))
    assert sorted(s["content"] for s in steps) == sorted(["a", "b"] + [f"n{n}" for n in range(8)])


async def test_concurrent_removes_of_one_step_remove_it_once(
    real_gql: tuple[GraphQL, str],
) -> None:
    gql, user = real_gql
    created = await gql.data(CREATE, {"input": {"title": "Race", "steps": ["a", "b", "c"]}},
                             user=user)
    task = created["createTask"]["task"]
    target = task["steps"][1]["id"]
    results = await asyncio.gather(
        *(gql.data(REMOVE_STEP, {"input": {"id": target}}, user=user) for _ in range(4))
    )
    kinds = sorted(r["removeTaskStep"]["__typename"] for r in results)
    assert kinds == ["NotFoundError"] * 3 + ["RemoveTaskStepSuccess"]
    data = await gql.data(
        """query($id: ID!) { task(id: $id) { steps { stepNumber content }
             events(first: 10) { edges { node { eventType } } } } }""",
        {"id": task["id"]}, user=user,
    )
    assert data["task"]["steps"] == [
        {"stepNumber": 1, "content": "a"}, {"stepNumber": 2, "content": "c"},
    ]
    types = [e["node"]["eventType"] for e in data["task"]["events"]["edges"]]
    assert types == ["CREATED", "STEP_REMOVED"]


async def test_create_task_records_the_visit_it_was_created_in(
    gql: GraphQL, db: AsyncSession
) -> None:
    visit = gql.visit()
    headers = {"X-Session-Id": visit.text}
    await gql.data(CREATE, {"input": {"title": "from a visit"}}, headers=headers)
    assert await db.scalar(select(Task.session_id)) == visit.visit_id


async def test_create_task_leaves_the_session_null_when_the_visit_row_is_gone(
    gql: GraphQL, db: AsyncSession
) -> None:
    headers = await visit_whose_row_is_gone(gql, db)
    result = await gql.data(CREATE, {"input": {"title": "still saved"}}, headers=headers)
    assert result["createTask"]["__typename"] == "CreateTaskSuccess"
    assert await db.scalar(select(Task.session_id)) is None
