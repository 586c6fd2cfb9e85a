"""Refusals at the HTTP level, in the GraphQL error shape and the media type asked for.

A bad token (401), a bad header (400), a body too large (413), a method or a content type
refused (405, 415), a timeout (504) or a persisted-query refusal are answered before any
GraphQL runs. Each is `{"errors": [{"message": ..., "extensions": {"code": ...}}]}`, and, as
for every other answer, `application/graphql-response+json` when the client accepts it:
Apollo Client then reads a GraphQL error (an error link keyed on `extensions.code ==
"UNAUTHENTICATED"` fires) instead of a network error.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response
from starlette.types import Scope, Send

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"


def media_type(accept: str) -> str:
    """The GraphQL-over-HTTP media type when the client accepts it, else legacy JSON."""
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in accept else JSON


def error_body(message: str, code: str) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})


def refusal(
    status: int, message: str, code: str, accept: str, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        error_body(message, code),
        status_code=status,
        media_type=f"{media_type(accept)}; charset=utf-8",
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


async def send_refusal(
    scope: Scope, send: Send, status: int, message: str, code: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """`refusal` for ASGI middleware, which has the request's scope but no Request."""
    accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
    response = refusal(status, message, code, accept, headers)
    await send({
        "type": "http.response.start", "status": status, "headers": response.raw_headers,
    })
    await send({"type": "http.response.body", "body": response.body})
