"""A database outage, as clients and operators see it.

Clients: every request gets a whole answer, SERVICE_UNAVAILABLE ("retry shortly", with an
error id), and HTTP 503 with Retry-After when they asked for application/graphql-response+json
and nothing could be answered; legacy application/json keeps 200. Operators: one traceback per
outage, not one per request; the rest are counted, and the count is logged when it ends
(`graph.observability.FirstThenCounted`, whose own rules are specified at the end).

Outages are made as in test_faults.py: on SQLite the database's directory is renamed away;
on PostgreSQL (TEST_DATABASE_URL) a TCP proxy between the app and the server is cut.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import make_url
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph import app as app_module
from graph import context as context_module
from graph.app import create_app
from graph.auth import mint_token
from graph.errors import DATABASE_OUTAGE, database_unavailable
from graph.execution import database as database_module
from graph.ids import encode_id
from graph.observability import FirstThenCounted
from graph.pubsub import PostgresBroker
from tests.conftest import DATABASE_URL, ON_POSTGRES, make_settings, mint_visit
from tests.graph.test_faults import (
    COUNT,
    CREATE,
    UNAVAILABLE,
    Api,
    Proxy,
    SqliteSite,
    assert_unreachable,
    engine_of,
    fresh_user,
    migrated_sqlite_site,
    proxy_secrets,
)

GRAPHQL_RESPONSE = "application/graphql-response+json"
WAIT_SECONDS = 10.0  # bound on any wait for something asynchronous to happen
REQUESTS = 40  # failing requests per outage in the logging tests
postgres_only = pytest.mark.skipif(not ON_POSTGRES, reason="needs TEST_DATABASE_URL (PostgreSQL)")


# --- outages on either engine ---------------------------------------------------------------


@dataclass
class SqliteOutage:
    site: SqliteSite
    user: str

    @property
    def url(self) -> str:
        return self.site.url

    @property
    def secrets(self) -> list[str]:
        return [str(self.site.directory), "faults.db"]

    async def begin(self, app: FastAPI) -> None:
        self.site.directory.rename(self.site.directory.with_name("away"))
        # An open SQLite descriptor outlives the rename: drop the pool's idle connections.
        await engine_of(app).dispose()

    async def end(self) -> None:
        self.site.directory.with_name("away").rename(self.site.directory)


@dataclass
class PostgresOutage:
    proxy: Proxy
    user: str

    @property
    def url(self) -> str:
        url = make_url(DATABASE_URL).set(host="127.0.0.1", port=self.proxy.port)
        return url.render_as_string(hide_password=False)

    @property
    def secrets(self) -> list[str]:
        return proxy_secrets(self.proxy)

    async def begin(self, _app: FastAPI) -> None:
        self.proxy.cut()

    async def end(self) -> None:
        await self.proxy.restore()


Outage = SqliteOutage | PostgresOutage


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=[postgres_only, pytest.mark.postgres_only])]
)
def outage(request: pytest.FixtureRequest) -> Outage:
    if request.param == "postgresql" and not ON_POSTGRES:  # asked for by name (indirect)
        pytest.skip("needs TEST_DATABASE_URL (PostgreSQL)")
    chosen: Outage = request.getfixturevalue(f"{request.param}_outage")
    return chosen


@pytest.fixture
async def sqlite_outage(tmp_path: Path) -> SqliteOutage:
    return SqliteOutage(await migrated_sqlite_site(tmp_path), fresh_user())


@pytest.fixture
async def postgresql_outage(
    committed_users: Callable[[str], str],
) -> AsyncIterator[PostgresOutage]:
    # `committed_users`' engine migrated the test database (directly, not through the proxy).
    url = make_url(DATABASE_URL)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    yield PostgresOutage(proxy, committed_users("outage"))
    await proxy.close()


@pytest.fixture(autouse=True)
def no_outage_in_progress() -> None:
    """The trackers are per process: end whatever run an earlier test left open."""
    for tracker in (
        DATABASE_OUTAGE,
        app_module.READINESS_FAILURES,
        database_module.CLOSE_FAILURES,
        context_module.VISIT_FAILURES,
    ):
        tracker.recovered()


@pytest.fixture
async def app(outage: Outage) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(database_url=outage.url, anonymous_sessions=True))
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
async def api(app: FastAPI, outage: Outage) -> AsyncIterator[Api]:
    # raise_app_exceptions: an exception escaping the app (a lost response) fails the test.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
    async with httpx.AsyncClient(transport=transport, base_url="http://outages") as http:
        yield Api(http, outage.user)


async def post(api: Api, query: str, **headers: str) -> httpx.Response:
    """`api.graphql`, with headers of the test's choosing."""
    token = mint_token(make_settings(), user_id=api.user, admin=False, ttl_seconds=600)
    async with asyncio.timeout(WAIT_SECONDS):
        return await api.http.post(
            "/graphql", json={"query": query},
            headers={"Authorization": f"Bearer {token}", **headers},
        )


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json().get("errors", [])]


