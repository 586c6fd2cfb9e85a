"""Cross-origin access: one list of allowed origins (`CORS_ORIGINS`) for HTTP and WebSocket.

A browser app on another origin (http://localhost:3000 calling :8000) needs both: CORS for
its fetches, and an allowed `Origin` on its WebSocket handshake (browsers apply no CORS to
WebSockets; strawberry refuses a cross-origin handshake unless the origin is allowed). Both
read the list here, so an origin is allowed or refused on both transports alike; a
same-origin page needs no entry.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from strawberry.http.websocket_origin import normalize_allowed_origins

from graph.settings import Settings

# What browsers may send besides CORS's safelisted headers, each for a client we serve:
ALLOWED_HEADERS = [
    "Authorization",  # the bearer token
    "Content-Type",  # application/json (not safelisted: it is what makes a preflight)
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


def allowed_origins(settings: Settings) -> list[str]:
    """`CORS_ORIGINS` as browsers send origins (lowercase, no default port); a value that is
    not an origin stops start-up (strawberry's own check, with its message)."""
    return sorted(normalize_allowed_origins(settings.cors_origins))


def add_cors(app: FastAPI, settings: Settings) -> None:
    origins = allowed_origins(settings)
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=["GET", "POST"],
        allow_headers=ALLOWED_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
    )
