"""Real server processes for transport tests: `clarity-graph serve` under uvicorn, and a
graphql-transport-ws client to subscribe to them."""

from __future__ import annotations

import asyncio
import base64
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


# Live subscriptions (tests/graph/test_live_*.py): many operations on one socket, and a
# client that stops reading. (A server that counts its statements: bench/counting.py.)

class Operations(Subscriber):
    """A socket carrying many operations, each under its own id."""

    async def start(self, operation_id: str, query: str,
                    variables: dict[str, Any] | None = None) -> None:
        await self.socket.send(json.dumps({
            "id": operation_id, "type": "subscribe",
            "payload": {"query": query, "variables": variables or {}},
        }))

    async def complete(self, operation_id: str) -> None:
        await self.socket.send(json.dumps({"id": operation_id, "type": "complete"}))

    async def settled(self) -> None:
        """Return once the server has handled every message sent before (a socket's
        messages are handled in order): its subscriptions listen, its completes are done.
        Nothing else may arrive meanwhile."""
        await self.socket.send(json.dumps({"type": "ping"}))
        assert (await self.next(wait=10))["type"] == "pong"

    async def messages(self, count: int, wait: float = 10.0) -> list[dict[str, Any]]:
        """The next `count` messages, whatever their operation."""
        async with asyncio.timeout(wait):
            return [await self.next(wait) for _ in range(count)]


async def open_operations(base: str, user: str | None, sockets: list[Any],
                          subscribe: dict[str, str] | None = None) -> Operations:
    """`open_subscriber`'s socket as Operations, with the operations `subscribe` names (by
    id) started and listening."""
    operations = Operations((await open_subscriber(base, user, sockets)).socket)
    for operation_id, query in (subscribe or {}).items():
        await operations.start(operation_id, query)
    if subscribe:
        await operations.settled()
    return operations


class StalledSocket:
    """A graphql-transport-ws client on a bare TCP socket that reads nothing until told to:
    what the server sends piles up in the kernel's buffers, then in the server's. (The
    websockets client keeps reading in the background whatever its `max_queue`.)"""

    def __init__(self, base: str, user: str) -> None:
        port = int(base.rsplit(":", 1)[1])
        self.sock = socket.socket()
        # A small window (set before connecting, when it is negotiated): the server's sends
        # block after a few MB, not tens.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.connect(("127.0.0.1", port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((
            f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Protocol: {PROTOCOL}\r\n\r\n"
        ).encode())
        self._buffer = b""
        while b"\r\n\r\n" not in self._buffer:
            self._buffer += self.sock.recv(4096)
        head, _, self._buffer = self._buffer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        authorization = f"Bearer {token(user)}"
        self.send({"type": "connection_init", "payload": {"authorization": authorization}})
        assert self.receive()["type"] == "connection_ack"

    def send(self, message: dict[str, Any]) -> None:
        data, mask = json.dumps(message).encode(), os.urandom(4)
        size = len(data)
        head = bytes([0x81])  # a final text frame
        if size < 126:
            head += bytes([0x80 | size])
        elif size < 65536:
            head += bytes([0x80 | 126]) + size.to_bytes(2, "big")
        else:
            head += bytes([0x80 | 127]) + size.to_bytes(8, "big")
        self.sock.sendall(head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def receive(self, wait: float = 10.0) -> dict[str, Any]:
        """The next message (the server's frames are unmasked; a ping is skipped). Blocking:
        call it when nothing else in the test needs the event loop."""
        self.sock.settimeout(wait)
        while True:
            header = self._read(2)
            size = header[1] & 0x7F
            if size == 126:
                size = int.from_bytes(self._read(2), "big")
            elif size == 127:
                size = int.from_bytes(self._read(8), "big")
            payload = self._read(size)
            if header[0] & 0x0F == 0x1:  # text
                message: dict[str, Any] = json.loads(payload)
                return message
            assert header[0] & 0x0F in (0x9, 0xA), f"not a text frame: {header!r}"

    def _read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            chunk = self.sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self._buffer += chunk
        data, self._buffer = self._buffer[:count], self._buffer[count:]
        return data

    def close(self) -> None:
        self.sock.close()
