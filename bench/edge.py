"""`python -m bench.edge`: issue 22's attacks on the connection slots, at full size, against
a real `clarity-graph serve` (SQLite, one worker, the default limits unless given), each
while a bystander on another address asks for /healthz on fresh connections.

1. Slowloris from one address: 1,050 connections sending headers one byte a second.
2. Slowloris from many addresses: the same 1,050 spread over 21 addresses, each under its
   cap, together past LIMIT_CONCURRENCY.
3. Idle WebSockets from one address: 1,001 past `connection_init` (anonymous), then idle.

Printed per case: what the attacker's connections got (held, refused with which status,
closed by the deadline and when), and the bystander's answers and latency while the attack
held its connections. Before the edge (issue 22's main, measured with this bench): the
bystander got 503 to all 20 requests in every case, every attacking connection was held
(1,050, 1,050, 1,001), and slow sockets stayed open for as long as they trickled. The limits
come from the environment (LIMIT_CONCURRENCY, MAX_CONNECTIONS_PER_CLIENT,
HEADER_TIMEOUT_SECONDS), as `serve`'s do.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import tempfile
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

from websockets.protocol import State

from bench.attacks import Probe, SlowLoris, SlowSocket, close_all, idle_websockets, probe
from bench.workers import serve
from graph.settings import Settings

SECRET = "bench-edge-secret-0123456789abcdef0123456789abcdef"
BYSTANDER = 20  # requests, one every 0.05 s, while an attack holds its connections


def report_bystander(probes: list[Probe]) -> str:
    times = sorted(p.seconds * 1000 for p in probes)
    statuses = Counter(p.status for p in probes)
    p99 = times[min(len(times) - 1, round(len(times) * 0.99))]
    return (f"bystander: {dict(statuses)} of {len(probes)}; "
            f"p50 {statistics.median(times):.1f} ms, p99 {p99:.1f} ms")


def report_slow(sockets: list[SlowSocket]) -> list[str]:
    answered = Counter(_outcome(s) for s in sockets if s.error is None)
    lines = [f"attacker's connections, by what they got: {dict(answered)}"]
    cut = sorted(s.closed_after for s in sockets if s.status == 408 and s.closed_after)
    if cut:
        lines.append(f"closed by the header deadline after {cut[0]:.2f} s (first), "
                     f"{statistics.median(cut):.2f} s (median), {cut[-1]:.2f} s (last)")
    failed = [s.error for s in sockets if s.error]
    if failed:
        lines.append(f"{len(failed)} could not connect: {Counter(failed).most_common(1)}")
    return lines


def _outcome(sock: SlowSocket) -> str:
    if sock.closed_after is None:
        return "open at the end"
    return "closed, no answer" if sock.status is None else str(sock.status)


async def slowloris(base: str, sources: list[str], total: int, hold: float) -> list[str]:
    """Until the server has closed every slow connection, or `hold` seconds."""
    attacks = [SlowLoris(base, source, total // len(sources)) for source in sources]
    running = [asyncio.ensure_future(attack.run()) for attack in attacks]
    for attack in attacks:
        await attack.opened()
    await asyncio.sleep(0.5)  # the refusals are answered
    held = sum(attack.still_open() for attack in attacks)
    bystander = await probe(base, BYSTANDER, interval=0.05)
    await asyncio.wait(running, timeout=hold)
    for attack in attacks:
        attack.stop.set()
    sockets = [sock for result in await asyncio.gather(*running) for sock in result]
    return [f"held while the bystander asked: {held}", report_bystander(bystander),
            *report_slow(sockets)]


async def websockets_case(base: str, source: str, count: int) -> list[str]:
    held = await idle_websockets(base, source, count)
    try:
        bystander = await probe(base, BYSTANDER, interval=0.05)
        await asyncio.sleep(1)
        still = sum(s.socket is not None and s.socket.state is State.OPEN for s in held)
    finally:
        await close_all(held)
    statuses = Counter("acked" if s.status == 101 else str(s.status) for s in held)
    return [f"attacker's WebSockets: {dict(statuses)}; open when the bystander was done: "
            f"{still}", report_bystander(bystander)]


async def run(base: str, args: argparse.Namespace) -> None:
    many = [f"127.0.1.{n + 1}" for n in range(args.addresses)]
    cases: list[tuple[str, Callable[[], Awaitable[list[str]]]]] = [
        (f"1. slowloris, {args.slow} connections from 127.0.0.2",
         lambda: slowloris(base, ["127.0.0.2"], args.slow, args.hold)),
        (f"2. slowloris, {args.slow} connections from {args.addresses} addresses",
         lambda: slowloris(base, many, args.slow, args.hold)),
        (f"3. idle WebSockets, {args.websockets} from 127.0.0.3",
         lambda: websockets_case(base, "127.0.0.3", args.websockets)),
    ]
    for title, case in cases:
        print(title, flush=True)
        for line in await case():
            print("   ", line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", type=int, default=1050)
    parser.add_argument("--addresses", type=int, default=21)
    parser.add_argument("--websockets", type=int, default=1001)
    parser.add_argument("--hold", type=float, default=20.0,
                        help="seconds a slowloris case waits for the server to close its sockets")
    parser.add_argument("--port", type=int, default=0, help="default: a free one")
    args = parser.parse_args()
    defaults = Settings()
    print(f"serve: LIMIT_CONCURRENCY {defaults.limit_concurrency}, MAX_CONNECTIONS_PER_CLIENT "
          f"{defaults.max_connections_per_client}, HEADER_TIMEOUT_SECONDS "
          f"{defaults.header_timeout_seconds:g} (from this environment)")
    env = {**os.environ, "JWT_SECRET": SECRET, "LOG_LEVEL": "ERROR"}
    env.pop("DATABASE_URL", None)
    port = args.port or free_port()
    with tempfile.TemporaryDirectory() as tmp, serve(1, port, env, Path(tmp)):
        asyncio.run(run(f"http://127.0.0.1:{port}", args))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    main()
