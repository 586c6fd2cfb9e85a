"""The edge under attack, on a real `clarity-graph serve` with lowered limits: slow headers
(slowloris), idle WebSockets, and connections from one address past its cap, each while
another client asks; the header deadline; WebSockets and LIMIT_CONCURRENCY. The attackers
(bench/attacks.py) connect from addresses of their own on the loopback (127.0.0.x), the
bystander from 127.0.0.1, as `python -m bench.edge` does at full size.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from bench.attacks import (
    PROTOCOL,
    SlowLoris,
    SlowSocket,
    address,
    close_all,
    idle_websocket,
    idle_websockets,
    probe,
)
from tests.servers import running_server

pytestmark = pytest.mark.slow
LIMIT = 40  # LIMIT_CONCURRENCY
CAP = 10  # MAX_CONNECTIONS_PER_CLIENT
DEADLINE = 2.0  # HEADER_TIMEOUT_SECONDS
# How late the server may close past the deadline on a busy machine, and how soon is too soon.
LATE = 1.5
EARLY = 0.2
ATTACKERS = LIMIT + 2  # from one address: on main, past LIMIT every other request got 503


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(
        tmp_path_factory.mktemp("edge"), LIMIT_CONCURRENCY=str(LIMIT),
        MAX_CONNECTIONS_PER_CLIENT=str(CAP), HEADER_TIMEOUT_SECONDS=str(DEADLINE),
    ) as base:
        yield base


@pytest.fixture
async def sockets() -> AsyncIterator[list[asyncio.StreamWriter]]:
    """Raw connections a test opens, closed after it."""
    opened: list[asyncio.StreamWriter] = []
    yield opened
    for writer in opened:
        writer.close()


async def connect(
    base: str, sockets: list[asyncio.StreamWriter], source: str = "127.0.0.1"
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = address(base)
    reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    sockets.append(writer)
    return reader, writer


async def closed_after(reader: asyncio.StreamReader, started: float) -> tuple[bytes, float]:
    """What the server sent until it closed the connection, and when that was."""
    data = await asyncio.wait_for(reader.read(), DEADLINE + LATE + 5)
    return data, time.monotonic() - started


async def within_the_deadline(attack: SlowLoris) -> list[SlowSocket]:
    """The attack's sockets once the server has closed every one, which must be soon after
    the deadline (else the attack is stopped and the test fails)."""
    try:
        return await asyncio.wait_for(attack.run(), DEADLINE + LATE + 3)
    finally:
        attack.stop.set()


def all_ok(probes: list[int]) -> bool:
    return bool(probes) and all(status == 200 for status in probes)


async def test_headers_sent_slower_than_the_deadline_are_answered_408_and_closed(
    server: str,
) -> None:
    attack = SlowLoris(server, "127.0.0.11", 1, byte_seconds=0.2)
    (sock,) = await within_the_deadline(attack)
    assert sock.status == 408
    assert sock.closed_after is not None and DEADLINE - EARLY < sock.closed_after < DEADLINE + LATE


async def test_the_408_is_a_graphql_error(server: str, sockets: list[asyncio.StreamWriter]) -> None:
    reader, writer = await connect(server, sockets)
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: edge\r\n")
    data, _ = await closed_after(reader, time.monotonic())
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    assert json.loads(body)["errors"][0]["extensions"]["code"] == "HEADER_TIMEOUT"


async def test_a_connection_that_never_sends_a_request_is_closed_after_the_deadline(
    server: str, sockets: list[asyncio.StreamWriter]
) -> None:
    started = time.monotonic()
    reader, _ = await connect(server, sockets)
    data, seconds = await closed_after(reader, started)
    assert data == b""  # nothing was asked: closed without an answer
    assert DEADLINE - EARLY < seconds < DEADLINE + LATE


async def test_headers_sent_in_pieces_within_the_deadline_are_answered(
    server: str, sockets: list[asyncio.StreamWriter]
) -> None:
    reader, writer = await connect(server, sockets)
    for piece in (b"GET /healthz HTTP/1.1\r\n", b"Host: edge\r\n", b"Accept: */*\r\n", b"\r\n"):
        writer.write(piece)
        await asyncio.sleep(DEADLINE / 5)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 200 ")


async def test_a_slow_second_request_on_a_keep_alive_connection_is_closed_after_the_deadline(
    server: str, sockets: list[asyncio.StreamWriter]
) -> None:
    # uvicorn's keep-alive timer stops at the first byte of the next request: before the
    # deadline, a trickle kept the connection open for as long as it went on.
    reader, writer = await connect(server, sockets)
    head = await ask(reader, writer)
    assert head.startswith(b"HTTP/1.1 200 ")
    await reader.readexactly(int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0]))
    started = time.monotonic()
    trickle = asyncio.ensure_future(trickle_headers(writer))
    try:
        data, seconds = await closed_after(reader, started)
    finally:
        trickle.cancel()
    assert data.startswith(b"HTTP/1.1 408 ")
    assert DEADLINE - EARLY < seconds < DEADLINE + LATE


async def trickle_headers(writer: asyncio.StreamWriter) -> None:
    writer.write(b"GET /healthz HTTP/1.1\r\n")
    while True:
        writer.write(b"X")
        await asyncio.sleep(0.2)


async def test_slow_sockets_from_one_address_past_the_limit_leave_others_served(
    server: str,
) -> None:
    attack = SlowLoris(server, "127.0.0.12", ATTACKERS, byte_seconds=0.5)
    running = asyncio.ensure_future(within_the_deadline(attack))
    await attack.opened()
    await attack.open_at_most(CAP)  # the others are refused at once
    held = attack.still_open()
    bystander = await probe(server, 5, interval=0.05)
    outcome = await running
    assert held == CAP
    assert all_ok([p.status for p in bystander])
    assert Counter(s.status for s in outcome) == {429: ATTACKERS - CAP, 408: CAP}
    assert max(s.closed_after or 0 for s in outcome) < DEADLINE + LATE


async def test_a_connection_past_the_cap_is_answered_429_as_a_graphql_error(
    server: str, sockets: list[asyncio.StreamWriter]
) -> None:
    for _ in range(CAP):
        await connect(server, sockets, source="127.0.0.13")
    reader, writer = await connect(server, sockets, source="127.0.0.13")
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n")
    data, seconds = await closed_after(reader, time.monotonic())
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 429 ")
    assert b"\r\nretry-after: 1" in head.lower()
    error = json.loads(body)["errors"][0]
    assert error["extensions"]["code"] == "TOO_MANY_CONNECTIONS"
    assert error["message"] == f"Too many connections from your address: at most {CAP} at once."
    assert seconds < DEADLINE  # refused at once, not held until the deadline


async def test_closed_connections_give_their_slots_back_and_only_them(
    server: str, sockets: list[asyncio.StreamWriter]
) -> None:
    for _ in range(CAP):
        await connect(server, sockets, source="127.0.0.17")
    for writer in sockets:
        writer.close()
        await writer.wait_closed()
    await asyncio.sleep(0.3)  # the server sees the closes
    again = [await connect(server, sockets, source="127.0.0.17") for _ in range(CAP)]
    answers = [await ask(*connection) for connection in again]  # kept alive after: held
    past_the_cap = await probe(server, 1, source="127.0.0.17")
    assert all(head.startswith(b"HTTP/1.1 200 ") for head in answers)
    assert [p.status for p in past_the_cap] == [429]


async def ask(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """GET /healthz on a keep-alive connection: the answer's head."""
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n")
    return await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)


