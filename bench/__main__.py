"""`python -m bench`: seed a database, start the real server, drive fixed workloads over HTTP.

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
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.peers import driver as peers
from bench.workloads import WORKLOADS, Workload
from graph.auth import mint_token
from graph.settings import Settings

SECRET = "bench-secret-0123456789abcdef0123456789abcdef"
STEP_USERS = 20  # the 10-step page's database: 20 users x 50 tasks x 10 steps
ROUNDS = 4  # turns of the task page, the naive baseline and the ceiling (see `alternate`)


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies: list[float]
    statements: list[int]
    errors: int
    rss_mb: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @classmethod
    def merged(cls, parts: list[Result]) -> Result:
        return cls(
            parts[0].name,
            sum(part.requests for part in parts),
            sum(part.seconds for part in parts),
            [latency for part in parts for latency in part.latencies],
            [count for part in parts for count in part.statements],
            sum(part.errors for part in parts),
            max(part.rss_mb for part in parts),
        )

    def percentile(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(int(share * len(ordered)), len(ordered) - 1)] * 1000 if ordered else 0


def _pin(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") and os.cpu_count() else []


@contextmanager
def serve(command: list[str], port: int, env: dict[str, str], workdir: Path) -> Iterator[int]:
    log = (workdir / f"server-{port}.log").open("wb")
    process = subprocess.Popen(_pin(0) + command, env=env, cwd=workdir, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/docs-not-here", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    raise RuntimeError((workdir / f"server-{port}.log").read_text()) from None
                time.sleep(0.2)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def drive(
    name: str, make_request: Callable[[httpx.AsyncClient, int], Any], *, pid: int,
    concurrency: int, seconds: float,
) -> Result:
    latencies: list[float] = []
    statements: list[int] = []
    errors = 0
    peak = rss_mb(pid)
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, keepalive_expiry=1)

    async def worker(client: httpx.AsyncClient, number: int) -> None:
        nonlocal errors, peak
        sent = 0
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            response = await make_request(client, number * 100_000 + sent)
            latencies.append(time.perf_counter() - started)
            sent += 1
            count = _statement_count(response)
            if count is not None:
                statements.append(count)
            if response.status_code != 200 or b'"errors"' in response.content:
                errors += 1
            if sent % 20 == 0:
                peak = max(peak, rss_mb(pid))

    started = time.perf_counter()
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        await asyncio.gather(*(worker(client, n) for n in range(concurrency)))
    elapsed = time.perf_counter() - started
    return Result(name, len(latencies), elapsed, latencies, statements, errors, peak)


def _statement_count(response: httpx.Response) -> int | None:
    header = response.headers.get("x-sql-statements")
    if header is not None:
        return int(header)
    try:
        return int(response.json()["extensions"]["sql"]["statements"])
    except (ValueError, KeyError, TypeError):
        return None


def print_table(
    results: list[Result], naive: Result, ceiling: Result, title: str = ""
) -> None:
    if title:  # the 10-step page: ours, graphql-core's, the ceiling
        rows = [*results, ceiling]
        _rows(rows)
        for row in results:
            print(f"{row.name}: {row.rps / max(ceiling.rps, 1e-9):.2f} of the ceiling")
        return
    _rows([*results, naive, ceiling])
    ours = next(r for r in results if r.name == "task page (50)")
    print(f"\ntask page: {ours.rps / max(naive.rps, 1e-9):.2f}x the naive N+1 baseline, "
          f"{ours.rps / max(ceiling.rps, 1e-9):.2f} of the no-GraphQL ceiling")


def _rows(rows: list[Result]) -> None:
    print(f"\n{'workload':<30}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'p99/p50':>9}"
          f"{'SQL/req':>9}{'errors':>8}{'RSS MB':>9}")
    for row in rows:
        sql = statistics.mean(row.statements) if row.statements else float("nan")
        ratio = row.percentile(0.99) / max(row.percentile(0.5), 1e-9)
        print(f"{row.name:<30}{row.rps:>9.1f}{row.percentile(0.5):>9.1f}"
              f"{row.percentile(0.99):>9.1f}{ratio:>9.1f}{sql:>9.1f}{row.errors:>8}"
              f"{row.rss_mb:>9.0f}")


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
    from bench import pages  # here: bench.pages imports this module's helpers
    if args.workers_compare:
        from bench import workers

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
    _rows([loaded])
    tail = loaded.percentile(0.99) / max(loaded.percentile(0.5), 1e-9)
    print(f"10-step page at 32 connections: p99 is {tail:.1f}x p50, "
          f"peak RSS {loaded.rss_mb:.0f} MB")
    if peer_rows:
        peers.print_comparison([page, stock_page, naive, *peer_rows], ceiling)


async def alternate(
    compared: list[tuple[Callable[[httpx.AsyncClient, int], Any], int]],
    args: argparse.Namespace,
    names: list[str] | None = None,
) -> list[Result]:
    """The task page, the naive baseline and the ceiling in turns (ROUNDS slices each), so a
    shared machine's speed drifting during the run (seen here: 1.5x between minutes) weighs
    on all three alike instead of on whichever ran in the slow minute."""
    names = names or [WORKLOADS[0].name, "naive N+1 (50)", "ceiling orjson (50)"]
    slices: list[list[Result]] = [[] for _ in compared]
    for _ in range(ROUNDS):
        for index, (request, pid) in enumerate(compared):
            slices[index].append(await drive(
                names[index], request, pid=pid, concurrency=args.concurrency,
                seconds=args.seconds * 2 / ROUNDS,
            ))
    return [Result.merged(parts) for parts in slices]


if __name__ == "__main__":
    main()
