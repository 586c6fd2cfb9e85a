"""The WebSocket transport (graphql-transport-ws), held to the rules HTTP is held to.

- Every frame is checked against the protocol's shapes before strawberry reads it; anything
  else closes the socket with 4400 and a reason, as the protocol asks. (Strawberry indexes
  frames as dicts: a list, a number, `null` or an object `id` raised inside its loop and
  dropped the socket without a close frame, logging tracebacks.)
- A `subscribe` goes through the same persisted-query rules as an HTTP request
  (`graph/http/persisted.py`): persisted-only mode refuses ad-hoc text, a hash becomes its text.
  Every other limit (depth, aliases, cost, tokens, introspection, suggestions, input sizes)
  lives in the schema's extensions, which run for both transports alike; the message size
  limit is uvicorn's `ws_max_size`, set from `MAX_BODY_BYTES` by `clarity-graph serve`.
- A connection acts as its token only while the token is valid: when it expires (plus the
  leeway HTTP allows) the socket is closed with 4403, the code of a refused
  `connection_init`. The client reconnects with a fresh token.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, cast

from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)

from graph.context import Context
from graph.http.persisted import PersistedQueryError

# Operation ids are chosen by the client; bounded like any other input.
OPERATION_ID_MAX = 128
TOKEN_EXPIRED = 4403
_PAYLOAD_TYPES: dict[str, tuple[type, str]] = {
    "query": (str, "a string"),
    "operationName": (str, "a string"),
    "variables": (dict, "an object"),
    "extensions": (dict, "an object"),
}


def frame_problem(message: object) -> str | None:
    """Why a decoded frame breaks graphql-transport-ws, or None when strawberry may read it
    (an unknown `type` included: strawberry closes the socket for that itself)."""
    if not isinstance(message, dict):
        return "A message must be a JSON object."
    kind = message.get("type")
    if not isinstance(kind, str):
        return "A message needs a string `type`."
    payload = message.get("payload")
    if kind in ("connection_init", "ping", "pong"):
        if payload is not None and not isinstance(payload, dict):
            return f"The `{kind}` payload must be an object."
        return None
    if kind not in ("subscribe", "complete"):
        return None
    operation_id = message.get("id")
    if not isinstance(operation_id, str) or not 0 < len(operation_id) <= OPERATION_ID_MAX:
        return f"A `{kind}` needs a string `id` of 1 to {OPERATION_ID_MAX} characters."
    if kind == "complete":
        return None
    if not isinstance(payload, dict):
        return "The `subscribe` payload must be an object."
    for key, (expected, described) in _PAYLOAD_TYPES.items():
        value = payload.get(key)
        if value is not None and not isinstance(value, expected):
            return f"`payload.{key}` must be {described} or null."
    return None


class ClarityTransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    _expiry: asyncio.Task[None] | None = None

    async def handle_message(self, message: Message) -> None:
        problem = frame_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        if message.get("payload", {}) is None:
            # The protocol allows a null payload; strawberry's `connection_init` does not.
            message = cast(Message, {k: v for k, v in message.items() if k != "payload"})
        await super().handle_message(message)

    async def handle_task_exception(self, error: Exception) -> None:
        # A client may close while its operation's result is being sent: that is its choice,
        # not a server error, so it is not logged as one (strawberry logs every worker
        # task's exception with a traceback).
        if isinstance(error, WebSocketDisconnected):
            return
        await super().handle_task_exception(error)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self._expiry is None:
            self._expiry = asyncio.create_task(self._close_when_the_token_expires())

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        # Unacknowledged and duplicate ids are strawberry's to refuse (4401, 4409), first.
        if self.connection_acknowledged and message["id"] not in self.operations:
            payload: dict[str, Any] = dict(message["payload"])
            persisted = self.context.resources.persisted_queries
            try:
                query = persisted.resolve(payload.get("query"), payload.get("extensions"))
            except PersistedQueryError as error:
                await self.send_message(cast(Message, {
                    "id": message["id"], "type": "error",
                    "payload": [{"message": error.message, "extensions": {"code": error.code}}],
                }))
                return
            if query is None:
                await self.handle_invalid_message("The `subscribe` payload needs a `query`.")
                return
            payload["query"] = query
            message = cast(SubscribeMessage, {**message, "payload": payload})
        await super().handle_subscribe(message)

    async def shutdown(self) -> None:
        try:
            if self._expiry is not None:
                self._expiry.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._expiry
        finally:
            await super().shutdown()

    async def _close_when_the_token_expires(self) -> None:
        expires_at = self.context.viewer.expires_at
        if expires_at is None:
            return
        leeway = self.context.settings.jwt_leeway_seconds
        await asyncio.sleep(max(0.0, expires_at + leeway - time.time()))
        # The client may be gone already; then there is nothing to close.
        with contextlib.suppress(Exception):
            await self.websocket.close(code=TOKEN_EXPIRED, reason="The token has expired.")
