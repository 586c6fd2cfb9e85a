"""/metrics: the figures move by what a load did, labels stay bounded, production never
serves them open, and `serve` exposes them on METRICS_PORT (N workers summed on PostgreSQL).

Figures are process-wide (other tests move them too), so each test reads them before and
after its load and compares the difference.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from domain.events import Event, EventKind
from graph.app import create_app
from graph.auth import ConfigurationError
from graph.metrics import POOL_IN_USE, POOL_WAITING, watch_pool
from graph.pubsub import build_broker
from models.database import EngineOptions, create_engine
from tests.conftest import (
    DATABASE_URL,
    ON_POSTGRES,
    TEST_SECRET,
    GqlWith,
    GraphQL,
    make_settings,
    session_as,
)
from tests.servers import free_port, open_subscriber, running_server, token

Figures = dict[tuple[str, frozenset[tuple[str, str]]], float]
ME = "query Me { viewer { id } }"
ADD = "mutation Add($title: String!) { createTask(input: {title: $title}) { __typename } }"
BROKEN = "query Broken { noSuchField }"
TASKS = "subscription Changes { taskChanges { kind } }"
STRONG_TOKEN = "Hzs12MwpxKpt5wkFfvZ6T+ek0+AZGHwuFn4WnHcLo8YC"
BROKER = "postgres" if ON_POSTGRES else "local"


def figures(exposition: str) -> Figures:
    found: Figures = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(found: Figures, name: str, **labels: str) -> float:
    """The sum of `name`'s samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, have), v in found.items() if n == name and wanted <= have)


