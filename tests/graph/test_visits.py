"""Visits: `X-Session-Id` records a row of the sessions table, at most once a minute.

The app's writes are savepoints in the test's connection, so the `db` session reads them;
`populate_existing` makes every read see the row as it is now, not as first loaded.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.visits import (
    REFRESH_AFTER,
    InvalidSessionId,
    VisitRecorder,
    client_ip,
    parse_session_id,
)
from graph.app import create_app
from graph.auth import mint_token
from models.base import utcnow
from models.visit import USER_AGENT_MAX, Visit
from tests.conftest import make_settings, table_count

VIEWER = "{ viewer { id isAdmin isAnonymous sessionId } }"

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def serve(session_factory: async_sessionmaker[AsyncSession]) -> Serve:
    """Starts another app (its own visit memo) and yields a client connecting from `peer`."""

    @asynccontextmanager
    async def start(
        *, peer: str = "127.0.0.1", **overrides: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(make_settings(**overrides), session_factory=session_factory)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(peer, 40000))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                yield client

    return start


@pytest.fixture
def sid() -> str:
    return str(uuid.uuid4())


def bearer(user: str) -> dict[str, str]:
    token = mint_token(make_settings(), user_id=user, admin=False, ttl_seconds=600)
    return {"Authorization": f"Bearer {token}"}


async def visit_as(
    client: httpx.AsyncClient,
    sid: str | None,
    user: str | None = None,
    *,
    query: str = VIEWER,
    **headers: str,
) -> httpx.Response:
    sent = {key.replace("_", "-"): value for key, value in headers.items()}
    if sid is not None:
        sent["X-Session-Id"] = sid
    if user is not None:
        sent.update(bearer(user))
    return await client.post("/graphql", json={"query": query}, headers=sent)


def viewer_of(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload["errors"]
    return payload["data"]["viewer"]


async def load(db: AsyncSession, sid: str) -> Visit | None:
    statement = (
        select(Visit).where(Visit.session_id == sid).execution_options(populate_existing=True)
    )
    return (await db.execute(statement)).scalar_one_or_none()


async def stored(db: AsyncSession, sid: str) -> Visit:
    row = await load(db, sid)
    assert row is not None, f"no sessions row for {sid}"
    return row


async def age(db: AsyncSession, sid: str, by: timedelta) -> Visit:
    """Moves the visit's timestamps into the past, as if it had been written `by` ago."""
    row = await stored(db, sid)
    await db.execute(
        update(Visit)
        .where(Visit.session_id == sid)
        .values(created_at=row.created_at - by, last_seen_at=row.last_seen_at - by)
    )
    return await stored(db, sid)


# --- recording -----------------------------------------------------------------------------


async def test_a_session_header_records_a_visit_with_user_agent_and_user(
    client: httpx.AsyncClient, db: AsyncSession, sid: str
) -> None:
    agent = "Mozilla/5.0 (X11; Linux) " + "x" * 600
    before = utcnow()
    viewer_of(await visit_as(client, sid, "alice", User_Agent=agent))
    row = await stored(db, sid)
    assert row.user_id == "alice"
    assert row.user_agent == agent[:USER_AGENT_MAX]
    assert len(row.user_agent) == USER_AGENT_MAX
    assert row.client_ip == "127.0.0.1"
    assert row.created_at == row.last_seen_at
    assert before - timedelta(seconds=1) <= row.created_at <= utcnow() + timedelta(seconds=1)
    assert row.created_at.utcoffset() == timedelta(0)


async def test_a_short_user_agent_is_kept_whole(
    client: httpx.AsyncClient, db: AsyncSession, sid: str
) -> None:
    viewer_of(await visit_as(client, sid, "alice", User_Agent="curl/8.5.0"))
    assert (await stored(db, sid)).user_agent == "curl/8.5.0"


async def test_a_visit_without_a_token_has_no_user(
    client: httpx.AsyncClient, db: AsyncSession, sid: str
) -> None:
    assert viewer_of(await visit_as(client, sid)) is None
    row = await stored(db, sid)
    assert row.user_id is None


