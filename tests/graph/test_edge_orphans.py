"""A worker process ends when the `serve` process that started it is killed (SIGKILL: nothing
of the parent's own runs), instead of living on as an orphan that holds the port.

First the mechanism alone (`exit_with_supervisor` in a process spawned as uvicorn spawns its
workers, any engine), then `serve --workers 2` itself (PostgreSQL only: more than one worker
needs it).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.attacks import address
from tests.conftest import DATABASE_URL, ON_POSTGRES
from tests.servers import children_of, is_running, running_server, serve_pid

pytestmark = pytest.mark.slow
GONE_WITHIN_SECONDS = 5.0
# A supervisor as uvicorn's: it spawns a worker with multiprocessing, which calls
# exit_with_supervisor() first (as worker_app does), says so, then would serve for a minute.
SUPERVISOR = """import multiprocessing, os, sys, time
from graph.serving import exit_with_supervisor

def work():
    sys.platform = "{platform}"
    exit_with_supervisor()
    print(os.getpid(), flush=True)
    time.sleep(60)

if __name__ == "__main__":
    multiprocessing.get_context("spawn").Process(target=work).start()
    time.sleep(60)
"""


def wait_gone(pids: list[int]) -> list[int]:
    """The pids still running after GONE_WITHIN_SECONDS (none, if they all ended)."""
    deadline = time.monotonic() + GONE_WITHIN_SECONDS
    while (running := [pid for pid in pids if is_running(pid)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return running


@pytest.fixture
def leftovers() -> Iterator[list[int]]:
    """Pids a test expects to end; any still running afterwards is killed, so that a failing
    test leaves no orphan behind."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if is_running(pid):
            os.kill(pid, signal.SIGKILL)


# Linux: the parent-death signal; any other platform name: the watchdog thread.
@pytest.mark.parametrize("platform", ["linux", "darwin"])
def test_a_spawned_worker_exits_when_its_supervisor_is_killed(
    tmp_path: Path, leftovers: list[int], platform: str
) -> None:
    script = tmp_path / "supervisor.py"
    script.write_text(SUPERVISOR.format(platform=platform))
    with subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE) as supervisor:
        try:
            assert supervisor.stdout is not None
            worker = int(supervisor.stdout.readline())  # past exit_with_supervisor()
            leftovers.append(worker)
            assert is_running(worker)
        finally:
            supervisor.kill()
    assert wait_gone([worker]) == []


def port_refuses(base: str) -> bool:
    try:
        socket.create_connection(address(base), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.skipif(not ON_POSTGRES, reason="more than one worker needs PostgreSQL")
def test_serve_workers_exit_and_free_the_port_when_serve_is_killed(
    tmp_path: Path, engine: AsyncEngine, leftovers: list[int]
) -> None:
    with running_server(tmp_path, "--workers", "2", DATABASE_URL=DATABASE_URL) as base:
        parent = serve_pid(base)
        workers = [pid for pid in children_of(parent) if b"multiprocessing.spawn" in
                   Path(f"/proc/{pid}/cmdline").read_bytes()]
        leftovers.extend(workers)
        assert len(workers) == 2
        os.kill(parent, signal.SIGKILL)
        assert wait_gone(workers) == []
        assert port_refuses(base)
