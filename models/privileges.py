"""What the application role may do on PostgreSQL, table by table, and granting exactly that.

Migrations run as the tables' owner; the server runs as an application role that owns
nothing and may do only what `APP_PRIVILEGES` says: no DDL (PostgreSQL 15+ gives PUBLIC no
CREATE on the public schema, and `grant` takes it from the role itself on older versions),
`audit_logs` SELECT and INSERT only (append-only even against a bug or an injected
statement), `ai_logs` INSERT only (never read back), the rest as each table requires.
Row-level security (migrations 0007, 0009, 0010) then limits every row it may touch to its
viewer's, and lets no row change owner. What must cross owners runs as the tables' owner, in
the SECURITY DEFINER functions of `APP_FUNCTIONS`, which the role may only EXECUTE.

`grant(connection, role)` makes the role's privileges exactly these: it revokes whatever the
role holds on the schema's tables and sequences first, then grants, in the caller's
transaction, so running it again changes nothing. Run it after every migration (a table a
migration rebuilds loses its grants): `clarity-graph grant ROLE`.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

ALL = ("SELECT", "INSERT", "UPDATE", "DELETE")
# Every table of the schema (tests/models/test_privileges.py fails on one missing here).
# UPDATE also covers the row locks taken before a change (FOR UPDATE, FOR KEY SHARE).
APP_PRIVILEGES: dict[str, tuple[str, ...]] = {
    "tasks": ALL,  # deleteTask
    "task_steps": ALL,  # removeTaskStep, step renumbering
    "task_events": ("SELECT", "INSERT"),  # history: never changed, gone with its task
    "conversations": ALL,  # deleteConversation; titles, the assistant's last list
    "messages": ("SELECT", "INSERT"),
    "panic_events": ("SELECT", "INSERT", "UPDATE"),  # resolving
    "grounding_exercises": ("SELECT", "INSERT", "UPDATE"),  # completing
    "sessions": ("SELECT", "INSERT", "UPDATE"),  # visits: recorded, locked, claimed
    # Append-only: claimSession moves a visitor's entries through `claim_visit` below.
    "audit_logs": ("SELECT", "INSERT"),
    "ai_logs": ("INSERT",),  # written, never read back
    # Written with each change, read by its owner's streams; pruned by `prune_changes` below.
    "change_outbox": ("SELECT", "INSERT"),
    "alembic_version": ("SELECT",),  # readiness: is the database at the head revision?
}


# The owner's SECURITY DEFINER functions (migration 0009) the role may call, by signature:
# claimSession's move of a visitor's rows to its claimer (given the visit credential's secret),
# the lifespan's pruning of visits past their retention, and the change outbox's.
APP_FUNCTIONS = ("claim_visit(bytea)", "prune_visits(integer, integer)",
                 # Migration 0010: recording changes (SECURITY INVOKER: under the policies),
                 # pruning them past their retention and the last id (the owner's).
                 "record_changes(text[], text[], text[])", "prune_changes(integer, integer)",
                 "last_change_id()")


class GrantRefused(ValueError):
    """The role cannot be made an application role (missing, or above row-level security)."""


def _quote(role: str) -> str:
    return '"' + role.replace('"', '""') + '"'


async def grant(connection: AsyncConnection, role: str) -> list[str]:
    """Give `role` exactly the application's privileges; the statements run, in order."""
    await _check_role(connection, role)
    quoted = _quote(role)
    database = _quote(str(await connection.scalar(text("SELECT current_database()"))))
    statements = [
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {quoted}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {quoted}",
        f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM {quoted}",
        f"REVOKE CREATE ON SCHEMA public FROM {quoted}",
        f"GRANT CONNECT ON DATABASE {database} TO {quoted}",
        f"GRANT USAGE ON SCHEMA public TO {quoted}",
    ]
    statements += [
        f"GRANT {', '.join(privileges)} ON TABLE {table} TO {quoted}"
        for table, privileges in APP_PRIVILEGES.items()
    ]
    # Inserting into a table with a serial id draws from its sequence.
    statements += [
        f"GRANT USAGE ON SEQUENCE {sequence} TO {quoted}"
        for sequence in await _insert_sequences(connection)
    ]
    # Only those that exist: a database migrated to before 0009 has none of them.
    statements += [
        f"GRANT EXECUTE ON FUNCTION {function} TO {quoted}"
        for function in await _existing_functions(connection)
    ]
    for statement in statements:
        await connection.execute(text(statement))
    return statements


async def _check_role(connection: AsyncConnection, role: str) -> None:
    row = (await connection.execute(
        text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :role"),
        {"role": role},
    )).first()
    if row is None:
        raise GrantRefused(
            f"role {role!r} does not exist: CREATE ROLE {_quote(role)} LOGIN PASSWORD '...'"
        )
    if row.rolsuper or row.rolbypassrls:
        raise GrantRefused(f"role {role!r} bypasses row-level security: use a plain role")
    owners = await connection.scalar(
        text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            " AND pg_has_role(:role, tableowner, 'USAGE')"
        ),
        {"role": role},
    )
    if owners:
        raise GrantRefused(
            f"role {role!r} owns (or acts as the owner of) the tables, and an owner is not "
            "subject to row-level security: the application needs a role of its own"
        )


async def _insert_sequences(connection: AsyncConnection) -> list[str]:
    inserting = [table for table, privileges in APP_PRIVILEGES.items() if "INSERT" in privileges]
    rows = await connection.execute(
        text(
            "SELECT pg_get_serial_sequence(t, 'id') FROM unnest(CAST(:tables AS text[])) AS t"
            " WHERE EXISTS (SELECT 1 FROM information_schema.columns c"
            " WHERE c.table_schema = 'public' AND c.table_name = t AND c.column_name = 'id')"
        ),
        {"tables": inserting},
    )
    return sorted(sequence for (sequence,) in rows if sequence is not None)


async def _existing_functions(connection: AsyncConnection) -> list[str]:
    rows = await connection.execute(
        text("SELECT f FROM unnest(CAST(:functions AS text[])) AS f"
             " WHERE to_regprocedure('public.' || f) IS NOT NULL"),
        {"functions": list(APP_FUNCTIONS)},
    )
    return [function for (function,) in rows]
