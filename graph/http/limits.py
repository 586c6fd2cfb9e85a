"""The HTTP edge's own limits, applied before GraphQL sees a request: the body's size, how
deep its JSON nests (both before anything is decoded), and how long a request may run."""

from __future__ import annotations

import asyncio
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph.http.responses import send_refusal
from graph.http.sse import is_event_stream

# JSON nested deeper than this is refused before it is decoded: the decoder recurses, and a
# few thousand levels of [[[...]]] would raise RecursionError (a 500). No operation needs more.
MAX_JSON_DEPTH = 64
_JSON_SPECIAL = re.compile(rb'[\\"\[\]{}]')


def json_too_deep(data: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays/objects deeper than `limit`: one linear scan over the
    brackets and quotes, skipping string contents (escapes included), before any decoding."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    depth, in_string, skip_to = 0, False, -1
    for match in _JSON_SPECIAL.finditer(raw):
        at = match.start()
        if at < skip_to:
            continue
        char = raw[at]
        if in_string:
            if char == 0x5C:  # a backslash: the next byte is escaped
                skip_to = at + 2
            elif char == 0x22:
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in b"[{":
            depth += 1
            if depth > limit:
                return True
        elif char in b"]}":
            depth -= 1
    return False


class BodySizeLimit:
    """ASGI middleware: a request body over the limit is answered 413 before it is parsed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        await send_refusal(
            scope, send, 413, f"Request body too large: at most {self.max_bytes} bytes.",
            "PAYLOAD_TOO_LARGE",
        )


class _TooLarge(Exception):
    pass


class RequestTimeout:
    """ASGI middleware: an HTTP request still running after the limit is cancelled and, if
    nothing was sent yet, answered 504. Cancellation rolls back an open transaction, so a
    timed-out mutation leaves nothing half-written. WebSockets are long-lived by design and
    are not timed, nor are event streams (graph/http/sse.py times their queries and mutations
    itself)."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_event_stream(scope):
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, tracking_send), self.seconds)
        except TimeoutError:
            if started:
                raise
            await send_refusal(
                scope, send, 504,
                f"The request took longer than {self.seconds:g} s and was stopped.", "TIMEOUT",
            )