async def test_no_session_header_records_nothing(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    before = await table_count(db, "sessions")
    viewer_of(await visit_as(client, None, "alice"))
    assert await table_count(db, "sessions") == before


async def test_the_session_id_is_stored_in_its_canonical_form(
    client: httpx.AsyncClient, db: AsyncSession, sid: str
) -> None:
    viewer = viewer_of(await visit_as(client, "{" + sid.upper() + "}", "alice"))
    assert viewer["sessionId"] == sid
    assert (await stored(db, sid)).user_id == "alice"


@pytest.mark.parametrize(
    "raw", ["not-a-uuid", "1234", "' OR 1=1 --", "0b8a5f5e-3c1e-4d59-9a53-5c2f7d3f4a1"]
)
async def test_an_invalid_session_id_is_a_clear_400_and_records_nothing(
    client: httpx.AsyncClient, db: AsyncSession, raw: str
) -> None:
    before = await table_count(db, "sessions")
    response = await visit_as(client, raw, "alice")
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert "X-Session-Id must be a UUID" in response.text
    assert await table_count(db, "sessions") == before


async def test_an_invalid_session_id_is_a_400_without_a_token_too(
    client: httpx.AsyncClient,
) -> None:
    response = await visit_as(client, "nope")
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "UUID" in error["message"]


async def test_a_bad_token_with_a_session_id_records_nothing(
    client: httpx.AsyncClient, db: AsyncSession, sid: str
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": VIEWER},
        headers={"X-Session-Id": sid, "Authorization": "Bearer not-a-jwt"},
    )
    assert response.status_code == 401
    assert await load(db, sid) is None


# --- at most once a minute -----------------------------------------------------------------


async def test_a_second_request_within_a_minute_does_not_rewrite_last_seen_at(
    client: httpx.AsyncClient, db: AsyncSession, sid: str
) -> None:
    viewer_of(await visit_as(client, sid, "alice", User_Agent="first"))
    first = await stored(db, sid)
    seen, agent = first.last_seen_at, first.user_agent
    viewer_of(await visit_as(client, sid, "alice", User_Agent="second"))
    again = await stored(db, sid)
    assert again.last_seen_at == seen
    assert again.user_agent == agent == "first"


async def test_a_second_request_within_a_minute_runs_no_sql(
    client: httpx.AsyncClient, sid: str
) -> None:
    first = (await visit_as(client, sid, "alice")).json()["extensions"]["sql"]["statements"]
    second = (await visit_as(client, sid, "alice")).json()["extensions"]["sql"]["statements"]
    assert first > 0
    assert second == 0


async def test_another_process_within_a_minute_does_not_rewrite_last_seen_at(
    serve: Serve, db: AsyncSession, sid: str
) -> None:
    async with serve() as client:
        viewer_of(await visit_as(client, sid, "alice", User_Agent="first"))
    seen = (await stored(db, sid)).last_seen_at
    async with serve() as other:  # a fresh memo: only the SQL guard is left
        viewer_of(await visit_as(other, sid, "alice", User_Agent="second"))
    row = await stored(db, sid)
    assert row.last_seen_at == seen
    assert row.user_agent == "first"


async def test_a_visit_seen_over_a_minute_ago_is_bumped(
    serve: Serve, db: AsyncSession, sid: str
) -> None:
    async with serve() as client:
        viewer_of(await visit_as(client, sid, "alice", User_Agent="first"))
    aged = await age(db, sid, REFRESH_AFTER * 5)
    created, seen = aged.created_at, aged.last_seen_at
    async with serve() as other:
        viewer_of(await visit_as(other, sid, "alice", User_Agent="second"))
    row = await stored(db, sid)
    assert row.last_seen_at > seen + REFRESH_AFTER
    assert row.created_at == created
    assert row.user_agent == "second"


async def test_the_memo_lets_a_visit_be_bumped_again_after_a_minute(
    client: httpx.AsyncClient, db: AsyncSession, sid: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    viewer_of(await visit_as(client, sid, "alice"))
    seen = (await age(db, sid, REFRESH_AFTER * 2)).last_seen_at
    later = utcnow() + REFRESH_AFTER * 2
    monkeypatch.setattr("graph.context.utcnow", lambda: later)
    monkeypatch.setattr("domain.visits.utcnow", lambda: later)
    viewer_of(await visit_as(client, sid, "alice"))
    assert (await stored(db, sid)).last_seen_at == later > seen


# --- the user is set once ------------------------------------------------------------------


async def test_a_later_different_user_does_not_take_the_visit_over(
    serve: Serve, db: AsyncSession, sid: str
) -> None:
    async with serve() as client:
        viewer_of(await visit_as(client, sid, "alice"))
        viewer_of(await visit_as(client, sid, "bob"))
    assert (await stored(db, sid)).user_id == "alice"
    seen = (await age(db, sid, REFRESH_AFTER * 5)).last_seen_at
    async with serve() as other:
        assert viewer_of(await visit_as(other, sid, "bob"))["id"] == "bob"
    row = await stored(db, sid)
    assert row.user_id == "alice"
    assert row.last_seen_at > seen  # the visit was refreshed, only the owner stayed


async def test_signing_in_within_a_minute_sets_the_user_without_bumping_last_seen_at(
    client: httpx.AsyncClient, db: AsyncSession, sid: str
) -> None:
    viewer_of(await visit_as(client, sid))
    anonymous = await stored(db, sid)
    assert anonymous.user_id is None
    seen = anonymous.last_seen_at
    viewer_of(await visit_as(client, sid, "alice"))
    row = await stored(db, sid)
    assert row.user_id == "alice"
    assert row.last_seen_at == seen


async def test_a_visit_without_a_token_after_a_sign_in_keeps_the_user(
    client: httpx.AsyncClient, db: AsyncSession, sid: str
) -> None:
    viewer_of(await visit_as(client, sid, "alice"))
    await age(db, sid, REFRESH_AFTER * 5)
    assert viewer_of(await visit_as(client, sid)) is None
    assert (await stored(db, sid)).user_id == "alice"


# --- anonymous sessions --------------------------------------------------------------------


async def test_an_anonymous_visitor_acts_as_its_session(
    serve: Serve, db: AsyncSession, sid: str
) -> None:
    async with serve(anonymous_sessions=True) as client:
        viewer = viewer_of(await visit_as(client, sid))
    assert viewer == {
        "id": f"session:{sid}", "isAdmin": False, "isAnonymous": True, "sessionId": sid,
    }
    assert (await stored(db, sid)).user_id is None  # the visit has no signed-in user


async def test_a_token_wins_over_the_anonymous_session(serve: Serve, sid: str) -> None:
    async with serve(anonymous_sessions=True) as client:
        viewer = viewer_of(await visit_as(client, sid, "alice"))
    assert viewer == {"id": "alice", "isAdmin": False, "isAnonymous": False, "sessionId": sid}


async def test_without_a_session_id_there_is_no_anonymous_viewer(serve: Serve) -> None:
    async with serve(anonymous_sessions=True) as client:
        assert viewer_of(await visit_as(client, None)) is None


async def test_with_anonymous_sessions_off_a_visitor_without_a_token_has_no_viewer(
    serve: Serve, db: AsyncSession, sid: str
) -> None:
    async with serve(anonymous_sessions=False) as client:
        assert viewer_of(await visit_as(client, sid)) is None
    assert (await stored(db, sid)).user_id is None  # the visit is still recorded


async def test_anonymous_sessions_are_off_by_default(
    client: httpx.AsyncClient, sid: str
) -> None:
    assert make_settings().anonymous_sessions is False
    assert viewer_of(await visit_as(client, sid)) is None


async def test_an_anonymous_visitor_can_query_what_it_owns(
    serve: Serve, sid: str
) -> None:
    async with serve(anonymous_sessions=True) as client:
        response = await visit_as(client, sid, query="{ tasks { totalCount } }")
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload["errors"]
    assert payload["data"]["tasks"]["totalCount"] == 0


# --- the client address --------------------------------------------------------------------


async def test_x_forwarded_for_is_believed_from_a_trusted_proxy(
    serve: Serve, db: AsyncSession, sid: str
) -> None:
    async with serve(peer="10.0.0.5", trusted_proxies=["10.0.0.0/8"]) as client:
        viewer_of(await visit_as(client, sid, "alice", X_Forwarded_For="198.51.100.7"))
    assert (await stored(db, sid)).client_ip == "198.51.100.7"


async def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(
    serve: Serve, db: AsyncSession, sid: str
) -> None:
    async with serve(peer="192.0.2.10", trusted_proxies=["10.0.0.0/8"]) as client:
        viewer_of(await visit_as(client, sid, "alice", X_Forwarded_For="198.51.100.7"))
    assert (await stored(db, sid)).client_ip == "192.0.2.10"


async def test_x_forwarded_for_is_ignored_without_trusted_proxies(
    serve: Serve, db: AsyncSession, sid: str
) -> None:
    async with serve(peer="10.0.0.5") as client:
        viewer_of(await visit_as(client, sid, "alice", X_Forwarded_For="198.51.100.7"))
    assert (await stored(db, sid)).client_ip == "10.0.0.5"


TRUSTED = ["10.0.0.0/8", "2001:db8::/32"]


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "expected"),
    [
        ("203.0.113.9", "198.51.100.7", "203.0.113.9"),  # an untrusted peer is the client
        ("10.0.0.1", "198.51.100.7", "198.51.100.7"),
        ("10.0.0.1", "6.6.6.6, 198.51.100.7", "198.51.100.7"),  # a spoofed hop is skipped
        ("10.0.0.1", "198.51.100.7, 10.0.0.2, 10.0.0.3", "198.51.100.7"),  # a proxy chain
        ("10.0.0.1", "10.0.0.7, 10.0.0.2", "10.0.0.7"),  # all ours: the furthest one
        ("10.0.0.1", None, "10.0.0.1"),
        ("10.0.0.1", "", "10.0.0.1"),
        ("10.0.0.1", " , ", "10.0.0.1"),
        ("2001:db8::1", "2001:db8::2, 198.51.100.7", "198.51.100.7"),
        ("::ffff:10.0.0.1", "198.51.100.7", "198.51.100.7"),  # an IPv4-mapped peer
        ("10.0.0.1", " 198.51.100.7 ", "198.51.100.7"),
        ("10.0.0.1", "198.51.100.7:51234", "198.51.100.7"),  # a hop with a port
        ("10.0.0.1", "[2001:db9::5]:443", "2001:db9::5"),
        ("10.0.0.1", "<script>, 10.0.0.2", "10.0.0.2"),  # garbage is never the client
        ("10.0.0.1", "unknown", "10.0.0.1"),
        (None, "198.51.100.7", None),
    ],
)
def test_client_ip(peer: str | None, forwarded_for: str | None, expected: str | None) -> None:
    assert client_ip(peer, forwarded_for, TRUSTED) == expected


