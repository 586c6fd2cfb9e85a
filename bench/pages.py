"""The chat page and the audit list page, each against its own ceiling (bench/ceilings.py).

On its own database (20 users, each with conversations of 220 messages and 150 audit log
entries), three servers: the compiled path, graphql-core's (COMPILED_READS=false) and the
ceiling, which runs the same statements and writes the same JSON with orjson. Each page is
driven on the three in alternating slices (`alternate`), and the answers are compared once
first: the three must write the same data, or the figures would compare different work.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from bench.ceilings import AUDIT_PAGE, CHAT_PAGE
from bench.runner import SECRET, alternate, print_table, serve
from bench.workloads import Request
from graph.auth import mint_token
from graph.settings import Settings

USERS = 20
CHAT = f"""query($id: ID!) {{ conversation(id: $id) {{
  messages(last: {CHAT_PAGE}) {{ edges {{ node {{ id role content createdAt }} }} }} }} }}"""
AUDIT = f"""{{ auditLogs(first: {AUDIT_PAGE}) {{ pageInfo {{ hasNextPage endCursor }}
  edges {{ cursor node {{ id documentType documentVersion status source modelUsed tokensUsed
  generationTimeMs errorMessage createdAt }} }} }} }}"""


def seed(workdir: Path, env: dict[str, str]) -> str:
    url = f"sqlite+aiosqlite:///{workdir / 'pages.db'}"
    subprocess.run(
        [sys.executable, "-m", "graph.cli", "seed", "--users", str(USERS),
         "--tasks-per-user", "1", "--messages-per-conversation", "220",
         "--audit-logs-per-user", "150"],
        env={**env, "DATABASE_URL": url}, check=True,
    )
    return url


def _graphql(base: str, tokens: list[str], query: str, ids: list[str] | None) -> Request:
    async def request(client: httpx.AsyncClient, n: int) -> httpx.Response:
        variables = {"id": ids[n % USERS]} if ids else {}
        return await client.post(f"{base}/graphql", json={"query": query, "variables": variables},
                                 headers={"Authorization": f"Bearer {tokens[n % USERS]}"})

    return request


def _ceiling(base: str, page: str, ids: list[str] | None) -> Request:
    async def request(client: httpx.AsyncClient, n: int) -> httpx.Response:
        params = {"user": f"demo-{n % USERS + 1}"}
        if ids:
            params["conversation"] = ids[n % USERS]
        return await client.get(f"{base}/ceiling/{page}", params=params)

    return request


async def _conversations(base: str, tokens: list[str]) -> list[str]:
    """Each user's first conversation: the chat page's."""
    async with httpx.AsyncClient(timeout=30) as client:
        ids = []
        for token in tokens:
            response = await client.post(
                f"{base}/graphql", json={"query": "{ conversations(first: 1) { nodes { id } } }"},
                headers={"Authorization": f"Bearer {token}"})
            ids.append(response.json()["data"]["conversations"]["nodes"][0]["id"])
        return ids


async def _same_answers(requests: list[Request]) -> bool:
    async with httpx.AsyncClient(timeout=30) as client:
        answers: list[Any] = [(await request(client, 0)).json() for request in requests]
    return all(answer.get("data") == answers[-1]["data"] and "errors" not in answer
               for answer in answers)


async def run_pages(args: argparse.Namespace, workdir: Path, url: str,
                    env: dict[str, str]) -> None:
    settings = Settings(jwt_secret=SECRET, database_url=url)
    tokens = [mint_token(settings, user_id=f"demo-{n + 1}", admin=False, ttl_seconds=3600)
              for n in range(USERS)]
    env = {**env, "DATABASE_URL": url, "MAX_PAGE_SIZE": str(CHAT_PAGE)}
    port = args.port + 5
    ours = [sys.executable, "-m", "graph.cli", "serve", "--port", str(port)]
    stock = [sys.executable, "-m", "graph.cli", "serve", "--port", str(port + 1)]
    ceilings = [sys.executable, "-m", "bench.ceilings", "--database-url", url,
                "--port", str(port + 2)]
    bases = [f"http://127.0.0.1:{port + n}" for n in range(3)]
    with (serve(ours, port, env, workdir) as pid,
          serve(stock, port + 1, {**env, "COMPILED_READS": "false"}, workdir) as stock_pid,
          serve(ceilings, port + 2, env, workdir) as ceiling_pid):
        conversations = await _conversations(bases[0], tokens)
        for title, query, page, ids in (("chat page", CHAT, "chat", conversations),
                                        ("audit list", AUDIT, "audit", None)):
            compared = [(_graphql(bases[0], tokens, query, ids), pid),
                        (_graphql(bases[1], tokens, query, ids), stock_pid),
                        (_ceiling(bases[2], page, ids), ceiling_pid)]
            same = await _same_answers([request for request, _ in compared])
            size = CHAT_PAGE if page == "chat" else AUDIT_PAGE
            short = title.split()[0]
            names = [f"{title} ({size})", f"{short}, graphql-core", f"{short} ceiling"]
            compiled, standard, ceiling = await alternate(compared, args, names)
            print(f"\n{title}: the three write the same data: {'yes' if same else 'NO'}")
            print_table([compiled, standard], ceiling, ceiling, title=title)
