"""The console script: tokens the server accepts, and the schema export."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from graph.cli import main, render_schema
from graph.settings import Settings
from tests.conftest import TEST_SECRET


async def test_token_command_mints_a_token_the_server_accepts(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    client: httpx.AsyncClient,
) -> None:
    monkeypatch.setenv("JWT_SECRET", TEST_SECRET)
    assert main(["token", "--user", "alice"]) == 0
    token = capsys.readouterr().out.strip()
    response = await client.post(
        "/graphql", json={"query": "{ viewer { id isAdmin } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.json()["data"]["viewer"] == {"id": "alice", "isAdmin": False}


async def test_token_command_admin_flag_adds_the_admin_role(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    client: httpx.AsyncClient,
) -> None:
    monkeypatch.setenv("JWT_SECRET", TEST_SECRET)
    assert main(["token", "--user", "root", "--admin"]) == 0
    token = capsys.readouterr().out.strip()
    response = await client.post(
        "/graphql", json={"query": "{ viewer { isAdmin } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.json()["data"]["viewer"] == {"isAdmin": True}


def test_token_command_without_a_shared_secret_says_what_to_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JWT_SECRET", raising=False)
    monkeypatch.setenv("ENVIRONMENT", "production")
    assert main(["token", "--user", "alice"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("clarity-graph: ") and "JWT_SECRET" in captured.err
    assert "Traceback" not in captured.err


def test_export_schema_writes_the_live_schema(tmp_path: Path) -> None:
    target = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(target)]) == 0
    assert target.read_text() == render_schema(Settings(environment="development"))