# --- what clients get -----------------------------------------------------------------------


async def test_an_outage_is_service_unavailable_with_an_error_id_and_nothing_internal(
    app: FastAPI, api: Api, outage: Outage
) -> None:
    await api.create("before the outage", [])
    await outage.begin(app)
    assert_unreachable(await api.graphql(COUNT), "tasks", outage.secrets)
    created = await api.graphql(CREATE, {"input": {"title": "during the outage"}})
    assert_unreachable(created, "createTask", outage.secrets)
    await outage.end()


async def test_an_outage_is_503_with_retry_after_under_graphql_response_json(
    app: FastAPI, api: Api, outage: Outage
) -> None:
    await api.create("before the outage", [])
    await outage.begin(app)
    response = await post(api, COUNT, Accept=GRAPHQL_RESPONSE)
    assert response.status_code == 503
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert body["data"] is None
    assert [e["message"] for e in body["errors"]] == [UNAVAILABLE]
    await outage.end()


async def test_an_outage_stays_200_under_legacy_application_json(
    app: FastAPI, api: Api, outage: Outage
) -> None:
    await api.create("before the outage", [])
    await outage.begin(app)
    response = await post(api, COUNT, Accept="application/json")
    assert response.status_code == 200
    assert "retry-after" not in response.headers
    assert codes(response) == ["SERVICE_UNAVAILABLE"]
    await outage.end()


async def test_a_partial_answer_during_an_outage_stays_200(
    app: FastAPI, api: Api, outage: Outage
) -> None:
    await api.create("before the outage", [])
    await outage.begin(app)
    # `viewer` needs no database; `node` is nullable, so its failure leaves data behind.
    query = f'{{ viewer {{ id }} node(id: "{encode_id("Task", 1)}") {{ id }} }}'
    response = await post(api, query, Accept=GRAPHQL_RESPONSE)
    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": {"id": api.user}, "node": None}
    assert codes(response) == ["SERVICE_UNAVAILABLE"]
    await outage.end()


async def test_every_request_during_an_outage_gets_a_whole_answer(
    app: FastAPI, api: Api, outage: Outage
) -> None:
    await api.create("before the outage", [])
    await outage.begin(app)
    # Visits are recorded (and fail) before the operation; mutations fail in a transaction.
    # Ten at a time: more than the pool's 15 slots would wait out its checkout timeout
    # (DB_POOL_TIMEOUT_SECONDS) and make the test slow.
    mutation = 'mutation { createTask(input: {title: "lost"}) { __typename } }'
    for _round in range(3):
        responses = await asyncio.gather(*(
            post(api, query, **{"X-Session-Id": mint_visit().text})
            for query in [COUNT, mutation] * 5
        ))
        for response in responses:
            assert response.status_code == 200, response.text
            assert codes(response) == ["SERVICE_UNAVAILABLE"]
    await outage.end()
    assert await api.count() == 1  # and nothing was half-written


async def test_a_connection_error_outside_the_database_is_not_an_outage() -> None:
    # The assistant's HTTP client raises the same OSErrors; only the database's count.
    try:
        raise ConnectionRefusedError(111, "Connect call failed")
    except OSError as error:
        assert not database_unavailable(error)


# --- what operators get ---------------------------------------------------------------------


