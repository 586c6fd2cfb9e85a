"""The README's first command, for real: `clarity-graph serve` on a new SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET
from tests.servers import running_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("serve")
    with running_server(workdir) as base:
        yield base, workdir


def test_serve_creates_and_migrates_a_new_sqlite_file(server: tuple[str, Path]) -> None:
    _, workdir = server
    assert (workdir / "clarity.db").exists()


def test_serve_offers_graphiql_at_graphql(server: tuple[str, Path]) -> None:
    base, _ = server
    response = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_a_cli_token_makes_viewer_answer_its_user(server: tuple[str, Path]) -> None:
    base, workdir = server
    env = {**os.environ, "JWT_SECRET": TEST_SECRET}
    token = subprocess.run(
        [sys.executable, "-m", "graph.cli", "token", "--user", "alice"],
        cwd=workdir, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    response = httpx.post(
        f"{base}/graphql", json={"query": "{ viewer { id } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.json() == {"data": {"viewer": {"id": "alice"}}}


def test_a_bad_token_gets_401_with_a_clear_message(server: tuple[str, Path]) -> None:
    base, _ = server
    response = httpx.post(
        f"{base}/graphql", json={"query": "{ viewer { id } }"},
        headers={"Authorization": "Bearer not-a-jwt"},
    )
    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "token" in error["message"]
