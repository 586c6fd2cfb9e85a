"""The analysis of a document is linear in its size, whatever its fragments fan out to.

Work is measured, not timed: the walk counts the selections it visits, and graphql-core's
validation is measured in Python function calls.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

import pytest
from graphql import GraphQLSchema, parse, specified_rules
from strawberry.schema.schema import validate_document

from graph.analysis import analyse, effective_variables, select_operation
from graph.ids import encode_id
from graph.schema import build_schema, limit_rules
from tests.conftest import GqlWith, GraphQL, make_settings


def fan_out(levels: int, *, on: str = "Query", leaf: str = "viewer { id }", root: str = "") -> str:
    """Fragments that each spread the next one twice: 2^levels paths, no cycle."""
    parts = [root or "query FanOut { ...F0 }"]
    parts += [f"fragment F{i} on {on} {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    parts.append(f"fragment F{levels} on {on} {{ {leaf} }}")
    return "\n".join(parts)


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema(make_settings())._schema


def analysed(schema: GraphQLSchema, text: str, variables: dict[str, Any] | None = None) -> Any:
    document = parse(text)
    operation = select_operation(document, None)
    assert operation is not None
    return analyse(schema, document, operation, effective_variables(operation, variables or {}),
                   max_ids=100)


def test_a_fragment_fan_out_is_walked_once_per_fragment(schema: GraphQLSchema) -> None:
    analysis = analysed(schema, fan_out(40))
    assert analysis.visits <= 2 * 41 + 2  # two spreads per fragment, and the leaf
    assert analysis.cost > 2**40  # every path still counts


def test_the_walk_grows_with_the_document_not_with_its_paths(schema: GraphQLSchema) -> None:
    small, large = analysed(schema, fan_out(10)), analysed(schema, fan_out(20))
    assert large.visits <= 2 * small.visits + 2
    assert large.cost > 2**9 * small.cost


def deep_fan_out(levels: int) -> str:
    """Each fragment reaches the next one through two nested paths: depth grows with the
    levels, paths double with each."""
    parts = ['query Deep { task(id: "x") { ...F0 } }']
    parts += [
        f"fragment F{i} on Task {{ steps {{ task {{ ...F{i + 1} }} }}"
        f" events {{ nodes {{ task {{ ...F{i + 1} }} }} }} }}" for i in range(levels)
    ]
    parts.append(f"fragment F{levels} on Task {{ id }}")
    return "\n".join(parts)


def test_depth_through_a_fan_out_is_measured_once_per_fragment(schema: GraphQLSchema) -> None:
    analysis = analysed(schema, deep_fan_out(30))
    assert analysis.depth == 1 + 3 * 30  # task, then events { nodes { task } } per level
    assert analysis.visits <= 10 * 31


def test_aliases_through_a_fan_out_count_every_path(schema: GraphQLSchema) -> None:
    analysis = analysed(schema, fan_out(25, leaf="me: viewer { id }"))
    assert analysis.aliases == 2**25
    assert analysis.visits < 60


def test_a_fragment_costs_as_the_type_it_is_applied_to(schema: GraphQLSchema) -> None:
    text = """query($ids: [ID!]!) { nodes(ids: $ids) { ...N } }
    fragment N on Node { id ... on Task { title description } ... on Message { content } }"""
    tasks = analysed(schema, text, {"ids": [encode_id("Task", 1), encode_id("Task", 2)]})
    messages = analysed(schema, text, {"ids": [encode_id("Message", 1)]})
    assert tasks.cost == 1 + 2 * 3
    assert messages.cost == 1 + 2


def calls(function: Callable[[], object]) -> int:
    """Python function calls made while `function` runs: a measure of work that the
    machine's speed does not change."""
    count = 0

    def profile(_frame: Any, event: str, _arg: Any) -> None:
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(profile)
    try:
        function()
    finally:
        sys.setprofile(None)
    return count


@pytest.mark.parametrize("shape", ["spreads", "fields", "nested"])
def test_graphql_core_validation_is_linear_in_a_fan_out(schema: GraphQLSchema, shape: str) -> None:
    rules = (*specified_rules, *limit_rules(make_settings()))
    bodies = {
        "spreads": ("Query", "viewer { id }", "query Q { ...F0 }"),
        "fields": ("Task", "id title", 'query Q { task(id: "x") { ...F0 } }'),
        "nested": ("Task", "steps { id }", 'query Q { task(id: "x") { ...F0 } }'),
    }
    on, leaf, root = bodies[shape]

    def validation(levels: int) -> int:
        document = parse(fan_out(levels, on=on, leaf=leaf, root=root))
        return calls(lambda: validate_document(schema, document, rules))

    eight, sixteen = validation(8), validation(16)
    # Linear: twice the fragments, about twice the calls; exponential would be 256 times.
    assert sixteen < 3 * eight, (eight, sixteen)


async def test_a_fan_out_is_refused_before_any_sql_and_without_a_token(gql: GraphQL) -> None:
    payload = await asyncio.wait_for(gql(fan_out(25), user=None), 10)
    assert payload["data"] is None
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert payload["extensions"]["sql"]["statements"] == 0


async def test_a_fan_out_of_aliases_is_refused(gql: GraphQL) -> None:
    payload = await asyncio.wait_for(gql(fan_out(25, leaf="me: viewer { id }"), user=None), 10)
    codes = {error["extensions"]["code"] for error in payload["errors"]}
    assert codes == {"TOO_MANY_ALIASES"}


async def test_a_fan_out_of_depth_is_refused(gql: GraphQL) -> None:
    payload = await asyncio.wait_for(gql(deep_fan_out(20), user=None), 10)
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"


SLOW_TO_VALIDATE = "{ " + " ".join("tasks { totalCount }" for _ in range(390)) + " }"


async def test_a_document_slower_to_validate_than_the_budget_is_refused(
    gql_with: GqlWith,
) -> None:
    # graphql-core's overlapping-fields rule is quadratic in same-named fields: ~1 s here.
    gql = await gql_with(validation_budget_seconds=0.05)
    payload = await gql(SLOW_TO_VALIDATE)
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert payload["extensions"]["sql"]["statements"] == 0


async def test_the_finished_validation_answers_the_next_request(gql_with: GqlWith) -> None:
    gql = await gql_with(validation_budget_seconds=0.05)
    first = await gql(SLOW_TO_VALIDATE)
    assert first["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    for _ in range(200):  # the worker thread finishes on its own; its answer is kept
        payload = await gql(SLOW_TO_VALIDATE)
        if "errors" not in payload:
            break
        await asyncio.sleep(0.05)
    assert payload["data"]["tasks"] == {"totalCount": 0}


async def test_other_requests_are_served_while_a_slow_document_validates(gql: GraphQL) -> None:
    slow = asyncio.create_task(gql(SLOW_TO_VALIDATE))
    await asyncio.sleep(0.02)
    quick = await gql("{ viewer { whileSlow: id } }")
    assert quick["data"] == {"viewer": {"whileSlow": "alice"}}
    assert not slow.done()  # the event loop answered while the validation ran
    assert "errors" not in await slow
