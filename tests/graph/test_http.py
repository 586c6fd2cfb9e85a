"""GraphQL over HTTP: status codes, media types, GET rules, CSRF-safe content types, CORS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.schema.exceptions import InvalidOperationTypeError

from graph.app import create_app
from tests.conftest import GraphQL, make_settings

GRAPHQL_RESPONSE = "application/graphql-response+json"


async def test_get_runs_a_query(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", params={"query": "{ viewer { id } }"})
    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": None}


async def test_a_mutation_over_get_is_405(client: httpx.AsyncClient) -> None:
    query = 'mutation { deleteTask(input: {id: "x"}) { __typename } }'
    response = await client.get("/graphql", params={"query": query})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_content_types_a_cross_site_form_can_send_are_refused(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        "/graphql", content=b'{"query": "{ viewer { id } }"}',
        headers={"Content-Type": content_type},
    )
    assert response.status_code == 415
    assert response.json()["errors"][0]["extensions"]["code"] == "UNSUPPORTED_MEDIA_TYPE"


async def test_graphql_response_json_is_answered_when_asked(gql: GraphQL) -> None:
    response = await gql.post("{ viewer { id } }", headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)


async def test_plain_json_is_the_default(gql: GraphQL) -> None:
    response = await gql.post("{ viewer { id } }")
    assert response.headers["content-type"].startswith("application/json")


async def test_a_syntax_error_is_400_without_data_under_graphql_response_json(
    gql: GraphQL,
) -> None:
    response = await gql.post("{ viewer { id ", headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400
    assert "data" not in response.json()
    assert response.json()["errors"][0]["message"].startswith("Syntax Error")


async def test_a_validation_error_is_400_under_graphql_response_json(gql: GraphQL) -> None:
    response = await gql.post("{ nope }", headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 400


async def test_a_validation_error_keeps_200_under_legacy_json(gql: GraphQL) -> None:
    response = await gql.post("{ nope }")
    assert response.status_code == 200
    assert response.json()["data"] is None


async def test_a_resolver_error_is_200_with_data(gql: GraphQL) -> None:
    response = await gql.post("{ tasks { totalCount } }", user=None,
                              headers={"Accept": GRAPHQL_RESPONSE})
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_an_unparsable_body_is_400_json(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"{", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_a_request_without_a_query_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={})
    assert response.status_code == 400


@pytest.fixture
async def cors_client(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(
        make_settings(cors_origins=["https://app.example"]), session_factory=session_factory
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:
            yield client


async def test_cors_allows_only_configured_origins(cors_client: httpx.AsyncClient) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = await cors_client.options(
        "/graphql", headers={"Origin": "https://app.example", **preflight}
    )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    denied = await cors_client.options(
        "/graphql", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in denied.headers


async def test_no_cors_origin_is_allowed_by_default(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ viewer { id } }"}, headers={"Origin": "https://x.example"}
    )
    assert "access-control-allow-origin" not in response.headers


async def test_an_integer_beyond_64_bits_in_stored_json_is_answered_exactly(
    gql: GraphQL,
) -> None:
    # orjson encodes the responses and refuses such an integer; the stdlib takes over.
    created = await gql.data(
        """mutation($input: CreateTaskInput!) { createTask(input: $input) {
             ... on CreateTaskSuccess { task { metadata } } } }""",
        {"input": {"title": "Big", "metadata": {"big": 2**70, "name": "ünïcode"}}},
    )
    assert created["createTask"]["task"]["metadata"] == {"big": 2**70, "name": "ünïcode"}


async def test_a_json_integer_too_long_to_convert_is_a_400_in_the_graphql_shape(
    client: httpx.AsyncClient,
) -> None:
    # Over Python's 4,300-digit limit this was a plain-text HTTP 500, in production too.
    body = (
        '{"query": "query($n: Int) { tasks(first: $n) { totalCount } }", "variables": {"n": '
        + "9" * 5000 + "}}"
    )
    response = await client.post(
        "/graphql", content=body,
        headers={"content-type": "application/json",
                 "accept": "application/graphql-response+json"},
    )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "4300 digits" in error["message"]


async def test_an_integer_literal_too_long_to_convert_is_bad_user_input(
    client: httpx.AsyncClient,
) -> None:
    query = "{ tasks(first: " + "9" * 5000 + ") { totalCount } }"
    response = await client.post("/graphql", json={"query": query})
    assert response.status_code == 200
    assert response.json()["errors"] == [{
        "message": "Integer literal too long: at most 4300 digits.",
        "extensions": {"code": "BAD_USER_INPUT"},
    }]


async def test_no_openapi_document_nor_docs_pages_are_served(client: httpx.AsyncClient) -> None:
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert (await client.get(path)).status_code == 404


async def test_a_mutation_over_get_is_405_however_strawberry_words_its_refusal(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The status comes from the exception strawberry raised, not from its message.
    monkeypatch.setattr(InvalidOperationTypeError, "as_http_error_reason",
                        lambda *_args: "reworded upstream")
    response = await client.get("/graphql", params={"query": "mutation { __typename }"})
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
