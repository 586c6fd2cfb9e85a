"""The limits `clarity-graph serve` gives uvicorn, through real server processes.

Idle keep-alive connections are closed after KEEP_ALIVE_TIMEOUT_SECONDS; past
LIMIT_CONCURRENCY connections a request is answered 503 without reaching the app; a WebSocket
message over MAX_BODY_BYTES closes the socket with 1009 (message too big); SIGTERM stops the
server within SHUTDOWN_TIMEOUT_SECONDS even when a request is stuck. The header deadline and
the per-client cap `serve` adds are tests/graph/test_edge_server.py's.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from bench.attacks import close_all, idle_websockets
from tests.servers import running_server

pytestmark = pytest.mark.slow
PROTOCOL = Subprotocol("graphql-transport-ws")
KEEP_ALIVE_SECONDS = 1
MAX_BODY_BYTES = 2048
# Generous bounds, yet each below what the server did before its limits were set: uvicorn's
# own keep-alive default is 5 s, and SIGTERM waited for a stuck request (here 120 s) until
# running_server killed the process 10 s later.
CLOSED_WITHIN_SECONDS = 4.0
STOPPED_WITHIN_SECONDS = 8.0


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(
        tmp_path_factory.mktemp("limits"),
        KEEP_ALIVE_TIMEOUT_SECONDS=str(KEEP_ALIVE_SECONDS),
        MAX_BODY_BYTES=str(MAX_BODY_BYTES),
    ) as base:
        yield base


def address(base: str) -> tuple[str, int]:
    url = httpx.URL(base)
    assert url.host and url.port
    return url.host, url.port


def read_response(sock: socket.socket) -> bytes:
    """One whole HTTP/1.1 response with a Content-Length body."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


def test_an_idle_keep_alive_connection_is_closed_after_the_timeout(server: str) -> None:
    with socket.create_connection(address(server), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: limits\r\n\r\n")
        assert read_response(sock).startswith(b"HTTP/1.1 200")
        answered = time.monotonic()
        assert sock.recv(1) == b""  # the server closed it: end of stream, not a timeout
        idle = time.monotonic() - answered
    assert KEEP_ALIVE_SECONDS - 0.5 < idle < CLOSED_WITHIN_SECONDS


async def test_a_websocket_message_within_the_body_limit_is_answered(server: str) -> None:
    url = server.replace("http", "ws", 1) + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "ping", "payload": {"pad": "x" * 1000}}))
        assert json.loads(await ws.recv())["type"] == "pong"


async def test_a_websocket_message_over_the_body_limit_closes_the_socket_with_1009(
    server: str,
) -> None:
    url = server.replace("http", "ws", 1) + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL]) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"type": "ping", "payload": {"pad": "x" * MAX_BODY_BYTES}}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_connections_past_the_concurrency_limit_get_503(tmp_path: Path) -> None:
    with running_server(tmp_path, LIMIT_CONCURRENCY="4", MAX_CONNECTIONS_PER_CLIENT="2") as base:
        # Three open WebSockets (two clients, each within its cap) and this request's
        # connection fill the limit: the request is refused by uvicorn without reaching the
        # app. (Connections that have not sent a request yet would give up their slots to it:
        # tests/graph/test_edge_server.py.)
        held = await idle_websockets(base, "127.0.0.2", 2)
        held += await idle_websockets(base, "127.0.0.3", 1)
        try:
            async with httpx.AsyncClient(timeout=10) as client:
                refused = await client.get(f"{base}/healthz")
        finally:
            await close_all(held)
        assert [s.status for s in held] == [101] * 3
        assert refused.status_code == 503
        assert refused.text == "Service Unavailable"
        assert _eventually_ok(f"{base}/healthz")  # the limit frees up as connections end


def _eventually_ok(url: str) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if httpx.get(url, timeout=10).status_code == 200:
            return True
        time.sleep(0.1)
    return False


def test_sigterm_stops_the_server_within_the_shutdown_timeout(tmp_path: Path) -> None:
    overrides = {"SHUTDOWN_TIMEOUT_SECONDS": "1", "REQUEST_TIMEOUT_SECONDS": "120"}
    with running_server(tmp_path, **overrides) as base:
        stuck = socket.create_connection(address(base), timeout=10)
        # A request whose body never arrives keeps its task running until cancelled.
        stuck.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: limits\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{\"query\""
        )
        time.sleep(0.5)  # let the server start the request (not an assertion's timing)
        stopping = time.monotonic()
    # running_server sent SIGTERM and waited for the exit (or killed it after 10 s).
    stopped = time.monotonic() - stopping
    stuck.close()
    log = "".join(path.read_text() for path in tmp_path.glob("server-*.log"))
    assert "timeout graceful shutdown exceeded" in log
    assert stopped < STOPPED_WITHIN_SECONDS
