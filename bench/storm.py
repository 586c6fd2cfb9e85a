"""`python -m bench.storm`: one user's subscription storm against another user's queries.

Issue 22's case 1: one user holds 20 sockets x 20 subscriptions of
`taskEvents { id eventType task { id title steps { id content } events(first: 5) { totalCount } } }`
and changes 20 tasks with one `setTasksStatus`: 400 subscriptions x 20 changes, 8,000
deliveries. Meanwhile a bystander (another user, in a process of its own pinned to core 1,
one request at a time over a kept-alive connection) reads a page of its tasks. The bench
prints the bystander's median latency idle and during the storm, their ratio, the
deliveries received against those expected, and the server's work (CPU seconds and SQL
statements, counted by the server itself through a hook this bench installs).

Then the same with 400 *distinct* selections (each subscription's alias differs): sharing
cannot help, 8,000 deliveries must each run. The user's budget (LIVE_COST_PER_SECOND) is
what protects the bystander there; the bench runs it a second time with the budget lifted to
show what it protects from. Both distinct storms are measured over a fixed window: paced,
the deliveries take minutes, and the bench says how many arrived in it.

The caps are raised to admit the storm (400 subscriptions of one user: the default
MAX_SUBSCRIPTIONS_PER_USER is 100), so what is measured is sharing and the budget, not the
caps. The server is pinned to core 0 and this process and the bystander to core 1 (taskset),
on SQLite in a temporary directory unless `--database-url` names a migrated database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import websockets

from bench.counting import statement_counter, statements_counted
from bench.runner import pin, serve
from graph.auth import mint_token
from graph.settings import Settings

STORM = ("subscription { taskEvents { id eventType task { id title steps { id content } "
         "events(first: 5) { totalCount } } } }")
DISTINCT = ("subscription {{ taskEvents {{ id eventType e{n}: toStatus task {{ id title "
            "steps {{ id content }} events(first: 5) {{ totalCount }} }} }} }}")
BYSTANDER = "{ tasks(first: 10) { edges { node { id title status } } } }"
STATUSES = ("IN_PROGRESS", "COMPLETED", "PENDING")
SOCKETS, PER_SOCKET, TASKS = 20, 20, 20


# The servers' secret, this run's own (a weak one draws a warning from every Settings made);
# the bystander's process is given its token.
SETTINGS = Settings(jwt_secret=secrets.token_urlsafe(48))


def token(user: str) -> str:
    return mint_token(SETTINGS, user_id=user, admin=False, ttl_seconds=3600)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bystander_main(port: int, authorization: str, seconds: float) -> None:
    """The bystander's process: one query at a time for `seconds`, then every sample (its
    start on the system's monotonic clock, its latency) as JSON on stdout."""
    connection = http.client.HTTPConnection("127.0.0.1", port)
    body = json.dumps({"query": BYSTANDER})
    headers = {"Authorization": authorization, "Content-Type": "application/json"}
    samples: list[tuple[float, float]] = []
    stop = time.monotonic() + seconds
    stopped = False

    def stop_now(*_args: object) -> None:
        nonlocal stopped
        stopped = True

    signal.signal(signal.SIGTERM, stop_now)  # the bench is done with it: print, then exit
    while (started := time.monotonic()) < stop and not stopped:
        connection.request("POST", "/graphql", body, headers)
        response = connection.getresponse()
        response.read()
        samples.append((started, time.monotonic() - started))
        if response.status != 200:
            raise SystemExit(f"the bystander got HTTP {response.status}")
    print(json.dumps({"samples": samples, "cpu": time.process_time()}))


