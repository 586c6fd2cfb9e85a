"""`Vary` names each value once, and a preflight allows `If-None-Match`.

Caching (graph/http/caching.py) ends every answer's `Vary` with `Origin`; Starlette's CORS
appended `Origin` again on every cross-origin answer, 304s included. And a browser app
revalidating a persisted GET by its ETag sends `If-None-Match`, which is not safelisted: the
preflight must allow it or the browser never sends the GET.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.app import create_app
from tests.conftest import make_settings

ORIGIN = "https://app.example"
QUERY = {"query": "{ viewer { id } }"}


@pytest.fixture(params=[[ORIGIN], []], ids=["cors", "no-cors"])
async def client(
    request: pytest.FixtureRequest, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(
        make_settings(cors_origins=request.param), session_factory=session_factory
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://c", headers={"Origin": ORIGIN}
        ) as http:
            yield http


def vary_values(response: httpx.Response) -> list[str]:
    lines = response.headers.get_list("vary")
    assert len(lines) <= 1, lines  # one header line
    return [part.strip().lower() for line in lines for part in line.split(",")]


def assert_each_once(response: httpx.Response, *expected: str) -> None:
    values = vary_values(response)
    assert len(values) == len(set(values)), response.headers.get("vary")
    assert {value.lower() for value in expected} <= set(values), values


async def test_get_post_and_304_name_each_vary_value_once(client: httpx.AsyncClient) -> None:
    get = await client.get("/graphql", params=QUERY)
    assert get.status_code == 200 and "etag" in get.headers
    assert_each_once(get, "Origin", "Authorization", "Accept", "X-Session-Id")
    revalidated = await client.get(
        "/graphql", params=QUERY, headers={"If-None-Match": get.headers["etag"]}
    )
    assert revalidated.status_code == 304
    assert_each_once(revalidated, "Origin", "Authorization", "Accept", "X-Session-Id")
    post = await client.post("/graphql", json=QUERY)
    assert post.status_code == 200
    assert_each_once(post, "Origin", "Authorization", "Accept", "X-Session-Id")


async def test_a_preflight_allows_if_none_match_and_varies_once(
    client: httpx.AsyncClient,
) -> None:
    preflight = await client.options("/graphql", headers={
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match, authorization",
    })
    if "access-control-allow-origin" not in preflight.headers:
        return  # no CORS configured: no preflight is answered yes, nothing else to check
    assert preflight.status_code == 200, preflight.text
    header = preflight.headers["access-control-allow-headers"]
    allowed = {name.strip().lower() for name in header.split(",")}
    assert {"if-none-match", "authorization"} <= allowed
    assert_each_once(preflight, "Origin")
