"""graphql-transport-ws as the protocol says, with the real `graphql-ws` client (Node) against
a real uvicorn: an operation that does not parse, fails validation or breaks a limit is
answered by an `error` message for its id, and the socket and its other subscriptions stay
open. Only a malformed message closes the socket (tests/graph/test_websocket_policies.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.graph.node_scripts import node_script
from tests.servers import graphql, running_server, token

LIMITS = {"MAX_TOKENS": "120", "MAX_DEPTH": "3", "MAX_ALIASES": "2"}
USER = "ws-refusals"
REFUSED = {  # what each is refused with over HTTP too (test_transport_parity.py)
    "a syntax error": ("subscription { taskEvents { ", "GRAPHQL_PARSE_FAILED"),
    "a document over MAX_TOKENS": (
        "subscription { taskEvents { " + "id " * 150 + "} }", "TOO_MANY_TOKENS"),
    "an unknown field": ("subscription { taskEvents { nope } }", "GRAPHQL_VALIDATION_FAILED"),
    "a document too deep": ("subscription { taskEvents { task { steps { task { id } } } } }",
                            "QUERY_TOO_DEEP"),
    "too many aliases": ("subscription { taskEvents { a: id b: id c: id } }",
                         "TOO_MANY_ALIASES"),
    "an unknown operation name": ("subscription A { taskEvents { id } }", "BAD_REQUEST"),
}
CREATE = "mutation($t: String!) { createTask(input: {title: $t}) { __typename } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("ws-refusals"), **LIMITS) as base:
        yield base


async def test_refused_operations_leave_the_socket_and_its_subscriptions_open(
    server: str
) -> None:
    url = server.replace("http://", "ws://") + "/graphql"
    queries = [json.dumps({"query": query, "operationName": "B" if "A {" in query else None})
               for query, _ in REFUSED.values()]
    async with node_script("ws-refusals.mjs", url, token(USER), *queries) as script:
        await script.until("ready")
        errors = {line["op"]: line for line in script.lines if line.get("op", "").startswith(
            "refused-") and line["kind"] == "error"}
        assert len(errors) == len(REFUSED), script.lines
        for index, (name, (_, code)) in enumerate(REFUSED.items()):
            assert errors[f"refused-{index}"]["codes"] == [code], name
            assert all(errors[f"refused-{index}"]["messages"]), name
        for title in ("first after the refusals", "second after the refusals"):
            await graphql(server, USER, CREATE, {"t": title})
        seen: dict[str, list[str]] = {"a": [], "b": []}
        while any(len(titles) < 2 for titles in seen.values()):
            line = await script.line()
            assert line["kind"] == "next", line
            seen[line["op"]].append(line["title"])
        assert seen == {op: ["first after the refusals", "second after the refusals"]
                        for op in "ab"}
        assert not [line for line in script.lines if line["kind"] == "closed"]
        assert await script.stop() == 0
