"""The same policies give the same refusals on the three transports, through a real uvicorn:
HTTP, the WebSocket (graphql-transport-ws) and Server-Sent Events (graphql-sse). Each refusal
of tests/graph/test_websocket_policies.py (depth, aliases, cost, page sizes, introspection,
suggestions, input sizes, fragment fan-out, the token limit) and persisted-only mode is asked
over all three, and must be the same message with the same `extensions.code`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.graph.sse_streams import first_errors, stream
from tests.graph.test_websocket_policies import (  # the servers and the WebSocket client
    CREATE,
    KNOWN,
    REFUSALS,
    connect,
    first_error,
    over_http,
    over_http_as,
    persisted_only,
    sha,
    strict,
    token,
)

__all__ = ["connect", "persisted_only", "strict"]  # fixtures, used by name
TOKENS = "{ viewer { " + "id " * 200 + "} }"
CASES = {**REFUSALS, "over MAX_TOKENS": (TOKENS, {})}


async def over_sse(base: str, query: str, variables: dict[str, Any], user: str = "policy-user"
                   ) -> tuple[str, str | None]:
    errors = await first_errors(base, token(user), {"query": query, "variables": variables})
    return errors[0]["message"], (errors[0].get("extensions") or {}).get("code")


@pytest.mark.parametrize("name", list(CASES))
async def test_a_refusal_is_the_same_over_http_the_websocket_and_sse(
    name: str, strict: tuple[str, Path], connect: Any
) -> None:
    base, _ = strict
    query, variables = CASES[name]
    http = first_error(await over_http(base, query, variables))
    socket = await connect(base, token("policy-user"))
    websocket = first_error(await socket.operation(query, variables=variables))
    sse = await over_sse(base, query, variables)
    assert http[1] is not None
    assert websocket == http, name
    assert sse == http, name


async def test_persisted_only_is_the_same_over_the_three_transports(
    persisted_only: str, connect: Any
) -> None:
    user = "persisted-three"
    http = first_error(await over_http_as(persisted_only, user, {"query": CREATE}))
    socket = await connect(persisted_only, token(user))
    websocket = first_error(await socket.operation(CREATE))
    sse = await over_sse(persisted_only, CREATE, {}, user)
    assert http == websocket == sse == (
        "Only persisted operations are accepted.", "PERSISTED_QUERY_REQUIRED")
    by_hash = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(KNOWN)}}}
    async with stream(persisted_only, token(user), body=by_hash) as opened:
        assert (await opened.all())[0] == ("next", {"data": {"viewer": {"id": user}}})
