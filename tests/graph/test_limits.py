"""Limits: each refused with a clear GraphQL error before any SQL runs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import graphql
import orjson
import pytest
import strawberry.schema.schema
from strawberry import relay

from graph.execution.keyset import InvalidPage
from graph.types.node import resolve_nodes
from tests.conftest import GqlWith, GraphQL, make_settings


def nested(depth: int) -> str:
    inner = "id"
    for _ in range(depth):
        inner = f"steps {{ task {{ {inner} }} }}"
    return f"{{ tasks {{ edges {{ node {{ {inner} }} }} }} }}"


def refusal(payload: dict[str, Any]) -> str:
    assert payload.get("data") is None, payload
    assert payload["extensions"]["sql"]["statements"] == 0  # refused before any SQL
    message: str = payload["errors"][0]["message"]
    return message


async def test_a_query_deeper_than_the_limit_is_refused(gql: GraphQL) -> None:
    message = refusal(await gql(nested(8)))
    assert "exceeds maximum operation depth of 12" in message


async def test_a_query_within_the_depth_limit_runs(gql: GraphQL) -> None:
    inner = "id"
    for _ in range(3):  # pages of one: deep but cheap (depth 10)
        inner = f"events(first: 1) {{ nodes {{ task {{ {inner} }} }} }}"
    payload = await gql(f'{{ task(id: "x") {{ {inner} }} }}')
    assert "errors" not in payload


async def test_fragment_spreads_do_not_get_around_the_depth_limit(gql: GraphQL) -> None:
    query = """
    query { tasks { edges { node { ...Deep } } } }
    fragment Deep on Task { steps { task { steps { task { steps { task { steps { task {
      steps { task { steps { task { id } } } } } } } } } } } } }
    """
    assert "exceeds maximum operation depth" in refusal(await gql(query))


async def test_fragment_cycles_are_refused(gql: GraphQL) -> None:
    query = """
    query { tasks { edges { node { ...A } } } }
    fragment A on Task { steps { task { ...B } } }
    fragment B on Task { steps { task { ...A } } }
    """
    payload = await gql(query)
    assert payload["data"] is None
    assert "Cannot spread fragment 'A' within itself" in payload["errors"][0]["message"]


async def test_a_repeated_query_is_validated_once(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    validations: list[object] = []

    def counting_validate(*args: Any) -> Any:
        validations.append(args[1])
        return graphql.validate(*args)

    # strawberry's cached `validate_document` calls graphql-core's `validate` through this
    # module's global; the query is unique to this test, so its first run is a cache miss.
    monkeypatch.setattr(strawberry.schema.schema, "validate", counting_validate)
    query = "{ validatedOnce: viewer { id } }"
    for _ in range(3):
        assert "errors" not in await gql(query)
    assert len(validations) == 1


async def test_a_refused_query_is_refused_again_from_the_validation_cache(gql: GraphQL) -> None:
    for _ in range(2):
        assert "exceeds maximum operation depth of 12" in refusal(await gql(nested(9)))


async def test_too_many_aliases_are_refused(gql: GraphQL) -> None:
    aliases = " ".join(f"a{n}: viewer {{ id }}" for n in range(31))
    assert "31 aliases found. Allowed: 30" in refusal(await gql(f"{{ {aliases} }}"))


async def test_aliases_in_a_fragment_count_once_per_spread(gql: GraphQL) -> None:
    aliases = " ".join(f"a{n}: id" for n in range(10))
    spreads = " ".join(f"v{n}: viewer {{ ...F }}" for n in range(3))
    query = f"{{ {spreads} }} fragment F on Viewer {{ {aliases} }}"
    assert "33 aliases found" in refusal(await gql(query))


async def test_too_many_tokens_are_refused(gql_with: GqlWith) -> None:
    gql = await gql_with(max_tokens=50)
    fields = " ".join("id" for _ in range(60))
    message = refusal(await gql(f"{{ viewer {{ {fields} }} }}"))
    assert "more than 50 tokens" in message


@pytest.mark.parametrize(
    "padding",
    ["#\n" * 60, "# a comment\n" * 30 + "#\n" * 30, "# { viewer { id } }\n" * 60],
    ids=["one-character comments", "long and short comments", "commented-out operations"],
)
async def test_comments_count_against_the_token_limit_with_its_code(
    gql_with: GqlWith, padding: str
) -> None:
    # graphql-core counts them; the code said GRAPHQL_PARSE_FAILED, as for a typo.
    gql = await gql_with(max_tokens=50)
    error = (await gql(padding + "{ viewer { id } }"))["errors"][0]
    assert error["message"].endswith("Document contains more than 50 tokens. Parsing aborted.")
    assert error["extensions"]["code"] == "TOO_MANY_TOKENS"


async def test_directives_beyond_the_per_field_limit_are_refused(gql_with: GqlWith) -> None:
    gql = await gql_with(max_directives_per_field=1)
    message = refusal(await gql("{ viewer @include(if: true) @skip(if: false) { id } }"))
    assert "at most 1 are allowed" in message


async def test_the_cost_limit_multiplies_by_page_sizes(gql_with: GqlWith) -> None:
    gql = await gql_with(max_cost=500)
    query = "{ tasks(first: 100) { edges { node { id title steps { id } } } } }"
    payload = await gql(query)
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert payload["errors"][0]["extensions"]["cost"] > 500
    refusal(payload)


async def test_the_cost_limit_reads_page_sizes_from_variables(gql_with: GqlWith) -> None:
    gql = await gql_with(max_cost=300)  # 1 + n * (edges 1 + node 1 + id 1 + title 1)
    query = "query($n: Int) { tasks(first: $n) { edges { node { id title } } } }"
    assert "errors" not in await gql(query, {"n": 5})
    refused = await gql(query, {"n": 100})
    assert refused["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"


async def test_the_cost_limit_reads_page_sizes_from_variable_defaults(gql_with: GqlWith) -> None:
    gql = await gql_with(max_cost=300)  # 1 + n * (edges 1 + node 1 + id 1 + title 1)
    page = "tasks(first: $n) { edges { node { id title } } }"
    sent = await gql(f"query($n: Int) {{ {page} }}", {"n": 100})
    defaulted = await gql(f"query($n: Int = 100) {{ {page} }}")
    for refused in (sent, defaulted):
        assert refused["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY", refused
        refusal(refused)
    assert "errors" not in await gql(f"query($n: Int = 5) {{ {page} }}")
    # An explicit null overrides the variable's default: the field's default page applies.
    assert "errors" not in await gql(f"query($n: Int = 100) {{ {page} }}", {"n": None})
    oversized = await gql(f"query($n: Int = 101) {{ {page} }}")
    assert "at most 100 items" in refusal(oversized)


def task_ids(count: int) -> list[str]:
    return [str(relay.GlobalID("Task", str(n))) for n in range(1, count + 1)]


NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Task { title } } }"


async def test_nodes_takes_at_most_a_page_of_ids_before_any_sql(gql_with: GqlWith) -> None:
    gql = await gql_with()
    assert "errors" not in await gql(NODES, {"ids": task_ids(100)})
    payload = await gql(NODES, {"ids": task_ids(101)})
    assert "`Query.nodes(ids)` takes at most 100 items" in refusal(payload)
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    inline = ", ".join(f'"{id}"' for id in task_ids(101))
    assert "at most 100 items" in refusal(await gql(f"{{ nodes(ids: [{inline}]) {{ id }} }}"))


async def test_the_nodes_cap_follows_the_maximum_page_size(gql_with: GqlWith) -> None:
    gql = await gql_with(max_page_size=10)
    assert "at most 10 items" in refusal(await gql(NODES, {"ids": task_ids(11)}))
    default = orjson.dumps(task_ids(11)).decode()
    defaulted = f"query($ids: [ID!]! = {default}) {{ nodes(ids: $ids) {{ id }} }}"
    assert "at most 10 items" in refusal(await gql(defaulted))


async def test_the_cost_of_nodes_counts_the_ids(gql_with: GqlWith) -> None:
    gql = await gql_with(max_cost=100)  # 1 + ids * (id 1 + title 1)
    assert "errors" not in await gql(NODES, {"ids": task_ids(49)})
    payload = await gql(NODES, {"ids": task_ids(50)})
    assert payload["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert payload["errors"][0]["extensions"]["cost"] == 101
    refusal(payload)


async def test_each_id_costs_only_what_runs_for_the_type_it_names(gql_with: GqlWith) -> None:
    # A fragment per Node type is usual below `nodes`; only the id's own type's fields run.
    gql = await gql_with(max_cost=100)
    query = NODES.replace("} } }", "} ... on Message { content role } } }")
    assert "errors" not in await gql(query, {"ids": task_ids(49)})
    messages = [str(relay.GlobalID("Message", str(n))) for n in range(1, 50)]
    payload = await gql(query, {"ids": messages})
    assert payload["errors"][0]["extensions"]["cost"] == 1 + 49 * 3  # id, content, role


async def test_the_nodes_resolver_refuses_too_many_ids_on_its_own() -> None:
    # The cost extension refuses first; the resolver still guards the field by itself.
    info: Any = SimpleNamespace(context=SimpleNamespace(settings=make_settings(max_page_size=3)))
    with pytest.raises(InvalidPage, match="at most 3 ids"):
        await resolve_nodes(info, task_ids(4))


async def test_a_page_over_the_maximum_is_refused_before_any_sql(gql: GraphQL) -> None:
    payload = await gql("{ tasks(first: 101) { totalCount } }")
    assert "at most 100 items" in refusal(payload)
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_the_maximum_page_size_is_a_setting(gql_with: GqlWith) -> None:
    gql = await gql_with(max_page_size=10)
    assert "at most 10 items" in refusal(await gql("{ tasks(first: 11) { totalCount } }"))


async def test_a_body_over_the_limit_gets_413(gql_with: GqlWith) -> None:
    gql = await gql_with(max_body_bytes=2048)
    response = await gql.post("{ viewer { id } }", {"padding": "x" * 4096})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_suggestions_are_hidden_when_turned_off(gql_with: GqlWith) -> None:
    gql = await gql_with(suggestions=False)
    payload = await gql("{ taks { totalCount } }")
    message = payload["errors"][0]["message"]
    assert message == "Cannot query field 'taks' on type 'Query'."


async def test_suggestions_are_hidden_from_variable_errors_too(gql_with: GqlWith) -> None:
    # Variable values are coerced during execution, not validation.
    gql = await gql_with(suggestions=False)
    filtered = await gql(
        "query($f: TaskFilter) { tasks(filter: $f) { totalCount } }", {"f": {"statu": "DONE"}}
    )
    ordered = await gql(
        "query($o: TaskOrder) { tasks(orderBy: $o) { totalCount } }", {"o": {"field": "CREATED"}}
    )
    messages = [payload["errors"][0]["message"] for payload in (filtered, ordered)]
    assert not any("Did you mean" in message for message in messages), messages
    assert "not to include unknown field 'statu'. Found:" in messages[0]
    assert messages[1].endswith("Value 'CREATED' does not exist in 'TaskOrderField' enum.")


async def test_suggestions_help_in_development(gql: GraphQL) -> None:
    payload = await gql("{ taks { totalCount } }")
    assert "Did you mean 'task' or 'tasks'?" in payload["errors"][0]["message"]


async def test_production_turns_off_introspection_and_suggestions(gql_with: GqlWith) -> None:
    gql = await gql_with(environment="production")
    payload = await gql("{ __schema { types { name } } }")
    assert payload["data"] is None
    assert "introspection" in payload["errors"][0]["message"].lower()
    hidden = await gql("{ taks { totalCount } }")
    assert "Did you mean" not in hidden["errors"][0]["message"]


async def test_production_serves_no_playground(gql_with: GqlWith) -> None:
    gql = await gql_with(environment="production")
    page = await gql.client.get("/graphql", headers={"Accept": "text/html"})
    assert "graphiql" not in page.text.lower()
    assert page.status_code in (400, 404, 405, 406)
    asset = await gql.client.get("/playground/graphiql.min.js")
    assert asset.status_code == 404
