"""`startVisit`: the server issues visit credentials, a bounded number per client, to a
request with an identity (a token, or ANONYMOUS_SESSIONS on); it writes no row itself."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.app import create_app
from graph.auth import mint_token
from tests.conftest import make_settings, table_count

START = """mutation { startVisit { __typename
  ... on StartVisitSuccess { sessionId }
  ... on RateLimitedError { code message retryAfterSeconds } } }"""
VIEWER = "{ viewer { id isAnonymous sessionId } }"

# `async with serve(**settings) as client:` then `client(peer)` is an HTTP client from `peer`.
Clients = Callable[..., httpx.AsyncClient]
Serve = Callable[..., AbstractAsyncContextManager[Clients]]


@pytest.fixture
def serve(session_factory: async_sessionmaker[AsyncSession]) -> Serve:
    """An app with the given settings; its clients connect from `peer`."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Clients]:
        app = create_app(make_settings(**overrides), session_factory=session_factory)
        async with app.router.lifespan_context(app):
            clients: list[httpx.AsyncClient] = []

            def client(peer: str = "198.51.100.7") -> httpx.AsyncClient:
                transport = httpx.ASGITransport(app=app, client=(peer, 40000))
                made = httpx.AsyncClient(transport=transport, base_url="http://testserver")
                clients.append(made)
                return made

            try:
                yield client
            finally:
                for made in clients:
                    await made.aclose()

    return start


async def post(
    client: httpx.AsyncClient, query: str, *, user: str | None = None, sid: str | None = None
) -> dict[str, Any]:
    headers = {}
    if user is not None:
        token = mint_token(make_settings(), user_id=user, admin=False, ttl_seconds=600)
        headers["Authorization"] = f"Bearer {token}"
    if sid is not None:
        headers["X-Session-Id"] = sid
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()
    return payload


async def start_visit(client: httpx.AsyncClient, user: str | None = None) -> dict[str, Any]:
    payload = await post(client, START, user=user)
    assert "errors" not in payload, payload
    answer: dict[str, Any] = payload["data"]["startVisit"]
    return answer


async def test_an_anonymous_visitor_starts_a_visit_and_acts_as_it(serve: Serve) -> None:
    async with serve(anonymous_sessions=True) as client:
        api = client()
        started = await start_visit(api)
        assert started["__typename"] == "StartVisitSuccess"
        viewer = (await post(api, VIEWER, sid=started["sessionId"]))["data"]["viewer"]
    assert viewer["isAnonymous"] is True
    assert viewer["id"] == f"session:{viewer['sessionId']}"


async def test_each_visit_started_has_its_own_credential_and_id(serve: Serve) -> None:
    async with serve(anonymous_sessions=True) as client:
        api = client()
        credentials = [(await start_visit(api))["sessionId"] for _ in range(5)]
        ids = [(await post(api, VIEWER, sid=c))["data"]["viewer"]["id"] for c in credentials]
    assert len(set(credentials)) == len(set(ids)) == 5


async def test_starting_a_visit_writes_no_row(serve: Serve, db: AsyncSession) -> None:
    before = await table_count(db, "sessions")
    async with serve(anonymous_sessions=True) as client:
        for _ in range(5):
            assert (await start_visit(client()))["__typename"] == "StartVisitSuccess"
    assert await table_count(db, "sessions") == before


async def test_without_anonymous_sessions_a_visitor_without_a_token_cannot_start_one(
    serve: Serve,
) -> None:
    async with serve(anonymous_sessions=False) as client:
        payload = await post(client(), START)
    assert payload["data"] is None
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_signed_in_user_starts_a_visit_that_records_them(
    serve: Serve, db: AsyncSession
) -> None:
    before = await table_count(db, "sessions")
    async with serve(anonymous_sessions=False) as client:
        api = client()
        started = await start_visit(api, "alice")
        viewer = (await post(api, VIEWER, user="alice", sid=started["sessionId"]))["data"]
    assert viewer["viewer"]["id"] == "alice"
    assert await table_count(db, "sessions") == before + 1


async def test_one_client_starts_a_bounded_number_of_visits_then_is_rate_limited(
    serve: Serve, db: AsyncSession
) -> None:
    before = await table_count(db, "sessions")
    async with serve(anonymous_sessions=True, visit_starts_per_hour=3) as client:
        api = client()
        answers = [await start_visit(api) for _ in range(6)]
        kinds = [answer["__typename"] for answer in answers]
        # Every credential it did get, used: one row each, no more.
        for answer in answers[:3]:
            await post(api, VIEWER, sid=answer["sessionId"])
    assert kinds == ["StartVisitSuccess"] * 3 + ["RateLimitedError"] * 3
    refused = answers[3]
    assert refused["code"] == "RATE_LIMITED"
    assert 1190 <= refused["retryAfterSeconds"] <= 1200  # one start per 3600/3 s
    assert await table_count(db, "sessions") == before + 3


async def test_the_start_limit_counts_each_client_apart(serve: Serve) -> None:
    async with serve(anonymous_sessions=True, visit_starts_per_hour=1) as client:
        first, other, same_64 = client("198.51.100.7"), client("203.0.113.9"), client("2001:db8::1")
        assert (await start_visit(first))["__typename"] == "StartVisitSuccess"
        assert (await start_visit(first))["__typename"] == "RateLimitedError"
        assert (await start_visit(other))["__typename"] == "StartVisitSuccess"
        assert (await start_visit(same_64))["__typename"] == "StartVisitSuccess"
        # Another address in the same IPv6 /64 is the same client.
        assert (await start_visit(client("2001:db8::2")))["__typename"] == "RateLimitedError"
        # A signed-in user is counted by their id, wherever they connect from.
        assert (await start_visit(first, "alice"))["__typename"] == "StartVisitSuccess"
        assert (await start_visit(other, "alice"))["__typename"] == "RateLimitedError"


async def test_behind_a_trusted_proxy_the_forwarded_address_is_the_client(serve: Serve) -> None:
    settings = {"anonymous_sessions": True, "visit_starts_per_hour": 1,
                "trusted_proxies": ["10.0.0.0/8"]}
    async with serve(**settings) as client:
        proxy = client("10.0.0.5")

        async def start_from(address: str) -> str:
            response = await proxy.post("/graphql", json={"query": START},
                                        headers={"X-Forwarded-For": address})
            return str(response.json()["data"]["startVisit"]["__typename"])

        assert await start_from("198.51.100.7") == "StartVisitSuccess"
        assert await start_from("203.0.113.9") == "StartVisitSuccess"
        assert await start_from("198.51.100.7") == "RateLimitedError"
