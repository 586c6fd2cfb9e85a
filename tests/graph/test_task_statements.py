"""SQL statement counts: loaders batch, so a page of 100 costs what a page of 1 does.

Responses carry `extensions.sql.statements` because the test settings enable diagnostics.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from graph.ids import encode_id
from models import TaskEvent, TaskStep
from tests.conftest import GraphQL
from tests.factories import gid, make_conversation, make_task, task_gid

PAGE = """
query Page($first: Int!) {
  tasks(first: $first) {
    totalCount
    edges { node {
      id
      steps { id content }
      stepCount
      completedStepCount
      events(first: 2) { totalCount edges { node { id } } pageInfo { hasNextPage } }
    } }
  }
}
"""

# The page, its count, steps, the event pages and the event counts; the step counts come
# from the loaded steps.
PAGE_STATEMENTS = 5


def statements(payload: dict[str, Any]) -> int:
    assert "errors" not in payload, payload["errors"]
    count: int = payload["extensions"]["sql"]["statements"]
    return count


async def make_rich_tasks(db: AsyncSession, count: int) -> None:
    for n in range(count):
        task = await make_task(db, title=f"task {n}", steps=["a", "b", "c"], events=3)
        db.add(TaskStep(task_id=task.id, step_number=4, content="done", completed=True))
    await db.commit()


@pytest.mark.parametrize("size", [1, 100])
async def test_a_page_with_steps_events_and_counts_costs_five_statements(
    db: AsyncSession, gql: GraphQL, size: int
) -> None:
    await make_rich_tasks(db, 100)
    payload = await gql(PAGE, {"first": size})
    assert len(payload["data"]["tasks"]["edges"]) == size
    assert statements(payload) == PAGE_STATEMENTS


async def test_a_page_of_one_hundred_costs_the_same_as_a_page_of_one(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_rich_tasks(db, 100)
    one = statements(await gql(PAGE, {"first": 1}))
    hundred = statements(await gql(PAGE, {"first": 100}))
    assert one == hundred


async def test_a_page_of_one_hundred_answers_every_task_correctly(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_rich_tasks(db, 100)
    data = await gql.data(PAGE, {"first": 100})
    nodes = [edge["node"] for edge in data["tasks"]["edges"]]
    assert data["tasks"]["totalCount"] == 100
    for node in nodes:
        assert [step["content"] for step in node["steps"]] == ["a", "b", "c", "done"]
        assert (node["stepCount"], node["completedStepCount"]) == (4, 1)
        events = node["events"]
        assert (len(events["edges"]), events["totalCount"]) == (2, 3)
        assert events["pageInfo"]["hasNextPage"] is True


async def test_step_counts_without_steps_cost_one_counting_statement(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_rich_tasks(db, 5)
    payload = await gql("{ tasks(first: 5) { edges { node { stepCount completedStepCount } } } }")
    counts = {(e["node"]["stepCount"], e["node"]["completedStepCount"])
              for e in payload["data"]["tasks"]["edges"]}
    assert counts == {(4, 1)}
    assert statements(payload) == 2


CHILDREN = "fragment Children on Task { steps { content } done: completedStepCount }"
LOOKAHEAD_QUERIES = {
    "nodes and a fragment spread": "{ tasks(first: 5) { nodes { ...Children } } }" + CHILDREN,
    "an edge fragment": "{ tasks(first: 5) { edges { ...Edge } } }"
    " fragment Edge on TaskEdge { node { ...Children } }" + CHILDREN,
    "an inline fragment": "{ tasks(first: 5) { edges { node { ... on Task {"
    " steps { content } done: completedStepCount } } } } }",
}


@pytest.mark.parametrize("query", LOOKAHEAD_QUERIES.values(), ids=LOOKAHEAD_QUERIES.keys())
async def test_the_page_looks_ahead_through_fragments_aliases_and_nodes(
    db: AsyncSession, gql: GraphQL, query: str
) -> None:
    await make_rich_tasks(db, 5)
    payload = await gql(query)
    page = payload["data"]["tasks"]
    nodes = page["nodes"] if "nodes" in page else [edge["node"] for edge in page["edges"]]
    assert len(nodes) == 5
    for node in nodes:
        assert node == {"steps": [{"content": c} for c in ("a", "b", "c", "done")], "done": 1}
    # The page and the steps; the counts come from the steps.
    assert statements(payload) == 2


async def test_an_empty_page_costs_only_the_page_and_its_count(gql: GraphQL) -> None:
    payload = await gql(PAGE, {"first": 100})
    assert payload["data"]["tasks"]["edges"] == []
    assert statements(payload) == 2


async def test_total_count_is_only_counted_when_asked_for(db: AsyncSession, gql: GraphQL) -> None:
    await make_rich_tasks(db, 3)
    payload = await gql("{ tasks(first: 10) { edges { node { id } } } }")
    assert statements(payload) == 1


async def test_a_single_task_with_everything_costs_five_statements(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_rich_tasks(db, 2)
    task = await make_task(db, steps=["x"], events=2)
    payload = await gql(
        """query($id: ID!) { task(id: $id) {
             steps { id } stepCount completedStepCount
             events(first: 2) { totalCount edges { node { id } } } } }""",
        {"id": task_gid(task)},
    )
    assert payload["data"]["task"]["stepCount"] == 1
    assert statements(payload) == 5


async def test_nodes_of_every_type_cost_one_statement_per_type(
    db: AsyncSession, gql: GraphQL
) -> None:
    await make_rich_tasks(db, 5)
    tasks = [await make_task(db, steps=["s"], events=1) for _ in range(5)]
    ids = [task_gid(t) for t in tasks]
    ids += [encode_id("TaskStep", n) for n in await db.scalars(select(TaskStep.id).limit(5))]
    ids += [encode_id("TaskEvent", n) for n in await db.scalars(select(TaskEvent.id).limit(5))]
    payload = await gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert [node["id"] for node in payload["data"]["nodes"]] == ids
    assert statements(payload) == 3


async def test_the_task_of_many_steps_loads_in_one_batch(db: AsyncSession, gql: GraphQL) -> None:
    tasks = [await make_task(db, steps=["a", "b"]) for _ in range(10)]
    query = """{ tasks(first: 10) { edges { node {
                 steps { task { id stepCount } } } } } }"""
    payload = await gql(query)
    seen = {
        step["task"]["id"]
        for edge in payload["data"]["tasks"]["edges"] for step in edge["node"]["steps"]
    }
    assert seen == {task_gid(t) for t in tasks}
    # The page (which primes the task loader), the steps, then the step counts.
    assert statements(payload) == 3


async def test_loaders_do_not_carry_rows_from_one_request_to_the_next(
    db: AsyncSession, gql: GraphQL
) -> None:
    task = await make_task(db, steps=["a"])
    query = "query($id: ID!) { task(id: $id) { title stepCount } }"
    first = await gql.data(query, {"id": task_gid(task)})
    task.title = "Renamed"
    db.add(TaskStep(task_id=task.id, step_number=2, content="b"))
    await db.commit()
    second = await gql.data(query, {"id": task_gid(task)})
    assert first["task"] == {"title": "Write the report", "stepCount": 1}
    assert second["task"] == {"title": "Renamed", "stepCount": 2}


async def test_node_beside_nodes_of_two_types_loads_each_type_in_one_statement(
    db: AsyncSession, gql: GraphQL
) -> None:
    # `nodes` used to await one type's rows before queuing the next type's keys, so a task it
    # asked for after a conversation missed the batch `node`'s task went in: one statement
    # more, or not, depending on the statements' timing.
    first, second = await make_task(db, title="one"), await make_task(db, title="two")
    conversation = await make_conversation(db)
    payload = await gql(
        "query($one: ID!, $ids: [ID!]!) { node(id: $one) { id } nodes(ids: $ids) { id } }",
        {"one": task_gid(first), "ids": [gid(conversation), task_gid(second)]},
    )
    assert payload["data"]["nodes"] == [{"id": gid(conversation)}, {"id": task_gid(second)}]
    assert statements(payload) == 2  # the two tasks together, the conversation
