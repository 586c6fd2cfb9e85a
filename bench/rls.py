"""`python -m bench.rls`: the task page on PostgreSQL with row-level security on and off.

Makes a throwaway database with its two roles (docs/database.md),
migrates and seeds it as the owner, grants the application role, then starts the real server
twice on core 0: as the application role (RLS on: every statement filtered by the policies,
the viewer set in each BEGIN) and as the owner (RLS bypassed: the resolvers' predicates
alone). The task page is driven against both in alternating slices from core 1, so the
machine's drift weighs on both alike. Everything it made is dropped at the end.

Needs a PostgreSQL superuser URL (`--admin-url`, default the local cluster's `postgres`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bench.runner import ROUNDS, SECRET, Result, drive, serve
from bench.workloads import WORKLOADS
from graph.auth import mint_token
from graph.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


async def _admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def throwaway_database(admin_url: str, prefix: str) -> Iterator[tuple[str, str, str]]:
    """A new database owned by a new owner role, and a new application role, all dropped at
    the end: yields the owner's URL, the application role's URL and its name."""
    database = f"{prefix}_{os.getpid()}"
    owner, app = f"{database}_owner", f"{database}_app"
    admin = make_url(admin_url)
    url = f"postgresql+asyncpg://{{}}@{admin.host or '127.0.0.1'}:{admin.port or 5432}/{database}"
    asyncio.run(_admin(admin_url, f"CREATE ROLE {owner} LOGIN", f"CREATE ROLE {app} LOGIN",
                       f"CREATE DATABASE {database} OWNER {owner}"))
    try:
        yield url.format(owner), url.format(app), app
    finally:
        asyncio.run(_admin(admin_url, f"DROP DATABASE IF EXISTS {database}",
                           f"DROP ROLE IF EXISTS {app}, {owner}"))


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "graph.cli", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)


async def compare(args: argparse.Namespace, workdir: Path, urls: dict[str, str],
                  env: dict[str, str]) -> list[Result]:
    if len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {1})
    settings = Settings(jwt_secret=SECRET)
    tokens = [mint_token(settings, user_id=f"demo-{n + 1}", admin=False, ttl_seconds=3600)
              for n in range(args.users)]
    slices: dict[str, list[Result]] = {name: [] for name in urls}
    ports = {name: args.port + n for n, name in enumerate(urls)}
    with ExitStack() as servers:
        pids = {
            name: servers.enter_context(serve(
                [sys.executable, "-m", "graph.cli", "serve", "--port", str(ports[name])],
                ports[name], {**env, "DATABASE_URL": url}, workdir,
            ))
            for name, url in urls.items()
        }
        requests = {
            name: await WORKLOADS[0].prepare(f"http://127.0.0.1:{ports[name]}", tokens)
            for name in urls
        }
        for _ in range(ROUNDS):
            for name in urls:
                slices[name].append(await drive(
                    name, requests[name], pid=pids[name], concurrency=args.concurrency,
                    seconds=args.seconds / ROUNDS,
                ))
    return [Result.merged(parts) for parts in slices.values()]


def report(results: list[Result]) -> None:
    print(f"\n{'task page (50)':<34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'SQL/req':>9}"
          f"{'errors':>8}")
    for row in results:
        sql = statistics.mean(row.statements) if row.statements else float("nan")
        print(f"{row.name:<34}{row.rps:>9.1f}{row.percentile(0.5):>9.1f}"
              f"{row.percentile(0.99):>9.1f}{sql:>9.1f}{row.errors:>8}")
    on, off = results
    print(f"\nwith row-level security: {on.rps / max(off.rps, 1e-9):.2f} of the throughput "
          "without it")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--tasks-per-user", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=16.0, help="per server, in total")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=18820)
    args = parser.parse_args()
    with (throwaway_database(args.admin_url, "clarity_bench") as (owner_url, app_url, app),
          tempfile.TemporaryDirectory() as tmp):
        env = {**os.environ, "JWT_SECRET": SECRET, "DIAGNOSTICS": "true",
               "LOG_LEVEL": "WARNING", "ENVIRONMENT": "development",
               "PYTHONPATH": str(ROOT), "DATABASE_URL": owner_url}
        _cli(env, "migrate")
        _cli(env, "seed", "--users", str(args.users), "--tasks-per-user", str(args.tasks_per_user))
        _cli(env, "grant", app)
        urls = {"RLS on (the application role)": app_url,
                "RLS off (the owner: bypassed)": owner_url}
        report(asyncio.run(compare(args, Path(tmp), urls, env)))

if __name__ == "__main__":
    main()
