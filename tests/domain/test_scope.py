"""Every read of an owned table carries the viewer's predicate, loaders included.

The isolation probe (tests/graph/test_isolation_probe.py) drives every query field,
connection and mutation of the schema as two users; here every SQL statement those requests
send is captured, and each SELECT that reads an owned table must hold an owner predicate
bound to the acting viewer's id. A loader or service that builds its statement by hand,
without `domain.scope`, fails here even when the rows it reads happen to be the right ones.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from domain import scope
from models import Base, TaskStep
from tests.conftest import GraphQL
from tests.graph.schema_walk import introspect
from tests.graph.test_isolation_probe import Actor, Probe

OWNED_TABLES: set[str] = {inspect(model).local_table.name for model in scope.OWNERSHIP}
_TABLE = re.compile(r'\b(?:FROM|JOIN)\s+"?(\w+)"?', re.IGNORECASE)


def unscoped(sql: str, parameters: Any, viewers: set[str]) -> bool:
    """Whether a SELECT reads an owned table without an owner predicate bound to a viewer."""
    if not sql.lstrip().upper().startswith(("SELECT", "WITH")):
        return False
    if not OWNED_TABLES & {name.lower() for name in _TABLE.findall(sql)}:
        return False
    values = parameters.values() if isinstance(parameters, dict) else parameters or ()
    bound = {value for value in values if isinstance(value, str)}
    return "user_id" not in sql or not bound & viewers


@contextmanager
def statements(connection: AsyncConnection) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, sql: str, parameters: Any, *_: Any) -> None:
        seen.append((sql, parameters))

    sync = connection.sync_connection
    assert sync is not None
    event.listen(sync, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(sync, "before_cursor_execute", record)


async def test_every_read_of_an_owned_table_is_scoped_to_the_viewer(
    gql: GraphQL, connection: AsyncConnection
) -> None:
    probe = Probe(await introspect(gql), Actor("alice", gql, "alice"), Actor("bob", gql, "bob"))
    with statements(connection) as seen:
        await probe.arrange(probe.intruder)
        await probe.arrange(probe.victim)
        await probe.probe_lookups()
        await probe.probe_cursors()
        await probe.probe_orders()
        await probe.probe_mutations()
    reads = [sql for sql, _ in seen if sql.lstrip().upper().startswith("SELECT")]
    assert len(reads) > 100, "the probe ran too little to prove anything"
    leaks = [sql for sql, params in seen if unscoped(sql, params, {"alice", "bob"})]
    assert not leaks, "owned tables read without the viewer's predicate:\n" + "\n\n".join(
        sorted(set(leaks))[:10]
    )


def compiled(statement: Any) -> tuple[str, list[Any]]:
    result = statement.compile(dialect=sqlite.dialect())
    return str(result), list(result.params.values())


def test_the_check_catches_a_statement_built_without_the_scope() -> None:
    # What a copied loader would send: the steps of a task by its id alone.
    sql, parameters = compiled(select(TaskStep).where(TaskStep.task_id == 7))
    assert unscoped(sql, parameters, {"alice"})
    sql, parameters = compiled(scope.owned(TaskStep, "alice").where(TaskStep.task_id == 7))
    assert not unscoped(sql, parameters, {"alice"})


def test_every_owned_model_declares_who_owns_it() -> None:
    # A new table with a user_id, or a child of an owned one, must say how it is owned.
    for table in Base.metadata.sorted_tables:
        if "user_id" in table.columns and table.name not in {"sessions", "ai_logs"}:
            assert table.name in OWNED_TABLES, f"{table.name}: add it to domain.scope.OWNERSHIP"


def test_only_tests_can_remove_the_owner_predicate() -> None:
    """`scope.OWNER_PREDICATES` is a test's switch (tests/graph/test_row_security.py): no
    setting reads it and no application module may assign it."""
    root = Path(__file__).resolve().parents[2]
    writers: list[str] = []
    for package in ("graph", "domain", "models", "bench", "alembic"):
        for path in sorted((root / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                targets = (
                    node.targets if isinstance(node, ast.Assign)
                    else [node.target] if isinstance(node, ast.AnnAssign | ast.AugAssign)
                    else []
                )
                named = {getattr(t, "id", getattr(t, "attr", None)) for t in targets}
                if "OWNER_PREDICATES" in named or (
                    isinstance(node, ast.Call) and "OWNER_PREDICATES" in ast.unparse(node)
                ):
                    writers.append(str(path.relative_to(root)))
    assert writers == ["domain/scope.py"], writers  # its one definition
    assert scope.OWNER_PREDICATES is True
