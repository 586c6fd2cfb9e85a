"""`clarity-graph grant ROLE`: exactly the application's privileges, idempotently, as the
production checklist (docs/production.md) runs it (a real process, DATABASE_URL the owner's)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from models.privileges import APP_FUNCTIONS, APP_PRIVILEGES
from tests.conftest import APP_ROLE, OWNER_DATABASE_URL

pytestmark = pytest.mark.skipif(
    APP_ROLE is None,
    reason="needs an application role: TEST_DATABASE_URL for it, TEST_OWNER_DATABASE_URL "
    "for the tables' owner (tests/conftest.py)",
)
KINDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")


def clarity_graph(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": OWNER_DATABASE_URL, "LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "graph.cli", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
    )


async def held(engine: AsyncEngine, role: str) -> dict[str, set[str]]:
    """What `role` may do to each table, asked of the database."""
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT t.tablename, k FROM pg_tables t, unnest(CAST(:kinds AS text[])) k"
                " WHERE t.schemaname = 'public' AND has_table_privilege(:role,"
                " quote_ident(t.tablename), k)"
            ),
            {"role": role, "kinds": list(KINDS)},
        )
        found: dict[str, set[str]] = {}
        for table, kind in rows:
            found.setdefault(table, set()).add(kind)
        # A column's privilege the table as a whole lacks, as granted: "UPDATE (user_id)".
        columns = await connection.execute(
            text("SELECT table_name, privilege_type, column_name"
                 " FROM information_schema.column_privileges WHERE grantee = :role"),
            {"role": role},
        )
        for table, kind, column in columns:
            if kind not in found.get(table, set()):
                found.setdefault(table, set()).add(f"{kind} ({column})")
        return found


async def test_grant_gives_exactly_the_declared_privileges_each_time(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    assert APP_ROLE is not None
    expected = {table: set(kinds) for table, kinds in APP_PRIVILEGES.items()}
    for _ in range(2):
        done = clarity_graph("grant", APP_ROLE, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert await held(engine, APP_ROLE) == expected


async def test_grant_lets_the_role_execute_exactly_the_declared_functions(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    assert APP_ROLE is not None
    done = clarity_graph("grant", APP_ROLE, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT p.oid::regprocedure::text FROM pg_proc p"
                 " WHERE p.pronamespace = 'public'::regnamespace"
                 " AND has_function_privilege(:role, p.oid, 'EXECUTE')"),
            {"role": APP_ROLE},
        )
        executable = set(rows.scalars())
    assert executable == {function.replace(" ", "") for function in APP_FUNCTIONS}


def test_grant_refuses_the_tables_owner(tmp_path: Path) -> None:
    owner = make_url(OWNER_DATABASE_URL).username or "postgres"
    done = clarity_graph("grant", owner, cwd=tmp_path)
    assert done.returncode == 2
    assert "row-level security" in done.stderr


def test_grant_refuses_a_role_that_does_not_exist(tmp_path: Path) -> None:
    done = clarity_graph("grant", "no_such_role_anywhere", cwd=tmp_path)
    assert done.returncode == 2
    assert "does not exist" in done.stderr
