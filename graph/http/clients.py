"""Who a client is, and how many connections it holds at once.

One client address may hold at most MAX_CONNECTIONS_PER_CLIENT at once, per process, so that
one client's sockets never take every slot of LIMIT_CONCURRENCY from the others. What is
counted depends on who the peer is:

- A direct peer (any address not in TRUSTED_PROXIES): its TCP connections, HTTP keep-alive
  and WebSockets alike, from accept to close, counted by the server protocol
  (graph/http/edge.py, under `clarity-graph serve`). A connection past the cap is answered
  429 at once and closed, before it has sent anything: it never occupies a slot.
- A trusted proxy: its connections carry many clients' requests (and a proxy may hand an idle
  one to another client), so they are not the client's to count. The client is the address
  X-Forwarded-For names (`domain.visits.client_ip`, the same walk the visit log uses), and
  what is counted is that client's running HTTP requests and open WebSockets, here
  (`ProxiedClientLimit`, ASGI middleware). Past the cap: 429 with a GraphQL-shaped body, or
  the WebSocket handshake refused with that 429. The proxy's own connections are bounded by
  LIMIT_CONCURRENCY and by the proxy's own limits.

An IPv6 client is counted by its /64: one host is usually given a whole /64, and counting
single addresses would let it open a connection from each of 2^64 of them.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Hashable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.visits import client_ip
from graph.http.responses import refusal, send_refusal
from graph.observability import FirstThenCounted

logger = logging.getLogger(__name__)
TOO_MANY_CONNECTIONS = "TOO_MANY_CONNECTIONS"
# A client past its cap has connections of its own to finish first: a second is a hint.
RETRY_AFTER_SECONDS = 1
IPV6_CLIENT_PREFIX = 64
REFUSALS = FirstThenCounted(
    logger, "connections refused past MAX_CONNECTIONS_PER_CLIENT", level=logging.WARNING
)


def too_many_connections_message(cap: int) -> str:
    return f"Too many connections from your address: at most {cap} at once."


def client_key(host: str | None) -> str | None:
    """The address connections are counted by: an IPv4 address (an IPv4-mapped IPv6 one
    included) as it is, an IPv6 address as its /64; None for anything else (a Unix socket)."""
    address = _address(host)
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))
    return None if address is None else str(address)


def _address(host: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    """TRUSTED_PROXIES as networks. An entry that is not a network trusts nothing (the visit
    log warns about it once at its first use)."""

    def __init__(self, entries: list[str]) -> None:
        self.entries = entries
        self.networks = [network for network in map(_network, entries) if network is not None]

    def __contains__(self, host: str | None) -> bool:
        address = _address(host)
        return address is not None and any(address in network for network in self.networks)


def _network(entry: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(entry.strip(), strict=False)
    except ValueError:
        return None


class ConnectionLedger:
    """Who holds how many, per client key. `admit` and `release` take the holder (a
    transport, a request): releasing twice, or what was never admitted, changes nothing.
    Only the event loop's thread calls it, so there is no lock."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.counts: dict[str, int] = {}
        self.holders: dict[Hashable, str] = {}

    def admit(self, holder: Hashable, key: str) -> bool:
        count = self.counts.get(key, 0)
        if count >= self.cap:
            return False
        self.counts[key] = count + 1
        self.holders[holder] = key
        return True

    def release(self, holder: Hashable) -> None:
        key = self.holders.pop(holder, None)
        if key is None:
            return
        left = self.counts[key] - 1
        if left:
            self.counts[key] = left
        else:
            del self.counts[key]

    def held(self, key: str) -> int:
        return self.counts.get(key, 0)


class ProxiedClientLimit:
    """ASGI middleware: behind a trusted proxy, a client (X-Forwarded-For) may run at most
    `cap` HTTP requests and WebSockets at once; past it, 429. Requests from any other peer
    pass: the server protocol counts their connections (graph/http/edge.py)."""

    def __init__(self, app: ASGIApp, trusted_proxies: list[str], cap: int) -> None:
        self.app = app
        self.trusted = TrustedProxies(trusted_proxies)
        self.ledger = ConnectionLedger(cap)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = self._proxied_client(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        holder = object()
        if not self.ledger.admit(holder, key):
            REFUSALS.failed("%s: a proxied client past its cap", key, exc_info=None)
            await self._refuse(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.ledger.release(holder)

    def _proxied_client(self, scope: Scope) -> str | None:
        if scope["type"] not in ("http", "websocket"):
            return None
        peer = scope["client"][0] if scope.get("client") else None
        if peer not in self.trusted:
            return None
        forwarded = dict(scope.get("headers") or []).get(b"x-forwarded-for", b"")
        return client_key(client_ip(peer, forwarded.decode("latin-1"), self.trusted.entries))

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = too_many_connections_message(self.ledger.cap)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if scope["type"] == "http":
            await send_refusal(scope, send, 429, message, TOO_MANY_CONNECTIONS, headers)
            return
        await receive()  # websocket.connect
        await refuse_handshake(scope, send, 429, message, TOO_MANY_CONNECTIONS, headers)


async def refuse_handshake(
    scope: Scope, send: Send, status: int, message: str, code: str, headers: dict[str, str]
) -> None:
    """Refuse a WebSocket handshake with an HTTP answer in the GraphQL error shape (ASGI's
    websocket.http.response extension); a server without it answers 403 to the close."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
    response = refusal(status, message, code, accept, headers)
    start: Message = {"type": "websocket.http.response.start", "status": status,
                      "headers": response.raw_headers}
    await send(start)
    await send({"type": "websocket.http.response.body", "body": response.body})
