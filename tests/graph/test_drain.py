"""SIGTERM drains `clarity-graph serve` (graph/drain.py), on real server processes.

/readyz answers 503 at once and /healthz 200; for DRAIN_DELAY_SECONDS new connections,
requests and WebSocket upgrades are still served (responses with `Connection: close`); then
the listener closes, a running request finishes, and WebSockets are closed with 1012. The
hook rests on uvicorn installing its handler before the lifespan starts: the first tests
fail if a uvicorn release stops doing so.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import websockets
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.types import Receive, Scope, Send

from graph.drain import handler_is_uvicorns
from graph.settings import Settings
from tests.conftest import ON_POSTGRES
from tests.graph.test_rolling_restart import Server, wait_until
from tests.servers import (
    free_port,
    is_running,
    open_subscriber,
    running_server,
    serve_pid,
    token,
)

DELAY = 3.0  # DRAIN_DELAY_SECONDS in these servers
TASK_CHANGES = "subscription { taskChanges { kind } }"
QUERY = {"query": "{ viewer { id } }"}
SERVICE_RESTART = 1012


def test_the_delay_is_five_seconds_in_production_and_none_in_development() -> None:
    assert Settings(environment="production").drain_delay == 5.0
    assert Settings().drain_delay == 0.0
    assert Settings(drain_delay_seconds=1.5).drain_delay == 1.5


def test_a_delay_over_a_minute_is_not_a_setting() -> None:
    with pytest.raises(ValidationError):
        Settings(drain_delay_seconds=61)


async def test_uvicorns_handler_is_in_place_while_the_lifespan_runs() -> None:
    # What graph/drain.py stands in front of: a uvicorn that installs its handler later, or
    # another way, fails here (and the drain would log a warning and not happen).
    seen: list[object] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "lifespan"
        await receive()
        seen.append(signal.getsignal(signal.SIGTERM))
        await send({"type": "lifespan.startup.complete"})
        server.should_exit = True
        await receive()
        await send({"type": "lifespan.shutdown.complete"})

    server = uvicorn.Server(uvicorn.Config(app, port=free_port(), log_config=None))
    await server.serve()
    assert len(seen) == 1 and handler_is_uvicorns(seen[0])
    assert not handler_is_uvicorns(signal.SIG_DFL)


async def answered(base: str, **headers: str) -> httpx.Response:
    """A query on a fresh connection."""
    async with httpx.AsyncClient(base_url=base, timeout=15) as client:
        return await client.post("/graphql", json=QUERY,
                                 headers={"Authorization": f"Bearer {token('drain')}", **headers})


async def refused(base: str) -> bool:
    try:
        await answered(base)
    except httpx.ConnectError:
        return True
    return False


async def seconds_until_refused(base: str, since: float, within: float) -> float:
    """How long after `since` a new connection was first refused (fails past `within`)."""
    for _ in range(int(within / 0.05)):
        if await refused(base):
            return time.monotonic() - since
        await asyncio.sleep(0.05)
    raise AssertionError(f"the listener stayed open {within} s")


def server_log(workdir: Path) -> str:
    return "".join(path.read_text() for path in workdir.glob("server-*.log"))


async def begin_request(base: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter, bytes]:
    """A POST whose body is not all sent yet: running on the server until it is."""
    url = httpx.URL(base)
    reader, writer = await asyncio.open_connection(url.host, url.port)
    body = json.dumps(QUERY).encode()
    writer.write(
        b"POST /graphql HTTP/1.1\r\nHost: drain\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token('drain')}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        + body[:5]
    )
    await writer.drain()
    return reader, writer, body[5:]


@pytest.fixture
async def sockets() -> AsyncIterator[list[Any]]:
    opened: list[Any] = []
    yield opened
    for socket in opened:
        await socket.close()


@pytest.mark.slow
async def test_sigterm_drains_then_stops(tmp_path: Path, sockets: list[Any]) -> None:
    with running_server(tmp_path, DRAIN_DELAY_SECONDS=str(DELAY), LOG_LEVEL="INFO") as base:
        subscriber = await open_subscriber(base, "drain", sockets)
        await subscriber.subscribe(TASK_CHANGES)
        reader, writer, rest = await begin_request(base)
        pid = serve_pid(base)
        await asyncio.sleep(0.2)  # the request has reached the app (not a timing assertion)
        os.kill(pid, signal.SIGTERM)
        signalled = time.monotonic()

        # Each answered on a new connection: the listener is still open (no timing assumed).
        async with httpx.AsyncClient(base_url=base, timeout=15) as client:
            ready = await client.get("/readyz")
            assert (ready.status_code, ready.json()) == (503, {"status": "draining"})
            assert (await client.get("/healthz")).status_code == 200
        during = await answered(base)
        assert during.json()["data"]["viewer"]["id"] == "drain"
        assert during.headers["connection"] == "close"
        late = await open_subscriber(base, "drain", sockets)  # upgrades are served too
        await late.subscribe(TASK_CHANGES)

        assert await seconds_until_refused(base, signalled, DELAY + 10) >= DELAY - 0.2

        writer.write(rest)  # the running request finishes after the listener closed
        try:
            # The whole answer: it says `connection: close`, so it ends at EOF (its headers
            # and body may arrive in two reads).
            head = await asyncio.wait_for(reader.read(), 15)
        finally:
            writer.close()
            await writer.wait_closed()
        assert head.startswith(b"HTTP/1.1 200"), head
        assert b'"id":"drain"' in head
        for socket in (subscriber.socket, late.socket):
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 15)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == SERVICE_RESTART
        for _ in range(50):
            if not is_running(pid):
                break
            await asyncio.sleep(0.1)
        assert not is_running(pid)
    log = server_log(tmp_path)
    assert "SIGTERM: draining for 3 s" in log and "not uvicorn's" not in log


@pytest.mark.slow
async def test_without_a_delay_the_listener_closes_at_once(tmp_path: Path) -> None:
    with running_server(tmp_path, DRAIN_DELAY_SECONDS="0") as base:
        pid = serve_pid(base)
        os.kill(pid, signal.SIGTERM)
        assert await seconds_until_refused(base, time.monotonic(), 3) < 1.0


@pytest.mark.slow
@pytest.mark.skipif(not ON_POSTGRES, reason="more than one worker needs PostgreSQL")
async def test_every_worker_drains(tmp_path: Path, engine: AsyncEngine) -> None:
    # SIGTERM to `serve`: its supervisor passes it on, and each worker drains on its own.
    # (Server waits longer than running_server for two workers to start on a busy host.)
    server = Server(tmp_path, "--workers", "2", drain_delay=str(DELAY))
    server.start()
    try:
        await asyncio.to_thread(wait_until, server.ready, "ready", 90, server.log)
        base = f"http://{server.address}"
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGTERM)
        async with httpx.AsyncClient(base_url=base, timeout=15) as client:
            # The supervisor checks its signals twice a second, then passes SIGTERM on.
            for _ in range(int(DELAY / 0.1)):
                ready = await client.get("/readyz", headers={"Connection": "close"})
                if ready.status_code == 503:
                    break
                await asyncio.sleep(0.1)
            # Fresh connections, so the kernel hands them to either worker: every one drains.
            for _ in range(8):
                ready = await client.get("/readyz", headers={"Connection": "close"})
                assert ready.status_code == 503
        assert (await answered(base)).json()["data"]["viewer"]["id"] == "drain"
        await asyncio.to_thread(server.process.wait, DELAY + 30)
    finally:
        server.kill()