def failures(record: logging.LogRecord) -> int:
    """The count a run's closing line carries (`extra`, a field of the JSON log line)."""
    return int(getattr(record, "failures"))  # noqa: B009 (set through `extra`)


def run_ends(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    """The lines that end a run of failures ("... over after 2.1 s, 40 in all")."""
    return [r for r in caplog.records if r.name == logger and "over after" in r.getMessage()]


def tracebacks(
    caplog: pytest.LogCaptureFixture, level: int, logger: str = ""
) -> list[logging.LogRecord]:
    """Records at `level` or above with a traceback, of `logger` (and below it) or of all."""
    return [
        r for r in caplog.records
        if r.levelno >= level and r.exc_info and r.name.startswith(logger)
    ]


async def test_an_outage_logs_one_traceback_and_counts_the_rest(
    app: FastAPI, api: Api, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    await api.create("before the outage", [])
    await outage.begin(app)
    with caplog.at_level(logging.INFO):
        failed = 0
        for _ in range(REQUESTS // 10):
            responses = await asyncio.gather(*(post(api, COUNT) for _ in range(10)))
            failed += sum(codes(response) == ["SERVICE_UNAVAILABLE"] for response in responses)
        assert failed == REQUESTS
        [first] = tracebacks(caplog, logging.ERROR)
        assert first.name == "graph.errors"
        logged = [r for r in caplog.records if r.name == "graph.errors"]
        assert logged == [first]  # the other 39 only at DEBUG
        await outage.end()
        await api.count()  # succeeds: the outage is over
    [over] = run_ends(caplog, "graph.errors")
    assert failures(over) == REQUESTS
    assert tracebacks(caplog, logging.ERROR) == [first]


async def test_the_first_error_logged_carries_the_error_id_the_client_got(
    app: FastAPI, api: Api, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    await api.create("before the outage", [])
    await outage.begin(app)
    with caplog.at_level(logging.ERROR, logger="graph.errors"):
        response = await post(api, COUNT)
    error_id = response.json()["errors"][0]["extensions"]["errorId"]
    [record] = tracebacks(caplog, logging.ERROR, "graph.errors")
    assert error_id in record.getMessage()
    await outage.end()


async def test_failing_readiness_checks_log_one_traceback(
    app: FastAPI, api: Api, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    await outage.begin(app)
    with caplog.at_level(logging.INFO, logger="graph.app"):
        for _ in range(10):
            ready, _elapsed = await api.get("/readyz")
            assert ready.status_code == 503
        assert len(tracebacks(caplog, logging.WARNING, "graph.app")) == 1
        await outage.end()
        ready, _elapsed = await api.get("/readyz")
        assert ready.status_code == 200
    [over] = run_ends(caplog, "graph.app")
    assert failures(over) == 10


async def test_failing_visits_log_one_traceback(
    app: FastAPI, api: Api, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    await api.create("before the outage", [])
    await outage.begin(app)
    with caplog.at_level(logging.WARNING, logger="graph.context"):
        for _ in range(10):
            await post(api, "{ viewer { id } }", **{"X-Session-Id": mint_visit().text})
    assert len(tracebacks(caplog, logging.WARNING, "graph.context")) == 1
    await outage.end()


# --- PostgreSQL: a connection dying after the response, the LISTEN connection -------------


def cutting_after_the_response(app: ASGIApp, proxy: Proxy) -> ASGIApp:
    """The app, with the proxy cut once, right after the first response has been sent: the
    request's context then ends (and closes its session) on a dead connection."""
    cut: list[bool] = []

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_then_cut(message: Message) -> None:
            await send(message)
            ended = message["type"] == "http.response.body" and not message.get("more_body")
            if ended and not cut:
                cut.append(True)
                proxy.cut()
                await asyncio.sleep(0.1)  # let the app's driver see its connection end

        await app(scope, receive, send_then_cut)

    return wrapped


@pytest.mark.parametrize("outage", ["postgresql"], indirect=True)
async def test_a_connection_lost_after_the_response_does_not_escape_the_app(
    app: FastAPI, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    assert isinstance(outage, PostgresOutage)
    transport = httpx.ASGITransport(
        app=cutting_after_the_response(app, outage.proxy), raise_app_exceptions=True
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://outages") as http:
        api = Api(http, outage.user)
        with caplog.at_level(logging.WARNING, logger="graph.execution.database"):
            assert await api.count() == 0  # its read transaction is open until the close
        [failure] = tracebacks(caplog, logging.WARNING, "graph.execution.database")
        assert "close" in failure.getMessage()
        await outage.end()
        assert await api.count() == 0  # the dead connection was not handed out again


@pytest.mark.parametrize("outage", ["postgresql"], indirect=True)
async def test_failed_listen_reconnects_log_one_traceback(
    outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    assert isinstance(outage, PostgresOutage)
    broker = PostgresBroker(outage.url)
    await broker.start()
    try:
        with caplog.at_level(logging.DEBUG, logger="graph.pubsub"):
            outage.proxy.cut()
            await _until(lambda: len(_reconnect_failures(caplog)) >= 3)
            await outage.end()
            await _until(lambda: broker.listening)
        [first] = tracebacks(caplog, logging.WARNING, "graph.pubsub")
        assert "reconnect" in first.getMessage()
        [over] = run_ends(caplog, "graph.pubsub.postgres")
        assert failures(over) == len(_reconnect_failures(caplog))
    finally:
        await broker.stop()


def _reconnect_failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.getMessage() == "LISTEN reconnect failed; retrying"]


async def _until(condition: Any) -> None:
    async with asyncio.timeout(WAIT_SECONDS):
        while not condition():  # noqa: ASYNC110 (polls state the code under test owns)
            await asyncio.sleep(0.05)


# --- the rule itself: first in full, then counted -------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tracker(clock: Clock) -> FirstThenCounted:
    logger = logging.getLogger("tests.first_then_counted")
    return FirstThenCounted(logger, "things failing", summary_seconds=10, quiet_seconds=60,
                            clock=clock)


def fail(tracker: FirstThenCounted) -> bool:
    return tracker.failed("a thing failed", exc_info=RuntimeError("boom"))


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str, bool]]:
    return [
        (r.levelno, r.getMessage(), r.exc_info is not None)
        for r in caplog.records if r.name == "tests.first_then_counted"
    ]


def test_the_first_failure_is_logged_with_its_traceback_the_rest_at_debug(
    tracker: FirstThenCounted, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="tests.first_then_counted"):
        assert [fail(tracker) for _ in range(3)] == [True, False, False]
    assert lines(caplog) == [
        (logging.ERROR, "a thing failed", True),
        (logging.DEBUG, "a thing failed", False),
        (logging.DEBUG, "a thing failed", False),
    ]


def test_a_summary_is_logged_at_most_every_interval_while_failures_continue(
    tracker: FirstThenCounted, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tests.first_then_counted"):
        for _ in range(25):  # one failure a second for 25 s
            fail(tracker)
            clock.now += 1
    assert [line for _level, line, _tb in lines(caplog)] == [
        "a thing failed",
        "things failing: 10 more in the last 10 s, 11 since the first",
        "things failing: 10 more in the last 10 s, 21 since the first",
    ]


def test_a_success_ends_the_run_with_its_count(
    tracker: FirstThenCounted, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tests.first_then_counted"):
        fail(tracker)
        clock.now += 2.5
        fail(tracker)
        tracker.recovered()
        tracker.recovered()  # nothing more to say
        assert fail(tracker)  # a new run, logged in full
    assert [line for _level, line, _tb in lines(caplog)] == [
        "a thing failed", "things failing: over after 2.5 s, 2 in all", "a thing failed",
    ]


def test_a_run_that_went_quiet_ends_and_the_next_failure_is_logged_in_full(
    tracker: FirstThenCounted, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="tests.first_then_counted"):
        fail(tracker)
        clock.now += 3
        fail(tracker)
        clock.now += 61
        assert fail(tracker)
    assert [line for _level, line, _tb in lines(caplog)] == [
        "a thing failed", "things failing: over after 3.0 s, 2 in all", "a thing failed",
    ]
