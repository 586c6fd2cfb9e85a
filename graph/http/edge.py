"""The edge of `clarity-graph serve`: what uvicorn does not bound on its own.

- A header-read deadline (HEADER_TIMEOUT_SECONDS): a request must finish sending its headers
  within the deadline of its first byte, and a new connection within the deadline of being
  accepted. Past it the connection is answered 408 (if it had begun a request; a connection
  that sent nothing is just closed, as an idle keep-alive connection is) and closed.
  uvicorn has no such timeout: its keep-alive timer is cancelled by any byte received, so a
  client sending one byte a second holds its connection, and its slot of LIMIT_CONCURRENCY,
  for ever (slowloris). A request's body is REQUEST_TIMEOUT_SECONDS' (graph/http/limits.py).
- Connections per client (MAX_CONNECTIONS_PER_CLIENT, graph/http/clients.py): a connection
  past its client's cap is answered 429 as soon as it is accepted, and closed.
- At LIMIT_CONCURRENCY, a new connection takes the slot of the oldest connection that is
  not running a request: one still sending its headers (answered 503 and closed), or an idle
  keep-alive one (closed, as its keep-alive timeout would). So connections that have not
  asked for anything yet (slow ones from many addresses, each under its cap) cannot keep the
  slots from a client that asks now. Running requests and WebSockets are never taken.
- WebSocket upgrades obey LIMIT_CONCURRENCY as requests do (uvicorn checks requests only):
  past it the handshake is answered 503.

Why a subclass of uvicorn's protocols: uvicorn.Config takes a protocol class for `http` and
`ws`, and these extend uvicorn's own httptools and websockets-sansio protocols, overriding
their connection and parser callbacks (connection_made/lost, data_received, on_message_begin,
on_headers_complete, on_response_complete, handle_websocket_upgrade) and reading their state
(transport, cycle, connections, limit_concurrency, server_state; a refused connection leaves
`connections` at once, as uvicorn's own upgrade does). These are uvicorn's
internals, not its documented API: pyproject.toml bounds uvicorn to one minor series,
tests/graph/test_edge_protocol.py fails if a hook is renamed or changes its parameters, and
tests/graph/test_edge_server.py (the attacks, on a real `serve`) if one stops being called.
The alternatives cost more: uvicorn's h11 protocol has no header deadline either; moving to
hypercorn or granian would change the server every transport test runs on (WebSockets,
limits, workers, shutdown) for one timeout, and neither counts connections per client; an
HAProxy started by `serve` can do both, but adds a second process and a system package to
every deployment, the embedded SQLite one included.

One process serves one uvicorn server, so the limits and the ledger are per process:
`configure(settings)` sets them, before the server accepts (in `serve_here`, and in each
worker's `worker_app`).
"""

from __future__ import annotations

import asyncio
import logging
from http import HTTPStatus
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from graph.auth import ConfigurationError
from graph.http.clients import (
    REFUSALS,
    RETRY_AFTER_SECONDS,
    TOO_MANY_CONNECTIONS,
    ConnectionLedger,
    TrustedProxies,
    client_key,
    too_many_connections_message,
)
from graph.http.responses import error_body
from graph.observability import FirstThenCounted
from graph.settings import Settings

logger = logging.getLogger(__name__)
# After a refusal the connection is half-closed and what the client still sends is read and
# dropped this long before closing: closing with unread data makes the kernel reset the
# connection, and the client may then lose the answer before reading it.
LINGER_SECONDS = 1.0
HEADER_TIMEOUT = "HEADER_TIMEOUT"
AT_LIMIT = "The server is at its connection limit; retry shortly."
RETRY_SOON = {"retry-after": str(RETRY_AFTER_SECONDS)}
SLOW_HEADERS = FirstThenCounted(
    logger, "connections closed past HEADER_TIMEOUT_SECONDS", level=logging.WARNING
)


def check_settings(settings: Settings) -> None:
    """One client may hold at most half of a process's slots: the rest stay for the others."""
    if settings.max_connections_per_client * 2 > settings.limit_concurrency:
        raise ConfigurationError(
            f"MAX_CONNECTIONS_PER_CLIENT ({settings.max_connections_per_client}) may be at most"
            f" half of LIMIT_CONCURRENCY ({settings.limit_concurrency}), so that one client"
            " never holds every connection slot"
        )


class Edge:
    """This process's limits, and the connections each direct client holds."""

    def __init__(self, settings: Settings) -> None:
        check_settings(settings)
        self.header_timeout_seconds = settings.header_timeout_seconds
        self.trusted = TrustedProxies(settings.trusted_proxies)
        self.ledger = ConnectionLedger(settings.max_connections_per_client)
        # Connections not running a request, oldest first: the ones `make_room` may take.
        self.idle: dict[EdgeHttpProtocol, None] = {}

    def admit(self, transport: asyncio.BaseTransport) -> bool:
        """Counts a new connection against its client; False past the cap. A trusted proxy's
        connections are not counted (its clients are: graph/http/clients.py)."""
        host = peer_host(transport)
        key = client_key(host)
        if key is None or host in self.trusted:
            return True
        return self.ledger.admit(transport, key)

    def release(self, transport: asyncio.BaseTransport) -> None:
        self.ledger.release(transport)

    def make_room(self, newcomer: EdgeHttpProtocol) -> None:
        """At LIMIT_CONCURRENCY, close the oldest connection that is not running a request."""
        limit = newcomer.limit_concurrency
        if limit is None or len(newcomer.connections) < limit:
            return
        victim = next((held for held in self.idle
                       if held is not newcomer and not held.transport.is_closing()), None)
        if victim is not None:
            victim.give_up_slot()


