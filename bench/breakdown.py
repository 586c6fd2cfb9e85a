"""`python -m bench.breakdown`: where a page's time goes, in microseconds per page, by layer.

In one process, with no network and no load generator: the project's app (`create_app`)
and the exact ceiling (bench/exact.py) each answer the same page N times through httpx's
ASGI transport under cProfile, and each function's own time is charged to the package it
lives in (sqlalchemy, strawberry, graphql-core, the project's compiler, aiosqlite...). The
difference between the two columns is what stands between the server and its ceiling.
cProfile slows Python code more than C code, so the totals are larger than wall time
without it; the split between layers is what this is for.

Run: python -m bench.breakdown [--pages 200] (SQLite, seeded as bench.honest seeds)
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import secrets
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench import exact, honest
from graph.app import create_app
from graph.auth import mint_token
from graph.settings import Settings

LAYERS = (  # the first fragment a function's file path contains names its layer
    ("/sqlalchemy/", "sqlalchemy"), ("/strawberry/", "strawberry"),
    ("/graphql/", "graphql-core"), ("/aiosqlite/", "aiosqlite"), ("/asyncpg/", "asyncpg"),
    ("/starlette/", "starlette"), ("/fastapi/", "fastapi"), ("/httpx/", "httpx (client)"),
    ("/httpcore/", "httpx (client)"), ("/jwt/", "pyjwt"), ("/orjson", "orjson"),
    ("/graph/compiler/", "graph/compiler"), ("/graph/execution/", "graph/execution"),
    ("/graph/http/", "graph/http"), ("/graph/extensions/", "graph/extensions"),
    ("/graph/types/", "graph/types"), ("/graph/resolvers/", "graph/resolvers"),
    ("/graph/", "graph (other)"), ("/domain/", "domain"), ("/models/", "models"),
    ("/bench/", "bench (ceiling)"), ("asyncio", "asyncio"), ("sqlite3", "sqlite3"),
    ("~", "builtins (uncalled)"),
)


def layer(filename: str) -> str:
    for fragment, name in LAYERS:
        if fragment in filename:
            return name
    if "/lib/python3" in filename and "site-packages" not in filename:
        return "stdlib " + filename.rsplit("/", 1)[-1]  # base64.py, enum.py, threading.py...
    return "other"


async def _profile(send: Callable[[], Awaitable[httpx.Response]], pages: int,
                   ) -> tuple[dict[str, float], float]:
    for _ in range(5):  # warm the caches (plans, parsed documents) before measuring
        (await send()).raise_for_status()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for _ in range(pages):
        await send()
    profiler.disable()
    wall = time.perf_counter() - started
    by_layer: dict[str, float] = defaultdict(float)
    # {(file, line, name): (cc, nc, own, cumulative, callers)}: undocumented but stable since
    # Python 2; get_stats_profile() is public but drops the callers that charge builtins.
    stats: Any = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _, _), (_, _, own, _, callers) in stats.items():
        if filename != "~" or not callers:
            by_layer[layer(filename)] += own
            continue
        # A C builtin (a dict's get, orjson.dumps, a sqlite3 cursor's fetch) is charged to the
        # layers that called it, as the time each caller spent in it.
        for (caller_file, _, _), timing in callers.items():
            by_layer[layer(caller_file)] += timing[2]
    return by_layer, wall


async def run(url: str, secret: str, pages: int) -> None:
    settings = Settings(database_url=url, jwt_secret=secret, max_page_size=200)
    token = mint_token(settings, user_id="demo-1", admin=False, ttl_seconds=3600)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = honest._body(honest.PAGE)
    app, ceiling = create_app(settings), exact.build(url, secret)
    async with app.router.lifespan_context(app), ceiling.router.lifespan_context(ceiling):
        ours = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        raw = httpx.AsyncClient(transport=httpx.ASGITransport(app=ceiling), base_url="http://t")
        async with ours, raw:
            mine, wall = await _profile(
                lambda: ours.post("/graphql", headers=headers, content=body), pages)
            theirs, raw_wall = await _profile(
                lambda: raw.post("/page", headers=headers, content=body), pages)
    print(f"\nthe 10-step page (50 tasks x 10 steps), {pages} pages each, in-process, under "
          f"cProfile: microseconds of own time per page, by layer")
    print(f"{'layer':<22}{'project':>10}{'exact':>10}{'between':>10}")
    for name in sorted(set(mine) | set(theirs), key=lambda n: -(mine[n] - theirs[n])):
        a, b = mine[name] / pages * 1e6, theirs[name] / pages * 1e6
        if max(a, b) >= 5:
            print(f"{name:<22}{a:>10.0f}{b:>10.0f}{a - b:>10.0f}")
    total, raw_total = sum(mine.values()), sum(theirs.values())
    print(f"{'total (profiled)':<22}{total / pages * 1e6:>10.0f}{raw_total / pages * 1e6:>10.0f}"
          f"{(total - raw_total) / pages * 1e6:>10.0f}")
    print(f"{'wall (profiled)':<22}{wall / pages * 1e6:>10.0f}{raw_wall / pages * 1e6:>10.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args()
    secret = secrets.token_urlsafe(48)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'breakdown.db'}"
        env = {**os.environ, "DATABASE_URL": url, "JWT_SECRET": secret,
               "PYTHONPATH": str(honest.ROOT)}
        for command in (["migrate"], ["seed", "--users", "2", "--tasks-per-user", "50",
                                      "--steps-per-task", "10"]):
            subprocess.run([sys.executable, "-m", "graph.cli", *command], env=env, check=True,
                           capture_output=True)
        asyncio.run(run(url, secret, args.pages))


if __name__ == "__main__":
    main()
