"""What a browser app on its own origin relies on: CORS and WebSocket origins from one list,
refusals in the media type asked for, a code on every request error, HTTP caching.

The WebSocket handshakes go to a real uvicorn (the origin check is the transport's)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from graphql import GraphQLInterfaceType, is_object_type
from websockets.typing import Origin, Subprotocol

from graph.http.cors import ALLOWED_HEADERS
from graph.http.responses import GRAPHQL_RESPONSE
from graph.schema import build_schema
from tests.conftest import GqlWith, GraphQL, make_settings
from tests.servers import running_server

APP = "http://localhost:3000"
FOREIGN = "http://evil.example"
PROTOCOL = Subprotocol("graphql-transport-ws")
VIEWER = "{ viewer { id } }"


@pytest.fixture(scope="module")
def cors_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("cors"), CORS_ORIGINS=APP) as base:
        yield base


async def handshake(base: str, origin: str | None) -> int:
    """The HTTP status of a WebSocket upgrade sent with `origin` (101 when accepted)."""
    url = base.replace("http://", "ws://") + "/graphql"
    try:
        sent = Origin(origin) if origin is not None else None
        async with websockets.connect(url, subprotocols=[PROTOCOL], origin=sent) as socket:
            await socket.send(json.dumps({"type": "connection_init"}))
            assert json.loads(await asyncio.wait_for(socket.recv(), 5))["type"] == (
                "connection_ack")
            return 101
    except websockets.InvalidStatus as refused:
        return int(refused.response.status_code)


async def test_a_websocket_from_an_allowed_origin_is_accepted(cors_server: str) -> None:
    # It was refused (403): strawberry's origin check never heard of CORS_ORIGINS.
    assert await handshake(cors_server, APP) == 101


async def test_a_websocket_from_a_foreign_origin_is_refused(cors_server: str) -> None:
    assert await handshake(cors_server, FOREIGN) == 403


async def test_a_same_origin_websocket_needs_no_entry(cors_server: str) -> None:
    assert await handshake(cors_server, cors_server) == 101


async def test_http_from_a_foreign_origin_gets_no_cors_permission(cors_server: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{cors_server}/graphql", json={"query": VIEWER},
                                     headers={"Origin": FOREIGN})
    assert "access-control-allow-origin" not in response.headers


@pytest.fixture
async def cors_gql(gql_with: GqlWith) -> GraphQL:
    return await gql_with(cors_origins=[APP])


@pytest.mark.parametrize("header", ALLOWED_HEADERS)
async def test_the_preflight_allows_each_header_real_clients_send(
    cors_gql: GraphQL, header: str
) -> None:
    response = await cors_gql.client.options("/graphql", headers={
        "Origin": APP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": header.lower(),
    })
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == APP
    assert int(response.headers["access-control-max-age"]) > 0


async def test_a_browser_may_read_the_request_id(cors_gql: GraphQL) -> None:
    response = await cors_gql.post(VIEWER, headers={"Origin": APP})
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "x-request-id" in exposed and response.headers["x-request-id"]


ACCEPT = {"Accept": GRAPHQL_RESPONSE}


def refused_in_kind(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json()["errors"][0]["extensions"]["code"] == code
    assert response.headers["cache-control"] == "no-store"


async def test_a_bad_token_is_refused_in_the_media_type_asked_for(gql: GraphQL) -> None:
    response = await gql.client.post("/graphql", json={"query": VIEWER},
                                     headers={**ACCEPT, "Authorization": "Bearer forged"})
    refused_in_kind(response, 401, "UNAUTHENTICATED")


async def test_a_bad_session_id_is_refused_in_the_media_type_asked_for(gql: GraphQL) -> None:
    response = await gql.post(VIEWER, headers={**ACCEPT, "X-Session-Id": "nope"})
    refused_in_kind(response, 400, "INVALID_SESSION_ID")


async def test_a_persisted_hash_mismatch_is_refused_in_the_media_type_asked_for(
    gql: GraphQL,
) -> None:
    body = {"query": VIEWER, "extensions": {"persistedQuery": {"version": 1,
                                                               "sha256Hash": "0" * 64}}}
    response = await gql.client.post("/graphql", json=body, headers=ACCEPT)
    refused_in_kind(response, 400, "BAD_REQUEST")


async def test_a_mutation_over_get_is_refused_in_the_media_type_asked_for(gql: GraphQL) -> None:
    response = await gql.client.get("/graphql", params={"query": "mutation { __typename }"},
                                    headers=ACCEPT)
    refused_in_kind(response, 405, "METHOD_NOT_ALLOWED")


async def test_a_form_body_is_refused_in_the_media_type_asked_for(gql: GraphQL) -> None:
    response = await gql.client.post("/graphql", content=b"query=x", headers={
        **ACCEPT, "content-type": "application/x-www-form-urlencoded"})
    refused_in_kind(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_a_body_too_large_is_refused_in_the_media_type_asked_for(
    gql_with: GqlWith,
) -> None:
    gql = await gql_with(max_body_bytes=1024)
    response = await gql.client.post("/graphql", json={"query": VIEWER, "x": "y" * 2000},
                                     headers=ACCEPT)
    refused_in_kind(response, 413, "PAYLOAD_TOO_LARGE")


async def request_error(gql: GraphQL, query: str, variables: dict[str, Any] | None = None
                        ) -> dict[str, Any]:
    response = await gql.post(query, variables)
    error: dict[str, Any] = response.json()["errors"][0]
    return error


@pytest.mark.parametrize(("query", "variables", "code"), [
    ("{ viewer { id ", None, "GRAPHQL_PARSE_FAILED"),
    ("{ viewer { nope } }", None, "GRAPHQL_VALIDATION_FAILED"),
    ("query($n: Int) { tasks(first: $n) { totalCount } }", {"n": "ten"}, "BAD_USER_INPUT"),
    ("{ viewer { " + "id " * 2100 + "} }", None, "TOO_MANY_TOKENS"),
    ("{ " + " ".join(f"a{n}: viewer {{ id }}" for n in range(31)) + " }", None,
     "TOO_MANY_ALIASES"),
    ("{ tasks(first: 101) { totalCount } }", None, "BAD_USER_INPUT"),
])
async def test_every_request_error_carries_a_code(
    gql: GraphQL, query: str, variables: dict[str, Any] | None, code: str
) -> None:
    error = await request_error(gql, query, variables)
    assert error["extensions"]["code"] == code, error


async def test_too_many_directives_have_their_code(gql_with: GqlWith) -> None:
    gql = await gql_with(max_directives_per_field=1)
    error = await request_error(gql, "{ viewer @include(if: true) @skip(if: false) { id } }")
    assert error["extensions"]["code"] == "TOO_MANY_DIRECTIVES"


async def test_a_syntax_error_after_many_tokens_is_still_a_parse_failure(gql: GraphQL) -> None:
    # Counted, not read from the message: an error before the limit is the grammar's.
    error = await request_error(gql, "{ viewer { id } } }" + " id" * 2100)
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def get(gql: GraphQL, query: str, **headers: str) -> httpx.Response:
    return await gql.client.get("/graphql", params={"query": query}, headers={
        "Authorization": f"Bearer {gql.token('alice')}", "Accept": "application/json",
        **headers})


async def test_a_query_over_get_is_private_with_an_etag(gql: GraphQL) -> None:
    response = await get(gql, VIEWER)
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["etag"].startswith('"')
    vary = {v.strip().lower() for v in response.headers["vary"].split(",")}
    assert {"authorization", "x-session-id", "accept", "origin"} <= vary


async def test_a_repeated_get_with_its_etag_costs_no_body(gql: GraphQL) -> None:
    first = await get(gql, VIEWER)
    again = await get(gql, VIEWER, **{"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]


async def test_a_changed_answer_gets_a_new_etag(gql: GraphQL) -> None:
    first = await get(gql, "{ tasks { totalCount } }")
    await gql.data('mutation { createTask(input: {title: "new"}) { __typename } }')
    again = await get(gql, "{ tasks { totalCount } }", **{"If-None-Match": first.headers["etag"]})
    assert again.status_code == 200
    assert again.json()["data"]["tasks"]["totalCount"] == 1


async def test_another_viewer_never_gets_a_304_for_someone_elses_answer(gql: GraphQL) -> None:
    alices = await get(gql, VIEWER)
    bobs = await get(gql, VIEWER, **{"If-None-Match": alices.headers["etag"],
                                     "Authorization": f"Bearer {gql.token('bob')}"})
    assert bobs.status_code == 200
    assert bobs.json()["data"] == {"viewer": {"id": "bob"}}


async def test_mutations_and_errors_are_never_cached(gql: GraphQL) -> None:
    mutation = await gql.post('mutation { createTask(input: {title: "t"}) { __typename } }')
    failed = await get(gql, "{ nope }")
    assert mutation.headers["cache-control"] == "no-store"
    assert failed.headers["cache-control"] == "no-store"
    assert "etag" not in failed.headers



class SlowAssistant:
    name = model = "slow"

    async def break_down(self, text: str) -> Any:
        await asyncio.sleep(5)


async def test_a_timeout_is_refused_in_the_media_type_asked_for(gql_with: GqlWith) -> None:
    gql = await gql_with(assistant=SlowAssistant(), request_timeout_seconds=0.3)
    response = await gql.post(
        'mutation { breakDownTask(input: {input: "plan"}) { __typename } }', headers=ACCEPT
    )
    refused_in_kind(response, 504, "TIMEOUT")


def test_only_types_whose_id_is_their_own_global_id_have_an_id_field() -> None:
    # Relay and Apollo's cache take any `id` as the object's own: NotFoundError's overwrote
    # the missing task in Relay's store.
    schema = build_schema(make_settings())._schema
    node = schema.get_type("Node")
    assert isinstance(node, GraphQLInterfaceType)
    with_id = {
        name for name, type_ in schema.type_map.items()
        if is_object_type(type_) and "id" in type_.fields and not name.startswith("__")
    }
    nodes = {t.name for t in schema.get_possible_types(node)}
    # The viewer's `id` is its own too (the token's subject), and can never equal a global
    # id (base64 of `Type:key`); Apollo keys it as Viewer:<subject>.
    assert with_id == nodes | {"Viewer"}


async def test_refusals_made_by_middleware_carry_cors_headers(gql_with: GqlWith) -> None:
    # 413 and 504 came from middleware outside CORS: the browser saw "Failed to fetch".
    gql = await gql_with(cors_origins=[APP], max_body_bytes=1024)
    response = await gql.client.post("/graphql", json={"query": VIEWER, "x": "y" * 2000},
                                     headers={**ACCEPT, "Origin": APP})
    refused_in_kind(response, 413, "PAYLOAD_TOO_LARGE")
    assert response.headers["access-control-allow-origin"] == APP


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_another_method_is_a_graphql_405(gql: GraphQL, method: str) -> None:
    response = await gql.client.request(method, "/graphql", headers=ACCEPT)
    refused_in_kind(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET, POST"


async def test_more_than_a_hundred_validation_errors_are_still_validation_errors(
    gql: GraphQL,
) -> None:
    fields = " ".join(f"nope{n}" for n in range(120))
    errors = (await gql.post(f"{{ viewer {{ {fields} }} }}")).json()["errors"]
    assert len(errors) > 100
    assert {e["extensions"]["code"] for e in errors} == {"GRAPHQL_VALIDATION_FAILED"}


async def test_an_answer_with_diagnostics_is_still_revalidated_to_304(
    gql_with: GqlWith,
) -> None:
    gql = await gql_with(diagnostics=True)  # extensions.sql.ms changes every time
    first = await get(gql, "{ tasks { totalCount } }")
    again = await get(gql, "{ tasks { totalCount } }", **{"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


async def test_each_media_type_has_its_own_etag(gql: GraphQL) -> None:
    legacy = await get(gql, VIEWER)
    graphql = await get(gql, VIEWER, Accept=GRAPHQL_RESPONSE)
    assert legacy.headers["etag"] != graphql.headers["etag"]
    crossed = await get(gql, VIEWER, Accept=GRAPHQL_RESPONSE,
                        **{"If-None-Match": legacy.headers["etag"]})
    assert crossed.status_code == 200