def test_client_ip_trusts_nothing_by_default() -> None:
    assert client_ip("10.0.0.1", "198.51.100.7", []) == "10.0.0.1"


def test_client_ip_ignores_a_trusted_proxies_entry_that_is_not_a_network() -> None:
    trusted = ["not-a-network", "10.0.0.0/8"]
    assert client_ip("10.0.0.1", "198.51.100.7", trusted) == "198.51.100.7"
    assert client_ip("192.0.2.1", "198.51.100.7", ["not-a-network"]) == "192.0.2.1"


def test_client_ip_accepts_a_single_address_as_a_trusted_proxy() -> None:
    assert client_ip("10.0.0.1", "198.51.100.7", ["10.0.0.1"]) == "198.51.100.7"
    assert client_ip("10.0.0.2", "198.51.100.7", ["10.0.0.1"]) == "10.0.0.2"


# --- units ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "0B8A5F5E-3C1E-4D59-9A53-5C2F7D3F4A10",
        " 0b8a5f5e-3c1e-4d59-9a53-5c2f7d3f4a10 ",
        "{0b8a5f5e-3c1e-4d59-9a53-5c2f7d3f4a10}",
        "0b8a5f5e3c1e4d599a535c2f7d3f4a10",
    ],
)
def test_parse_session_id_answers_the_canonical_form(raw: str) -> None:
    assert parse_session_id(raw) == "0b8a5f5e-3c1e-4d59-9a53-5c2f7d3f4a10"


