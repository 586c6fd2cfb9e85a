"""HTTP batching (graph/http/batching.py) against a real uvicorn: Apollo Client's own
BatchHttpLink (Node) sends two queries and a mutation as one request, answered in order;
the bounds (none, too many, the costs added up), each operation's own limits, persisted-only
mode for each operation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph.http.responses import GRAPHQL_RESPONSE
from tests.graph.node_scripts import node_script
from tests.servers import running_server, token

LIMITS = {"MAX_COST": "100", "MAX_ALIASES": "2", "MAX_BATCH_OPERATIONS": "4",
          "LOG_LEVEL": "INFO", "LOG_FORMAT": "json"}
PAGE = "{ tasks(first: 10) { edges { node { id title } } } }"
VIEWER = "query Viewer { viewer { id } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("batching")
    with running_server(workdir, **LIMITS) as base:
        yield base, workdir


def post(base: str, body: Any, user: str = "batcher", accept: str = "application/json"
         ) -> httpx.Response:
    return httpx.post(f"{base}/graphql", content=json.dumps(body), headers={
        "Authorization": f"Bearer {token(user)}", "Content-Type": "application/json",
        "Accept": accept,
    })


def code(response: httpx.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


def operations_logged(workdir: Path) -> list[dict[str, Any]]:
    lines = []
    for log in workdir.glob("server-*.log"):
        for line in log.read_text().splitlines():
            if line.startswith("{") and '"graphql operation"' in line:
                lines.append(json.loads(line))
    return lines


async def test_apollo_batch_http_link_sends_one_request_answered_in_order(
    server: tuple[str, Path]
) -> None:
    base, workdir = server
    async with node_script("batch-apollo.mjs", f"{base}/graphql", token("apollo-batcher")
                           ) as script:
        done = await script.until("done")
    assert done["fetches"] == 1
    assert done["created"]["__typename"] == "CreateTaskSuccess"
    assert done["created"]["task"]["title"] == "batched"
    # In order: the count after the mutation, in the same request, sees its task.
    assert done["after"] == done["before"] + 1
    logged = {line["operation_name"]: line for line in operations_logged(workdir)
              if line.get("operation_name") in ("CountBefore", "CreateInBatch", "CountAfter")}
    assert len(logged) == 3
    assert len({line["request_id"] for line in logged.values()}) == 1  # one HTTP request


def test_a_batch_is_answered_in_order_each_operation_with_its_own_limits(
    server: tuple[str, Path]
) -> None:
    base, _ = server
    aliases = "{ a: viewer { id } b: viewer { id } c: viewer { id } }"
    response = post(base, [
        {"query": VIEWER}, {"query": aliases}, {"query": "{ nope }"},
        {"query": VIEWER, "operationName": "Missing"},
    ], accept=GRAPHQL_RESPONSE)
    assert response.status_code == 200
    first, aliased, invalid, unknown = response.json()
    assert first == {"data": {"viewer": {"id": "batcher"}}}
    assert aliased["errors"][0]["extensions"]["code"] == "TOO_MANY_ALIASES"
    assert "data" not in aliased  # the media type's request error, in its place
    assert invalid["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert unknown["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_an_empty_batch_is_refused(server: tuple[str, Path]) -> None:
    response = post(server[0], [])
    assert response.status_code == 400
    assert code(response) == "EMPTY_BATCH"


def test_a_batch_over_max_batch_operations_is_refused_before_anything_runs(
    server: tuple[str, Path]
) -> None:
    base, _ = server
    create = 'mutation { createTask(input: {title: "never"}) { __typename } }'
    response = post(base, [{"query": create}] * 5, user="over-batcher")
    assert response.status_code == 400
    assert code(response) == "TOO_MANY_OPERATIONS"
    assert response.json()["errors"][0]["extensions"]["max"] == 4
    count = post(base, {"query": "{ tasks { totalCount } }"}, user="over-batcher").json()
    assert count["data"]["tasks"]["totalCount"] == 0  # nothing ran


def test_the_costs_of_a_batch_are_added_up_against_max_cost(
    server: tuple[str, Path]
) -> None:
    base, _ = server
    alone = post(base, [{"query": PAGE}])
    assert alone.status_code == 200 and "errors" not in alone.json()[0]
    response = post(base, [{"query": PAGE}] * 4)
    assert response.status_code == 400
    assert code(response) == "QUERY_TOO_COSTLY"
    extensions = response.json()["errors"][0]["extensions"]
    assert extensions["maxCost"] == 100 and extensions["cost"] > 100 and extensions["batch"]


@pytest.mark.parametrize("item", [
    "nope", {"query": 5}, {"query": VIEWER, "variables": "x"},
    {"query": VIEWER, "extensions": [1]}, {"query": VIEWER, "operationName": 5},
])
def test_each_operation_of_a_batch_must_be_well_formed(
    server: tuple[str, Path], item: Any
) -> None:
    response = post(server[0], [{"query": VIEWER}, item])
    assert response.status_code == 400
    assert code(response) == "BAD_REQUEST"
    assert "Operation 2 of the batch" in response.json()["errors"][0]["message"]


def test_an_operation_without_a_query_is_refused_in_its_place(server: tuple[str, Path]) -> None:
    response = post(server[0], [{"query": VIEWER}, {}])
    assert response.status_code == 200
    first, empty = response.json()
    assert first["data"] == {"viewer": {"id": "batcher"}}
    assert empty["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_persisted_only_applies_to_each_operation_of_a_batch(
    tmp_path: Path
) -> None:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({sha(VIEWER): VIEWER}))
    with running_server(tmp_path, PERSISTED_QUERIES_ONLY="true",
                        PERSISTED_QUERIES_MANIFEST=str(manifest)) as base:
        by_hash = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(VIEWER)}}}
        answered = post(base, [by_hash, by_hash])
        assert answered.status_code == 200
        assert [item["data"] for item in answered.json()] == [{"viewer": {"id": "batcher"}}] * 2
        refused = post(base, [by_hash, {"query": "{ viewer { id } }"}])
        assert refused.status_code == 400
        assert code(refused) == "PERSISTED_QUERY_REQUIRED"
