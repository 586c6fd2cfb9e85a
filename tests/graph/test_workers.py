"""`clarity-graph serve --workers N`: how many processes by default, SQLite's refusal, and on
PostgreSQL two real worker processes behind one port, with live events crossing between them.

Which process answered is read from the server's own JSON log: every line carries its `pid`,
and the request's id (sent as X-Request-Id) ties a line to a request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.cli import main
from graph.observability import JsonFormatter
from graph.serving import STARTUP_FAILURE, worker_count
from graph.settings import Settings
from tests.conftest import DATABASE_URL, ON_POSTGRES, TEST_SECRET
from tests.graph.test_subscriptions import connect, users
from tests.servers import Subscriber, free_port, running_server, token

__all__ = ["connect", "users"]  # fixtures, used by name
SQLITE = "sqlite+aiosqlite:///./clarity.db"
POSTGRES = "postgresql+asyncpg://app@db.example/clarity"
UNREACHABLE = "postgresql+asyncpg://app@127.0.0.1:1/clarity"  # port 1: refused at once
KEEP_ALIVE_SECONDS = 1
TASK_CHANGES = "subscription { taskChanges { kind task { title } } }"
CREATE_TASK = """mutation($input: CreateTaskInput!) { createTask(input: $input) {
  __typename } }"""
ROUNDS = 5  # of concurrent requests on fresh connections, until two workers have answered
PER_ROUND = 12
WORKERS_UP_SECONDS = 60
REGISTERED = 0.2  # seconds for a subscription to be listening before the first change
on_postgres = pytest.mark.skipif(not ON_POSTGRES, reason="more than one worker needs PostgreSQL")


def test_the_default_on_sqlite_is_one_worker() -> None:
    assert Settings(database_url=SQLITE).worker_count == 1


def test_the_default_on_postgres_is_the_cpus_this_process_may_use() -> None:
    assert Settings(database_url=POSTGRES).worker_count == len(os.sched_getaffinity(0))


def test_the_workers_setting_replaces_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKERS", "3")
    assert Settings(database_url=POSTGRES).worker_count == 3


def test_the_flag_wins_over_the_setting() -> None:
    assert worker_count(Settings(database_url=POSTGRES, workers=3), 2) == 2


def test_zero_workers_is_not_a_setting() -> None:
    with pytest.raises(ValidationError):
        Settings(workers=0)


def test_zero_workers_on_the_command_line_are_refused(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["serve", "--workers", "0"]) == 2
    assert "--workers must be at least 1, not 0" in capsys.readouterr().err


def test_two_workers_on_sqlite_are_refused_before_anything_starts(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("JWT_SECRET", "x" * 32)
    assert main(["serve", "--workers", "2"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("clarity-graph: 2 workers on SQLite: live events are delivered")
    assert "use PostgreSQL" in error and "Traceback" not in error
    assert list(tmp_path.iterdir()) == []  # no database file made, no secret written


def test_the_workers_setting_on_sqlite_is_refused_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("WORKERS", "4")
    assert main(["serve"]) == 2
    assert "4 workers on SQLite" in capsys.readouterr().err


def test_workers_do_not_start_when_the_database_is_unreachable(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)
    monkeypatch.setenv("JWT_SECRET", "x" * 32)
    assert main(["serve", "--workers", "2"]) == STARTUP_FAILURE
    assert "cannot start the workers: [Errno 111]" in capsys.readouterr().err


def test_the_parent_makes_the_development_secret_before_the_workers(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Made once here, every worker reads the same secret instead of racing to make its own.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", UNREACHABLE)  # stops it right after, before uvicorn
    monkeypatch.delenv("JWT_SECRET", raising=False)
    main(["serve", "--workers", "2"])
    assert (tmp_path / "clarity-graph" / "jwt-secret").read_text().strip()


# Loaded at every interpreter's start (PYTHONPATH): in the workers alone, a manifest that
# does not exist, so each worker's start-up fails after the parent's checks have passed.
BROKEN_WORKERS = """import os, sys
if "--multiprocessing-fork" in sys.argv:  # a worker uvicorn spawned, not `serve` itself
    os.environ["PERSISTED_QUERIES_MANIFEST"] = "/nonexistent/manifest.json"
