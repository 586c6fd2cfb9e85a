"""DateTime inputs: one refusal for every time that names no instant, malformed or without an
offset, as a variable or as a literal, on the GraphQL media type and the legacy one."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQL

BY_VARIABLE = "query($after: DateTime) { tasks(filter: {createdAfter: $after}) { totalCount } }"
GRAPHQL_RESPONSE = "application/graphql-response+json"
REFUSED = ["2024-05-01T09:00:00", "yesterday", "2024-13-01T00:00:00Z", ""]


def by_literal(value: str) -> str:
    return f'{{ tasks(filter: {{createdAfter: "{value}"}}) {{ totalCount }} }}'


async def refusal(gql: GraphQL, query: str, variables: dict[str, Any]) -> tuple[int, Any]:
    response = await gql.post(query, variables, headers={"Accept": GRAPHQL_RESPONSE})
    body = response.json()
    assert "data" not in body, body  # a request error: nothing ran
    [error] = body["errors"]
    return response.status_code, error["extensions"]["code"]


@pytest.mark.parametrize("value", REFUSED)
async def test_a_datetime_variable_that_names_no_instant_is_a_request_error(
    gql: GraphQL, value: str
) -> None:
    assert await refusal(gql, BY_VARIABLE, {"after": value}) == (400, "BAD_USER_INPUT")


@pytest.mark.parametrize("value", REFUSED)
async def test_a_datetime_literal_that_names_no_instant_fails_validation(
    gql: GraphQL, value: str
) -> None:
    assert await refusal(gql, by_literal(value), {}) == (400, "GRAPHQL_VALIDATION_FAILED")


async def test_a_time_without_an_offset_is_told_what_to_send(gql: GraphQL) -> None:
    payload = await gql(BY_VARIABLE, {"after": "2024-05-01T09:00:00"})

    [error] = payload["errors"]
    assert "needs a UTC offset, e.g. 2024-05-01T09:00:00Z" in error["message"]


@pytest.mark.parametrize("value", ["2024-05-01T09:00:00Z", "2024-05-01T11:00:00+02:00"])
async def test_a_time_with_an_offset_is_accepted(gql: GraphQL, value: str) -> None:
    data = await gql.data(BY_VARIABLE, {"after": value})

    assert data["tasks"]["totalCount"] == 0
