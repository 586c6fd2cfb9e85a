"""`python -m bench.honest`: the pages against their exact ceilings, driven by wrk.

For each engine (SQLite; PostgreSQL as the application role with RLS on, when
`--admin-url` reaches a cluster), one database holds 20 users, each with 50 tasks of 10
steps, a conversation of 220 messages and 150 audit entries. Three processes serve it, each
pinned to core 0: the project (`clarity-graph serve`, compiled reads), the same with
`COMPILED_READS=false`, and the exact ceilings (bench/exact.py: the raw driver, the JWT
verified, the fewest statements, orjson). wrk drives from core 1 with one thread and 8
connections, the workloads in alternating slices so the machine's drift weighs on all alike.

Before any timing, each page's bytes from the server and from its ceiling are compared: they
must be equal, or the figures would compare different work. The table also shows what wrk
drives against a static response (the load generator's own figure: it must be far above the
fastest server measured, or the figures describe wrk) and `{ viewer { id } }` (the fixed
cost of a request: HTTP, JWT, parse, validate, context).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import orjson

from bench import wrk
from bench.rls import throwaway_database
from graph.auth import mint_token
from graph.settings import Settings

SECRET = secrets.token_urlsafe(48)  # strong: the server would warn about a guessable one
USERS = 20
ROOT = Path(__file__).resolve().parent.parent
PAGE = ("{ tasks(first: 50) { edges { node { id title status stepCount completedStepCount "
        "steps { id content completed } } } } }")
CHAT = ("query($id: ID!) { conversation(id: $id) { messages(last: 200) { edges { node { "
        "id role content createdAt } } } } }")
AUDIT = ("{ auditLogs(first: 100) { pageInfo { hasNextPage endCursor } edges { cursor node { "
         "id documentType documentVersion status source modelUsed tokensUsed generationTimeMs "
         "errorMessage createdAt } } } }")
TRIVIAL = "{ viewer { id } }"


def _body(query: str, variables: dict[str, str] | None = None) -> bytes:
    return orjson.dumps({"query": query, "variables": variables or {}})


@contextmanager
def _process(command: list[str], port: int, env: dict[str, str], workdir: Path) -> Iterator[int]:
    log_path = workdir / f"server-{port}.log"
    with log_path.open("wb") as log:
        pin = ["taskset", "-c", "0"] if len(os.sched_getaffinity(0)) > 1 else []
        process = subprocess.Popen(pin + command, env=env, cwd=workdir, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
                    break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(log_path.read_text()) from None
                    time.sleep(0.2)
            yield process.pid
        finally:
            process.terminate()
            process.wait(timeout=10)


def _cli(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "-m", "graph.cli", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL)


def _seed(env: dict[str, str]) -> None:
    _cli(env, "migrate")
    _cli(env, "seed", "--users", str(USERS), "--tasks-per-user", "50", "--steps-per-task", "10",
         "--messages-per-conversation", "220", "--audit-logs-per-user", "150")


class Engine:
    """One engine's three servers and the workloads against them."""

    def __init__(self, name: str, url: str, env: dict[str, str], port: int) -> None:
        self.name, self.url, self.env, self.port = name, url, env, port
        settings = Settings(jwt_secret=SECRET)
        self.tokens = [mint_token(settings, user_id=f"demo-{n + 1}", admin=False,
                                  ttl_seconds=3600) for n in range(USERS)]

    def run(self, workdir: Path, seconds: float, rounds: int) -> list[tuple[str, wrk.Figures,
                                                                            wrk.Figures | None]]:
        env = {**self.env, "DATABASE_URL": self.url}
        ours = [sys.executable, "-m", "graph.cli", "serve", "--port"]
        with ExitStack() as stack:
            stack.enter_context(_process([*ours, str(self.port)], self.port, env, workdir))
            stack.enter_context(_process([*ours, str(self.port + 1)], self.port + 1,
                                         {**env, "COMPILED_READS": "false"}, workdir))
            stack.enter_context(_process(
                [sys.executable, "-m", "bench.exact", "--database-url", self.url,
                 "--port", str(self.port + 2), "--secret", SECRET],
                self.port + 2, env, workdir))
            return self._drive(seconds, rounds)

    def _graphql(self, port: int) -> str:
        return f"http://127.0.0.1:{port}/graphql"

    def _bodies(self) -> dict[str, list[bytes]]:
        conversations = []
        with httpx.Client(timeout=30) as client:
            for token in self.tokens:
                answer = client.post(self._graphql(self.port), headers={
                    "Authorization": f"Bearer {token}", "Content-Type": "application/json",
                }, content=_body(
                    "{ conversations(first: 1) { edges { node { id } } } }"))
                answer.raise_for_status()
                edges = answer.json()["data"]["conversations"]["edges"]
                conversations.append(edges[0]["node"]["id"])
        return {
            "page": [_body(PAGE)] * USERS,
            "chat": [_body(CHAT, {"id": conversation}) for conversation in conversations],
            "audit": [_body(AUDIT)] * USERS,
        }

    def _same_bytes(self, bodies: dict[str, list[bytes]]) -> None:
        with httpx.Client(timeout=30) as client:
            for page, sent in bodies.items():
                for n in (0, USERS - 1):
                    headers = {"Authorization": f"Bearer {self.tokens[n]}",
                               "Content-Type": "application/json"}
                    server = client.post(self._graphql(self.port), headers=headers,
                                         content=sent[n]).content
                    exact = client.post(f"http://127.0.0.1:{self.port + 2}/{page}",
                                        headers=headers, content=sent[n]).content
                    if server != exact:
                        raise SystemExit(f"{self.name} {page}: the exact ceiling's bytes differ "
                                         f"from the server's:\n{server[:300]!r}\n{exact[:300]!r}")
        print(f"{self.name}: the exact ceilings write the server's bytes (3 pages, 2 users)")

    def _drive(self, seconds: float, rounds: int) -> list[tuple[str, wrk.Figures,
                                                                wrk.Figures | None]]:
        bodies = self._bodies()
        self._same_bytes(bodies)
        exact = f"http://127.0.0.1:{self.port + 2}"
        plan = [("static response (wrk's reach)", f"{exact}/static", [b"{}"])]
        plan.append(("{ viewer { id } }", self._graphql(self.port), [_body(TRIVIAL)]))
        for page in bodies:
            plan.append((f"{page}: exact ceiling", f"{exact}/{page}", bodies[page]))
            plan.append((f"{page}: project, compiled", self._graphql(self.port), bodies[page]))
            plan.append((f"{page}: project, COMPILED_READS=false",
                         self._graphql(self.port + 1), bodies[page]))
        core = 1 if len(os.sched_getaffinity(0)) > 1 else None
        slices: dict[str, list[wrk.Figures]] = {name: [] for name, _, _ in plan}
        for _ in range(rounds):
            for name, url, sent in plan:
                slices[name].append(wrk.drive(name, url, sent, self.tokens,
                                              seconds=seconds / rounds, connections=8, core=core))
        merged = {name: wrk.Figures.merged(parts) for name, parts in slices.items()}
        rows: list[tuple[str, wrk.Figures, wrk.Figures | None]] = []
        for name, figures in merged.items():
            page = name.split(":")[0]
            ceiling = merged.get(f"{page}: exact ceiling")
            rows.append((name, figures, ceiling))
        return rows