"""


@on_postgres
def test_serve_exits_with_a_failure_when_its_workers_fail_to_start(
    tmp_path: Path, engine: AsyncEngine
) -> None:
    (tmp_path / "sitecustomize.py").write_text(BROKEN_WORKERS)
    path = os.pathsep.join(p for p in (str(tmp_path), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "JWT_SECRET": TEST_SECRET, "DATABASE_URL": DATABASE_URL,
           "PYTHONPATH": path, "LOG_FORMAT": "json"}
    finished = subprocess.run(
        [sys.executable, "-m", "graph.cli", "serve", "--workers", "2",
         "--port", str(free_port())],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert finished.returncode == STARTUP_FAILURE, finished.stderr[-2000:]
    assert "/nonexistent/manifest.json" in finished.stderr  # the worker's own reason


def test_a_json_log_line_names_the_process_that_wrote_it() -> None:
    record = logging.LogRecord("graph", logging.INFO, __file__, 1, "hello", (), None)
    assert json.loads(JsonFormatter().format(record))["pid"] == os.getpid()


@pytest.fixture(scope="module")
def workers(
    tmp_path_factory: pytest.TempPathFactory, engine: AsyncEngine
) -> Iterator[tuple[str, Path]]:
    """`serve --workers 2` on PostgreSQL, as the application role (`engine`, the owner's,
    has migrated the database); its base URL and log."""
    if not ON_POSTGRES:
        pytest.skip("more than one worker needs PostgreSQL")
    workdir = tmp_path_factory.mktemp("workers")
    with running_server(
        workdir, "--workers", "2", DATABASE_URL=DATABASE_URL, LOG_LEVEL="INFO",
        LOG_FORMAT="json", KEEP_ALIVE_TIMEOUT_SECONDS=str(KEEP_ALIVE_SECONDS),
    ) as base:
        both_workers_answer(base, workdir)
        yield base, workdir


def both_workers_answer(base: str, workdir: Path) -> None:
    """Wait until each worker has answered a request: /readyz answered once the first was
    up, and on a loaded machine the other may still be importing (12 s seen); until it
    accepts, the kernel gives it no connection, and a test counting workers sees one."""
    sent: set[str] = set()
    deadline = time.monotonic() + WORKERS_UP_SECONDS
    while len(set(answered_by(workdir, sent).values())) < 2:
        assert time.monotonic() < deadline, "the second worker never answered"
        request_id = f"warm-{uuid.uuid4().hex}"
        with httpx.Client(base_url=base, timeout=10) as client:  # a fresh connection each
            client.post("/graphql", json={"query": "{ __typename }"},
                        headers={"X-Request-Id": request_id})
        sent.add(request_id)


def answered_by(workdir: Path, request_ids: set[str]) -> dict[str, int]:
    """Request id -> the pid of the process whose log line names it."""
    found: dict[str, int] = {}
    for log in workdir.glob("server-*.log"):
        for line in log.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:  # not one of ours (a worker's dying words, say)
                continue
            if entry.get("request_id") in request_ids:
                found[entry["request_id"]] = entry["pid"]
    return found


async def post(base: str, request_id: str, **request: Any) -> httpx.Response:
    """One request on its own fresh connection, so the kernel may give it to either worker."""
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        return await client.post("/graphql", json=request, headers={
            "X-Request-Id": request_id, "Authorization": f"Bearer {token('worker-probe')}"})


@on_postgres
async def test_requests_on_one_port_are_answered_by_two_processes(
    workers: tuple[str, Path],
) -> None:
    base, workdir = workers
    sent: set[str] = set()
    for _ in range(ROUNDS):
        ids = {f"probe-{uuid.uuid4().hex}" for _ in range(PER_ROUND)}
        answers = await asyncio.gather(*(post(base, i, query="{ viewer { id } }") for i in ids))
        assert all(answer.json()["data"]["viewer"]["id"] == "worker-probe" for answer in answers)
        sent |= ids
        if len(set(answered_by(workdir, sent).values())) >= 2:
            break
    pids = set(answered_by(workdir, sent).values())
    assert len(pids) == 2, pids


@on_postgres
async def test_a_subscriber_gets_every_change_whichever_worker_made_it(
    workers: tuple[str, Path], users: tuple[str, str], connect: Any
) -> None:
    base, workdir = workers
    alice, _ = users
    subscriber: Subscriber = await connect(base, alice)  # on one worker, whichever
    await subscriber.subscribe(TASK_CHANGES)
    await asyncio.sleep(REGISTERED)
    made: dict[str, str] = {}  # request id -> title
    for _ in range(ROUNDS):
        batch = {f"create-{uuid.uuid4().hex}": f"task {len(made) + n}" for n in range(PER_ROUND)}
        await asyncio.gather(*(
            create_task(base, alice, request_id, title) for request_id, title in batch.items()
        ))
        made |= batch
        if len(set(answered_by(workdir, set(made)).values())) >= 2:
            break
    # Mutations answered by both workers: some were made on a worker the subscriber is not on.
    assert len(set(answered_by(workdir, set(made)).values())) == 2
    received = [await subscriber.data("taskChanges", wait=5) for _ in made]
    assert {change["kind"] for change in received} == {"CREATED"}
    assert sorted(change["task"]["title"] for change in received) == sorted(made.values())
    assert await subscriber.nothing_within(0.3)


async def create_task(base: str, user: str, request_id: str, title: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        response = await client.post(
            "/graphql", json={"query": CREATE_TASK, "variables": {"input": {"title": title}}},
            headers={"X-Request-Id": request_id, "Authorization": f"Bearer {token(user)}"},
        )
    assert response.json()["data"]["createTask"]["__typename"] == "CreateTaskSuccess"


@on_postgres
async def test_every_worker_closes_idle_connections_after_the_keep_alive_setting(
    workers: tuple[str, Path],
) -> None:
    # uvicorn's own default is 5 s: a worker that had not been given the setting would leave
    # the connection open past the read timeout below.
    base, workdir = workers
    url = httpx.URL(base)
    # Which worker accepts a connection is the kernel's choice: a round may land on one.
    sent: set[str] = set()
    for _ in range(ROUNDS):
        ids = {f"idle-{uuid.uuid4().hex}" for _ in range(PER_ROUND)}
        closed = await asyncio.gather(*(idle_until_closed(url, i) for i in ids))
        assert all(closed)
        sent |= ids
        if len(set(answered_by(workdir, sent).values())) == 2:
            break
    assert len(set(answered_by(workdir, sent).values())) == 2


async def idle_until_closed(url: httpx.URL, request_id: str) -> bool:
    """Ask once on a keep-alive connection, then wait: True when the server closes it."""
    assert url.host and url.port
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(f"GET /healthz HTTP/1.1\r\nHost: w\r\nX-Request-Id: {request_id}\r\n\r\n"
                     .encode())
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        assert head.startswith(b"HTTP/1.1 200")
        rest = await asyncio.wait_for(reader.read(), KEEP_ALIVE_SECONDS + 3)
        return rest.endswith(b"}")  # the body, then end of stream: closed by the server
    finally:
        writer.close()