@pytest.mark.parametrize("raw", ["", "   ", "session:abc", "0b8a5f5e-3c1e-4d59-9a53"])
def test_parse_session_id_refuses_what_is_not_a_uuid(raw: str) -> None:
    with pytest.raises(InvalidSessionId, match="X-Session-Id must be a UUID"):
        parse_session_id(raw)


def test_the_memo_is_due_once_a_minute_per_session_and_user() -> None:
    recorder = VisitRecorder()
    now = utcnow()
    recorder._written[("s", "alice")] = now
    assert not recorder.due("s", "alice", now + REFRESH_AFTER - timedelta(seconds=1))
    assert recorder.due("s", "alice", now + REFRESH_AFTER)
    assert recorder.due("s", "bob", now)
    assert recorder.due("s", None, now)
    recorder.forget("s", "alice")
    assert recorder.due("s", "alice", now)


async def test_recording_directly_writes_one_row_per_session(
    db: AsyncSession, sid: str
) -> None:
    recorder = VisitRecorder()
    await recorder.record(db, session_id=sid, user_id=None, user_agent=None, ip=None)
    await recorder.record(db, session_id=sid, user_id="carol", user_agent="ua", ip="::1")
    row = await stored(db, sid)
    assert (row.user_id, row.user_agent, row.client_ip) == ("carol", "ua", "::1")
    assert not recorder.due(sid, "carol", utcnow())
