"""The analysis of a document is linear in its size, whatever its fragments fan out to.

Work is measured, not timed: the walk counts the selections it visits, and graphql-core's
validation is measured in Python function calls.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLSchema,
    get_introspection_query,
    get_nullable_type,
    is_list_type,
    is_object_type,
    parse,
    specified_rules,
)
from graphql.validation.rules import overlapping_fields_can_be_merged
from strawberry.schema.schema import validate_document

from graph.extensions import documents
from graph.extensions.analysis import LIST_ITEMS, analyse, effective_variables, select_operation
from graph.ids import encode_id
from graph.schema import build_schema, limit_rules
from models.task import STEPS_MAX
from tests.conftest import GraphQL, make_settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "operations"


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
    # Two spreads per fragment and the leaf, in each of the two walks (cost, expansion).
    assert analysis.visits <= 2 * (2 * 41 + 2)
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
    assert analysis.visits <= 20 * 31


def test_aliases_through_a_fan_out_count_every_path(schema: GraphQLSchema) -> None:
    analysis = analysed(schema, fan_out(25, leaf="me: viewer { id }"))
    assert analysis.aliases == 2**25
    assert analysis.visits < 120


def test_a_fragment_costs_as_the_type_it_is_applied_to(schema: GraphQLSchema) -> None:
    text = """query($ids: [ID!]!) { nodes(ids: $ids) { ...N } }
    fragment N on Node { id ... on Task { title description } ... on Message { content } }"""
    tasks = analysed(schema, text, {"ids": [encode_id("Task", n) for n in (1, 2, 3)]})
    messages = analysed(schema, text, {"ids": [encode_id("Message", n) for n in (1, 2, 3)]})
    assert tasks.cost == 1 + 3 * 3
    assert messages.cost == 1 + 3 * 2


def test_an_unpaged_list_counts_as_its_most_items(schema: GraphQLSchema) -> None:
    # `steps` counted as one item: this cost 8, and made 10^6 objects of a 100-step task.
    text = 'query { task(id: "x") { steps { task { steps { task { steps { id } } } } } } }'
    assert analysed(schema, text).cost > STEPS_MAX**3


def test_every_unpaged_list_of_the_schema_declares_its_most_items(
    schema: GraphQLSchema,
) -> None:
    unpaged = set()
    for name, type_ in schema.type_map.items():
        if name.startswith("__") or not is_object_type(type_):
            continue
        for field_name, field in type_.fields.items():
            paged = {"first", "last", "ids"} & field.args.keys()
            connection = name.endswith("Connection") and field_name in ("edges", "nodes")
            if is_list_type(get_nullable_type(field.type)) and not (paged or connection):
                unpaged.add(f"{name}.{field_name}")
    assert unpaged == LIST_ITEMS.keys()


def test_fragments_that_never_apply_still_count_as_their_expansion(
    schema: GraphQLSchema,
) -> None:
    # Valid (a Message fragment inside `... on Node` below a Task) and never executed, but
    # strawberry's look-ahead expands it path by path: 18 levels stalled the loop for 7 s.
    text = fan_out(
        18, on="Message", leaf="id",
        root="query { tasks(first: 1) { nodes { id ... on Node { ...F0 } } } }",
    )
    assert analysed(schema, text).cost >= 2**18


def test_a_whole_float_page_size_counts_as_its_integer(schema: GraphQLSchema) -> None:
    # graphql-core coerces 100.0 to the Int 100; it was costed as the default page.
    text = "query($n: Int) { tasks(first: $n) { nodes { id } } }"
    assert analysed(schema, text, {"n": 100.0}).cost == analysed(schema, text, {"n": 100}).cost
    assert analysed(schema, text, {"n": 5000.0}).largest_page == 5000


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


# graphql-core's overlapping-fields rule is quadratic in same-named fields: ~1 s here.
SLOW_TO_VALIDATE = "{ " + " ".join("tasks { totalCount }" for _ in range(390)) + " }"


def overlap_work(text: str) -> int:
    """graphql-core's own measure of its overlapping-fields work for `text`, in units."""
    spent = 0
    original = overlapping_fields_can_be_merged.spend_complexity_budget

    def counting(context: Any, cost: int) -> None:
        nonlocal spent
        spent += cost
        original(context, cost)

    schema = build_schema(make_settings())._schema
    # setattr: the rule looks its meter up in its module's globals at each call.
    setattr(overlapping_fields_can_be_merged, "spend_complexity_budget", counting)  # noqa: B010
    try:
        validate_document(schema, parse(text), tuple(specified_rules))
    finally:
        setattr(overlapping_fields_can_be_merged, "spend_complexity_budget", original)  # noqa: B010
    return spent


async def test_a_document_over_the_validation_budget_is_refused(gql: GraphQL) -> None:
    payload = await gql(SLOW_TO_VALIDATE)
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert payload["extensions"]["sql"]["statements"] == 0
    # The budget holds graphql-core to the work it allows, whatever the machine's speed.
    spent = overlap_work(SLOW_TO_VALIDATE)  # it stops at the first charge past the budget
    budget = documents.VALIDATION_COMPLEXITY_BUDGET
    assert budget < spent <= budget + 2


async def test_a_refused_document_is_refused_again_without_validating(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    await gql(SLOW_TO_VALIDATE)
    calls: list[object] = []

    def counting_validation(*args: object) -> list[object]:
        calls.append(args)
        return []

    monkeypatch.setattr(documents, "validate_document", counting_validation)
    again = await gql(SLOW_TO_VALIDATE)
    assert again["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert calls == []


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.graphql")), ids=lambda p: p.name)
def test_real_operations_are_far_below_the_validation_budget(path: Path) -> None:
    assert overlap_work(path.read_text()) < documents.VALIDATION_COMPLEXITY_BUDGET // 100


def test_graphiqls_introspection_query_is_far_below_the_validation_budget() -> None:
    text = get_introspection_query(descriptions=True)
    assert overlap_work(text) < documents.VALIDATION_COMPLEXITY_BUDGET // 100


async def test_a_fan_out_of_fragments_that_never_apply_is_refused(gql: GraphQL) -> None:
    text = fan_out(
        18, on="Message", leaf="id",
        root="query { tasks(first: 1) { nodes { id ... on Node { ...F0 } } } }",
    )
    payload = await asyncio.wait_for(gql(text), 10)
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert payload["extensions"]["sql"]["statements"] == 0
