"""GraphQL over Server-Sent Events (graph/http/sse.py, graphql-sse's distinct connections
mode) against a real uvicorn: the `graphql-sse` client in Node, and the protocol's edges read
with httpx: queries and mutations, auth, origins, heartbeats, token expiry, caps, and a client
that leaves giving its place back. The same refusals as HTTP and the WebSocket:
tests/graph/test_transport_parity.py; in Chromium: tests/graph/test_sse_browser.py."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from graph.auth import mint_token
from tests.conftest import make_settings
from tests.graph.node_scripts import node_script
from tests.graph.sse_streams import EVENT_STREAM, first_errors, stream
from tests.servers import graphql, running_server, token

APP = "http://localhost:3000"
FOREIGN = "http://evil.example"
LIVE = {"query": "subscription { taskEvents { eventType task { title } } }"}
CREATE = "mutation($t: String!) { createTask(input: {title: $t}) { __typename } }"
SETTINGS = {"MAX_TOKENS": "120", "CORS_ORIGINS": APP, "SSE_HEARTBEAT_SECONDS": "0.3",
            "JWT_LEEWAY_SECONDS": "0", "MAX_SUBSCRIPTIONS_PER_USER": "3"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("sse"), **SETTINGS) as base:
        yield base


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("sse-capped"), MAX_SOCKETS_PER_USER="1",
                        MAX_SUBSCRIPTIONS_PER_USER="1") as base:
        yield base


async def test_the_graphql_sse_client_subscribes_queries_and_is_told_refusals(
    server: str
) -> None:
    user = "sse-node"
    refused = [json.dumps({"query": "subscription { taskEvents { "}),
               json.dumps({"query": "subscription { taskEvents { " + "id " * 150 + "} }"}),
               json.dumps({"query": "subscription { taskEvents { nope } }"})]
    async with node_script("sse-client.mjs", f"{server}/graphql", token(user), *refused
                           ) as script:
        await script.until("ready")
        by_op = {line["op"]: line for line in script.lines
                 if line.get("kind") == "next" and line.get("op") != "a"}
        assert by_op["query"]["data"] == {"viewer": {"id": user}}
        assert [by_op[f"refused-{n}"]["codes"] for n in range(3)] == [
            ["GRAPHQL_PARSE_FAILED"], ["TOO_MANY_TOKENS"], ["GRAPHQL_VALIDATION_FAILED"]]
        for title in ("first over SSE", "second over SSE"):
            await graphql(server, user, CREATE, {"t": title})
        seen: dict[str, list[str]] = {"a": [], "b": []}
        while any(len(titles) < 2 for titles in seen.values()):
            line = await script.line()
            assert line["kind"] == "next" and not line["codes"], line
            seen[line["op"]].append(line["title"])
        assert seen == {op: ["first over SSE", "second over SSE"] for op in "ab"}
        assert await script.stop() == 0


async def test_a_query_over_get_and_a_mutation_over_post_each_stream_one_result(
    server: str
) -> None:
    bearer = token("sse-once")
    params = {"query": "{ viewer { id } }"}
    async with stream(server, bearer, params=params) as opened:
        assert opened.response.headers["content-type"].startswith(EVENT_STREAM)
        assert "content-length" not in opened.response.headers
        assert await opened.all() == [("next", {"data": {"viewer": {"id": "sse-once"}}}),
                                      ("complete", None)]
    refused = await first_errors_get(server, bearer, {"query": 'mutation { createTask(input:'
                                                       ' {title: "no"}) { __typename } }'})
    assert refused[0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    body = {"query": CREATE, "variables": {"t": "posted"}}
    async with stream(server, bearer, body=body) as opened:
        assert await opened.all() == [
            ("next", {"data": {"createTask": {"__typename": "CreateTaskSuccess"}}}),
            ("complete", None)]


async def first_errors_get(base: str, bearer: str, params: dict[str, str]) -> list[Any]:
    async with stream(base, bearer, params=params) as opened:
        events = await opened.all()
    assert [kind for kind, _ in events] == ["next", "complete"], events
    errors: list[Any] = events[0][1]["errors"]
    return errors


async def test_a_bad_token_is_refused_before_any_stream(server: str) -> None:
    async with stream(server, "not-a-token", body=LIVE) as opened:
        assert opened.response.status_code == 401
        answer = json.loads(await opened.response.aread())
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_allowed_origin_streams_and_a_foreign_one_is_refused(server: str) -> None:
    bearer = token("sse-origin")
    async with stream(server, bearer, params={"query": "{ viewer { id } }"},
                      headers={"Origin": APP}) as opened:
        assert opened.response.status_code == 200
        assert opened.response.headers["access-control-allow-origin"] == APP
        assert (await opened.all())[0] == ("next", {"data": {"viewer": {"id": "sse-origin"}}})
    async with stream(server, bearer, body=LIVE, headers={"Origin": FOREIGN}) as opened:
        assert opened.response.status_code == 403
        answer = json.loads(await opened.response.aread())
    assert answer["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_an_idle_stream_carries_heartbeats(server: str) -> None:
    async with stream(server, token("sse-idle"), body=LIVE) as opened:
        reading = asyncio.ensure_future(opened.event())
        await asyncio.sleep(1.2)
        assert not reading.done()  # no event: only comments
        assert opened.comments >= 2
        reading.cancel()


async def test_the_stream_ends_when_its_token_expires(server: str) -> None:
    short = token_with_ttl("sse-expiring", 2)
    async with stream(server, short, body=LIVE) as opened:
        started = time.monotonic()
        assert await asyncio.wait_for(opened.event(), 6) is None  # ended, no `complete`
    assert time.monotonic() - started < 5


def token_with_ttl(user: str, ttl: int) -> str:
    return mint_token(make_settings(), user_id=user, admin=False, ttl_seconds=ttl)


async def test_a_batch_cannot_be_streamed(server: str) -> None:
    async with stream(server, token("sse-batch"), body=[LIVE, LIVE]) as opened:
        assert opened.response.status_code == 400


async def test_subscriptions_past_the_users_cap_are_refused_in_the_stream(server: str) -> None:
    bearer = token("sse-many")
    async with stream(server, bearer, body=LIVE), stream(server, bearer, body=LIVE), \
            stream(server, bearer, body=LIVE):
        refused = await first_errors(server, bearer, LIVE)
    assert refused[0]["extensions"] == {
        "code": "TOO_MANY_SUBSCRIPTIONS", "limit": "user", "max": 3}


async def test_a_client_that_leaves_gives_its_place_back(capped: str) -> None:
    bearer = token("sse-leaver")
    async with stream(capped, bearer, body=LIVE) as first:
        assert first.response.status_code == 200
        async with stream(capped, bearer, body=LIVE) as second:
            assert second.response.status_code == 503
            assert second.response.headers["retry-after"]
            answer = json.loads(await second.response.aread())
        assert answer["errors"][0]["extensions"]["code"] == "TOO_MANY_SOCKETS"
    # The first client left: its stream, its subscription and its place are let go. Twenty
    # more, one after another, each fit the caps of one (a leak would refuse the second).
    for _ in range(20):
        await accepted_soon(capped, bearer)


async def accepted_soon(base: str, bearer: str) -> None:
    """A subscription stream opens within 2 s (the server hears a client leave at once, but
    asynchronously); then this client leaves too."""
    deadline = time.monotonic() + 2
    while True:
        async with stream(base, bearer, body=LIVE) as opened:
            if opened.response.status_code == 200:
                return
            assert opened.response.status_code == 503
        assert time.monotonic() < deadline, "the place of a client that left was not given back"
        await asyncio.sleep(0.05)


def test_the_event_stream_media_type_is_not_taken_for_plain_http(server: str) -> None:
    answer = httpx.post(f"{server}/graphql", json={"query": "{ viewer { id } }"},
                        headers={"Authorization": f"Bearer {token('sse-plain')}"})
    assert answer.json() == {"data": {"viewer": {"id": "sse-plain"}}}
