"""What `python -m bench` runs: seed a database, start the real server, drive fixed
workloads over HTTP.

Prints per workload: requests/s, p50/p99 latency, SQL statements per request, peak server
RSS; then our task-page throughput as a ratio of a naive N+1 resolver and of a no-GraphQL
ceiling (bench/baselines.py), the three driven in alternating slices. Then the 10-step page
(1,000 tasks x 10 steps, a page of 50 tasks with all their steps) on its own database: the
compiled path, graphql-core's (COMPILED_READS=false) and the ceiling that runs the same two
statements and writes the same JSON with orjson, in alternating slices too. On a machine with two
or more cores the servers are pinned to core 0 (taskset) and this load generator to core 1,
so they do not fight for one core.

The 10-step slices also drive the naive N+1 schema; then our compiled 10-step page runs alone
at 32 connections (p50, p99, peak RSS: the issue's tail and memory targets). With `--peers`,
strawberry-sqlalchemy-mapper and strawchemy serve the 10-step page too, each checked against
the ceiling first, in the same slices (bench/peers/driver.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bench import pages, workers
from bench.peers import driver as peers
from bench.runner import (
    SECRET,
    STEP_USERS,
    alternate,
    drive,
    print_rows,
    print_table,
    serve,
)
from bench.workloads import WORKLOADS, Workload
from graph.auth import mint_token
from graph.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--tasks-per-user", type=int, default=200)
    parser.add_argument(
        "--seconds", type=float, default=8.0,
        help="per workload; the task page, the naive baseline and the ceiling get twice this",
    )
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--port", type=int, default=18800)
    parser.add_argument("--workers-compare", action="store_true",
                        help="instead: 1 vs 2 workers on PostgreSQL (python -m bench.workers)")
    parser.add_argument("--peers", action="store_true",
                        help="also strawberry-sqlalchemy-mapper and strawchemy on the 10-step "
                             "page (installs .venv-peers from bench/peers.lock if needed)")
    parser.add_argument("--pages", action="store_true",
                        help="only the chat and audit list pages, with their ceilings")
    args = parser.parse_args()
    if args.workers_compare:
        return workers.compare_workers(workers.parser().parse_args([]))
    args.peers_python = peers.ensure_venv() if args.peers else None
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
        env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": SECRET, "DIAGNOSTICS": "true",
               "LOG_LEVEL": "WARNING", "ENVIRONMENT": "development",
               "MAX_PAGE_SIZE": "200",  # the chat workload reads 200 messages in one page
               "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        if args.pages:
            asyncio.run(pages.run_pages(args, workdir, pages.seed(workdir, env), env))
            return
        subprocess.run(
            [sys.executable, "-m", "graph.cli", "seed", "--users", str(args.users),
             "--tasks-per-user", str(args.tasks_per_user), "--messages-per-conversation", "220"],
            env=env, check=True,
        )
        steps_url = f"sqlite+aiosqlite:///{workdir / 'steps10.db'}"
        subprocess.run(
            [sys.executable, "-m", "graph.cli", "seed", "--users", str(STEP_USERS),
             "--tasks-per-user", str(1_000 // STEP_USERS), "--steps-per-task", "10"],
            env={**env, "DATABASE_URL": steps_url}, check=True,
        )
        asyncio.run(run(args, workdir, url, env))
        asyncio.run(run_steps(args, workdir, steps_url, env))
        asyncio.run(pages.run_pages(args, workdir, pages.seed(workdir, env), env))


async def run(args: argparse.Namespace, workdir: Path, url: str, env: dict[str, str]) -> None:
    if len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {1})
    settings = Settings(jwt_secret=SECRET, database_url=url)
    tokens = [mint_token(settings, user_id=f"demo-{n + 1}", admin=False, ttl_seconds=3600)
              for n in range(args.users)]
    ours = [sys.executable, "-m", "graph.cli", "serve", "--port", str(args.port)]
    baseline_port = args.port + 1
    baselines = [sys.executable, "-m", "bench.baselines", "--database-url", url,
                 "--port", str(baseline_port)]
    with (serve(ours, args.port, env, workdir) as pid,
          serve(baselines, baseline_port, env, workdir) as baseline_pid):
        base = f"http://127.0.0.1:{args.port}"
        compared = [
            (await WORKLOADS[0].prepare(base, tokens), pid),
            (Workload.naive(f"http://127.0.0.1:{baseline_port}", args.users), baseline_pid),
            (Workload.ceiling(f"http://127.0.0.1:{baseline_port}", args.users), baseline_pid),
        ]
        page, naive, ceiling = await alternate(compared, args)
        results = [page]
        for workload in WORKLOADS[1:]:
            request = await workload.prepare(base, tokens)
            results.append(await drive(workload.name, request, pid=pid,
                                       concurrency=args.concurrency, seconds=args.seconds))
    print_table(results, naive, ceiling)


async def run_steps(
    args: argparse.Namespace, workdir: Path, url: str, env: dict[str, str]
) -> None:
    settings = Settings(jwt_secret=SECRET, database_url=url)
    tokens = [mint_token(settings, user_id=f"demo-{n + 1}", admin=False, ttl_seconds=3600)
              for n in range(STEP_USERS)]
    env = {**env, "DATABASE_URL": url}
    port = args.port + 2
    ours = [sys.executable, "-m", "graph.cli", "serve", "--port", str(port)]
    stock = [sys.executable, "-m", "graph.cli", "serve", "--port", str(port + 1)]
    baselines = [sys.executable, "-m", "bench.baselines", "--database-url", url,
                 "--port", str(port + 2)]
    with (serve(ours, port, env, workdir) as pid,
          serve(stock, port + 1, {**env, "COMPILED_READS": "false"}, workdir) as stock_pid,
          serve(baselines, port + 2, env, workdir) as baseline_pid,
          ExitStack() as stack):
        compared = [
            (await WORKLOADS[0].prepare(f"http://127.0.0.1:{port}", tokens), pid),
            (await WORKLOADS[0].prepare(f"http://127.0.0.1:{port + 1}", tokens), stock_pid),
            (Workload.ceiling_page(f"http://127.0.0.1:{port + 2}", STEP_USERS), baseline_pid),
            (Workload.naive(f"http://127.0.0.1:{port + 2}", STEP_USERS), baseline_pid),
        ]
        names = ["10-step page (50)", "10-step, graphql-core", "10-step ceiling",
                 "10-step naive N+1"]
        if args.peers_python:
            for name, request, peer_pid in await peers.start(
                stack, serve, args.peers_python, url, env, workdir, port + 3,
                f"http://127.0.0.1:{port + 2}", STEP_USERS,
            ):
                compared.append((request, peer_pid))
                names.append(name)
        page, stock_page, ceiling, naive, *peer_rows = await alternate(compared, args, names)
        loaded = await drive("10-step page, 32 conn", compared[0][0], pid=pid,
                             concurrency=32, seconds=args.seconds)
    print_table([page, stock_page, naive, *peer_rows], ceiling, ceiling, title="10-step page")
    print_rows([loaded])
    tail = loaded.percentile(0.99) / max(loaded.percentile(0.5), 1e-9)
    print(f"10-step page at 32 connections: p99 is {tail:.1f}x p50, "
          f"peak RSS {loaded.rss_mb:.0f} MB")
    if peer_rows:
        peers.print_comparison([page, stock_page, naive, *peer_rows], ceiling)
