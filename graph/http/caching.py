"""HTTP caching of GraphQL answers: every answer is the viewer's own.

- A query over GET that succeeded is `Cache-Control: private, no-cache` with an `ETag`: no
  shared cache (a CDN, a proxy) may keep it, and the client's own cache revalidates it each
  time; `If-None-Match` with that tag is answered 304 with no body, so a mobile client
  repeating a hashed persisted GET pays for the body only when it changed. The server still
  runs the query to know: the saving is the bytes on the wire, not the work.
- Everything else (POST, so every mutation; any answer with errors; refusals) is
  `Cache-Control: no-store`.
- Every answer varies by who asks and what they accept: `Vary: Authorization, X-Session-Id,
  Accept, Origin`. CORS adds `Origin` again on cross-origin answers; `OneVary` (outside CORS)
  merges every `Vary` into one header naming each value once, so a cache sees `Origin` once.
"""

from __future__ import annotations

import hashlib

import orjson
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Origin too, always: Starlette's CORS adds it only when the request has an Origin, and a
# browser may reuse an answer stored without one for a cross-origin fetch (no CORS headers).
VARY = ("Authorization", "X-Session-Id", "Accept", "Origin")
CACHEABLE = "private, no-cache"


def entity_tag(content_type: str, data: bytes) -> str:
    """A strong tag per representation: the media type and the answer's `data` (not its
    `extensions`: with DIAGNOSTICS on they change on every request)."""
    digest = hashlib.blake2b(content_type.encode() + b"\n" + data, digest_size=16)
    return '"' + digest.hexdigest() + '"'


def matches(if_none_match: str, tag: str) -> bool:
    """RFC 9110's weak comparison of `If-None-Match` with our (strong) tag."""
    candidates = [part.strip().removeprefix("W/") for part in if_none_match.split(",")]
    return "*" in candidates or tag in candidates


def caching(request: Request, response: Response, *, errors: bool, data: object) -> Response:
    """Cache headers for a GraphQL answer, or the 304 that replaces it; `data` is the
    answer's `data` entry."""
    response.headers["Vary"] = merge_vary([*response.headers.getlist("vary"), *VARY])
    if request.method != "GET" or response.status_code != 200 or errors:
        response.headers["Cache-Control"] = "no-store"
        return response
    tag = entity_tag(response.headers.get("content-type", ""), orjson.dumps(data))
    response.headers["Cache-Control"] = CACHEABLE
    response.headers["ETag"] = tag
    if matches(request.headers.get("if-none-match", ""), tag):
        kept = {k: v for k, v in response.headers.items() if k in ("vary", "cache-control", "etag")}
        return Response(status_code=304, headers=kept)
    return response


def merge_vary(values: list[str]) -> str:
    """Every `Vary` value once, in first-seen order (header names are case-insensitive)."""
    seen: dict[str, str] = {}
    for value in values:
        for name in (part.strip() for part in value.split(",")):
            if name and name.lower() not in seen:
                seen[name.lower()] = name
    return ", ".join(seen.values())


class OneVary:
    """ASGI middleware: the response's `Vary` headers merged into one, each value once.

    The one place duplicates are removed: Starlette's CORS appends `Origin` to a `Vary` that
    `caching` already ends with `Origin` (and a 304 keeps it), so without this a cross-origin
    answer said `Vary: ..., Origin, Origin`. Added outside CORS (`graph/http/cors.py`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_once(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                values = headers.getlist("vary")
                if values:
                    del headers["vary"]
                    headers["Vary"] = merge_vary(values)
            await send(message)

        await self.app(scope, receive, send_once)
