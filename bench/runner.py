"""Servers started and driven over HTTP, and the tables of what they did: what every
`python -m bench...` run that drives a server over httpx shares (bench/suite.py, pages.py,
rls.py, workers.py, storm.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.workloads import WORKLOADS

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


def pin(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") and os.cpu_count() else []


@contextmanager
def serve(command: list[str], port: int, env: dict[str, str], workdir: Path) -> Iterator[int]:
    log = (workdir / f"server-{port}.log").open("wb")
    process = subprocess.Popen(pin(0) + command, env=env, cwd=workdir, stdout=log, stderr=log)
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
        print_rows(rows)
        for row in results:
            print(f"{row.name}: {row.rps / max(ceiling.rps, 1e-9):.2f} of the ceiling")
        return
    print_rows([*results, naive, ceiling])
    ours = next(r for r in results if r.name == "task page (50)")
    print(f"\ntask page: {ours.rps / max(naive.rps, 1e-9):.2f}x the naive N+1 baseline, "
          f"{ours.rps / max(ceiling.rps, 1e-9):.2f} of the no-GraphQL ceiling")


def print_rows(rows: list[Result]) -> None:
    print(f"\n{'workload':<30}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'p99/p50':>9}"
          f"{'SQL/req':>9}{'errors':>8}{'RSS MB':>9}")
    for row in rows:
        sql = statistics.mean(row.statements) if row.statements else float("nan")
        ratio = row.percentile(0.99) / max(row.percentile(0.5), 1e-9)
        print(f"{row.name:<30}{row.rps:>9.1f}{row.percentile(0.5):>9.1f}"
              f"{row.percentile(0.99):>9.1f}{ratio:>9.1f}{sql:>9.1f}{row.errors:>8}"
              f"{row.rss_mb:>9.0f}")


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