async def test_idle_websockets_past_the_cap_are_refused_and_others_are_served(
    server: str,
) -> None:
    held = await idle_websockets(server, "127.0.0.14", ATTACKERS)
    try:
        bystander = await probe(server, 5, interval=0.05)
        neighbour = await idle_websocket(server, "127.0.0.1")
        await close_all([neighbour])
    finally:
        await close_all(held)
    assert Counter(s.status for s in held) == {101: CAP, 429: ATTACKERS - CAP}
    assert all_ok([p.status for p in bystander])
    assert neighbour.status == 101


async def test_closed_websockets_give_their_slots_back_and_only_them(server: str) -> None:
    first = await idle_websockets(server, "127.0.0.15", CAP)
    await close_all(first)
    await asyncio.sleep(0.3)  # the server sees the closes
    again = await idle_websockets(server, "127.0.0.15", CAP + 1)
    await close_all(again)
    assert [s.status for s in first] == [101] * CAP
    assert Counter(s.status for s in again) == {101: CAP, 429: 1}


async def test_a_websocket_handshake_past_the_cap_gets_the_graphql_error(server: str) -> None:
    held = await idle_websockets(server, "127.0.0.16", CAP)
    url = server.replace("http://", "ws://") + "/graphql"
    try:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(url, subprotocols=[PROTOCOL], local_addr=("127.0.0.16", 0))
    finally:
        await close_all(held)
    response = refused.value.response
    assert response.status_code == 429
    assert json.loads(response.body)["errors"][0]["extensions"]["code"] == "TOO_MANY_CONNECTIONS"


