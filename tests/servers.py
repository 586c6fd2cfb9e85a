"""Real server processes for transport tests: `clarity-graph serve` under uvicorn, and a
graphql-transport-ws client to subscribe to them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import websockets
from websockets.typing import Subprotocol

from graph.auth import mint_token
from tests.conftest import TEST_SECRET, make_settings

DELIVERY_SECONDS = 1.0
PROTOCOL = Subprotocol("graphql-transport-ws")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_server(workdir: Path, *args: str, **env_overrides: str) -> Iterator[str]:
    """Start a server in `workdir` (`serve` given `args` too); yield its base URL once
    /readyz answers 200. One worker process unless WORKERS or `--workers` says otherwise."""
    port = free_port()
    env = {**os.environ, "JWT_SECRET": TEST_SECRET, "LOG_LEVEL": "WARNING", "WORKERS": "1"}
    for name in ("DATABASE_URL", "ASYNC_DATABASE_URI", "ENVIRONMENT", "TEST_DATABASE_URL"):
        env.pop(name, None)  # the defaults are what a newcomer gets, unless overridden
    env.update(env_overrides)
    log = (workdir / f"server-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "serve", "--port", str(port), *args],
        cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, workdir / f"server-{port}.log")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()


def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    raise RuntimeError(f"server did not become ready: {log.read_text()[-2000:]}")


def token(user: str) -> str:
    return mint_token(make_settings(), user_id=user, admin=False, ttl_seconds=600)


async def graphql(base: str, user: str, query: str, variables: dict[str, Any]) -> Any:
    """POST an operation as `user`; its data (a request error fails the test)."""
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{base}/graphql", json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token(user)}"},
        )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


def text_frame(frame: str | bytes) -> str:
    # graphql-ws in a browser parses text frames only; a binary one arrives as a Blob and the
    # client closes the socket (GraphiQL's subscriptions stopped working that way once).
    assert isinstance(frame, str), f"a binary frame: {frame!r}"
    return frame


class Subscriber:
    def __init__(self, socket: Any) -> None:
        self.socket = socket

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> None:
        await self.socket.send(json.dumps({
            "id": "1", "type": "subscribe",
            "payload": {"query": query, "variables": variables or {}},
        }))

    async def next(self, wait: float = DELIVERY_SECONDS) -> dict[str, Any]:
        message: dict[str, Any] = json.loads(text_frame(await asyncio.wait_for(
            self.socket.recv(), wait)))
        return message

    async def data(self, field: str, wait: float = DELIVERY_SECONDS) -> Any:
        """The next delivery's `field`, which must have arrived without errors."""
        message = await self.next(wait)
        assert message["type"] == "next" and "errors" not in message["payload"], message
        return message["payload"]["data"][field]

    async def nothing_within(self, seconds: float) -> bool:
        """True when no data arrives in time (protocol bookkeeping such as `complete` aside)."""
        deadline = asyncio.get_running_loop().time() + seconds
        while (left := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                message = await self.next(wait=left)
            except TimeoutError:
                return True
            if message["type"] == "next":
                return False
        return True


async def open_subscriber(base: str, user: str | None, sockets: list[Any]) -> Subscriber:
    """A socket past connection_init as `user` (anonymous with None), kept in `sockets` for
    the caller to close."""
    url = base.replace("http://", "ws://") + "/graphql"
    socket = await websockets.connect(url, subprotocols=[PROTOCOL])
    sockets.append(socket)
    payload = {"authorization": f"Bearer {token(user)}"} if user else {}
    await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
    ack = json.loads(text_frame(await asyncio.wait_for(socket.recv(), 5)))
    assert ack["type"] == "connection_ack"
    return Subscriber(socket)


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (Linux: read from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # it ended while we looked
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def is_running(pid: int) -> bool:
    """Whether `pid` is a live process: an exited one not yet reaped (a zombie) is not."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def serve_pid(base: str) -> int:
    """The pid of the `serve` process `running_server` started for `base`."""
    port = base.rpartition(":")[2]
    for pid in children_of(os.getpid()):
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        if b"serve" in command and port.encode() in command:
            return pid
    raise LookupError(f"no serve process on port {port}")
