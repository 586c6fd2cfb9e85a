"""Visits: a server-issued credential in `X-Session-Id` records a row of the sessions table,
for a request with an identity only, at most once a minute.

The app's writes are savepoints in the test's connection, so the `db` session reads them;
`populate_existing` makes every read see the row as it is now, not as first loaded.
`sid` is the credential the client sends; `visit.visit_id` the row's key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.visit_credentials import VisitSigner
from domain.visits import VisitPolicy, Visits, client_ip
from graph.app import create_app
from graph.auth import mint_token
from models.base import utcnow
from models.visit import USER_AGENT_MAX, Visit
from tests.conftest import make_settings, mint_visit, table_count

REFRESH_AFTER = VisitPolicy().refresh_after

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


async def load(db: AsyncSession, vid: str) -> Visit | None:
    statement = (
        select(Visit).where(Visit.session_id == vid).execution_options(populate_existing=True)
    )
    return (await db.execute(statement)).scalar_one_or_none()


async def stored(db: AsyncSession, vid: str) -> Visit:
    row = await load(db, vid)
    assert row is not None, f"no sessions row for {vid}"
    return row


async def age(db: AsyncSession, vid: str, by: timedelta) -> Visit:
    """Moves the visit's timestamps into the past, as if it had been written `by` ago."""
    row = await stored(db, vid)
    await db.execute(
        update(Visit)
        .where(Visit.session_id == vid)
        .values(created_at=row.created_at - by, last_seen_at=row.last_seen_at - by)
    )
    return await stored(db, vid)


# --- recording -----------------------------------------------------------------------------


async def test_a_session_header_records_a_visit_with_user_agent_and_user(
    client: httpx.AsyncClient, db: AsyncSession, sid: str, vid: str
) -> None:
    agent = "Mozilla/5.0 (X11; Linux) " + "x" * 600
    before = utcnow()
    viewer_of(await visit_as(client, sid, "alice", User_Agent=agent))
    row = await stored(db, vid)
    assert row.user_id == "alice"
    assert row.user_agent == agent[:USER_AGENT_MAX]
    assert len(row.user_agent) == USER_AGENT_MAX
    assert row.client_ip == "127.0.0.1"
    assert row.created_at == row.last_seen_at
    assert before - timedelta(seconds=1) <= row.created_at <= utcnow() + timedelta(seconds=1)
    assert row.created_at.utcoffset() == timedelta(0)


async def test_a_short_user_agent_is_kept_whole(
    client: httpx.AsyncClient, db: AsyncSession, sid: str, vid: str
) -> None:
    viewer_of(await visit_as(client, sid, "alice", User_Agent="curl/8.5.0"))
    assert (await stored(db, vid)).user_agent == "curl/8.5.0"


