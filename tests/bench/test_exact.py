"""The exact ceilings (bench/exact.py) write the server's bytes, and wrk's output is read
right (bench/wrk.py): a ceiling answering other bytes, or a misread figure, would make
`python -m bench.honest` compare different work."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from bench import exact, honest, wrk
from graph.app import create_app
from graph.auth import mint_token
from graph.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SECRET = "x7Kp2qVb9LmN4rT8wYz3cF6hJ1sD5gA0eQ-uI_oPlMnBvCxZaSdFgHjKlQwErTy"


@asynccontextmanager
async def _client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):  # type: ignore[attr-defined]  # both are Starlette apps
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]  # an ASGI app
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('exact') / 'exact.db'}"
    env = {"DATABASE_URL": url, "JWT_SECRET": SECRET, "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(ROOT)}
    for args in (["migrate"], ["seed", "--users", "2", "--tasks-per-user", "4",
                               "--steps-per-task", "3", "--messages-per-conversation", "7",
                               "--audit-logs-per-user", "5"]):
        subprocess.run([sys.executable, "-m", "graph.cli", *args], env=env, check=True,
                       capture_output=True)
    return url


async def test_the_exact_ceilings_write_the_servers_bytes_for_each_page(seeded: str) -> None:
    settings = Settings(database_url=seeded, jwt_secret=SECRET, max_page_size=200)
    token = mint_token(settings, user_id="demo-2", admin=False, ttl_seconds=600)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with _client(create_app(settings)) as server, _client(exact.build(seeded, SECRET)) as raw:
        found = await server.post("/graphql", headers=headers, content=honest._body(
            "{ conversations(first: 1) { edges { node { id } } } }"))
        conversation = found.json()["data"]["conversations"]["edges"][0]["node"]["id"]
        pages = {"page": honest._body(honest.PAGE), "audit": honest._body(honest.AUDIT),
                 "chat": honest._body(honest.CHAT, {"id": conversation})}
        for path, body in pages.items():
            ours = await server.post("/graphql", headers=headers, content=body)
            ceiling = await raw.post(f"/{path}", headers=headers, content=body)
            assert ours.status_code == ceiling.status_code == 200
            assert b'"edges":[{' in ours.content, path  # a page with rows, not an empty one
            assert ceiling.content == ours.content, path


async def test_an_exact_ceiling_refuses_a_request_without_a_valid_token(seeded: str) -> None:
    async with _client(exact.build(seeded, SECRET)) as raw:
        answer = await raw.post("/page", content=honest._body(honest.PAGE),
                                headers={"Authorization": "Bearer forged"})
    assert answer.status_code == 401


# wrk's own output, trailing spaces included (it pads seconds: "1.14s ").
WRK_OUTPUT = "\n".join([
    'Running 2s test @ http://127.0.0.1:18900/',
    '  1 threads and 8 connections',
    '  Thread Stats   Avg      Stdev     Max   +/- Stdev',
    '    Latency   904.85ms  255.86ms   1.20s    66.67%',
    '  Latency Distribution',
    '     50%  930.49us',
    '     75%    1.14s ',
    '     90%    1.18s ',
    '     99%    1.20s ',
    '  1200 requests in 2.01s, 548.00KB read',
    '  Socket errors: connect 0, read 2, write 0, timeout 3',
    '  Non-2xx or 3xx responses: 4',
    'Requests/sec:    597.01',
    '',
])


def test_wrks_figures_are_read_with_their_units_and_failures() -> None:
    figures = wrk.parse("page", WRK_OUTPUT)
    assert figures.requests == 1200 and figures.seconds == pytest.approx(2.01)
    assert figures.p50_ms == pytest.approx(0.93049) and figures.p99_ms == pytest.approx(1200)
    assert figures.failures == 9


def test_wrk_output_without_a_latency_distribution_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="no latency distribution"):
        wrk.parse("page", "  10 requests in 1.00s, 1KB read\n")
