"""A rolling restart behind HAProxy loses nothing (docs/production.md, "Rolling restarts").

Two `clarity-graph serve` processes on PostgreSQL (one with one process, one with
`--workers 2`) behind HAProxy running examples/deploy/haproxy.cfg as committed, its health
check on /readyz. Clients send a mix of reads and writes through HAProxy, each write with a
title of its own, while live subscribers listen on WebSockets through it. Each server is
restarted in turn (SIGTERM, its exit awaited, started again, until HAProxy has it back up),
twice. Asserted: no request failed, and the database holds every acknowledged write exactly
once and nothing else; every WebSocket the servers closed was closed with 1012, and each
subscriber, reconnected, gets the changes made after the last restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import DATABASE_URL, ON_POSTGRES, TEST_SECRET
from tests.servers import PROTOCOL, free_port, token

HAPROXY = shutil.which("haproxy")
CONFIG = Path(__file__).resolve().parents[2] / "examples" / "deploy" / "haproxy.cfg"
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed (Debian's haproxy "
                       "package; .ci/run installs it)"),
    pytest.mark.skipif(not ON_POSTGRES, reason="two servers sharing live events need "
                       "PostgreSQL (TEST_DATABASE_URL)"),
]
DRAIN_DELAY = "1.5"  # seconds; HAProxy notices within 2 x 200 ms
CHECK_INTER = "200ms"
ROUNDS = 2
USERS = 3
CLIENTS_PER_USER = 1
PAUSE = 0.05  # between one client's requests: a steady load, not a benchmark
CREATE = """mutation($input: CreateTaskInput!) { createTask(input: $input) { __typename } }"""
READ = "{ tasks(first: 5) { edges { node { title } } } }"
TASK_CHANGES = """subscription($after: String) {
  taskChanges(after: $after) { kind cursor task { title } } }"""
SERVICE_RESTART = 1012


class Server:
    """One `clarity-graph serve` on a fixed port, started again on the same port."""

    def __init__(self, workdir: Path, *args: str, drain_delay: str = DRAIN_DELAY) -> None:
        self.workdir, self.args, self.port = workdir, args, free_port()
        self.drain_delay = drain_delay
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / f"server-{self.port}.log"

    def start(self) -> None:
        env = {**os.environ, "JWT_SECRET": TEST_SECRET, "LOG_LEVEL": "WARNING",
               "DATABASE_URL": DATABASE_URL, "DRAIN_DELAY_SECONDS": self.drain_delay,
               "WORKERS": "1"}
        for name in ("ASYNC_DATABASE_URI", "ENVIRONMENT", "TEST_DATABASE_URL"):
            env.pop(name, None)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "graph.cli", "serve", "--port", str(self.port),
                 *self.args], cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, then its exit awaited: the drain, then uvicorn's shutdown."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited: {self.log.read_text()[-2000:]}")
        return httpx.get(f"http://{self.address}/readyz", timeout=2).status_code == 200

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def wait_until(check: Any, what: str, timeout: float = 60, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if check():
                return
        time.sleep(0.1)
    tail = log.read_text()[-2000:] if log is not None else ""
    raise AssertionError(f"not {what} within {timeout} s {tail}")


def proxy_states(stats: str) -> dict[str, str]:
    """Each server's state as HAProxy has it (its stats page, as CSV)."""
    page = httpx.get(f"http://{stats}/stats;csv", timeout=2).text.lstrip("# ")
    return {row["svname"]: row["status"] for row in csv.DictReader(io.StringIO(page))
            if row["pxname"] == "graph" and row["svname"] in ("a", "b")}


@dataclass
class Tally:
    requests: int = 0
    written: dict[str, list[str]] = field(default_factory=dict)  # user -> titles acknowledged
    failures: list[str] = field(default_factory=list)


