"""`clarity-graph`: serve, migrate, grant, token, seed, export-schema."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from graph.observability import configure_logging, human_output
from graph.settings import Settings
from graph.terminal import banner

DEFAULT_SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    from graph.serving import serve_here, serve_workers, uvicorn_options, worker_count

    count = worker_count(settings, args.workers)
    options = uvicorn_options(settings, args.host, args.port)

    def announce() -> None:
        _announce(settings, args.host, args.port, count)

    if count == 1:
        serve_here(settings, options, announce)
        return 0
    return serve_workers(settings, options, count, announce)


def _announce(settings: Settings, host: str, port: int, workers: int) -> None:
    """A few lines for a person at a terminal; one JSON line for a log collector."""
    lines = banner(settings, host, port)
    if workers > 1:
        lines.insert(2, f"  workers     {workers} processes")
    if human_output(settings.log_format):
        print("\n".join(lines), file=sys.stderr, flush=True)
    else:
        logging.getLogger("graph.cli").info(
            "serving", extra={"url": f"http://{host}:{port}/graphql",
                              "environment": settings.environment, "workers": workers},
        )


def _migrate(settings: Settings, _args: argparse.Namespace) -> int:
    from graph.migrations import upgrade_head

    upgrade_head(settings.database_url)
    print("migrated to head", file=sys.stderr)
    return 0


def _grant(settings: Settings, args: argparse.Namespace) -> int:
    """Give the application role exactly its privileges (models/privileges.py), as the owner."""
    import asyncio

    from graph.app import engine_options
    from models.database import create_engine
    from models.privileges import GrantRefused, grant

    if settings.is_sqlite:
        print("clarity-graph grant: SQLite has no roles; nothing to grant", file=sys.stderr)
        return 2

    async def run() -> list[str]:
        engine = create_engine(engine_options(settings))
        try:
            async with engine.begin() as connection:
                return await grant(connection, args.role)
        finally:
            await engine.dispose()

    try:
        statements = asyncio.run(run())
    except GrantRefused as error:
        print(f"clarity-graph grant: {error}", file=sys.stderr)
        return 2
    for statement in statements:
        print(statement)
    print(f"granted the application's privileges to {args.role}", file=sys.stderr)
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    from graph.auth import mint_token, signing_key_origin

    token = mint_token(settings, user_id=args.user, admin=args.admin, ttl_seconds=args.ttl)
    print(f"clarity-graph token: {signing_key_origin(settings)}", file=sys.stderr)
    print(token)
    return 0


def _seed(settings: Settings, args: argparse.Namespace) -> int:
    import asyncio

    from graph.app import engine_options
    from graph.migrations import upgrade_head
    from graph.seed import (
        Progress,
        SeedPlan,
        SeedRefused,
        refuse_row_security,
        seed,
        total_rows,
    )
    from models.database import create_engine

    try:
        plan = SeedPlan(
            users=args.users, tasks_per_user=args.tasks_per_user,
            steps_per_task=args.steps_per_task, events_per_task=args.events_per_task,
            conversations_per_user=args.conversations_per_user,
            messages_per_conversation=args.messages_per_conversation,
            audit_logs_per_user=args.audit_logs_per_user, random_seed=args.random_seed,
        )
    except ValueError as error:
        print(f"clarity-graph seed: {error}", file=sys.stderr)
        return 2
    if settings.is_sqlite:
        upgrade_head(settings.database_url)

    async def run() -> dict[str, int]:
        engine = create_engine(engine_options(settings))
        try:
            async with engine.begin() as connection:
                await refuse_row_security(connection)
                return await seed(connection, plan, Progress(total_rows(plan)))
        finally:
            await engine.dispose()

    started = time.perf_counter()
    try:
        counts = asyncio.run(run())
    except SeedRefused as error:
        print(f"clarity-graph seed: {error}", file=sys.stderr)
        return 2
    summary = ", ".join(f"{count} {table}" for table, count in counts.items())
    print(f"seeded {summary} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return 0


def render_schema(settings: Settings | None = None) -> str:
    from graph.schema import build_schema

    return build_schema(settings).as_str() + "\n"


def _export_schema(_settings: Settings, args: argparse.Namespace) -> int:
    # The committed contract is the full development schema, whatever this process's settings.
    args.output.write_text(render_schema(Settings(environment="development")))
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="clarity-graph", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server (on SQLite, migrate first)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers", type=int, default=None,
        help="processes behind the port (default WORKERS, else 1 on SQLite and the CPU count"
        " on PostgreSQL; more than 1 needs PostgreSQL)",
    )
    serve.set_defaults(run=_serve)
    commands.add_parser("migrate", help="alembic upgrade head").set_defaults(run=_migrate)
    grant = commands.add_parser(
        "grant", help="PostgreSQL: give the application role exactly its privileges (as owner)"
    )
    grant.add_argument("role", help="the role the server connects as (it must exist)")
    grant.set_defaults(run=_grant)
    token = commands.add_parser("token", help="mint a development JWT")
    token.add_argument("--user", required=True, help="the user id (the token's sub)")
    token.add_argument("--admin", action="store_true", help="add role: admin")
    token.add_argument("--ttl", type=int, default=24 * 3600, help="lifetime in seconds")
    token.set_defaults(run=_token)
    seed = commands.add_parser("seed", help="fill the database with demo data, in bulk")
    for flag, default in (
        ("--users", 10), ("--tasks-per-user", 100), ("--steps-per-task", 3),
        ("--events-per-task", 2), ("--conversations-per-user", 2),
        ("--messages-per-conversation", 6), ("--audit-logs-per-user", 10),
        ("--random-seed", 7),
    ):
        seed.add_argument(flag, type=int, default=default)
    seed.set_defaults(run=_seed)
    export = commands.add_parser("export-schema", help="write schema.graphql")
    export.add_argument("--output", type=Path, default=DEFAULT_SCHEMA_PATH)
    export.set_defaults(run=_export_schema)
    return root


def main(argv: list[str] | None = None) -> int:
    from graph.auth import ConfigurationError

    args = parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        return int(args.run(settings, args))
    except ConfigurationError as error:
        # A setting to fix, not a bug: one line saying which, no traceback.
        print(f"clarity-graph: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
