"""Cross-origin access: one list of allowed origins (`CORS_ORIGINS`) for HTTP and WebSocket.

A browser app on another origin (http://localhost:3000 calling :8000) needs both: CORS for
its fetches, and an allowed `Origin` on its WebSocket handshake (browsers apply no CORS to
WebSockets; strawberry refuses a cross-origin handshake unless the origin is allowed). Both
read the list here, so an origin is allowed or refused on both transports alike; a
same-origin page needs no entry.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from strawberry.http.websocket_origin import normalize_origin

from graph.auth import ConfigurationError
from graph.http.caching import OneVary
from graph.settings import Settings

logger = logging.getLogger(__name__)

# What browsers may send besides CORS's safelisted headers, each for a client we serve:
ALLOWED_HEADERS = [
    "Authorization",  # the bearer token
    "Content-Type",  # application/json (not safelisted: it is what makes a preflight)
    "If-None-Match",  # a persisted GET revalidating its cached answer by ETag (Apollo, a
    # browser's fetch with cache: "no-cache"): not safelisted, so it needs a preflight's yes
    "X-Session-Id",  # the anonymous visit
    "X-Request-Id",  # a client's own request id, kept when sane and echoed back
    "apollographql-client-name",  # Apollo Client 4's client awareness
    "apollographql-client-version",
    "apollo-require-preflight",  # Apollo's CSRF-prevention header
    "x-apollo-operation-name",
    "traceparent",  # W3C trace context
    "tracestate",
    "baggage",
]
# Response headers a browser script may read (beyond the safelisted ones).
EXPOSED_HEADERS = ["X-Request-Id", "ETag", "Retry-After"]
# How long a browser may reuse a preflight's answer: 10 minutes (Chromium caps it at 2 hours).
PREFLIGHT_MAX_AGE_SECONDS = 600


# A host as browsers send it in `Origin`: ASCII letters, digits, dots, hyphens, underscores (an
# internationalised name in its punycode form), or an IP address (IPv6 in brackets).
_HOST = re.compile(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?|\[[0-9a-f:.]+\]")
EXAMPLE = "e.g. CORS_ORIGINS=https://app.example.com,https://admin.example.com"
EVERY_ORIGIN = (
    "CORS_ORIGINS='*' lets every origin use HTTP and the WebSocket, `null` included (any"
    " sandboxed frame or file: page sends it)"
)


def allowed_origins(settings: Settings) -> list[str]:
    """`CORS_ORIGINS` as browsers send origins (lowercase, no default port).

    An entry that can never match (a wildcard pattern, `null`, anything but
    scheme://host[:port]) stops start-up in every environment, naming the entry and what to
    write instead; `*` (every origin) stops production (development warns: `add_cors`).
    """
    origins = sorted({_origin(entry) for entry in settings.cors_origins})
    if "*" in origins and settings.is_production:
        raise ConfigurationError(f"{EVERY_ORIGIN}; production lists each origin: {EXAMPLE}")
    return origins


def _origin(entry: str) -> str:
    """One entry of CORS_ORIGINS as browsers send it, or why it is refused."""
    text = entry.strip()
    if text == "*":
        return text
    if "*" in text:
        raise ConfigurationError(
            f"CORS_ORIGINS entry {entry!r} is a pattern; browsers send exact origins, so it"
            f" would match none: list each origin, {EXAMPLE}"
        )
    if text.lower() == "null":
        raise ConfigurationError(
            "CORS_ORIGINS entry 'null' is the origin of sandboxed frames and file: pages, which"
            f" any page can send: list real origins, {EXAMPLE}"
        )
    origin = normalize_origin(text)  # None when urlsplit fails, or finds no scheme or host
    host = (urlsplit(text).hostname or "") if origin is not None else ""
    if origin is not None and not host.isascii():
        raise ConfigurationError(
            f"CORS_ORIGINS entry {entry!r}: browsers send the host in its punycode form;"
            f" write {_punycode(text, host)}"
        )
    if origin is None or not _HOST.fullmatch(f"[{host}]" if ":" in host else host) or (
        _has_more_than_an_origin(text)
    ):
        raise ConfigurationError(
            f"CORS_ORIGINS entry {entry!r} is not an origin: write scheme://host[:port]"
            f" without a path, {EXAMPLE}"
        )
    return origin


def _has_more_than_an_origin(text: str) -> bool:
    parts = urlsplit(text)
    return bool(parts.path not in ("", "/") or parts.query or parts.fragment
                or parts.username is not None)


def _punycode(text: str, host: str) -> str:
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return "the host's xn-- form"
    parts = urlsplit(text)
    return f"{parts.scheme.lower()}://{ascii_host}" + (f":{parts.port}" if parts.port else "")


def add_cors(app: FastAPI, settings: Settings) -> None:
    """CORS for `CORS_ORIGINS`; none: no CORS at all. `*` is warned about here, once an app."""
    origins = allowed_origins(settings)
    if not origins:
        return
    if "*" in origins:
        logger.warning("%s (production refuses it)", EVERY_ORIGIN)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST"],
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
    app.add_middleware(OneVary)  # outside CORS: its `Origin` and caching's are one value
