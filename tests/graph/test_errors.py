"""Unexpected errors are masked for the client and logged with an id and the traceback."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from graph.resolvers.queries import tasks as task_queries
from tests.conftest import GraphQL

LEAKY = "SELECT secret FROM tasks WHERE user_id = 'alice' /srv/app/graph/queries.py eyJhbGci"


@pytest.fixture
def broken_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(LEAKY)

    monkeypatch.setattr(task_queries, "owned_connection", explode)


async def test_an_unexpected_error_reaches_the_client_as_a_generic_message(
    gql: GraphQL, broken_tasks: None
) -> None:
    payload = await gql("{ tasks { totalCount } }")
    error = payload["errors"][0]
    assert error["message"] == "Internal server error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert len(error["extensions"]["errorId"]) == 32


async def test_nothing_of_the_failure_leaks_into_the_response(
    gql: GraphQL, broken_tasks: None
) -> None:
    response = await gql.post("{ tasks { totalCount } }")
    body = response.text
    for secret in ("SELECT", "secret", "tasks WHERE", "/srv/app", "Traceback", "eyJhbGci"):
        assert secret not in body


async def test_the_log_has_the_error_id_and_the_traceback(
    gql: GraphQL, broken_tasks: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="graph.errors"):
        payload = await gql("{ tasks { totalCount } }")
    error_id = payload["errors"][0]["extensions"]["errorId"]
    records = [r for r in caplog.records if r.name == "graph.errors"]
    assert any(error_id in r.getMessage() for r in records)
    assert any(r.exc_info and LEAKY in str(r.exc_info[1]) for r in records)


async def test_expected_errors_are_shown_as_they_are(gql: GraphQL) -> None:
    payload = await gql("{ tasks { totalCount } }", user=None)
    assert payload["errors"][0]["message"].startswith("Sign in")
    assert "errorId" not in payload["errors"][0]["extensions"]


async def test_a_failing_mutation_is_masked_and_changes_nothing(
    gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    from domain import tasks as task_service

    def explode(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(LEAKY)

    monkeypatch.setattr(task_service, "record_event", explode)
    payload = await gql('mutation { createTask(input: {title: "x"}) { __typename } }')
    assert payload["errors"][0]["message"] == "Internal server error."
    monkeypatch.undo()
    listing = await gql.data("{ tasks { totalCount } }")
    assert listing["tasks"]["totalCount"] == 0