async def test_no_session_header_records_nothing(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    before = await table_count(db, "sessions")
    viewer_of(await visit_as(client, None, "alice"))
    assert await table_count(db, "sessions") == before


async def test_the_viewer_shows_the_visits_id_never_its_credential(
    client: httpx.AsyncClient, sid: str, vid: str
) -> None:
    viewer = viewer_of(await visit_as(client, sid, "alice"))
    assert viewer["sessionId"] == vid != sid


def forged_credentials() -> dict[str, str]:
    """X-Session-Id values the server did not issue: invented, guessed, tampered, foreign."""
    genuine = mint_visit().text
    flipped = genuine[:-2] + ("A" if genuine[-2] != "A" else "B") + genuine[-1]
    foreign = VisitSigner(b"another server's key, 32 bytes!!").issue().text
    return {
        "a client-made UUID": "0b8a5f5e-3c1e-4d59-9a53-5c2f7d3f4a10",
        "a visit's id": mint_visit().visit_id,
        "not-a-uuid": "not-a-uuid",
        "sql": "' OR 1=1 --",
        "empty": "",
        "a tampered credential": flipped,
        "another key's credential": foreign,
        "a credential with a space": f" {genuine}",
        "huge": "v1." + "A" * 5000,
    }


@pytest.mark.parametrize("raw", forged_credentials().values(), ids=forged_credentials().keys())
async def test_a_session_id_the_server_did_not_issue_is_a_typed_400_and_records_nothing(
    client: httpx.AsyncClient, db: AsyncSession, raw: str
) -> None:
    before = await table_count(db, "sessions")
    response = await visit_as(client, raw, "alice")
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json")
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "INVALID_SESSION_ID"
    assert "startVisit" in error["message"]
    assert await table_count(db, "sessions") == before


async def test_an_invalid_session_id_is_a_400_without_a_token_too(
    client: httpx.AsyncClient,
) -> None:
    response = await visit_as(client, "nope")
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_SESSION_ID"


async def test_a_bad_token_with_a_session_id_records_nothing(
    client: httpx.AsyncClient, db: AsyncSession, sid: str, vid: str
) -> None:
    response = await client.post(
        "/graphql",
        json={"query": VIEWER},
        headers={"X-Session-Id": sid, "Authorization": "Bearer not-a-jwt"},
    )
    assert response.status_code == 401
    assert await load(db, vid) is None


# --- no write without identity ---------------------------------------------------------------


async def test_with_anonymous_sessions_off_requests_without_a_token_write_nothing(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """Issue 22's flood: `{ __typename }` with a fresh X-Session-Id each time wrote a row
    each time (3,703 in 15 s from 8 clients). A client-made id is refused now, and even a
    server-issued credential writes nothing without an identity."""
    before = await table_count(db, "sessions")
    invented, issued = [], []
    for _ in range(20):
        invented.append(await visit_as(client, mint_visit().visit_id, query="{ __typename }"))
        issued.append(await visit_as(client, mint_visit().text, query="{ __typename }"))
    assert await table_count(db, "sessions") == before
    assert {response.status_code for response in invented} == {400}
    assert {response.status_code for response in issued} == {200}


async def test_a_visit_without_a_token_with_anonymous_sessions_off_has_no_row(
    client: httpx.AsyncClient, db: AsyncSession, sid: str, vid: str
) -> None:
    assert viewer_of(await visit_as(client, sid)) is None
    assert await load(db, vid) is None


async def test_an_anonymous_visitor_is_recorded_when_anonymous_sessions_are_on(
    serve: Serve, db: AsyncSession, sid: str, vid: str
) -> None:
    async with serve(anonymous_sessions=True) as client:
        viewer_of(await visit_as(client, sid, User_Agent="curl/8.5.0"))
    row = await stored(db, vid)
    assert (row.user_id, row.user_agent) == (None, "curl/8.5.0")


# --- at most once a minute -----------------------------------------------------------------


async def test_a_second_request_within_a_minute_does_not_rewrite_last_seen_at(
    client: httpx.AsyncClient, db: AsyncSession, sid: str, vid: str
) -> None:
    viewer_of(await visit_as(client, sid, "alice", User_Agent="first"))
    first = await stored(db, vid)
    seen, agent = first.last_seen_at, first.user_agent
    viewer_of(await visit_as(client, sid, "alice", User_Agent="second"))
    again = await stored(db, vid)
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
    serve: Serve, db: AsyncSession, sid: str, vid: str
) -> None:
    async with serve() as client:
        viewer_of(await visit_as(client, sid, "alice", User_Agent="first"))
    seen = (await stored(db, vid)).last_seen_at
    async with serve() as other:  # a fresh memo: only the SQL guard is left
        viewer_of(await visit_as(other, sid, "alice", User_Agent="second"))
    row = await stored(db, vid)
    assert row.last_seen_at == seen
    assert row.user_agent == "first"


async def test_a_visit_seen_over_a_minute_ago_is_bumped(
    serve: Serve, db: AsyncSession, sid: str, vid: str
) -> None:
    async with serve() as client:
        viewer_of(await visit_as(client, sid, "alice", User_Agent="first"))
    aged = await age(db, vid, REFRESH_AFTER * 5)
    created, seen = aged.created_at, aged.last_seen_at
    async with serve() as other:
        viewer_of(await visit_as(other, sid, "alice", User_Agent="second"))
    row = await stored(db, vid)
    assert row.last_seen_at > seen + REFRESH_AFTER
    assert row.created_at == created
    assert row.user_agent == "second"


async def test_the_memo_lets_a_visit_be_bumped_again_after_a_minute(
    client: httpx.AsyncClient, db: AsyncSession, sid: str, vid: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    viewer_of(await visit_as(client, sid, "alice"))
    seen = (await age(db, vid, REFRESH_AFTER * 2)).last_seen_at
    later = utcnow() + REFRESH_AFTER * 2
    monkeypatch.setattr("graph.context.utcnow", lambda: later)
    monkeypatch.setattr("domain.visits.utcnow", lambda: later)
    viewer_of(await visit_as(client, sid, "alice"))
    assert (await stored(db, vid)).last_seen_at == later > seen


async def test_the_refresh_interval_is_a_setting(
    serve: Serve, db: AsyncSession, sid: str, vid: str
) -> None:
    async with serve(visit_refresh_seconds=600) as client:
        viewer_of(await visit_as(client, sid, "alice", User_Agent="first"))
    seen = (await age(db, vid, timedelta(minutes=5))).last_seen_at
    async with serve(visit_refresh_seconds=600) as other:  # 5 minutes is within 10
        viewer_of(await visit_as(other, sid, "alice", User_Agent="second"))
    row = await stored(db, vid)
    assert (row.last_seen_at, row.user_agent) == (seen, "first")


# --- the user is set once ------------------------------------------------------------------


async def test_a_later_different_user_does_not_take_the_visit_over(
    serve: Serve, db: AsyncSession, sid: str, vid: str
) -> None:
    async with serve() as client:
        viewer_of(await visit_as(client, sid, "alice"))
        viewer_of(await visit_as(client, sid, "bob"))
    assert (await stored(db, vid)).user_id == "alice"
    seen = (await age(db, vid, REFRESH_AFTER * 5)).last_seen_at
    async with serve() as other:
        assert viewer_of(await visit_as(other, sid, "bob"))["id"] == "bob"
    row = await stored(db, vid)
    assert row.user_id == "alice"
    assert row.last_seen_at > seen  # the visit was refreshed, only the owner stayed


async def test_signing_in_within_a_minute_sets_the_user_without_bumping_last_seen_at(
    serve: Serve, db: AsyncSession, sid: str, vid: str
) -> None:
    async with serve(anonymous_sessions=True) as client:
        viewer_of(await visit_as(client, sid))
        anonymous = await stored(db, vid)
        assert anonymous.user_id is None
        seen = anonymous.last_seen_at
        viewer_of(await visit_as(client, sid, "alice"))
    row = await stored(db, vid)
    assert row.user_id == "alice"
    assert row.last_seen_at == seen


async def test_a_visit_without_a_token_after_a_sign_in_keeps_the_user(
    serve: Serve, db: AsyncSession, sid: str, vid: str
) -> None:
    async with serve(anonymous_sessions=True) as client:
        viewer_of(await visit_as(client, sid, "alice"))
        await age(db, vid, REFRESH_AFTER * 5)
        assert viewer_of(await visit_as(client, sid))["isAnonymous"] is True
    assert (await stored(db, vid)).user_id == "alice"


# --- anonymous sessions --------------------------------------------------------------------


async def test_an_anonymous_visitor_acts_as_its_visit(
    serve: Serve, db: AsyncSession, sid: str, vid: str
) -> None:
    async with serve(anonymous_sessions=True) as client:
        viewer = viewer_of(await visit_as(client, sid))
    assert viewer == {
        "id": f"session:{vid}", "isAdmin": False, "isAnonymous": True, "sessionId": vid,
    }
    assert (await stored(db, vid)).user_id is None  # the visit has no signed-in user


async def test_a_token_wins_over_the_anonymous_session(
    serve: Serve, sid: str, vid: str
) -> None:
    async with serve(anonymous_sessions=True) as client:
        viewer = viewer_of(await visit_as(client, sid, "alice"))
    assert viewer == {"id": "alice", "isAdmin": False, "isAnonymous": False, "sessionId": vid}


async def test_without_a_session_id_there_is_no_anonymous_viewer(serve: Serve) -> None:
    async with serve(anonymous_sessions=True) as client:
        assert viewer_of(await visit_as(client, None)) is None


async def test_with_anonymous_sessions_off_a_visitor_without_a_token_has_no_viewer(
    serve: Serve, sid: str
) -> None:
    async with serve(anonymous_sessions=False) as client:
        assert viewer_of(await visit_as(client, sid)) is None


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


async def test_a_credential_signed_with_another_secret_is_refused(
    serve: Serve, sid: str
) -> None:
    """VISIT_SECRET signs credentials: changing it ends every visit issued before."""
    async with serve(anonymous_sessions=True, visit_secret="k" + "0123456789abcdef" * 3) as c:
        response = await visit_as(c, sid)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_SESSION_ID"


# --- the client address --------------------------------------------------------------------


async def test_x_forwarded_for_is_believed_from_a_trusted_proxy(
    serve: Serve, db: AsyncSession, sid: str, vid: str
) -> None:
    async with serve(peer="10.0.0.5", trusted_proxies=["10.0.0.0/8"]) as client:
        viewer_of(await visit_as(client, sid, "alice", X_Forwarded_For="198.51.100.7"))
    assert (await stored(db, vid)).client_ip == "198.51.100.7"


async def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(
    serve: Serve, db: AsyncSession, sid: str, vid: str
) -> None:
    async with serve(peer="192.0.2.10", trusted_proxies=["10.0.0.0/8"]) as client:
        viewer_of(await visit_as(client, sid, "alice", X_Forwarded_For="198.51.100.7"))
    assert (await stored(db, vid)).client_ip == "192.0.2.10"


async def test_x_forwarded_for_is_ignored_without_trusted_proxies(
    serve: Serve, db: AsyncSession, sid: str, vid: str
) -> None:
    async with serve(peer="10.0.0.5") as client:
        viewer_of(await visit_as(client, sid, "alice", X_Forwarded_For="198.51.100.7"))
    assert (await stored(db, vid)).client_ip == "10.0.0.5"


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


def recorder() -> Visits:
    return Visits(VisitSigner(b"k" * 32))


def test_the_memo_is_due_once_a_minute_per_session_and_user() -> None:
    visits = recorder()
    now = utcnow()
    visits._written[("s", "alice")] = now
    assert not visits.due("s", "alice", now + REFRESH_AFTER - timedelta(seconds=1))
    assert visits.due("s", "alice", now + REFRESH_AFTER)
    assert visits.due("s", "bob", now)
    assert visits.due("s", None, now)
    visits.forget("s", "alice")
    assert visits.due("s", "alice", now)


async def test_recording_directly_writes_one_row_per_session(
    db: AsyncSession, vid: str
) -> None:
    visits = recorder()
    await visits.record(db, session_id=vid, user_id=None, user_agent=None, ip=None)
    await visits.record(db, session_id=vid, user_id="carol", user_agent="ua", ip="::1")
    row = await stored(db, vid)
    assert (row.user_id, row.user_agent, row.client_ip) == ("carol", "ua", "::1")
    assert not visits.due(vid, "carol", utcnow())


async def test_recorded_fields_are_cut_to_their_maxima(db: AsyncSession, vid: str) -> None:
    await recorder().record(db, session_id=vid, user_id=None, user_agent="\x00" + "u" * 9000,
                            ip="1" * 500)
    row = await stored(db, vid)
    assert row.user_agent == "u" * USER_AGENT_MAX
    assert row.client_ip is not None and len(row.client_ip) == 64