async def client(base: str, user: str, name: str, stop: asyncio.Event, tally: Tally) -> None:
    """Reads and writes in turn through HAProxy until told to stop; every failure noted."""
    headers = {"Authorization": f"Bearer {token(user)}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as http:
        count = 0
        while not stop.is_set():
            count += 1
            title = f"{name}-{count}"
            write = count % 2 == 0
            body = {"query": CREATE, "variables": {"input": {"title": title}}} if write else {
                "query": READ}
            tally.requests += 1
            try:
                response = await http.post("/graphql", json=body)
                answer = response.json()
            except (httpx.HTTPError, ValueError) as error:
                tally.failures.append(f"{'write' if write else 'read'}: {error!r}")
                continue
            if response.status_code != 200 or "errors" in answer:
                tally.failures.append(f"{response.status_code}: {answer}")
            elif write:
                assert answer["data"]["createTask"]["__typename"] == "CreateTaskSuccess"
                tally.written.setdefault(user, []).append(title)
            await asyncio.sleep(PAUSE)


@dataclass
class Listener:
    """One user's live subscriber through HAProxy, connecting again after each close with the
    last cursor it received, until cancelled."""

    user: str
    cursor: str | None = None
    titles: list[str] = field(default_factory=list)
    closes: list[int | None] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    connected: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self, ws_url: str) -> None:
        while True:
            try:
                async with websockets.connect(ws_url, subprotocols=[PROTOCOL]) as socket:
                    with contextlib.suppress(websockets.ConnectionClosed):
                        await self.listen(socket)
                    self.closes.append(socket.close_code)
            except (OSError, websockets.InvalidHandshake) as error:
                self.failures.append(f"connect: {error!r}")
                await asyncio.sleep(0.1)
            self.connected.clear()

    async def listen(self, socket: Any) -> None:
        await socket.send(json.dumps({"type": "connection_init",
                                      "payload": {"authorization": f"Bearer {token(self.user)}"}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {
            "query": TASK_CHANGES, "variables": {"after": self.cursor}}}))
        await socket.send(json.dumps({"type": "ping"}))  # answered once the subscribe is handled
        async for frame in socket:
            message = json.loads(frame)
            if message["type"] == "pong":
                self.connected.set()
            elif message["type"] == "next" and "errors" not in message["payload"]:
                change = message["payload"]["data"]["taskChanges"]
                self.titles.append(change["task"]["title"])
                self.cursor = change["cursor"]
            else:
                self.failures.append(f"unexpected: {message}")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    pair = [Server(tmp_path), Server(tmp_path, "--workers", "2")]
    yield pair
    for server in pair:
        server.kill()


@pytest.fixture
def proxy(tmp_path: Path, servers: list[Server]) -> Iterator[tuple[str, str]]:
    """HAProxy on examples/deploy/haproxy.cfg: its address and its stats page's."""
    assert HAPROXY is not None
    bind, stats = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    env = {**os.environ, "CLARITY_BIND": bind, "CLARITY_STATS": stats,
           "CLARITY_CHECK_INTER": CHECK_INTER, "CLARITY_SERVER_A": servers[0].address,
           "CLARITY_SERVER_B": servers[1].address}
    with (tmp_path / "haproxy.log").open("wb") as log:
        process = subprocess.Popen([HAPROXY, "-db", "-f", str(CONFIG)], env=env, stdout=log,
                                   stderr=subprocess.STDOUT)
    try:
        yield bind, stats
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def users(committed_users: Callable[[str], str]) -> list[str]:
    return [committed_users(f"rolling-{n}") for n in range(USERS)]


def all_up(stats: str, servers: list[Server]) -> None:
    for server in servers:
        wait_until(server.ready, "ready", timeout=90, log=server.log)
    wait_until(lambda: set(proxy_states(stats).values()) == {"UP"}, "up in HAProxy")


def restart(server: Server, stats: str, servers: list[Server]) -> None:
    assert server.stop() in (0, -signal.SIGTERM), "serve did not stop cleanly"
    server.start()
    all_up(stats, servers)