def report(engine: str, rows: list[tuple[str, wrk.Figures, wrk.Figures | None]]) -> None:
    print(f"\n{engine}: each server pinned to core 0, wrk (1 thread, 8 connections) to core 1, "
          f"of {os.cpu_count()} cores; the workloads in alternating slices")
    print(f"{'workload':<40}{'req/s':>9}{'of exact':>10}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'failed':>8}")
    fastest = max(f.rps for name, f, _ in rows if not name.startswith("static"))
    for name, figures, ceiling in rows:
        share = f"{figures.rps / ceiling.rps:.2f}" if ceiling else ""
        print(f"{name:<40}{figures.rps:>9.0f}{share:>10}{figures.p50_ms:>9.1f}"
              f"{figures.p99_ms:>9.1f}{figures.failures:>8}")
    reach = rows[0][1].rps
    print(f"wrk's reach is {reach / fastest:.1f}x the fastest server measured "
          f"({'enough' if reach >= 10 * fastest else 'NOT 10x: these figures are bounded by it'})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=6.0, help="per workload, all slices")
    parser.add_argument("--rounds", type=int, default=2, help="slices per workload")
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--port", type=int, default=18900)
    args = parser.parse_args()
    if not wrk.available():
        raise SystemExit("wrk is not installed: apt-get install wrk (Debian's package)")
    if len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {1})
    env = {**os.environ, "JWT_SECRET": SECRET, "LOG_LEVEL": "WARNING",
           "ENVIRONMENT": "development", "MAX_PAGE_SIZE": "200", "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        if args.engine in ("sqlite", "both"):
            url = f"sqlite+aiosqlite:///{workdir / 'honest.db'}"
            _seed({**env, "DATABASE_URL": url})
            engine = Engine("SQLite", url, env, args.port)
            report("SQLite", engine.run(workdir, args.seconds, args.rounds))
        if args.engine in ("postgresql", "both"):
            with throwaway_database(args.admin_url, "clarity_honest") as (owner, app, role):
                _seed({**env, "DATABASE_URL": owner})
                _cli({**env, "DATABASE_URL": owner}, "grant", role)
                engine = Engine("PostgreSQL (app role, RLS on)", app, env, args.port + 10)
                report("PostgreSQL, the application role with RLS on",
                       engine.run(workdir, args.seconds, args.rounds))


if __name__ == "__main__":

    main()
