"""Real server processes for transport tests: `clarity-graph serve` under uvicorn."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import TEST_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_server(workdir: Path, **env_overrides: str) -> Iterator[str]:
    """Start a server in `workdir`; yield its base URL once /readyz answers 200."""
    port = free_port()
    env = {**os.environ, "JWT_SECRET": TEST_SECRET, "LOG_LEVEL": "WARNING"}
    for name in ("DATABASE_URL", "ASYNC_DATABASE_URI", "ENVIRONMENT", "TEST_DATABASE_URL"):
        env.pop(name, None)  # the defaults are what a newcomer gets, unless overridden
    env.update(env_overrides)
    log = (workdir / f"server-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "serve", "--port", str(port)],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, workdir / f"server-{port}.log")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    raise RuntimeError(f"server did not become ready: {log.read_text()[-2000:]}")
