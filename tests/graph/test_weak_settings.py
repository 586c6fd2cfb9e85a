"""`clarity-graph serve` refuses weak settings before it serves anything: exit 2 and one line
naming the setting, with one process and with workers alike.

Each case runs the real console script in a child process. Before these checks, a guessable
JWT_SECRET made `serve` log a traceback and exit 3 after printing its banner, and a wildcard
CORS origin started a server that matched no origin.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_SECRET
from tests.servers import free_port

pytestmark = pytest.mark.slow  # each case runs `clarity-graph serve` (which must refuse)

# From `openssl rand -base64 33`, kept so that a run is repeatable.
STRONG_SECRET = "Hzs12MwpxKpt5wkFfvZ6T+ek0+AZGHwuFn4WnHcLo8YC"
# A PostgreSQL URL nothing listens on: with workers, the checks come before any connection.
UNREACHABLE_POSTGRES = "postgresql+asyncpg://nobody@127.0.0.1:9/nothing"
WAIT_SECONDS = 60  # a server that starts instead of refusing is stopped here, and fails


def serve(workdir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("DATABASE_URL", "ASYNC_DATABASE_URI", "ENVIRONMENT", "TEST_",
                                "CORS_", "JWT_", "WORKERS"))
    }
    environment.update({
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'weak.db'}", "LOG_FORMAT": "json",
        "JWT_SECRET": STRONG_SECRET, **env,
    })
    return subprocess.run(
        [sys.executable, "-m", "graph.cli", "serve", "--port", str(free_port()), *args],
        cwd=workdir, env=environment, capture_output=True, text=True, timeout=WAIT_SECONDS,
    )


def refused_with(finished: subprocess.CompletedProcess[str], start: str) -> str:
    """Checks `serve` exited 2 with one line on stderr beginning `start`; returns the line."""
    assert finished.returncode == 2, finished.stderr[-2000:]
    lines = [line for line in finished.stderr.splitlines() if line.startswith("clarity-graph:")]
    assert len(lines) == 1, finished.stderr[-2000:]
    assert "Traceback" not in finished.stderr
    assert "serving" not in finished.stderr  # refused before the banner
    assert lines[0].startswith(f"clarity-graph: {start}"), lines[0]
    return lines[0]


@pytest.mark.parametrize("secret", ["a" * 32, "changeme" * 4, "a" + " " * 31])
def test_serve_refuses_a_guessable_jwt_secret_in_production(tmp_path: Path, secret: str) -> None:
    finished = serve(tmp_path, ENVIRONMENT="production", JWT_SECRET=secret)
    line = refused_with(finished, "JWT_SECRET is guessable: an estimated")
    assert line.endswith("generate one with `openssl rand -base64 48`")


def test_serve_refuses_every_origin_in_production(tmp_path: Path) -> None:
    finished = serve(tmp_path, ENVIRONMENT="production", CORS_ORIGINS="*")
    refused_with(finished, "CORS_ORIGINS='*' lets every origin")


@pytest.mark.parametrize("environment", ["development", "production"])
def test_serve_refuses_a_wildcard_origin_everywhere(tmp_path: Path, environment: str) -> None:
    finished = serve(
        tmp_path, ENVIRONMENT=environment, CORS_ORIGINS="https://app.example,https://*.example"
    )
    refused_with(finished, "CORS_ORIGINS entry 'https://*.example' is a pattern")


@pytest.mark.parametrize(
    ("env", "start"),
    [
        ({"JWT_SECRET": "changeme" * 4}, "JWT_SECRET is guessable"),
        ({"CORS_ORIGINS": "*"}, "CORS_ORIGINS='*'"),
        ({"CORS_ORIGINS": "null"}, "CORS_ORIGINS entry 'null'"),
    ],
)
def test_serve_with_workers_refuses_before_starting_them(
    tmp_path: Path, env: dict[str, str], start: str
) -> None:
    finished = serve(
        tmp_path, "--workers", "2",
        ENVIRONMENT="production", DATABASE_URL=UNREACHABLE_POSTGRES, **env,
    )
    refused_with(finished, start)


def test_the_test_secret_and_the_strong_one_pass_the_production_check() -> None:
    # What the other production tests run with, so that a refusal above is the setting's.
    from graph.secret_strength import secret_weakness

    assert secret_weakness(STRONG_SECRET) is None
    assert secret_weakness(TEST_SECRET) is None


def test_serve_refuses_the_openai_provider_without_a_key_in_production(tmp_path: Path) -> None:
    finished = serve(tmp_path, ENVIRONMENT="production", ASSISTANT_PROVIDER="openai")
    refused_with(finished, "ASSISTANT_PROVIDER=openai but OPENAI_API_KEY is not set")


def test_serve_refuses_a_persisted_only_mode_without_a_manifest(tmp_path: Path) -> None:
    finished = serve(tmp_path, PERSISTED_QUERIES_ONLY="true")
    refused_with(finished, "PERSISTED_QUERIES_ONLY")
