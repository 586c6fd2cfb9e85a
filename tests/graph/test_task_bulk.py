"""Bulk task mutations (`setTasksStatus`, `deleteTasks`): a result per id in the order sent,
the viewer's tasks changed and every other id answered as the single mutation answers it,
one transaction, a constant number of statements."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from graph.resolvers.mutations import task_bulk
from models import Task, TaskEvent
from tests.conftest import GraphQL, table_count
from tests.factories import make_task, task_gid

MISSING = "... on NotFoundError { __typename code message missingId }"
SET_MANY = f"""mutation($ids: [ID!]!, $status: TaskStatus!) {{
  setTasksStatus(input: {{ids: $ids, status: $status}}) {{
    __typename
    ... on SetTasksStatusSuccess {{ changedCount results {{ __typename
      ... on SetTaskStatusSuccess {{ task {{ id status }} }} {MISSING} }} }}
    ... on ValidationError {{ fields {{ field message }} }} }} }}"""
DELETE_MANY = f"""mutation($ids: [ID!]!) {{
  deleteTasks(input: {{ids: $ids}}) {{
    __typename
    ... on DeleteTasksSuccess {{ deletedCount results {{ __typename
      ... on DeleteTaskSuccess {{ deletedId }} {MISSING} }} }}
    ... on ValidationError {{ fields {{ field message }} }} }} }}"""
SET_ONE = f"""mutation($id: ID!) {{ setTaskStatus(input: {{id: $id, status: COMPLETED}}) {{
  __typename {MISSING} }} }}"""
DELETE_ONE = f"""mutation($id: ID!) {{ deleteTask(input: {{id: $id}}) {{
  __typename {MISSING} }} }}"""
BULKS = {"setTasksStatus": SET_MANY, "deleteTasks": DELETE_MANY}
MALFORMED = "not a global id"


async def bulk(gql: GraphQL, name: str, ids: list[str]) -> dict[str, Any]:
    variables: dict[str, Any] = {"ids": ids, "status": "COMPLETED"}
    if name == "deleteTasks":
        del variables["status"]
    answer: dict[str, Any] = (await gql.data(BULKS[name], variables))[name]
    return answer


async def statuses(db: AsyncSession) -> dict[int, str]:
    db.expire_all()
    return {task.id: task.status for task in await db.scalars(select(Task))}


@pytest.fixture
async def mix(db: AsyncSession) -> dict[str, str]:
    """Two of alice's tasks, one of bob's, a missing id and a malformed one."""
    mine = [await make_task(db, title="mine", steps=["s"], events=1) for _ in range(2)]
    bobs = await make_task(db, user_id="bob", title="bob's")
    return {"first": task_gid(mine[0]), "second": task_gid(mine[1]),
            "foreign": task_gid(bobs), "missing": task_gid(999_999), "malformed": MALFORMED}


async def test_setting_a_status_answers_each_id_in_the_order_sent(
    gql: GraphQL, mix: dict[str, str]
) -> None:
    order = ["first", "foreign", "missing", "second", "malformed"]
    answer = await bulk(gql, "setTasksStatus", [mix[name] for name in order])
    assert answer["changedCount"] == 2
    assert [r.get("task") or r["missingId"] for r in answer["results"]] == [
        {"id": mix["first"], "status": "COMPLETED"}, mix["foreign"], mix["missing"],
        {"id": mix["second"], "status": "COMPLETED"}, MALFORMED,
    ]


async def test_setting_a_status_changes_only_the_viewers_tasks(
    gql: GraphQL, db: AsyncSession, mix: dict[str, str]
) -> None:
    await bulk(gql, "setTasksStatus", list(mix.values()))
    assert sorted((await statuses(db)).values()) == ["completed", "completed", "pending"]


@pytest.mark.parametrize(("name", "single"), [("setTasksStatus", SET_ONE),
                                              ("deleteTasks", DELETE_ONE)])
async def test_a_foreign_missing_or_malformed_id_answers_as_the_single_mutation_does(
    gql: GraphQL, mix: dict[str, str], name: str, single: str
) -> None:
    others = [mix["foreign"], mix["missing"], mix["malformed"]]
    answer = await bulk(gql, name, others)
    one_by_one = [next(iter((await gql.data(single, {"id": gid})).values())) for gid in others]
    assert answer["results"] == one_by_one
    assert {result["__typename"] for result in one_by_one} == {"NotFoundError"}


async def test_each_changed_task_gets_one_status_event_and_an_unchanged_one_none(
    gql: GraphQL, db: AsyncSession
) -> None:
    pending = await make_task(db)
    done = await make_task(db, status="completed")
    answer = await bulk(gql, "setTasksStatus", [task_gid(pending), task_gid(done)])
    assert answer["changedCount"] == 1
    assert {r["__typename"] for r in answer["results"]} == {"SetTaskStatusSuccess"}
    rows = (await db.execute(select(TaskEvent.task_id, TaskEvent.from_status,
                                    TaskEvent.to_status))).all()
    assert [tuple(row) for row in rows] == [(pending.id, "pending", "completed")]


async def test_deleting_removes_only_the_viewers_tasks_with_their_children(
    gql: GraphQL, db: AsyncSession, mix: dict[str, str]
) -> None:
    answer = await bulk(gql, "deleteTasks", list(mix.values()))
    assert answer["deletedCount"] == 2
    assert [r.get("deletedId") for r in answer["results"]] == [
        mix["first"], mix["second"], None, None, None,
    ]
    assert list((await statuses(db)).values()) == ["pending"]  # bob's
    assert (await table_count(db, "task_steps"), await table_count(db, "task_events")) == (0, 0)


@pytest.mark.parametrize("name", BULKS)
async def test_a_repeated_id_is_a_validation_error_that_changes_nothing(
    gql: GraphQL, db: AsyncSession, mix: dict[str, str], name: str
) -> None:
    before = await statuses(db)
    answer = await bulk(gql, name, [mix["first"], mix["second"], mix["first"]])
    assert answer == {"__typename": "ValidationError", "fields": [
        {"field": "ids.2", "message": "names the task ids.0 names"},
    ]}
    assert await statuses(db) == before


@pytest.mark.parametrize("name", BULKS)
async def test_more_ids_than_a_page_are_refused_before_any_sql(gql: GraphQL, name: str) -> None:
    variables: dict[str, Any] = {"ids": [task_gid(n) for n in range(1, 102)],
                                 "status": "COMPLETED"}
    payload = await gql(BULKS[name], variables)
    assert payload.get("data") is None
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "at most 100 items" in payload["errors"][0]["message"]
    assert payload["extensions"]["sql"]["statements"] == 0


@pytest.mark.parametrize("name", BULKS)
async def test_no_ids_change_nothing(gql: GraphQL, db: AsyncSession, name: str) -> None:
    await make_task(db)
    answer = await bulk(gql, name, [])
    assert answer["results"] == []
    assert await table_count(db, "tasks") == 1


# The scoped SELECT ... FOR UPDATE, then one UPDATE (an executemany) and one INSERT of the
# events, or one DELETE; then the change outbox's one INSERT for all the changes (on
# PostgreSQL `record_changes`, which also notifies).
STATEMENTS = {"setTasksStatus": 3, "deleteTasks": 2}


@pytest.mark.parametrize("name", BULKS)
async def test_a_bulk_costs_the_same_statements_for_one_task_or_fifty(
    gql: GraphQL, db: AsyncSession, name: str
) -> None:
    tasks = [task_gid(await make_task(db, title=f"t{n}")) for n in range(51)]
    variables: dict[str, Any] = {"status": "COMPLETED"}
    one = await gql(BULKS[name], {**variables, "ids": tasks[:1]})
    fifty = await gql(BULKS[name], {**variables, "ids": tasks[1:]})
    assert len(fifty["data"][name]["results"]) == 50
    expected = STATEMENTS[name] + 1
    assert one["extensions"]["sql"]["statements"] == expected
    assert fifty["extensions"]["sql"]["statements"] == expected


async def test_a_failure_after_the_writes_undoes_the_whole_bulk(
    gql: GraphQL, db: AsyncSession, app: FastAPI, monkeypatch: pytest.MonkeyPatch,
    mix: dict[str, str],
) -> None:
    def fail(*_args: Any) -> Any:
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(task_bulk, "_results", fail)
    async with app.state.resources.broker.subscribe("alice") as queue:
        payload = await gql(DELETE_MANY, {"ids": [mix["first"], mix["second"]]})
        assert queue.empty()  # nothing committed, nothing announced
    assert payload["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert await table_count(db, "tasks") == 3
    assert await table_count(db, "task_events") == 2
