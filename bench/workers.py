"""`python -m bench.workers` (or `python -m bench --workers-compare`): the 10-step page on
PostgreSQL served by 1 worker and by 2 (`serve --workers N`), under the same load.

The database is 20 users x 50 tasks x 10 steps; a request reads a viewer's 50 tasks with all
their steps (bench/suite.py's 10-step page). Given `--database-url` (an existing, empty
database; the server connects as that role), the bench migrates and seeds it; otherwise it
makes a throwaway database on `--admin-url`'s cluster with its two roles, serves it as the
application role (row-level security on, as in production) and drops it at the end.

Nothing is pinned: the workers, PostgreSQL and this load generator share every core of the
machine, so on a 2-core machine the second worker competes with the load generator and the
database for the second core. The two servers are driven in alternating slices so the
machine's drift weighs on both alike, and beside each one's figures the bench prints the cores
its processes kept busy and the cores this load generator used, which say whether a second
worker had a core to run on.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from bench.rls import _cli, throwaway_database
from bench.runner import ROUNDS, SECRET, STEP_USERS, Result, drive
from bench.workloads import WORKLOADS
from graph.auth import mint_token
from graph.settings import Settings, available_cpus

ROOT = Path(__file__).resolve().parent.parent
COUNTS = (1, 2)


@contextmanager
def serve(workers: int, port: int, env: dict[str, str], workdir: Path) -> Iterator[int]:
    """`clarity-graph serve --workers N`, unpinned, until /readyz answers; yields its pid."""
    command = [sys.executable, "-m", "graph.cli", "serve", "--port", str(port),
               "--workers", str(workers)]
    path = workdir / f"server-{port}.log"
    with path.open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=workdir, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while not _ready(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(path.read_text()[-2000:])
                time.sleep(0.2)
            yield process.pid
        finally:
            process.terminate()
            process.wait(timeout=30)


def _ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by `pid` and its children, the workers."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:  # not Linux, or gone
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return own + sum(cpu_seconds(int(child)) for child in children)


async def compare(
    url: str, env: dict[str, str], args: argparse.Namespace
) -> list[tuple[Result, float, float]]:
    """Per worker count: the merged result, the cores its server kept busy and the cores
    this load generator did meanwhile."""
    tokens = [mint_token(Settings(jwt_secret=SECRET), user_id=f"demo-{n + 1}", admin=False,
                         ttl_seconds=3600) for n in range(STEP_USERS)]
    env = {**env, "DATABASE_URL": url}
    slices: dict[int, list[Result]] = {count: [] for count in COUNTS}
    busy = dict.fromkeys(COUNTS, 0.0)  # the servers' CPU seconds while driven
    driving = dict.fromkeys(COUNTS, 0.0)  # this load generator's, meanwhile
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as servers:
        pids = {count: servers.enter_context(serve(count, args.port + n, env, Path(tmp)))
                for n, count in enumerate(COUNTS)}
        requests = {count: await WORKLOADS[0].prepare(f"http://127.0.0.1:{args.port + n}",
                                                      tokens)
                    for n, count in enumerate(COUNTS)}
        for _ in range(ROUNDS):
            for count in COUNTS:
                used, client = cpu_seconds(pids[count]), time.process_time()
                slices[count].append(await drive(
                    f"{count} worker{'s' if count > 1 else ''}", requests[count],
                    pid=pids[count], concurrency=args.concurrency,
                    seconds=args.seconds / ROUNDS,
                ))
                busy[count] += cpu_seconds(pids[count]) - used
                driving[count] += time.process_time() - client
    merged = [(Result.merged(slices[count]), count) for count in COUNTS]
    return [(result, busy[count] / result.seconds, driving[count] / result.seconds)
            for result, count in merged]


def report(results: list[tuple[Result, float, float]], concurrency: int) -> None:
    print(f"\n10-step page on PostgreSQL, {concurrency} connections; {available_cpus()} CPUs "
          "shared by the workers, PostgreSQL and this load generator (nothing pinned)")
    print(f"{'server':<12}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'SQL/req':>9}{'errors':>8}"
          f"{'server cores':>14}{'client cores':>14}")
    for row, cores, client in results:
        sql = statistics.mean(row.statements) if row.statements else float("nan")
        print(f"{row.name:<12}{row.rps:>9.1f}{row.percentile(0.5):>9.1f}"
              f"{row.percentile(0.99):>9.1f}{sql:>9.1f}{row.errors:>8}{cores:>14.2f}{client:>14.2f}")
    (one, *_), (two, *_) = results
    print(f"\n2 workers: {two.rps / max(one.rps, 1e-9):.2f}x the throughput of 1 "
          "(cores: CPU time over the time driven, of the server's processes and of this "
          "load generator)")


def _env() -> dict[str, str]:
    return {**os.environ, "JWT_SECRET": SECRET, "DIAGNOSTICS": "true", "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "json", "ENVIRONMENT": "development", "PYTHONPATH": str(ROOT)}


def _seed(env: dict[str, str], url: str) -> None:
    env = {**env, "DATABASE_URL": url}
    _cli(env, "migrate")
    _cli(env, "seed", "--users", str(STEP_USERS), "--tasks-per-user",
         str(1_000 // STEP_USERS), "--steps-per-task", "10")


def compare_workers(args: argparse.Namespace) -> None:
    """Seed (the given database, or a throwaway one), then drive 1 and 2 workers."""
    env = _env()
    if args.database_url:
        _seed(env, args.database_url)
        report(asyncio.run(compare(args.database_url, env, args)), args.concurrency)
        return
    with throwaway_database(args.admin_url, "clarity_workers") as (owner_url, app_url, app):
        _seed(env, owner_url)
        _cli({**env, "DATABASE_URL": owner_url}, "grant", app)
        report(asyncio.run(compare(app_url, env, args)), args.concurrency)


def parser() -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--database-url", help="an existing, empty PostgreSQL database")
    options.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                         help="without --database-url: a superuser, to make a throwaway one")
    options.add_argument("--seconds", type=float, default=16.0, help="per server, in total")
    options.add_argument("--concurrency", type=int, default=16)
    options.add_argument("--port", type=int, default=18840)
    return options


if __name__ == "__main__":
    compare_workers(parser().parse_args())
