"""`tasks` (filters, ordering, keyset paging, limits), `task(id)`, `node` and `nodes`."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from graph.execution.keyset import ordering_of
from graph.ids import encode_id
from graph.resolvers.queries.tasks import task_sort
from graph.types.ordering import OrderDirection
from graph.types.task_inputs import TaskOrder, TaskOrderField
from models import Task, TaskEvent, TaskStep
from models.base import utcnow
from tests.conftest import GraphQL
from tests.factories import make_task, task_gid, tick

PAGE = """
query Page($first: Int, $after: String, $last: Int, $before: String,
           $filter: TaskFilter, $orderBy: TaskOrder) {
  tasks(first: $first, after: $after, last: $last, before: $before,
        filter: $filter, orderBy: $orderBy) {
    totalCount
    edges { cursor node { id title } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
"""

TASK = """
query One($id: ID!) {
  task(id: $id) {
    id title description originalInput kind status completed metadata
    createdAt updatedAt completedAt stepCount completedStepCount
    steps { id stepNumber content completed }
  }
}
"""


async def page(gql: GraphQL, **variables: Any) -> dict[str, Any]:
    data = await gql.data(PAGE, variables)
    result: dict[str, Any] = data["tasks"]
    return result


def ids_of(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def error_code(payload: dict[str, Any]) -> str:
    code: str = payload["errors"][0]["extensions"]["code"]
    return code


def cursor_of(values: list[Any], order: TaskOrder | None = None) -> str:
    """A hand-made cursor of the given task ordering (default: newest first): the ordering's
    token, then its values."""
    token = ordering_of(task_sort(order))
    return base64.urlsafe_b64encode(orjson.dumps([token, *values])).decode()


async def make_tasks(db: AsyncSession, count: int, **fields: Any) -> list[Task]:
    return [await make_task(db, title=f"task {n:03d}", **fields) for n in range(count)]


# --- the connection -------------------------------------------------------------------------


async def test_tasks_lists_the_viewers_tasks_newest_first(db: AsyncSession, gql: GraphQL) -> None:
    tasks = await make_tasks(db, 3)
    connection = await page(gql)
    assert ids_of(connection) == [task_gid(t) for t in reversed(tasks)]
    assert connection["totalCount"] == 3


async def test_tasks_is_empty_for_a_viewer_with_none(gql: GraphQL) -> None:
    connection = await page(gql)
    assert connection["edges"] == []
    assert connection["totalCount"] == 0
    assert connection["pageInfo"] == {
        "hasNextPage": False, "hasPreviousPage": False, "startCursor": None, "endCursor": None,
    }


async def test_tasks_default_page_holds_twenty(db: AsyncSession, gql: GraphQL) -> None:
    await make_tasks(db, 21)
    connection = await page(gql)
    assert len(connection["edges"]) == 20
    assert connection["pageInfo"]["hasNextPage"] is True
    assert connection["totalCount"] == 21


async def test_tasks_page_of_exactly_one_hundred_is_allowed(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_tasks(db, 101)
    connection = await page(gql, first=100)
    assert len(connection["edges"]) == 100
    assert connection["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize("argument", ["first", "last"])
async def test_tasks_page_over_one_hundred_is_a_clear_error(
    gql: GraphQL, argument: str
) -> None:
    payload = await gql(PAGE, {argument: 101})
    assert payload["data"] is None
    assert error_code(payload) == "BAD_USER_INPUT"
    assert "100" in payload["errors"][0]["message"]


@pytest.mark.parametrize("argument", ["first", "last"])
async def test_tasks_negative_page_size_is_an_error(gql: GraphQL, argument: str) -> None:
    payload = await gql(PAGE, {argument: -1})
    assert error_code(payload) == "BAD_USER_INPUT"


async def test_tasks_first_zero_returns_no_edges_but_reports_more(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_tasks(db, 2)
    connection = await page(gql, first=0)
    assert connection["edges"] == []
    assert connection["pageInfo"]["hasNextPage"] is True


async def test_tasks_first_and_last_together_is_an_error(gql: GraphQL) -> None:
    payload = await gql(PAGE, {"first": 1, "last": 1})
    assert error_code(payload) == "BAD_USER_INPUT"


async def test_tasks_after_and_before_together_is_an_error(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_tasks(db, 3)
    cursor = (await page(gql, first=1))["pageInfo"]["endCursor"]
    payload = await gql(PAGE, {"after": cursor, "before": cursor})
    assert error_code(payload) == "BAD_USER_INPUT"


async def test_tasks_edges_carry_the_cursor_the_page_info_reports(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_tasks(db, 3)
    connection = await page(gql, first=2)
    cursors = [edge["cursor"] for edge in connection["edges"]]
    assert connection["pageInfo"]["startCursor"] == cursors[0]
    assert connection["pageInfo"]["endCursor"] == cursors[-1]


# --- keyset paging --------------------------------------------------------------------------


async def test_tasks_forward_paging_visits_every_task_once(
    db: AsyncSession, gql: GraphQL
) -> None:
    tasks = await make_tasks(db, 7)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        connection = await page(gql, first=3, after=after)
        seen += ids_of(connection)
        pages += 1
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == [task_gid(t) for t in reversed(tasks)]
    assert pages == 3


async def test_tasks_backward_paging_visits_every_task_once(
    db: AsyncSession, gql: GraphQL
) -> None:
    tasks = await make_tasks(db, 7)
    seen: list[str] = []
    before = None
    while True:
        connection = await page(gql, last=3, before=before)
        seen = ids_of(connection) + seen
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        before = connection["pageInfo"]["startCursor"]
    assert seen == [task_gid(t) for t in reversed(tasks)]


async def test_tasks_last_page_is_in_display_order(db: AsyncSession, gql: GraphQL) -> None:
    tasks = await make_tasks(db, 5)
    connection = await page(gql, last=2)
    assert ids_of(connection) == [task_gid(tasks[1]), task_gid(tasks[0])]
    assert connection["pageInfo"]["hasPreviousPage"] is True
    assert connection["pageInfo"]["hasNextPage"] is False


async def test_tasks_page_after_a_cursor_reports_a_previous_page(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_tasks(db, 4)
    first = await page(gql, first=2)
    second = await page(gql, first=2, after=first["pageInfo"]["endCursor"])
    assert second["pageInfo"]["hasPreviousPage"] is True
    assert second["pageInfo"]["hasNextPage"] is False


async def test_tasks_page_before_a_cursor_reports_a_next_page(
    db: AsyncSession, gql: GraphQL
) -> None:
    tasks = await make_tasks(db, 4)
    first = await page(gql, first=2)
    back = await page(gql, last=5, before=first["pageInfo"]["endCursor"])
    assert ids_of(back) == [task_gid(tasks[3])]
    assert back["pageInfo"]["hasNextPage"] is True
    assert back["pageInfo"]["hasPreviousPage"] is False


async def test_tasks_cursor_is_stable_when_newer_tasks_are_inserted(
    db: AsyncSession, gql: GraphQL
) -> None:
    tasks = await make_tasks(db, 4)
    first = await page(gql, first=2)
    await make_tasks(db, 3)  # newer than everything: sorts before the first page
    second = await page(gql, first=2, after=first["pageInfo"]["endCursor"])
    assert ids_of(second) == [task_gid(tasks[1]), task_gid(tasks[0])]


async def test_tasks_cursor_is_stable_when_the_cursor_row_is_deleted(
    db: AsyncSession, gql: GraphQL
) -> None:
    tasks = await make_tasks(db, 4)
    first = await page(gql, first=2)
    await db.delete(tasks[2])
    await db.commit()
    second = await page(gql, first=2, after=first["pageInfo"]["endCursor"])
    assert ids_of(second) == [task_gid(tasks[1]), task_gid(tasks[0])]


async def test_tasks_paging_breaks_ties_by_id(db: AsyncSession, gql: GraphQL) -> None:
    stamp = utcnow()
    tasks = [await make_task(db, title="same", created_at=stamp) for _ in range(4)]
    order = {"field": "TITLE", "direction": "ASC"}
    seen: list[str] = []
    after = None
    for _ in range(4):
        connection = await page(gql, first=1, after=after, orderBy=order)
        seen += ids_of(connection)
        after = connection["pageInfo"]["endCursor"]
    assert seen == [task_gid(t) for t in tasks]


async def test_tasks_paging_through_equal_timestamps_breaks_ties_by_id(
    db: AsyncSession, gql: GraphQL
) -> None:
    stamp = utcnow()
    tasks = [await make_task(db, created_at=stamp) for _ in range(5)]
    seen: list[str] = []
    after = None
    for _ in range(3):
        connection = await page(gql, first=2, after=after)
        seen += ids_of(connection)
        after = connection["pageInfo"]["endCursor"]
    assert seen == [task_gid(t) for t in reversed(tasks)]


def _expected_order(tasks: list[Task], field: str, descending: bool) -> list[str]:
    attribute = {
        "CREATED_AT": "created_at", "UPDATED_AT": "updated_at",
        "TITLE": "title", "STATUS": "status",
    }[field]
    ordered = sorted(tasks, key=lambda t: (getattr(t, attribute), t.id), reverse=descending)
    return [task_gid(t) for t in ordered]


@pytest.mark.parametrize("field", ["CREATED_AT", "UPDATED_AT", "TITLE", "STATUS"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_tasks_order_by_each_field_and_direction_pages_in_that_order(
    db: AsyncSession, gql: GraphQL, field: str, direction: str
) -> None:
    specs = [
        ("delta", "pending", 3), ("alpha", "completed", 1), ("charlie", "failed", 4),
        ("bravo", "pending", 0), ("echo", "in_progress", 2), ("alpha", "cancelled", 5),
    ]
    tasks = []
    for title, status, shift in specs:
        task = await make_task(db, title=title, status=status)
        task.updated_at = task.created_at + timedelta(seconds=shift)
        tasks.append(task)
    await db.commit()
    seen: list[str] = []
    after = None
    order = {"field": field, "direction": direction}
    for _ in range(3):
        connection = await page(gql, first=2, after=after, orderBy=order)
        seen += ids_of(connection)
        after = connection["pageInfo"]["endCursor"]
    assert seen == _expected_order(tasks, field, direction == "DESC")


async def test_tasks_backward_paging_in_ascending_title_order(
    db: AsyncSession, gql: GraphQL
) -> None:
    tasks = [await make_task(db, title=title) for title in ("c", "a", "d", "b")]
    order = {"field": "TITLE", "direction": "ASC"}
    last = await page(gql, last=2, orderBy=order)
    before = await page(gql, last=2, before=last["pageInfo"]["startCursor"], orderBy=order)
    assert ids_of(last) == [task_gid(tasks[0]), task_gid(tasks[2])]
    assert ids_of(before) == [task_gid(tasks[1]), task_gid(tasks[3])]


# --- invalid cursors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        "!!!",
        cursor_of(["2024-01-01T00:00:00+00:00"]),  # too few values
        cursor_of(["2024-01-01T00:00:00+00:00", "7"]),  # id is not a number
        cursor_of(["2024-01-01T00:00:00", 7]),  # no UTC offset
        cursor_of(["yesterday", 7]),
        cursor_of([True, 7]),
        cursor_of(["2024-01-01T00:00:00+00:00", 2**40]),  # no row has such an id
        cursor_of(["0001-01-01T00:00:00+05:00", 1]),  # before the first instant in UTC
        base64.urlsafe_b64encode(b'{"a": 1}').decode(),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
async def test_tasks_invalid_cursor_is_a_clear_error(
    db: AsyncSession, gql: GraphQL, cursor: str
) -> None:
    await make_tasks(db, 2)
    payload = await gql(PAGE, {"first": 1, "after": cursor})
    assert payload["data"] is None
    assert error_code(payload) == "BAD_USER_INPUT"
    assert "cursor" in payload["errors"][0]["message"]


async def test_tasks_cursor_of_another_ordering_is_a_clear_error(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_tasks(db, 3)
    by_title = await page(gql, first=1, orderBy={"field": "TITLE", "direction": "ASC"})
    payload = await gql(PAGE, {"first": 1, "after": by_title["pageInfo"]["endCursor"]})
    assert error_code(payload) == "BAD_USER_INPUT"


async def test_tasks_cursor_with_a_nul_character_is_a_clear_error(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_tasks(db, 2)
    order = {"field": "TITLE", "direction": "ASC"}
    by_title = TaskOrder(field=TaskOrderField.TITLE, direction=OrderDirection.ASC)
    cursor = cursor_of(["a\x00b", 1], by_title)
    payload = await gql(PAGE, {"first": 1, "after": cursor, "orderBy": order})
    assert error_code(payload) == "BAD_USER_INPUT"
    assert "cursor" in payload["errors"][0]["message"]


@pytest.mark.parametrize(
    "other",
    [
        {"field": "UPDATED_AT", "direction": "DESC"},  # same value types, another column
        {"field": "CREATED_AT", "direction": "ASC"},  # same column, the other direction
    ],
)
async def test_tasks_cursor_of_an_ordering_with_the_same_types_is_a_clear_error(
    db: AsyncSession, gql: GraphQL, other: dict[str, str]
) -> None:
    await make_tasks(db, 3)
    newest = await page(gql, first=1)
    payload = await gql(
        PAGE, {"first": 1, "after": newest["pageInfo"]["endCursor"], "orderBy": other}
    )
    assert error_code(payload) == "BAD_USER_INPUT"


# --- filters --------------------------------------------------------------------------------


async def test_tasks_filter_by_status_list(db: AsyncSession, gql: GraphQL) -> None:
    pending = await make_task(db, status="pending")
    failed = await make_task(db, status="failed")
    await make_task(db, status="completed")
    connection = await page(gql, filter={"status": ["PENDING", "FAILED"]})
    assert set(ids_of(connection)) == {task_gid(pending), task_gid(failed)}
    assert connection["totalCount"] == 2


async def test_tasks_filter_by_an_empty_status_list_matches_nothing(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_task(db, status="pending")
    connection = await page(gql, filter={"status": []})
    assert connection["edges"] == [] and connection["totalCount"] == 0


async def test_tasks_filter_completed_true(db: AsyncSession, gql: GraphQL) -> None:
    done = await make_task(db, status="completed")
    await make_task(db, status="pending")
    connection = await page(gql, filter={"completed": True})
    assert ids_of(connection) == [task_gid(done)]


async def test_tasks_filter_completed_false(db: AsyncSession, gql: GraphQL) -> None:
    await make_task(db, status="completed")
    open_ = await make_task(db, status="in_progress")
    cancelled = await make_task(db, status="cancelled")
    connection = await page(gql, filter={"completed": False})
    assert ids_of(connection) == [task_gid(cancelled), task_gid(open_)]


async def test_tasks_filter_by_kind(db: AsyncSession, gql: GraphQL) -> None:
    errand = await make_task(db, kind="errand")
    await make_task(db, kind="todo")
    connection = await page(gql, filter={"kind": "errand"})
    assert ids_of(connection) == [task_gid(errand)]
    assert connection["totalCount"] == 1


async def test_tasks_search_matches_title_case_insensitively(
    db: AsyncSession, gql: GraphQL
) -> None:
    hit = await make_task(db, title="Buy MILK and bread")
    await make_task(db, title="Walk the dog")
    connection = await page(gql, filter={"search": "milk"})
    assert ids_of(connection) == [task_gid(hit)]


async def test_tasks_search_matches_description_case_insensitively(
    db: AsyncSession, gql: GraphQL
) -> None:
    hit = await make_task(db, title="Groceries", description="remember the Oat Milk")
    await make_task(db, title="Other", description="nothing here")
    connection = await page(gql, filter={"search": "OAT milk"})
    assert ids_of(connection) == [task_gid(hit)]


async def test_tasks_search_treats_like_wildcards_literally(
    db: AsyncSession, gql: GraphQL
) -> None:
    hit = await make_task(db, title="Raise to 100% by 5_pm")
    await make_task(db, title="Raise to 1000 by 5 pm")
    percent = await page(gql, filter={"search": "100%"})
    underscore = await page(gql, filter={"search": "5_p"})
    assert ids_of(percent) == [task_gid(hit)]
    assert ids_of(underscore) == [task_gid(hit)]


async def test_tasks_search_treats_backslash_literally(db: AsyncSession, gql: GraphQL) -> None:
    hit = await make_task(db, title=r"path C:\temp")
    await make_task(db, title="path C:temp")
    connection = await page(gql, filter={"search": "c:\\t"})
    assert ids_of(connection) == [task_gid(hit)]


async def test_tasks_search_with_a_nul_character_is_a_clear_error(gql: GraphQL) -> None:
    payload = await gql(PAGE, {"filter": {"search": "a\x00b"}})
    assert error_code(payload) == "BAD_USER_INPUT"


async def test_tasks_filter_created_after_is_exclusive(db: AsyncSession, gql: GraphQL) -> None:
    old = await make_task(db)
    middle = await make_task(db)
    new = await make_task(db)
    connection = await page(gql, filter={"createdAfter": middle.created_at.isoformat()})
    assert ids_of(connection) == [task_gid(new)]
    assert task_gid(old) not in ids_of(connection)


async def test_tasks_filter_created_before_is_exclusive(db: AsyncSession, gql: GraphQL) -> None:
    old = await make_task(db)
    middle = await make_task(db)
    await make_task(db)
    connection = await page(gql, filter={"createdBefore": middle.created_at.isoformat()})
    assert ids_of(connection) == [task_gid(old)]


async def test_tasks_filter_created_after_honours_the_utc_offset(
    db: AsyncSession, gql: GraphQL
) -> None:
    early = await make_task(db, created_at=datetime.fromisoformat("2024-03-01T08:00:00+00:00"))
    late = await make_task(db, created_at=datetime.fromisoformat("2024-03-01T10:00:00+00:00"))
    # 11:00 at +02:00 is 09:00 UTC: between the two.
    connection = await page(gql, filter={"createdAfter": "2024-03-01T11:00:00+02:00"})
    assert ids_of(connection) == [task_gid(late)]
    assert task_gid(early) not in ids_of(connection)


@pytest.mark.parametrize("name", ["createdAfter", "createdBefore"])
async def test_tasks_filter_time_without_an_offset_is_a_clear_error(
    gql: GraphQL, name: str
) -> None:
    payload = await gql(PAGE, {"filter": {name: "2024-03-01T10:00:00"}})
    assert error_code(payload) == "BAD_USER_INPUT"
    assert name in payload["errors"][0]["message"]


async def test_tasks_filters_combine_and_total_count_follows_them(
    db: AsyncSession, gql: GraphQL
) -> None:
    hit = await make_task(db, title="Call mum", kind="call", status="pending")
    await make_task(db, title="Call dad", kind="call", status="completed")
    await make_task(db, title="Call bank", kind="errand", status="pending")
    await make_task(db, title="Email mum", kind="call", status="pending")
    connection = await page(
        gql, first=1,
        filter={"kind": "call", "completed": False, "search": "call", "status": ["PENDING"]},
    )
    assert ids_of(connection) == [task_gid(hit)]
    assert connection["totalCount"] == 1
    assert connection["pageInfo"]["hasNextPage"] is False


async def test_tasks_paging_respects_the_filter(db: AsyncSession, gql: GraphQL) -> None:
    wanted = [await make_task(db, kind="errand") for _ in range(3)]
    await make_tasks(db, 3)
    first = await page(gql, first=2, filter={"kind": "errand"})
    second = await page(
        gql, first=2, after=first["pageInfo"]["endCursor"], filter={"kind": "errand"}
    )
    assert ids_of(first) + ids_of(second) == [task_gid(t) for t in reversed(wanted)]
    assert second["pageInfo"]["hasNextPage"] is False
    assert second["totalCount"] == 3


async def test_tasks_unknown_status_in_filter_is_a_graphql_error(gql: GraphQL) -> None:
    payload = await gql(PAGE, {"filter": {"status": ["DONE"]}})
    assert payload.get("data") is None
    assert "DONE" in payload["errors"][0]["message"]


# --- task(id) -------------------------------------------------------------------------------


async def test_task_returns_every_field(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(
        db, title="Plan trip", description="Two weeks", kind="travel", status="completed",
        steps=["Book", "Pack"], original_input="plan a trip", metadata_={"colour": "blue"},
    )
    data = await gql.data(TASK, {"id": task_gid(task)})
    got = data["task"]
    assert got["id"] == task_gid(task)
    assert (got["title"], got["description"], got["kind"]) == ("Plan trip", "Two weeks", "travel")
    assert (got["status"], got["completed"]) == ("COMPLETED", True)
    assert got["originalInput"] == "plan a trip"
    assert got["metadata"] == {"colour": "blue"}
    assert datetime.fromisoformat(got["createdAt"]) == task.created_at
    assert datetime.fromisoformat(got["completedAt"]) == task.completed_at
    assert [s["content"] for s in got["steps"]] == ["Book", "Pack"]


async def test_task_timestamps_carry_a_utc_offset(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db)
    data = await gql.data(TASK, {"id": task_gid(task)})
    for name in ("createdAt", "updatedAt"):
        assert datetime.fromisoformat(data["task"][name]).utcoffset() == timedelta(0)


async def test_task_open_task_is_not_completed(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, status="in_progress")
    data = await gql.data(TASK, {"id": task_gid(task)})
    assert (data["task"]["completed"], data["task"]["completedAt"]) == (False, None)


async def test_task_steps_come_in_step_order(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db)
    for number, content in ((3, "third"), (1, "first"), (2, "second")):
        db.add(TaskStep(task_id=task.id, step_number=number, content=content))
    await db.commit()
    data = await gql.data(TASK, {"id": task_gid(task)})
    steps = data["task"]["steps"]
    assert [s["content"] for s in steps] == ["first", "second", "third"]
    assert [s["stepNumber"] for s in steps] == [1, 2, 3]


async def test_task_step_counts_count_all_and_completed_steps(
    db: AsyncSession, gql: GraphQL
) -> None:
    task = await make_task(db)
    for number in range(1, 5):
        db.add(TaskStep(task_id=task.id, step_number=number, content="s", completed=number < 3))
    await db.commit()
    data = await gql.data(TASK, {"id": task_gid(task)})
    assert (data["task"]["stepCount"], data["task"]["completedStepCount"]) == (4, 2)


async def test_task_without_steps_counts_zero(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db)
    data = await gql.data(TASK, {"id": task_gid(task)})
    got = data["task"]
    assert (got["steps"], got["stepCount"], got["completedStepCount"]) == ([], 0, 0)


async def test_task_missing_id_is_null(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db)
    data = await gql.data(TASK, {"id": task_gid(task.id + 1000)})
    assert data["task"] is None


@pytest.mark.parametrize(
    "raw",
    [
        "garbage",
        encode_id("Task", "abc"),
        encode_id("Task", "-1"),
        encode_id("Task", "²"),  # a digit to str.isdigit(), not to int()
        encode_id("Task", 2**31),  # past a 32-bit integer key
        encode_id("Task", 10**30),
    ],
)
async def test_task_id_that_cannot_name_a_task_is_null(gql: GraphQL, raw: str) -> None:
    data = await gql.data(TASK, {"id": raw})
    assert data["task"] is None


async def test_task_id_of_another_type_is_null(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, steps=["one"])
    data = await gql.data("query($id: ID!) { task(id: $id) { steps { id } } }",
                          {"id": task_gid(task)})
    step_id = data["task"]["steps"][0]["id"]
    assert step_id != task_gid(task)
    assert (await gql.data(TASK, {"id": step_id}))["task"] is None


# --- node and nodes -------------------------------------------------------------------------

NODE = """
query Node($id: ID!) {
  node(id: $id) {
    __typename id
    ... on Task { title }
    ... on TaskStep { content stepNumber task { id } }
    ... on TaskEvent { eventType task { id } }
  }
}
"""

NODES = "query Nodes($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


async def _step_and_event(db: AsyncSession, task: Task) -> tuple[TaskStep, TaskEvent]:
    step = TaskStep(task_id=task.id, step_number=1, content="first")
    event = TaskEvent(task_id=task.id, event_type="created", created_at=tick())
    db.add_all([step, event])
    await db.commit()
    return step, event


async def test_node_resolves_a_task(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db, title="Node me")
    data = await gql.data(NODE, {"id": task_gid(task)})
    assert data["node"] == {"__typename": "Task", "id": task_gid(task), "title": "Node me"}


async def test_node_resolves_a_task_step(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db)
    step, _ = await _step_and_event(db, task)
    gid = encode_id("TaskStep", step.id)
    data = await gql.data(NODE, {"id": gid})
    assert data["node"] == {
        "__typename": "TaskStep", "id": gid, "content": "first", "stepNumber": 1,
        "task": {"id": task_gid(task)},
    }


async def test_node_resolves_a_task_event(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db)
    _, event = await _step_and_event(db, task)
    gid = encode_id("TaskEvent", event.id)
    data = await gql.data(NODE, {"id": gid})
    assert data["node"] == {
        "__typename": "TaskEvent", "id": gid, "eventType": "CREATED",
        "task": {"id": task_gid(task)},
    }


@pytest.mark.parametrize(
    "raw",
    ["garbage", encode_id("Task", 999_999), encode_id("Nope", 1), encode_id("TaskStep", "x"),
     encode_id("TaskEvent", 10**12)],
)
async def test_node_is_null_for_an_id_naming_nothing(gql: GraphQL, raw: str) -> None:
    data = await gql.data(NODE, {"id": raw})
    assert data["node"] is None


async def test_nodes_answers_in_order_with_nulls_for_missing(
    db: AsyncSession, gql: GraphQL
) -> None:
    task = await make_task(db)
    step, event = await _step_and_event(db, task)
    ids = [
        encode_id("TaskEvent", event.id), "garbage", task_gid(task),
        encode_id("TaskStep", step.id), task_gid(task.id + 1000),
    ]
    data = await gql.data(NODES, {"ids": ids})
    assert [n and (n["__typename"], n["id"]) for n in data["nodes"]] == [
        ("TaskEvent", ids[0]), None, ("Task", ids[2]), ("TaskStep", ids[3]), None,
    ]


async def test_nodes_may_repeat_an_id(db: AsyncSession, gql: GraphQL) -> None:
    task = await make_task(db)
    data = await gql.data(NODES, {"ids": [task_gid(task), task_gid(task)]})
    assert [n["id"] for n in data["nodes"]] == [task_gid(task)] * 2


async def test_nodes_of_many_tasks_costs_one_statement(db: AsyncSession, gql: GraphQL) -> None:
    tasks = await make_tasks(db, 5)
    payload = await gql(NODES, {"ids": [task_gid(t) for t in tasks]})
    assert [n["id"] for n in payload["data"]["nodes"]] == [task_gid(t) for t in tasks]
    assert payload["extensions"]["sql"]["statements"] == 1
