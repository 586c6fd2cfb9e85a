"""Structured JSON logs carry the request id; each operation logs its name and duration."""

from __future__ import annotations

import io
import json
import logging
import sys

import httpx
import pytest

from graph.observability import JsonFormatter, request_id
from tests.conftest import GraphQL


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert len(response.headers["x-request-id"]) == 32


async def test_a_sane_incoming_request_id_is_kept(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": "trace-abc-12345"})
    assert response.headers["x-request-id"] == "trace-abc-12345"


async def test_a_malformed_incoming_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-Id": "bad id\nwith newline"})
    assert response.headers["x-request-id"] != "bad id\nwith newline"


async def test_each_operation_is_logged_with_name_type_and_duration(
    gql: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="graph.operations"):
        await gql("query Mine { viewer { id } }")
    record = next(r for r in caplog.records if r.name == "graph.operations")
    assert record.__dict__["operation_name"] == "Mine"
    assert record.__dict__["operation_type"] == "query"
    assert record.__dict__["duration_ms"] >= 0
    assert record.__dict__["errors"] == 0


async def test_a_clients_mistake_is_counted_not_logged_as_an_error(
    gql: GraphQL, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        payload = await gql("query Typo { viewr { id } }")
    assert payload["errors"]
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    record = next(r for r in caplog.records if r.name == "graph.operations")
    assert record.__dict__["errors"] == 1


def test_the_json_formatter_writes_one_object_per_line_with_the_request_id() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("test.json")
    logger.addHandler(handler)
    token = request_id.set("req-123456789")
    try:
        logger.warning("hello %s", "world", extra={"operation_name": "Mine"})
    finally:
        request_id.reset(token)
        logger.removeHandler(handler)
    entry = json.loads(stream.getvalue())
    assert entry["message"] == "hello world"
    assert entry["request_id"] == "req-123456789"
    assert entry["operation_name"] == "Mine"
    assert entry["level"] == "WARNING"


def test_tracebacks_are_one_json_field() -> None:
    formatter = JsonFormatter()
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("t").makeRecord(
            "t", logging.ERROR, __file__, 1, "failed", (), exc_info=sys.exc_info()
        )
    entry = json.loads(formatter.format(record))
    assert "ValueError: boom" in entry["traceback"]