async def test_slow_sockets_from_many_addresses_do_not_keep_the_slots_from_a_new_client(
    tmp_path: Path,
) -> None:
    # Each address under its cap, together past LIMIT_CONCURRENCY, and a deadline too long to
    # help: a newcomer takes the slot of the oldest one still sending its headers.
    with running_server(tmp_path, LIMIT_CONCURRENCY=str(LIMIT), HEADER_TIMEOUT_SECONDS="60",
                        MAX_CONNECTIONS_PER_CLIENT=str(CAP)) as base:
        attacks = [SlowLoris(base, f"127.0.1.{n}", CAP - 1, byte_seconds=0.5) for n in range(5)]
        running = [asyncio.ensure_future(attack.run()) for attack in attacks]
        try:
            for attack in attacks:
                await attack.opened()
            bystander = await probe(base, 5, interval=0.05)
        finally:
            for attack in attacks:
                attack.stop.set()
            await asyncio.gather(*running)
    assert all_ok([p.status for p in bystander])


async def test_websockets_past_the_concurrency_limit_are_refused_503(tmp_path: Path) -> None:
    limit, cap = 8, 4
    with running_server(tmp_path, LIMIT_CONCURRENCY=str(limit),
                        MAX_CONNECTIONS_PER_CLIENT=str(cap)) as base:
        held = await idle_websockets(base, "127.0.0.21", cap)
        held += await idle_websockets(base, "127.0.0.22", limit - 1 - cap)
        try:
            refused = await idle_websocket(base, "127.0.0.23")
        finally:
            await close_all(held)
    assert [s.status for s in held] == [101] * (limit - 1)
    assert refused.status == 503


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server behind a trusted proxy on 127.0.0.1, which sends X-Forwarded-For."""
    with running_server(
        tmp_path_factory.mktemp("proxied"), TRUSTED_PROXIES="127.0.0.1",
        MAX_CONNECTIONS_PER_CLIENT="3", LIMIT_CONCURRENCY=str(LIMIT),
    ) as base:
        yield base


async def forwarded_websocket(base: str, client: str) -> websockets.ClientConnection:
    url = base.replace("http://", "ws://") + "/graphql"
    return await websockets.connect(
        url, subprotocols=[PROTOCOL], additional_headers={"X-Forwarded-For": client}
    )


async def test_behind_a_proxy_a_client_is_capped_by_its_forwarded_address(proxied: str) -> None:
    held = [await forwarded_websocket(proxied, "203.0.113.7") for _ in range(3)]
    try:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await forwarded_websocket(proxied, "203.0.113.7")
        async with httpx.AsyncClient() as client:
            over = await client.get(f"{proxied}/healthz",
                                    headers={"X-Forwarded-For": "203.0.113.7"})
            other = await client.get(f"{proxied}/healthz",
                                     headers={"X-Forwarded-For": "203.0.113.8"})
    finally:
        await asyncio.gather(*(socket.close() for socket in held))
    assert refused.value.response.status_code == 429
    assert over.status_code == 429
    assert over.json()["errors"][0]["extensions"]["code"] == "TOO_MANY_CONNECTIONS"
    assert other.status_code == 200


async def test_the_proxys_own_connections_are_not_capped_as_one_client(proxied: str) -> None:
    held = [await forwarded_websocket(proxied, f"203.0.113.{n}") for n in range(20, 30)]
    await asyncio.gather(*(socket.close() for socket in held))
    assert len(held) == 10  # from 127.0.0.1, past a cap of 3, as ten clients
