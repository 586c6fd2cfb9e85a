"""The WebSocket transport (graphql-transport-ws), held to the rules HTTP is held to.

- Every frame is checked against the protocol's shapes before strawberry reads it; anything
  else closes the socket with 4400 and a reason, as the protocol asks. (Strawberry indexes
  frames as dicts: a list, a number, `null` or an object `id` raised inside its loop and
  dropped the socket without a close frame, logging tracebacks.)
- An operation's own errors (a syntax error, more than MAX_TOKENS, an unknown operation name,
  validation, a limit) are an `error` message for its id, with HTTP's codes; the socket and
  its other operations carry on (they closed it with 4400 once, which graphql-transport-ws
  keeps for malformed messages).
- A `subscribe` goes through the same persisted-query rules as an HTTP request
  (`graph/http/persisted.py`): persisted-only mode refuses ad-hoc text, a hash becomes its text.
  Every other limit (depth, aliases, cost, tokens, introspection, suggestions, input sizes)
  lives in the schema's extensions, which run for both transports alike; the message size
  limit is uvicorn's `ws_max_size`, set from `MAX_BODY_BYTES` by `clarity-graph serve`.
- A connection acts as its token only while the token is valid: when it expires (plus the
  leeway HTTP allows) the socket is closed with 4403, the code of a refused
  `connection_init`. The client reconnects with a fresh token.
- Subscriptions are the live layer's (graph/live/): this handler hands it each one and sends
  what it gives back; the caps, the shared streams, the budgets and FELL_BEHIND are decided
  there, the same for every transport. A refusal is an `error` message for the operation
  (TOO_MANY_SUBSCRIPTIONS), or, for a socket past a socket cap at `connection_init`, a close
  with 1013 (Try Again Later, which graphql-ws clients retry).
- Each operation runs with a context of its own (`Context.for_operation`; a subscription in
  its stream's): strawberry hands every operation of a socket the socket's one context, and
  one operation's rollback expired the rows another was reading (MissingGreenlet).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

import orjson
from graphql import GraphQLError
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from graph.auth import AuthenticationFailed, log_refusal
from graph.context import Context
from graph.http.persisted import PersistedQueryError
from graph.live import (
    LiveConnection,
    LiveRefused,
    Subscriber,
    request_errors,
    subscription_request,
)

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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per operation id: what gives its place in the live layer back (once).
        self._let_go: dict[str, Callable[[], None]] = {}

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
        try:
            await super().handle_connection_init(message)
        except LiveRefused as refusal:  # from `on_ws_connect`: a socket cap, before the ack
            await self.websocket.close(code=refusal.close_code, reason=refusal.message)
            return
        if self.connection_acknowledged and self._expiry is None:
            self._expiry = asyncio.create_task(self._close_when_the_token_expires())

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)  # strawberry's to refuse: 4401, 4409
            return
        payload: dict[str, Any] = dict(message["payload"])
        persisted = self.context.resources.persisted_queries
        try:
            query = persisted.resolve(payload.get("query"), payload.get("extensions"))
        except PersistedQueryError as error:
            await self._refuse(message["id"], [
                {"message": error.message, "extensions": {"code": error.code}}])
            return
        if query is None:
            await self.handle_invalid_message("The `subscribe` payload needs a `query`.")
            return
        operation = Operation(
            self, message["id"], query, payload.get("variables"), payload.get("operationName")
        )
        try:
            work = self._start(operation)
        except LiveRefused as refusal:
            await self._refuse(operation.id, refusal.errors())
            return
        operation.task = asyncio.create_task(work)
        operation.task.add_done_callback(self._task_done)
        self.operations[operation.id] = operation

    def _start(self, operation: Operation[Context, None]) -> Coroutine[Any, Any, None]:
        """The operation's work: a subscription's stream, or a query's or mutation's one run;
        LiveRefused past a cap."""
        connection = self._connection
        request = subscription_request(
            operation.query, operation.variables, operation.operation_name,
            self.context.settings.max_tokens,
        )
        if request is None:
            connection.admit()
            self._let_go[operation.id] = connection.release
            return self._run_once(operation)
        subscriber = connection.subscribe(request)
        self._let_go[operation.id] = subscriber.close
        return self._stream(operation, subscriber)

    async def cleanup_operation(self, operation_id: str) -> None:
        # A `complete` from the client frees the operation's place at once, not when its
        # cancelled task next runs: a `subscribe` right after it on this socket fits.
        self._release(operation_id)
        await super().cleanup_operation(operation_id)

    def _release(self, operation_id: str) -> None:
        let_go = self._let_go.pop(operation_id, None)
        if let_go is not None:
            let_go()

    @property
    def _connection(self) -> LiveConnection:
        connection = self.context.live_connection
        if connection is None:  # set by `on_ws_connect`, before the acknowledgement
            raise RuntimeError("an acknowledged socket has a live connection")
        return connection

    async def _stream(self, operation: Operation[Context, None], subscriber: Subscriber) -> None:
        """Send what the live layer gives: results, then `complete` or the ending `error`."""

        async def send() -> bool:
            while (delivery := await subscriber.next()) is not None:
                # The payload is JSON already, encoded once for every subscriber of the stream.
                await operation.send_operation_message(cast(Message, {
                    "id": operation.id, "type": delivery.kind,
                    "payload": orjson.Fragment(delivery.payload),
                }))
                if delivery.kind == "error":
                    return False
            return True

        await self._run(operation, send())

    async def _run_once(self, operation: Operation[Context, None]) -> None:
        """A query or mutation: strawberry's `run_operation`, with a context of its own."""
        context = self.context.for_operation()

        async def answer() -> bool:
            source = await self.schema.stream(
                operation.query, variable_values=operation.variables, context_value=context,
                root_value=self.root_value, operation_name=operation.operation_name,
            )
            async with aclosing(source):
                async for result in source:
                    if isinstance(result, PreExecutionError):
                        await self._pre_execution_error(operation, result)
                        return False
                    if not isinstance(result, ExecutionResult):  # @defer, @stream
                        await operation.send_initial_errors([GraphQLError(
                            "Incremental delivery is not supported over graphql-transport-ws")])
                        return False
                    await operation.send_next(result)
            return True

        try:
            await self._run(operation, answer())
        finally:
            await context.db.close()

    async def _run(self, operation: Operation[Context, None], work: Awaitable[bool]) -> None:
        """Run an operation's `work`, then `complete` it unless the work ended it otherwise;
        as strawberry's `run_operation` ends one that raised. Its place is given back."""
        try:
            if await work:
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            self._release(operation.id)

    async def _pre_execution_error(
        self, operation: Operation[Context, None], result: PreExecutionError
    ) -> None:
        """An operation that does not parse, names no operation the document has, or breaks
        a limit: an `error` message for its id, as graphql-transport-ws asks of a
        subscribe's operation errors. The socket and its other operations carry on; only a
        malformed *message* closes it (4400, `frame_problem`, strawberry's 4409)."""
        assert result.errors
        await operation.send_initial_errors(request_errors(
            result.errors, operation.query, self.context.settings.max_tokens))

    async def _refuse(self, operation_id: str, errors: list[dict[str, Any]]) -> None:
        await self.send_message(cast(Message, {
            "id": operation_id, "type": "error", "payload": errors,
        }))

    async def shutdown(self) -> None:
        try:
            if self._expiry is not None:
                self._expiry.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._expiry
        finally:
            try:
                await super().shutdown()
            finally:
                if self.context.live_connection is not None:
                    self.context.live_connection.close()

    async def _close_when_the_token_expires(self) -> None:
        expires_at = self.context.viewer.expires_at
        if expires_at is None:
            return
        leeway = self.context.settings.jwt_leeway_seconds
        await asyncio.sleep(max(0.0, expires_at + leeway - time.time()))
        log_refusal(AuthenticationFailed("The token has expired."), "/graphql",
                    answer=f"WebSocket {TOKEN_EXPIRED}")
        # The client may be gone already; then there is nothing to close.
        with contextlib.suppress(Exception):
            await self.websocket.close(code=TOKEN_EXPIRED, reason="The token has expired.")