_edge: Edge | None = None


def configure(settings: Settings) -> Edge:
    global _edge  # one per process, read by every protocol instance uvicorn makes
    _edge = Edge(settings)
    return _edge


def current_edge() -> Edge:
    if _edge is None:
        raise RuntimeError("graph.http.edge.configure(settings) must run before the server")
    return _edge


def peer_host(transport: asyncio.BaseTransport) -> str | None:
    peer = transport.get_extra_info("peername")
    return str(peer[0]) if isinstance(peer, tuple) and peer else None


def raw_refusal(
    status: int, message: str, code: str, default_headers: list[tuple[bytes, bytes]],
    headers: dict[str, str] | None = None,
) -> bytes:
    """A whole HTTP/1.1 answer in the GraphQL error shape (graph/http/responses.py), written
    before any request was read: no Accept to go by, so application/json."""
    body = error_body(message, code)
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}".encode()]
    lines += [name + b": " + value for name, value in default_headers]
    fields = {"content-type": "application/json; charset=utf-8", "content-length": str(len(body)),
              "cache-control": "no-store", "connection": "close", **(headers or {})}
    lines += [f"{name}: {value}".encode("latin-1") for name, value in fields.items()]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


class EdgeHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the header deadline and the per-client cap."""

    def __init__(
        self, config: Config, server_state: ServerState, app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.edge = current_edge()
        self.admitted = False
        self.refusing = False  # answered and closing: what else arrives is dropped
        self.awaiting_headers = False  # a request has begun; its headers are not all in
        self.header_deadline: asyncio.TimerHandle | None = None
        self.linger: asyncio.TimerHandle | None = None

    # asyncio.Transport, not BaseTransport: uvicorn's own override narrows it the same way.
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if not self.edge.admit(transport):
            REFUSALS.failed("%s: past its cap", peer_host(transport), exc_info=None)
            cap = self.edge.ledger.cap
            self.refuse(transport, 429, too_many_connections_message(cap), TOO_MANY_CONNECTIONS,
                        RETRY_SOON)
            return
        self.admitted = True
        super().connection_made(transport)
        self.arm_header_deadline()
        self.edge.idle[self] = None
        self.edge.make_room(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm_header_deadline()
        if self.linger is not None:
            self.linger.cancel()
        if not self.admitted:
            return  # refused at once: uvicorn never knew of it
        self.edge.idle.pop(self, None)
        self.edge.release(self.transport)
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self.refusing:
            super().data_received(data)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.awaiting_headers = True
        if self.cycle is None or self.cycle.response_complete:
            self.arm_header_deadline()  # else pipelined: armed when the running one answers

    def on_headers_complete(self) -> None:
        self.awaiting_headers = False
        self.disarm_header_deadline()
        self.edge.idle.pop(self, None)
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.transport.is_closing():
            return
        if self.awaiting_headers:
            self.arm_header_deadline()
        if self.cycle.response_complete:  # else a pipelined request is running now
            self.edge.idle[self] = None

    def handle_websocket_upgrade(self) -> None:
        limit = self.limit_concurrency
        if limit is not None and len(self.connections) >= limit:
            logger.warning("Exceeded concurrency limit: WebSocket handshake refused.")
            self.refuse(self.transport, 503, AT_LIMIT, "SERVICE_UNAVAILABLE", RETRY_SOON)
            return
        super().handle_websocket_upgrade()

    def arm_header_deadline(self) -> None:
        if self.header_deadline is None:
            self.header_deadline = self.loop.call_later(
                self.edge.header_timeout_seconds, self.headers_too_slow
            )

    def disarm_header_deadline(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def give_up_slot(self) -> None:
        """Taken by a newcomer at LIMIT_CONCURRENCY (`Edge.make_room`)."""
        if self.awaiting_headers:
            self.refuse(self.transport, 503, AT_LIMIT, "SERVICE_UNAVAILABLE", RETRY_SOON)
        else:
            self.close_quietly()

    def close_quietly(self) -> None:
        self.edge.idle.pop(self, None)
        self.connections.discard(self)
        self.transport.close()

    def headers_too_slow(self) -> None:
        self.header_deadline = None
        if self.transport.is_closing() or self.refusing:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a pipelined request is answering: its completion arms the deadline again
        if not self.awaiting_headers:  # nothing sent since it was accepted
            self.close_quietly()
            return
        SLOW_HEADERS.failed("%s: headers still incomplete", peer_host(self.transport),
                            exc_info=None)
        seconds = f"{self.edge.header_timeout_seconds:g}"
        self.refuse(self.transport, 408, f"The request's headers took longer than {seconds} s.",
                    HEADER_TIMEOUT)

    def refuse(
        self, transport: asyncio.Transport, status: int, message: str, code: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer, half-close, drop whatever else arrives, close after LINGER_SECONDS (or as
        soon as the client closes its side). Its slot is free at once."""
        self.refusing = True
        self.edge.idle.pop(self, None)
        self.connections.discard(self)
        transport.write(raw_refusal(
            status, message, code, self.server_state.default_headers, headers))
        if transport.can_write_eof():
            transport.write_eof()
        self.linger = self.loop.call_later(LINGER_SECONDS, transport.close)


class EdgeWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol, giving its connection's slot back when it ends
    (the HTTP protocol that counted it has handed the connection over)."""

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            super().connection_lost(exc)
        finally:
            current_edge().release(self.transport)