async def test_a_rolling_restart_loses_nothing(
    servers: list[Server], proxy: tuple[str, str], users: list[str], engine: AsyncEngine
) -> None:
    bind, stats = proxy
    for server in servers:
        server.start()
    await asyncio.to_thread(all_up, stats, servers)
    base, stop, tally = f"http://{bind}", asyncio.Event(), Tally()
    listeners = [Listener(user) for user in users]
    subscribed = [asyncio.create_task(listener.run(f"ws://{bind}/graphql"))
                  for listener in listeners]
    try:
        await every_one_connected(listeners)
        # A first change each, so every subscriber holds a cursor before any restart.
        await wait_for_titles(listeners, await one_write_each(base, users, "before", tally))
        clients = [asyncio.create_task(client(base, user, f"{user}-{n}", stop, tally))
                   for user in users for n in range(CLIENTS_PER_USER)]
        started = time.monotonic()
        for _ in range(ROUNDS):
            for server in servers:
                await asyncio.to_thread(restart, server, stats, servers)
        stop.set()
        await asyncio.wait_for(asyncio.gather(*clients), 30)
        duration = time.monotonic() - started
        # Changes resume in commit order: once the last write is in, every one before is.
        await every_one_connected(listeners)
        await wait_for_titles(listeners, await one_write_each(base, users, "after", tally))
    finally:
        for task in subscribed:
            task.cancel()
        await asyncio.gather(*subscribed, return_exceptions=True)

    stored = await stored_titles(engine, users)
    written = {title for titles in tally.written.values() for title in titles}
    duplicates = sorted(title for title, count in stored.items() if count > 1)
    lost = sorted(written - set(stored))
    unacknowledged = sorted(set(stored) - written)
    closes = [code for listener in listeners for code in listener.closes]
    print(f"\nrolling restart: {tally.requests} requests, {len(written)} writes, "
          f"{len(tally.failures)} failures, {ROUNDS * len(servers)} restarts, "
          f"{duration:.1f} s; {len(closes)} WebSocket closes, "
          f"{sum(len(lis.titles) for lis in listeners)} changes delivered")
    assert tally.failures == []
    assert [failure for listener in listeners for failure in listener.failures] == []
    assert (lost, duplicates, unacknowledged) == ([], [], [])
    assert closes and set(closes) == {SERVICE_RESTART}
    for listener in listeners:  # each of its user's changes, exactly once
        assert sorted(listener.titles) == sorted(tally.written[listener.user])


async def every_one_connected(listeners: list[Listener]) -> None:
    await asyncio.wait_for(asyncio.gather(*(lis.connected.wait() for lis in listeners)), 30)


async def one_write_each(
    base: str, users: list[str], name: str, tally: Tally
) -> dict[str, str]:
    """A write per user outside the load, each counted as written: title -> user."""
    made = {f"{name}-{user}": user for user in users}
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        for title, user in made.items():
            response = await http.post(
                "/graphql", json={"query": CREATE, "variables": {"input": {"title": title}}},
                headers={"Authorization": f"Bearer {token(user)}"})
            assert response.json()["data"]["createTask"]["__typename"] == "CreateTaskSuccess"
            tally.written.setdefault(user, []).append(title)
    return made


async def wait_for_titles(listeners: list[Listener], made: dict[str, str]) -> None:
    for listener in listeners:
        wanted = {title for title, user in made.items() if user == listener.user}
        for _ in range(100):
            if wanted <= set(listener.titles):
                break
            await asyncio.sleep(0.1)
        assert wanted <= set(listener.titles), f"{listener.user} missed {wanted}"


async def stored_titles(engine: AsyncEngine, users: list[str]) -> dict[str, int]:
    async with engine.connect() as connection:
        rows = await connection.execute(text(
            "SELECT title, count(*) FROM tasks WHERE user_id = ANY(:users) GROUP BY title"),
            {"users": users})
        return {title: count for title, count in rows}
