"""A person at a terminal reads a few short lines; a log collector reads JSON."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graph.terminal import HumanFormatter, banner
from tests.conftest import TEST_SECRET, make_settings
from tests.servers import free_port, running_server


def test_a_human_line_is_short_with_its_extras_after_the_message() -> None:
    record = logging.LogRecord("graph.operations", logging.INFO, "", 0, "graphql operation",
                               (), None)
    record.name_ = "TaskList"
    line = HumanFormatter(lambda: None).format(record)
    assert line[8:] == " info     graphql operation  name_=TaskList"


def test_the_banner_says_where_what_and_how_to_get_a_token() -> None:
    lines = banner(make_settings(database_url="sqlite+aiosqlite:///./clarity.db"),
                   "127.0.0.1", 8000, command="clarity-graph")
    text = "\n".join(lines)
    assert "listening   http://127.0.0.1:8000/graphql" in text
    assert "playground" in text and "clarity-graph token --user alice" in text
    assert "sqlite+aiosqlite:///./clarity.db  (migrated to head)" in text


def test_the_banner_hides_a_database_password() -> None:
    url = "postgresql+asyncpg://app:s3cret@db.internal/clarity"
    text = "\n".join(banner(make_settings(database_url=url), "0.0.0.0", 80))
    assert "s3cret" not in text and "db.internal" in text


def test_production_shows_no_playground_nor_token_hint() -> None:
    text = "\n".join(banner(make_settings(environment="production"), "0.0.0.0", 80))
    assert "playground" not in text and "token" not in text


@contextlib.contextmanager
def serve_on_a_terminal(workdir: Path) -> Iterator[tuple[str, list[str]]]:
    """`clarity-graph serve` with a pseudo-terminal for its output; its base URL and the
    lines it has printed so far (read as the test goes)."""
    port = free_port()
    env = {**os.environ, "JWT_SECRET": TEST_SECRET, "LOG_LEVEL": "INFO"}
    for name in ("DATABASE_URL", "LOG_FORMAT", "ENVIRONMENT", "TEST_DATABASE_URL"):
        env.pop(name, None)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "serve", "--port", str(port)],
        cwd=workdir, env=env, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal,
    )
    os.close(terminal)
    printed: list[str] = []
    buffer = b""

    def read() -> None:
        nonlocal buffer
        while select.select([controller], [], [], 0.05)[0]:
            try:
                chunk = os.read(controller, 65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
        printed[:] = buffer.decode(errors="replace").splitlines()

    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            read()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        read()
        yield base, printed
    finally:
        process.terminate()
        process.wait(timeout=10)
        os.close(controller)


@pytest.mark.slow
def test_serve_on_a_terminal_prints_a_few_human_lines(tmp_path: Path) -> None:
    with serve_on_a_terminal(tmp_path) as (_base, printed):
        pass
    assert printed[0].startswith("Clarity Graph (development)"), printed
    assert any("listening" in line for line in printed)
    # run as `python -m graph.cli`: the token line says so (tests/graph/test_first_hour.py)
    assert any("-m graph.cli token --user alice" in line for line in printed), printed
    assert not any(line.lstrip().startswith("{") for line in printed), printed
    assert not any("alembic" in line for line in printed), printed
    assert len(printed) <= 10, printed  # the banner and the development-secret warning


@pytest.mark.slow
def test_serve_off_a_terminal_logs_json_lines(tmp_path: Path) -> None:
    # A container, a service manager, CI: stderr is a file or a pipe, and every line is JSON.
    with running_server(tmp_path, LOG_LEVEL="INFO") as base:
        httpx.post(f"{base}/graphql", json={"query": "{ viewer { id } }"}, timeout=5)
    lines = [line for log in tmp_path.glob("server-*.log")
             for line in log.read_text().splitlines() if line.strip()]
    assert lines
    for line in lines:
        assert isinstance(json.loads(line), dict), line
