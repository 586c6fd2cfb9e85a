"""Every list and text input has a documented maximum, refused before any SQL past it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from graphql import get_named_type, get_nullable_type, is_input_object_type, is_list_type
from sqlalchemy.ext.asyncio import AsyncSession

from domain.assistant.breakdown import Breakdown
from graph.extensions.inputs import (
    CURSOR_MAX,
    GUARDED,
    ID_MAX,
    LISTS,
    SEARCH_MAX,
    VALIDATED_BY_MUTATION,
)
from graph.schema import build_schema
from models.task import STEPS_MAX
from tests.conftest import GraphQL, make_settings, table_count
from tests.factories import make_task, task_gid
from tests.graph.test_breakdown import BREAK_DOWN, FakeAssistant, use

CREATE = """mutation($input: CreateTaskInput!) {
  createTask(input: $input) { __typename ... on CreateTaskSuccess { task { stepCount } } } }"""
SEARCH = "query($s: String) { tasks(filter: {search: $s}) { totalCount } }"


def input_positions() -> dict[str, tuple[bool, str]]:
    """Every argument and input field of the schema: (is a list, its named type)."""
    schema = build_schema(make_settings())._schema
    found: dict[str, tuple[bool, str]] = {}
    for name, type_ in schema.type_map.items():
        if name.startswith("__"):
            continue
        if is_input_object_type(type_):
            places = {f"{name}.{field}": f.type for field, f in type_.fields.items()}
        else:
            places = {
                f"{name}.{field}({arg})": a.type
                for field, f in (getattr(type_, "fields", None) or {}).items()
                for arg, a in f.args.items()
            }
        for place, value_type in places.items():
            found[place] = (is_list_type(get_nullable_type(value_type)),
                            get_named_type(value_type).name)
    return found


def refused(payload: dict[str, Any], fragment: str) -> None:
    assert payload.get("data") is None, payload
    error = payload["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert fragment in error["message"], error["message"]
    assert payload["extensions"]["sql"]["statements"] == 0  # refused before any SQL


def test_every_text_input_of_the_schema_has_a_declared_maximum() -> None:
    texts = {place for place, (_, named) in input_positions().items() if named == "String"}
    undeclared = texts - GUARDED.keys() - VALIDATED_BY_MUTATION.keys()
    assert not undeclared, (
        f"declare a maximum in graph/extensions/inputs.py for {sorted(undeclared)}"
    )


def test_every_list_input_of_the_schema_has_a_declared_maximum() -> None:
    lists = {place for place, (is_list, _) in input_positions().items() if is_list}
    assert lists == LISTS.keys()


def test_every_declared_place_exists_in_the_schema() -> None:
    declared = GUARDED.keys() | VALIDATED_BY_MUTATION.keys() | LISTS.keys()
    assert not declared - input_positions().keys()


async def test_more_steps_than_a_task_may_have_are_refused_before_any_sql(
    gql: GraphQL, db: AsyncSession
) -> None:
    steps = ["step"] * (STEPS_MAX + 1)
    payload = await gql(CREATE, {"input": {"title": "Too long a list", "steps": steps}})
    refused(payload, f"`CreateTaskInput.steps` takes at most {STEPS_MAX} items")
    assert await table_count(db, "tasks") == 0


async def test_forty_thousand_steps_are_refused_at_once(gql: GraphQL) -> None:
    steps = ["s"] * 40_000  # took 21 s and held SQLite's writer lock the while
    payload = await asyncio.wait_for(gql(CREATE, {"input": {"title": "t", "steps": steps}}), 5)
    refused(payload, "(got 40000)")


async def test_a_task_may_have_its_most_steps(gql: GraphQL) -> None:
    steps = [f"step {n}" for n in range(STEPS_MAX)]
    data = await gql.data(CREATE, {"input": {"title": "A full list", "steps": steps}})
    assert data["createTask"]["task"]["stepCount"] == STEPS_MAX


async def test_adding_a_step_to_a_full_task_is_a_validation_error(
    gql: GraphQL, db: AsyncSession
) -> None:
    task = await make_task(db, steps=["s"] * STEPS_MAX)
    data = await gql.data(
        """mutation($input: AddTaskStepInput!) { addTaskStep(input: $input) {
             __typename ... on ValidationError { fields { field message } } } }""",
        {"input": {"taskId": task_gid(task), "content": "one more"}},
    )
    assert data["addTaskStep"] == {
        "__typename": "ValidationError",
        "fields": [{"field": "taskId", "message": f"a task has at most {STEPS_MAX} steps"}],
    }


async def test_a_breakdown_keeps_at_most_a_tasks_most_steps(app: FastAPI, gql: GraphQL) -> None:
    use(app, FakeAssistant(Breakdown(title="Many", steps=[f"s{n}" for n in range(500)])))
    data = await gql.data(BREAK_DOWN, {"input": {"input": "a great many things"}})
    assert data["breakDownTask"]["task"]["stepCount"] == STEPS_MAX


async def test_a_search_over_its_maximum_is_refused_before_any_sql(gql: GraphQL) -> None:
    # 50,000 characters were an internal error on SQLite (its LIKE pattern limit).
    refused(await gql(SEARCH, {"s": "x" * 50_000}), f"at most {SEARCH_MAX} characters")


async def test_a_search_at_its_maximum_runs(gql: GraphQL) -> None:
    data = await gql.data(SEARCH, {"s": "x" * SEARCH_MAX})
    assert data == {"tasks": {"totalCount": 0}}


async def test_a_search_written_in_the_document_is_held_to_the_same_maximum(
    gql: GraphQL,
) -> None:
    literal = "x" * (SEARCH_MAX + 1)
    payload = await gql(f'{{ tasks(filter: {{search: "{literal}"}}) {{ totalCount }} }}')
    refused(payload, "`TaskFilter.search` takes at most")


async def test_an_overlong_id_is_refused(gql: GraphQL) -> None:
    payload = await gql("query($id: ID!) { task(id: $id) { id } }", {"id": "T" * (ID_MAX + 1)})
    refused(payload, f"`Query.task(id)` takes at most {ID_MAX} characters")


async def test_an_overlong_cursor_is_refused(gql: GraphQL) -> None:
    payload = await gql(
        "query($c: String) { tasks(after: $c) { totalCount } }", {"c": "A" * (CURSOR_MAX + 1)}
    )
    refused(payload, "`Query.tasks(after)` takes at most")


async def test_a_maximum_holds_inside_a_fragment(gql: GraphQL) -> None:
    query = """query($c: String) { task(id: "x") { ...Events } }
    fragment Events on Task { events(after: $c) { totalCount } }"""
    refused(await gql(query, {"c": "A" * (CURSOR_MAX + 1)}), "`Task.events(after)`")


SEARCHES = {
    "ConversationFilter": """query($s: String) {
        conversations(filter: {search: $s}) { totalCount } }""",
    "MessageFilter": """query($s: String) { conversations { edges { node {
        messages(filter: {search: $s}) { totalCount } } } } }""",
}


@pytest.mark.parametrize("input_type", SEARCHES)
async def test_every_list_search_over_its_maximum_is_refused_before_any_sql(
    gql: GraphQL, input_type: str
) -> None:
    payload = await gql(SEARCHES[input_type], {"s": "x" * (SEARCH_MAX + 1)})
    refused(payload, f"`{input_type}.search` takes at most {SEARCH_MAX} characters")


@pytest.mark.parametrize("input_type", SEARCHES)
async def test_every_list_search_at_its_maximum_runs(gql: GraphQL, input_type: str) -> None:
    payload = await gql(SEARCHES[input_type], {"s": "x" * SEARCH_MAX})
    assert "errors" not in payload, payload
