"""`python -m bench --peers`: strawberry-sqlalchemy-mapper and strawchemy on the 10-step page,
beside our server, graphql-core's path and the ceiling, in the same alternating slices.

Each peer is a separate uvicorn process (bench/peers/mapper_app.py, strawchemy_app.py) run by
`.venv-peers`, a venv made here from bench/peers.lock (and remade when the lock changes), so
the peers never enter the server's dependency tree. Before a peer is timed, its page is
checked against the ceiling's for every user (the same tasks in the same order, 50 of them,
10 steps each, the same titles, statuses, counts and steps); a wrong answer stops the run.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".venv-peers"
LOCK = ROOT / "bench" / "peers.lock"
PAGE_SIZE = 50
STEPS = 10
_FIELDS = "id title status stepCount completedStepCount steps { id content completed }"

Request = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]
Serve = Callable[[list[str], int, dict[str, str], Path], AbstractContextManager[int]]


class Row(Protocol):
    name: str

    @property
    def rps(self) -> float: ...


@dataclass(frozen=True)
class Peer:
    name: str
    module: str
    query: str  # the page in the peer's own arguments

    def command(self, python: Path, database_url: str, port: int) -> list[str]:
        return [str(python), "-m", self.module, "--database-url", database_url,
                "--port", str(port)]

    def request(self, base: str, users: int) -> Request:
        async def request(client: httpx.AsyncClient, n: int) -> httpx.Response:
            return await client.post(f"{base}/graphql", json={"query": self.query},
                                     headers={"x-user": f"demo-{n % users + 1}"})

        return request


PEERS = (
    Peer("strawberry-sqlalchemy-mapper", "bench.peers.mapper_app",
         f"{{ tasks(first: {PAGE_SIZE}) {{ {_FIELDS} }} }}"),
    Peer("strawchemy", "bench.peers.strawchemy_app",
         f"{{ tasks(limit: {PAGE_SIZE}) {{ {_FIELDS} }} }}"),
)


def ensure_venv() -> Path:
    """`.venv-peers`'s python, the venv (re)made from bench/peers.lock when missing or stale."""
    python = VENV / "bin" / "python"
    stamp = VENV / "peers.lock.sha256"
    digest = hashlib.sha256(LOCK.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    print(f"making {VENV.name} from {LOCK.relative_to(ROOT)}", file=sys.stderr)
    shutil.rmtree(VENV, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--require-hashes",
                    "-r", str(LOCK)], check=True)
    stamp.write_text(digest)
    return python


async def start(
    stack: ExitStack, serve: Serve, python: Path, database_url: str, env: dict[str, str],
    workdir: Path, first_port: int, ceiling_base: str, users: int,
) -> list[tuple[str, Request, int]]:
    """Each peer started (stopped when `stack` closes) and checked: (name, request, pid)."""
    started = []
    for offset, peer in enumerate(PEERS):
        port = first_port + offset
        pid = stack.enter_context(
            serve(peer.command(python, database_url, port), port, env, workdir))
        base = f"http://127.0.0.1:{port}"
        await verify(peer, base, ceiling_base, users)
        started.append((peer.name, peer.request(base, users), pid))
    return started


async def verify(peer: Peer, base: str, ceiling_base: str, users: int) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        for n in range(users):
            user = f"demo-{n + 1}"
            response = await peer.request(base, users)(client, n)
            expected = await client.get(f"{ceiling_base}/ceiling/page",
                                        params={"user": user, "first": PAGE_SIZE})
            problem = mismatch(response, expected.json()["data"]["tasks"]["edges"])
            if problem:
                raise SystemExit(f"{peer.name} answered {user}'s 10-step page wrongly: {problem}")


def mismatch(response: httpx.Response, edges: list[dict[str, Any]]) -> str | None:
    try:
        body = response.json()
        if response.status_code != 200 or body.get("errors") or not body.get("data"):
            return f"HTTP {response.status_code}: {response.text[:500]}"
        tasks = body["data"]["tasks"]
        steps = sorted({len(task["steps"]) for task in tasks})
        if len(tasks) != PAGE_SIZE or steps != [STEPS]:
            return f"{len(tasks)} tasks (not {PAGE_SIZE}), with {steps} steps (not {STEPS})"
        for task, edge in zip(tasks, edges, strict=True):
            if _summary(task) != _summary(edge["node"], global_ids=True):
                return f"{_summary(task)} where the ceiling has {_summary(edge['node'], True)}"
    except (KeyError, TypeError, ValueError) as error:  # a field missing or of the wrong kind
        return f"{error!r} in {response.text[:500]}"
    return None


def _summary(task: dict[str, Any], global_ids: bool = False) -> tuple[Any, ...]:
    """What must be equal: ids (the peers' are integers, ours global ids), title, status
    (ours is the enum's name), the counts and each step."""
    def plain(value: Any) -> int:
        return int(base64.b64decode(value).decode().split(":", 1)[1]) if global_ids else value

    steps = [(plain(step["id"]), step["content"], step["completed"]) for step in task["steps"]]
    return (plain(task["id"]), task["title"], task["status"].upper(), task["stepCount"],
            task["completedStepCount"], steps)


def print_comparison(rows: list[Row], ceiling: Row) -> None:
    """The issue's table: req/s, the share of the ceiling, the multiple of the mapper."""
    mapper = next((row for row in rows if row.name == PEERS[0].name), None)
    print(f"\n{'server':<30}{'req/s':>9}{'of ceiling':>12}{'vs mapper':>11}")
    for row in [*rows, ceiling]:
        versus = f"{row.rps / max(mapper.rps, 1e-9):.1f}x" if mapper else "-"
        print(f"{row.name:<30}{row.rps:>9.1f}{row.rps / max(ceiling.rps, 1e-9):>12.2f}"
              f"{versus:>11}")
