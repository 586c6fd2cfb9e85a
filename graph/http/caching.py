"""HTTP caching of GraphQL answers: every answer is the viewer's own.

- A query over GET that succeeded is `Cache-Control: private, no-cache` with an `ETag`: no
  shared cache (a CDN, a proxy) may keep it, and the client's own cache revalidates it each
  time; `If-None-Match` with that tag is answered 304 with no body, so a mobile client
  repeating a hashed persisted GET pays for the body only when it changed. The server still
  runs the query to know: the saving is the bytes on the wire, not the work.
- Everything else (POST, so every mutation; any answer with errors; refusals) is
  `Cache-Control: no-store`.
- Every answer varies by who asks and what they accept: `Vary: Authorization, X-Session-Id,
  Accept` (CORS adds `Origin`).
"""

from __future__ import annotations

import hashlib

import orjson
from starlette.requests import Request
from starlette.responses import Response

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
    vary = [v for v in (response.headers.get("vary") or "").split(",") if v.strip()]
    response.headers["Vary"] = ", ".join([*vary, *VARY])
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
