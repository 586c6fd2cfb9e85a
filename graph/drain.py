"""Draining on SIGTERM, so a rolling restart behind a proxy loses no request.

uvicorn on its own closes the listener the moment SIGTERM arrives. A proxy still sends new
connections there until its health check notices, and those are refused. Under `serve`
(one process, or each worker: the supervisor passes SIGTERM on to them) SIGTERM instead:

1. makes /readyz answer 503 `{"status": "draining"}` at once, so the proxy's health check
   takes the process out of rotation; /healthz stays 200 (the process is alive, and a failing
   liveness probe would get it killed mid-drain);
2. goes on serving everything for DRAIN_DELAY_SECONDS: requests and WebSocket upgrades the
   proxy sends before its check notices are answered as usual, each HTTP response with
   `Connection: close`, so a keep-alive connection ends after its next request instead of
   lingering for the listener's close to race with;
3. then hands over to uvicorn's own shutdown: the listener closes, idle connections close,
   running requests finish within SHUTDOWN_TIMEOUT_SECONDS (cancelled past it), and
   WebSockets are closed with 1012 (service restart), which graphql-ws clients retry.

SIGINT (Ctrl+C) is left to uvicorn and stops at once (SIGINT during the delay too). A second
SIGTERM changes nothing: systemd's default KillMode signals every process of the unit, so a
worker gets SIGTERM from it and again from its supervisor, and must not cut its drain short.
DRAIN_DELAY_SECONDS=0 is uvicorn's behaviour (readiness still flips first).

How: uvicorn installs its handler (`Server.handle_exit`, with `signal.signal`) before the
app's lifespan starts and restores the previous one after the server ends. `drain_on_sigterm`
wraps the app's lifespan so that, while the app runs, our SIGTERM handler stands in front of
uvicorn's and calls it when the delay is over. That is uvicorn behaviour, not documented API:
pyproject.toml bounds uvicorn to one minor series, `handler_is_uvicorns` is checked at
start-up (a handler that is not uvicorn's is left alone, with a warning: SIGTERM then stops
at once rather than being swallowed), and tests/graph/test_drain.py fails if it is not.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger(__name__)


class Drain:
    """One process's drain: whether it has begun (read by /readyz) and how long it lasts."""

    def __init__(self, delay_seconds: float) -> None:
        self.delay_seconds = delay_seconds
        self.draining = False


def handler_is_uvicorns(handler: object) -> bool:
    """Whether `handler` is a uvicorn Server's handle_exit (what we stand in front of)."""
    from uvicorn.server import Server

    return isinstance(getattr(handler, "__self__", None), Server) and (
        getattr(handler, "__name__", "") == "handle_exit")


@asynccontextmanager
async def sigterm_drains(drain: Drain) -> AsyncIterator[None]:
    """While the app runs: SIGTERM starts the drain, then uvicorn's handler after the delay."""
    uvicorns = signal.getsignal(signal.SIGTERM)
    if not handler_is_uvicorns(uvicorns) or not callable(uvicorns):
        logger.warning("SIGTERM's handler is not uvicorn's (%r): it will stop the server at "
                       "once, without the %g s drain", uvicorns, drain.delay_seconds)
        yield
        return
    loop = asyncio.get_running_loop()
    pending: list[asyncio.TimerHandle] = []

    def stop(sig: int) -> None:
        logger.info("draining over: closing the listener")
        uvicorns(sig, None)

    def begin(sig: int) -> None:  # on the event loop
        if drain.draining:
            return
        drain.draining = True
        logger.info("SIGTERM: draining for %g s (/readyz answers 503) before closing the "
                    "listener", drain.delay_seconds)
        pending.append(loop.call_later(drain.delay_seconds, stop, sig))

    def on_signal(sig: int, frame: FrameType | None) -> None:
        # A signal handler runs between any two bytecodes, the loop's own included: it only
        # schedules, as asyncio's own signal handling does.
        loop.call_soon_threadsafe(begin, sig)

    signal.signal(signal.SIGTERM, on_signal)
    try:
        yield
    finally:
        for handle in pending:
            handle.cancel()
        signal.signal(signal.SIGTERM, uvicorns)


def drain_on_sigterm(app: Any, drain: Drain) -> None:
    """Under `serve`: the app's lifespan with `sigterm_drains` inside it, and its responses
    told `Connection: close` while draining. (Not in `create_app`: a test's app must not take
    over the test runner's SIGTERM.)"""
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(running: Any) -> AsyncIterator[Any]:
        async with inner(running) as state, sigterm_drains(drain):
            yield state

    app.router.lifespan_context = lifespan
    app.add_middleware(CloseWhileDraining, drain=drain)


class CloseWhileDraining:
    """While draining, every HTTP response says `Connection: close` (uvicorn then closes the
    connection after it): clients and proxies open their next connection elsewhere."""

    def __init__(self, app: ASGIApp, drain: Drain) -> None:
        self.app = app
        self.drain = drain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start" and self.drain.draining:
                headers = [(name, value) for name, value in message.get("headers", [])
                           if name.lower() != b"connection"]
                message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, closing)