@contextlib.contextmanager
def bystander(port: int, user: str, seconds: float) -> Iterator[subprocess.Popen[str]]:
    command = [sys.executable, "-m", "bench.storm", "--bystander", str(port),
               f"Bearer {token(user)}", str(seconds)]
    process = subprocess.Popen(pin(1) + command, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait()


def window(samples: list[tuple[float, float]], start: float, end: float) -> list[float]:
    return [latency * 1000 for started, latency in samples if start <= started < end]


class Storm:
    """The storm user's sockets, counting what each subscription receives."""

    def __init__(self, base: str, user: str) -> None:
        self.base, self.user = base, user
        self.sockets: list[Any] = []
        self.received = 0
        self.refused: list[str] = []
        self._readers: list[asyncio.Task[None]] = []
        self._arrived = asyncio.Event()

    async def open(self, queries: list[str]) -> None:
        url = self.base.replace("http://", "ws://") + "/graphql"
        for number in range(SOCKETS):
            socket = await websockets.connect(url, subprotocols=[websockets.Subprotocol(
                "graphql-transport-ws")], max_size=None)
            self.sockets.append(socket)
            await socket.send(json.dumps({"type": "connection_init", "payload": {
                "authorization": f"Bearer {token(self.user)}"}}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"
            for operation in range(PER_SOCKET):
                query = queries[(number * PER_SOCKET + operation) % len(queries)]
                await socket.send(json.dumps({"id": str(operation), "type": "subscribe",
                                              "payload": {"query": query}}))
            await socket.send(json.dumps({"type": "ping"}))
            while (message := json.loads(await socket.recv()))["type"] != "pong":
                self.refused.append(json.dumps(message)[:200])
            self._readers.append(asyncio.create_task(self._read(socket)))

    async def _read(self, socket: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for frame in socket:
                if '"type":"next"' in frame:
                    self.received += 1
                    self._arrived.set()
                else:
                    self.refused.append(str(frame)[:200])

    async def until(self, count: int, seconds: float) -> float:
        """Wait until `count` deliveries arrived (or `seconds` passed): when it stopped."""
        deadline = time.monotonic() + seconds
        while self.received < count and (left := deadline - time.monotonic()) > 0:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)
        return time.monotonic()

    async def close(self) -> None:
        for socket in self.sockets:
            await socket.close()
        await asyncio.gather(*self._readers, return_exceptions=True)


async def graphql(base: str, user: str, query: str, variables: dict[str, Any]) -> Any:
    async with httpx.AsyncClient(timeout=60) as client:
        response = await client.post(f"{base}/graphql", json={
            "query": query, "variables": variables}, headers={
            "Authorization": f"Bearer {token(user)}"})
    body = response.json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return body["data"]


async def seed(base: str, user: str, count: int) -> list[str]:
    creates = " ".join(f'c{n}: createTask(input: {{title: "task {n}", steps: ["a", "b"]}}) '
                       "{ ... on CreateTaskSuccess { task { id } } }" for n in range(count))
    data = await graphql(base, user, f"mutation {{ {creates} }}", {})
    return [data[f"c{n}"]["task"]["id"] for n in range(count)]


async def change(base: str, user: str, ids: list[str], status: str) -> None:
    await graphql(base, user, """mutation($ids: [ID!]!, $status: TaskStatus!) {
        setTasksStatus(input: {ids: $ids, status: $status}) { __typename } }""",
                  {"ids": ids, "status": status})


async def run_storm(base: str, pid: int, workdir: Path, *, queries: list[str], rounds: int,
                    window_seconds: float, label: str) -> None:
    storm_user, other = f"storm-{label}", f"bystander-{label}"
    port = int(base.rsplit(":", 1)[1])
    ids = await seed(base, storm_user, TASKS)
    await seed(base, other, TASKS)
    storm = Storm(base, storm_user)
    idle_seconds = 3.0
    with bystander(port, other, idle_seconds + 8 + rounds * window_seconds + 30) as process:
        await asyncio.sleep(0.5)  # the bystander has started
        idle_cpu, idle_sql = cpu_seconds(pid), statements_counted(workdir)
        idle_start = time.monotonic()
        await asyncio.sleep(idle_seconds)
        idle_end = time.monotonic()
        idle_cpu, idle_sql = cpu_seconds(pid) - idle_cpu, statements_counted(workdir) - idle_sql
        await storm.open(queries)
        await asyncio.sleep(0.5)
        cpu, sql, started = cpu_seconds(pid), statements_counted(workdir), time.monotonic()
        spans: list[tuple[float, float]] = []
        expected = 0
        for number in range(rounds):
            begin = time.monotonic()
            await change(base, storm_user, ids, STATUSES[number % 3])
            expected += len(ids) * SOCKETS * PER_SOCKET
            spans.append((begin, await storm.until(expected, window_seconds)))
        elapsed = time.monotonic() - started
        cpu, sql = cpu_seconds(pid) - cpu, statements_counted(workdir) - sql
        await storm.close()
        process.terminate()
        out, error = process.communicate()
    samples = json.loads(out)["samples"] if out else []
    idle = window(samples, idle_start, idle_end)
    during = [latency for begin, end in spans for latency in window(samples, begin, end)]
    # The bystander's own share of the server's work in the storm, at its idle cost.
    theirs = len(window(samples, started, started + elapsed)) / max(1, len(idle))
    cpu, sql = cpu - idle_cpu * theirs, round(sql - idle_sql * theirs)
    print(f"\n{label}: {len(set(queries))} distinct selection(s), {SOCKETS} sockets x "
          f"{PER_SOCKET} subscriptions, {rounds} x setTasksStatus over {len(ids)} tasks")
    print(f"  deliveries: {storm.received:,} of {expected:,} in {elapsed:.1f} s"
          + (f" (each round cut at {window_seconds:g} s)" if storm.received < expected else ""))
    if storm.refused:
        print(f"  refused or errors: {len(storm.refused)}, first: {storm.refused[0]}")
        for line in (workdir / f"server-{port}.log").read_text().splitlines()[-5:]:
            print(f"  server log: {line[:300]}")
    if not samples:
        print(f"  the bystander failed: {error[-500:]}")
    print(f"  server work for the storm (the bystander's own taken out): {cpu:.2f} s CPU, "
          f"{sql:,} SQL statements ({sql / max(1, rounds * len(ids)):.1f} per change)")
    if idle and during:
        idle_median, storm_median = statistics.median(idle), statistics.median(during)
        print(f"  bystander median: idle {idle_median:.1f} ms ({len(idle)} requests), storm "
              f"{storm_median:.1f} ms ({len(during)} requests): {storm_median / idle_median:.2f}x"
              f"; storm p90 {statistics.quantiles(during, n=10)[-1]:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--database-url", help="a migrated database (default: a new SQLite)")
    parser.add_argument("--rounds", type=int, default=3, help="setTasksStatus rounds per storm")
    parser.add_argument("--window", type=float, default=10.0,
                        help="seconds a round of a distinct storm is measured")
    parser.add_argument("--only", choices=("shared", "distinct"), help="run one storm only")
    parser.add_argument("--bystander", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bystander:
        port, authorization, seconds = args.bystander
        bystander_main(int(port), authorization, float(seconds))
        return
    if len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {1})
    distinct = [DISTINCT.format(n=n) for n in range(SOCKETS * PER_SOCKET)]
    runs = [
        ("shared", [STORM], {}, args.rounds, 60.0),
        ("distinct", distinct, {}, 1, args.window),
        ("distinct, budget lifted", distinct,
         {"LIVE_COST_PER_SECOND": "1e12", "LIVE_COST_BURST": "1e12"}, 1, args.window),
    ]
    if args.only:
        runs = [run for run in runs if run[0].startswith(args.only)]
    with tempfile.TemporaryDirectory() as directory:
        for number, (label, queries, overrides, rounds, seconds) in enumerate(runs):
            workdir = Path(directory) / f"run-{number}"
            workdir.mkdir()
            secret = SETTINGS.jwt_secret.get_secret_value() if SETTINGS.jwt_secret else ""
            env = {**os.environ, "JWT_SECRET": secret, "LOG_LEVEL": "WARNING", "WORKERS": "1",
                   **statement_counter(workdir),
                   "MAX_SUBSCRIPTIONS_PER_USER": "400", "DATABASE_URL":
                   args.database_url or f"sqlite+aiosqlite:///{workdir / 'storm.db'}",
                   **overrides}
            port = args.port + number
            command = [sys.executable, "-m", "graph.cli", "serve", "--port", str(port)]
            with serve(command, port, env, workdir) as pid:
                asyncio.run(run_storm(f"http://127.0.0.1:{port}", pid, workdir,
                                      queries=queries, rounds=rounds,
                                      window_seconds=seconds, label=label))


if __name__ == "__main__":
    main()