def moved(before: Figures, after: Figures, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def scrape(client: httpx.AsyncClient, **headers: str) -> Figures:
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return figures(response.text)


async def test_a_load_through_the_app_moves_each_figure_by_its_amount(
    gql: GraphQL, client: httpx.AsyncClient
) -> None:
    before = await scrape(client)
    for _ in range(3):
        await gql.data(ME)
    for n in range(2):
        await gql.data(ADD, {"title": f"counted {n}"})
    broken = await gql(BROKEN)
    assert broken["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    after = await scrape(client)

    requests = "clarity_graphql_requests_total"
    assert moved(before, after, requests, operation="Me", type="query", transport="http") == 3
    assert moved(before, after, requests, operation="Add", type="mutation",
                 transport="http") == 2
    assert moved(before, after, requests, operation="Broken", transport="http") == 1
    assert moved(before, after, "clarity_graphql_request_duration_seconds_count",
                 operation="Me", type="query") == 3
    assert moved(before, after, "clarity_graphql_errors_total", operation="Broken",
                 code="GRAPHQL_VALIDATION_FAILED") == 1
    assert moved(before, after, "clarity_graphql_errors_total", operation="Me") == 0
    # One document lookup per operation; the same text again is a hit.
    lookups = "clarity_cache_lookups_total"
    assert moved(before, after, lookups, cache="document") == 6
    assert moved(before, after, lookups, cache="document", result="hit") >= 3
    # `Me` is compiled once and its plan reused.
    assert moved(before, after, lookups, cache="plan", result="hit") >= 2
    # Each createTask announces one event: one notification per mutation.
    assert moved(before, after, "clarity_live_notifications_published_total",
                 broker=BROKER) == 2


async def test_a_thousand_operation_names_make_a_bounded_number_of_series(
    gql_with: GqlWith,
) -> None:
    gql = await gql_with(metrics_operation_names=10)
    prefix = f"N{uuid.uuid4().hex[:8]}_"
    before = await scrape(gql.client)
    for n in range(1000):
        await gql.data(f"query {prefix}{n} {{ viewer {{ id }} }}")
    # A name that names no operation of its document is refused before any operation runs
    # (strawberry's HTTP layer): no label, nor a count.
    response = await gql.client.post(
        "/graphql", json={"query": ME, "operationName": f"{prefix}missing"},
        headers={"Authorization": f"Bearer {gql.token('alice')}"})
    assert response.status_code == 400, response.text
    after = await scrape(gql.client)
    own = {dict(labels)["operation"] for (name, labels) in after
           if name == "clarity_graphql_requests_total"
           and dict(labels).get("operation", "").startswith(prefix)}
    assert len(own) == 10
    assert moved(before, after, "clarity_graphql_requests_total", operation="other") == 990
    assert not any(dict(labels).get("operation") == f"{prefix}missing" for _, labels in after)


def production(**overrides: Any) -> Any:
    return make_settings(environment="production", **overrides)


async def test_production_without_a_token_serves_no_metrics_beside_the_api(
    session_factory: Any,
) -> None:
    app = create_app(production(), session_factory=session_factory)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        assert (await client.get("/metrics")).status_code == 404
        assert (await client.get("/healthz")).status_code == 200


@pytest.mark.parametrize("weak", ["changeme", "a" * 40, "metrics-token-metrics-token-metrics"])
def test_production_refuses_a_weak_metrics_token(weak: str) -> None:
    with pytest.raises(ConfigurationError, match="METRICS_TOKEN"):
        create_app(production(metrics_token=weak))


def test_an_empty_metrics_token_is_refused_everywhere() -> None:
    with pytest.raises(ConfigurationError, match="METRICS_TOKEN is empty"):
        create_app(make_settings(metrics_token=" "))


@pytest.mark.parametrize("environment", ["development", "production"])
async def test_a_token_once_set_is_required(session_factory: Any, environment: str) -> None:
    settings = make_settings(environment=environment, metrics_token=STRONG_TOKEN)
    app = create_app(settings, session_factory=session_factory)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        for refused in ({}, {"Authorization": "Bearer wrong"},
                        {"Authorization": f"Basic {STRONG_TOKEN}"},
                        {"Authorization": f"Bearer {STRONG_TOKEN}x"}):
            response = await client.get("/metrics", headers=refused)
            assert response.status_code == 401
            assert "clarity_" not in response.text
        found = await scrape(client, Authorization=f"Bearer {STRONG_TOKEN}")
        assert ("clarity_db_pool_in_use", frozenset()) in found


@pytest.fixture
async def small_pool(tmp_path: Path) -> AsyncIterator[Any]:
    """An engine of one connection and no overflow, watched, on the test's engine kind."""
    url = DATABASE_URL if ON_POSTGRES else f"sqlite+aiosqlite:///{tmp_path / 'pool.db'}"
    # SQLite's engine takes no pool size from the options (its default pool is 5): given here.
    engine = create_engine(EngineOptions(url=url, pool_timeout_seconds=5),
                           pool_size=1, max_overflow=0)
    watch_pool(engine.sync_engine)
    yield engine
    await engine.dispose()


async def test_the_pool_in_use_and_waiting_follow_checkouts(small_pool: Any) -> None:
    # The gauges are the process's (every watched engine's, summed): the suite's other
    # engines may hold connections of their own, so this pool's moves are read as changes.
    in_use, waiting_before = POOL_IN_USE._value.get(), POOL_WAITING._value.get()
    async with small_pool.connect() as held:
        await held.execute(text("SELECT 1"))
        assert POOL_IN_USE._value.get() == in_use + 1

        async def second() -> None:
            async with small_pool.connect() as connection:
                await connection.execute(text("SELECT 1"))

        waiting = asyncio.create_task(second())
        for _ in range(50):
            await asyncio.sleep(0.01)
            if POOL_WAITING._value.get() == waiting_before + 1:
                break
        assert POOL_WAITING._value.get() == waiting_before + 1  # behind the one connection
    await asyncio.wait_for(waiting, 5)
    assert POOL_WAITING._value.get() == waiting_before
    assert POOL_IN_USE._value.get() == in_use


async def test_notifications_are_counted_and_their_lag_measured(
    real_session_factory: Any, committed_users: Callable[[str], str],
) -> None:
    """A committed transaction's event: published once, received once by the listener (on
    PostgreSQL by LISTEN, the publishing process hearing its own), its lag observed."""
    broker = build_broker(DATABASE_URL, factory=real_session_factory)
    await broker.start()
    metrics_before = figures(_exposition())
    user = committed_users("lag")
    try:
        async with broker.subscribe(user) as reader:
            event = Event(EventKind.TASK_DELETED.value, user, 123)
            async with session_as(real_session_factory, user) as session, session.begin():
                recorded = await broker.publish(session, [event])
            broker.committed(recorded)
            heard = await asyncio.wait_for(reader.get(), 5)
            assert (heard.kind, heard.user_id, heard.key) == (event.kind, user, 123)
    finally:
        await broker.stop()
    after = figures(_exposition())
    for name in ("clarity_live_notifications_published_total",
                 "clarity_live_notifications_received_total",
                 "clarity_live_notify_lag_seconds_count"):
        assert moved(metrics_before, after, name, broker=BROKER) == 1, name
    lag = moved(metrics_before, after, "clarity_live_notify_lag_seconds_sum", broker=BROKER)
    assert 0 <= lag < 5


def _exposition() -> str:
    from prometheus_client import generate_latest

    from graph.metrics_exposure import registry

    return generate_latest(registry()).decode()


async def test_serve_exposes_the_figures_on_the_metrics_port_during_a_load(
    tmp_path: Path, committed_users: Callable[[str], str],
) -> None:
    """A real `serve` (PostgreSQL: two workers, their figures summed from the multiprocess
    files), queried, written to, refused and subscribed to; METRICS_PORT answers, the API's
    port does not need to."""
    metrics_port = free_port()
    env = {"METRICS_PORT": str(metrics_port), "JWT_SECRET": TEST_SECRET}
    args: list[str] = []
    if ON_POSTGRES:
        env["DATABASE_URL"] = DATABASE_URL
        args = ["--workers", "2"]
    scrape_url = f"http://127.0.0.1:{metrics_port}/metrics"
    user = committed_users("m")
    headers = {"Authorization": f"Bearer {token(user)}"}
    sockets: list[Any] = []
    with running_server(tmp_path, *args, **env) as base:
        async with httpx.AsyncClient() as client:
            before = figures((await client.get(scrape_url)).text)
            for _ in range(8):  # fresh connections: the kernel spreads them over workers
                async with httpx.AsyncClient() as fresh:
                    await fresh.post(f"{base}/graphql", json={"query": ME}, headers=headers)
            await client.post(f"{base}/graphql", headers=headers,
                              json={"query": ADD, "variables": {"title": "served"}})
            await client.post(f"{base}/graphql", json={"query": BROKEN}, headers=headers)
            subscriber = await open_subscriber(base, user, sockets)
            await subscriber.subscribe(TASKS)
            await asyncio.sleep(0.3)
            during = figures((await client.get(scrape_url)).text)
            for socket in sockets:
                await socket.close()
            await asyncio.sleep(0.3)
            after = figures((await client.get(scrape_url)).text)
    requests = "clarity_graphql_requests_total"
    assert moved(before, after, requests, operation="Me", transport="http") == 8
    assert moved(before, after, requests, operation="Add", type="mutation") == 1
    assert moved(before, after, requests, operation="Changes", type="subscription",
                 transport="websocket") == 1
    assert moved(before, after, "clarity_graphql_errors_total", operation="Broken",
                 code="GRAPHQL_VALIDATION_FAILED") == 1
    assert value(during, "clarity_live_subscriptions_open", transport="websocket") == 1
    assert value(after, "clarity_live_subscriptions_open", transport="websocket") == 0
    assert moved(before, after, "clarity_live_notifications_published_total") == 1
    if ON_POSTGRES:  # every worker hears each notification
        assert moved(before, after, "clarity_live_notifications_received_total") == 2


def test_production_serves_metrics_on_their_own_port_only(tmp_path: Path) -> None:
    """Production without METRICS_TOKEN: the API's port has no /metrics; METRICS_PORT does,
    bound to loopback."""
    metrics_port = free_port()
    with running_server(tmp_path, ENVIRONMENT="production", JWT_SECRET=STRONG_TOKEN,
                        METRICS_PORT=str(metrics_port)) as base:
        assert httpx.get(f"{base}/metrics").status_code == 404
        response = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics")
    assert response.status_code == 200
    assert "clarity_db_pool_in_use" in response.text
