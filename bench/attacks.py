"""Clients that attack a server's connection slots, for `python -m bench.edge` and for the
edge tests (tests/graph/test_edge_server.py): real sockets against a real `serve`.

- `SlowLoris`: connections that send a request's headers one byte at a time and never finish.
- `idle_websockets`: WebSockets that complete `connection_init` anonymously, then idle.
- `probe`: a bystander's requests, each on a fresh connection, with their status and time.

Every attacker connects from a `source` address of its own: on Linux all of 127.0.0.0/8 is
the loopback, so 127.0.0.2 is another client to a server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")
OPEN_SECONDS = 30  # for a thousand connections to be made on a busy machine
# A request line, then header lines that never end: the headers are never complete.
SLOW_REQUEST = b"GET /healthz HTTP/1.1\r\nHost: slow\r\n" + b"X-Slow: 1\r\n" * 100_000


def address(base: str) -> tuple[str, int]:
    url = httpx.URL(base)
    assert url.host and url.port
    return url.host, url.port


@dataclass
class SlowSocket:
    """One slow connection: the status the server answered (None: closed without an answer,
    or still open) and how long after connecting the server closed it (None: still open)."""

    status: int | None = None
    closed_after: float | None = None
    error: str | None = None  # the connection could not be made


@dataclass
class SlowLoris:
    """`count` connections from `source`, each sending one byte every `byte_seconds`."""

    base: str
    source: str
    count: int
    byte_seconds: float = 1.0
    sockets: list[SlowSocket] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    _connected: int = 0
    _all_connected: asyncio.Event = field(default_factory=asyncio.Event)
    _closes: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def run(self) -> list[SlowSocket]:
        """Until `stop` is set, or every connection has been closed by the server."""
        await asyncio.gather(*(self._one() for _ in range(self.count)))
        return self.sockets

    async def opened(self) -> None:
        """Wait until every connection has been made (or refused)."""
        async with asyncio.timeout(OPEN_SECONDS):
            await self._all_connected.wait()

    def still_open(self) -> int:
        return sum(s.closed_after is None and s.error is None for s in self.sockets)

    async def open_at_most(self, count: int) -> None:
        """Wait until the server has closed all but `count` of them."""
        async with asyncio.timeout(OPEN_SECONDS), self._closes:
            await self._closes.wait_for(lambda: self.still_open() <= count)

    async def _one(self) -> None:
        sock = SlowSocket()
        self.sockets.append(sock)
        host, port = address(self.base)
        try:
            reader, writer = await asyncio.open_connection(host, port, local_addr=(self.source, 0))
        except OSError as error:
            sock.error = str(error)
            return
        finally:
            self._connected += 1
            if self._connected == self.count:
                self._all_connected.set()
        opened = time.monotonic()
        answer = asyncio.ensure_future(reader.read())  # to the end: the server's close
        try:
            await self._trickle(writer, answer)
        finally:
            if answer.done():
                sock.closed_after = time.monotonic() - opened
                sock.status = _status(answer)
                async with self._closes:
                    self._closes.notify_all()
            else:
                answer.cancel()
            writer.close()

    async def _trickle(self, writer: asyncio.StreamWriter, answer: asyncio.Future[bytes]) -> None:
        stopping = asyncio.ensure_future(self.stop.wait())
        either: list[asyncio.Future[Any]] = [answer, stopping]
        try:
            for byte in SLOW_REQUEST:
                if answer.done() or self.stop.is_set():
                    return
                with contextlib.suppress(ConnectionError):
                    writer.write(bytes([byte]))
                await asyncio.wait(either, timeout=self.byte_seconds,
                                   return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()


def _status(answer: asyncio.Future[bytes]) -> int | None:
    if answer.cancelled() or answer.exception() is not None:
        return None  # reset
    head = answer.result().split(b"\r\n", 1)[0].split()
    return int(head[1]) if len(head) >= 2 and head[0].startswith(b"HTTP/") else None


@dataclass
class IdleSocket:
    """A WebSocket past connection_init (`status` 101), or the status its handshake got."""

    status: int
    socket: Any = None


async def idle_websocket(base: str, source: str) -> IdleSocket:
    url = base.replace("http://", "ws://", 1) + "/graphql"
    try:
        socket = await websockets.connect(url, subprotocols=[PROTOCOL], local_addr=(source, 0))
    except websockets.InvalidStatus as refused:
        return IdleSocket(refused.response.status_code)
    await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
    ack = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert ack["type"] == "connection_ack", ack
    return IdleSocket(101, socket)


async def idle_websockets(base: str, source: str, count: int) -> list[IdleSocket]:
    """`count` idle WebSockets from `source`, opened 50 at a time; the caller closes them."""
    opened: list[IdleSocket] = []
    for start in range(0, count, 50):
        batch = min(50, count - start)
        opened += await asyncio.gather(*(idle_websocket(base, source) for _ in range(batch)))
    return opened


async def close_all(sockets: list[IdleSocket]) -> None:
    await asyncio.gather(*(s.socket.close() for s in sockets if s.socket is not None))


@dataclass
class Probe:
    status: int  # 0: no answer (a timeout or a refused connection)
    seconds: float


async def probe(
    base: str, count: int, interval: float = 0.1, source: str = "127.0.0.1"
) -> list[Probe]:
    """A bystander's `count` GETs of /healthz from `source`, one every `interval`, each on a
    fresh connection."""
    probes: list[Probe] = []
    fresh = httpx.Limits(max_keepalive_connections=0)  # each request on a new connection
    transport = httpx.AsyncHTTPTransport(local_address=source, limits=fresh)
    async with httpx.AsyncClient(timeout=5, transport=transport) as client:
        for _ in range(count):
            started = time.monotonic()
            try:
                status = (await client.get(f"{base}/healthz")).status_code
            except httpx.TransportError:
                status = 0
            probes.append(Probe(status, time.monotonic() - started))
            await asyncio.sleep(interval)
    return probes
