"""GraphQL over Server-Sent Events (the `graphql-sse` protocol), distinct connections mode.

A GET or POST to /graphql that accepts `text/event-stream` runs one operation and streams
its results: `event: next` with an execution result as `data`, then `event: complete`. A
subscription streams until it ends or the client closes the connection; a query or a
mutation streams its one result (mutations over POST only, as over HTTP). The protocol asks
that what is refused before execution (a syntax error, validation, a limit, a persisted-only
refusal, a cap) be told in the accepted stream, as a `next` whose result has only `errors`,
then `complete`; so every such refusal carries the same `extensions.code` as over HTTP and
the WebSocket. What the request itself gets wrong is answered as HTTP answers it, before a
stream opens: a bad token 401, malformed JSON 400, a body in another content type 415, a
batch 400, a page on a foreign origin 403, a connection past a socket cap 503 with
`Retry-After` (graphql-sse clients retry what is not a 2xx, with backoff).

This module is a thin user of graph/live: a stream is one `LiveConnection` (counted as a
socket: MAX_SOCKETS_PER_USER, MAX_ANONYMOUS_SOCKETS), its operation is admitted and its
subscription shared, budgeted and capped there, as on the WebSocket. The rest is the
transport's own:

- Heartbeats: a comment line after SSE_HEARTBEAT_SECONDS (12) without an event, so proxies
  (whose idle timeouts are 15 to 60 s) and clients see a live connection between deliveries.
- The client leaving (`http.disconnect`) ends the operation at once: its subscription is
  let go, its place in the live layer given back.
- A token is trusted until it expires: at its `exp` plus `JWT_LEEWAY_SECONDS` the stream
  ends without `complete`, which graphql-sse clients take as a dropped connection and retry,
  with the headers they are given (a function may fetch a fresh token), as graphql-ws
  clients reconnect after 4403.
- A query or mutation is held to REQUEST_TIMEOUT_SECONDS (TIMEOUT); subscriptions are not
  timed (graph/http/limits.py's RequestTimeout leaves event streams alone).
- Origins: a browser page on another origin is refused (403) unless CORS_ORIGINS lists it,
  the WebSocket handshake's rule: CORS alone would hide the answer from the page, but the
  operation would still run.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Awaitable, Collection
from typing import TYPE_CHECKING, Any

import orjson
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.http.websocket_origin import is_same_origin, normalize_origin
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult
from strawberry.types.graphql import OperationType

from graph.context import Context
from graph.http.persisted import PersistedQueryError
from graph.http.responses import refusal
from graph.live import (
    LiveConnection,
    LiveRefused,
    Subscriber,
    request_errors,
    subscription_request,
)

if TYPE_CHECKING:
    from strawberry.http import GraphQLRequestData

EVENT_STREAM = "text/event-stream"
HEADERS = {
    "Cache-Control": "no-cache, no-store",
    "X-Accel-Buffering": "no",  # nginx: pass each event on as it comes
}


def wants_event_stream(accept: str) -> bool:
    """Whether `Accept` names text/event-stream (any parameters, any place in the list)."""
    return any(part.split(";", 1)[0].strip().lower() == EVENT_STREAM
               for part in accept.split(","))


def is_event_stream(scope: Scope) -> bool:
    """`wants_event_stream` for ASGI middleware (graph/http/limits.py)."""
    accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
    return scope.get("type") == "http" and wants_event_stream(accept)


def origin_allowed(request: Request, allowed: Collection[str]) -> bool:
    """The WebSocket handshake's rule: no Origin (not a browser), the same origin, or one
    CORS_ORIGINS lists."""
    origin = request.headers.get("origin")
    if origin is None or is_same_origin(origin, request.headers.get("host")):
        return True
    return "*" in allowed or normalize_origin(origin) in allowed


def event(kind: str, data: str = "") -> bytes:
    # JSON as orjson and the router write it has no raw newline: one `data:` line is enough.
    return f"event: {kind}\ndata: {data}\n\n".encode()


def errors_result(errors: list[dict[str, Any]] | str) -> bytes:
    """A `next` event holding only `errors` (a list, or its JSON text)."""
    text = errors if isinstance(errors, str) else orjson.dumps(errors).decode()
    return event("next", f'{{"errors":{text}}}')


COMPLETE = event("complete")
HEARTBEAT = b": ping\n\n"


def formatted(errors: list[GraphQLError]) -> list[dict[str, Any]]:
    return [dict(error.formatted) for error in errors]


class Operation:
    """One operation's events, in order, over one LiveConnection."""

    def __init__(self, context: Context, connection: LiveConnection, item: GraphQLRequestData,
                 method: str, subscriber: Subscriber | None) -> None:
        self.context = context
        self.connection = connection
        self.item = item
        self.method = method
        self.subscriber = subscriber  # a subscription's, listening before the stream opens
        self.heartbeat = context.settings.sse_heartbeat_seconds

    async def events(self) -> AsyncGenerator[bytes | None, None]:
        """The stream's events; None where a heartbeat is due (nothing came for a while)."""
        subscriber = self.subscriber
        if subscriber is None:
            async for chunk in self._once():
                yield chunk
            return
        try:
            while True:
                delivery = await _heartbeat_while(subscriber.next(), self.heartbeat)
                if delivery is _PENDING:
                    yield None
                    continue
                if delivery is None:
                    break
                if delivery.kind == "error":  # a list of errors: the stream's end
                    yield errors_result(delivery.payload)
                    break
                yield event("next", delivery.payload)
            yield COMPLETE
        finally:
            subscriber.close()

    async def _once(self) -> AsyncGenerator[bytes | None, None]:
        """A query or a mutation: its one result (or its refusal), then `complete`."""
        try:
            self.connection.admit()
        except LiveRefused as refused:
            yield errors_result(refused.errors())
            yield COMPLETE
            return
        try:
            run = asyncio.ensure_future(self._execute())
            try:
                while (result := await _heartbeat_while(asyncio.shield(run), self.heartbeat)
                       ) is _PENDING:
                    yield None
            finally:
                run.cancel()
            assert isinstance(result, bytes)
            yield result
            yield COMPLETE
        finally:
            self.connection.release()

    async def _execute(self) -> bytes:
        item, settings = self.item, self.context.settings
        allowed = ({OperationType.QUERY} if self.method == "GET"
                   else {OperationType.QUERY, OperationType.MUTATION})
        context = self.context.for_operation()
        try:
            async with asyncio.timeout(settings.request_timeout_seconds):
                result = await self.context.resources.live.schema.execute(
                    item.query, variable_values=item.variables, context_value=context,
                    operation_name=item.operation_name, allowed_operation_types=allowed,
                    operation_extensions=item.extensions,
                )
        except TimeoutError:
            return errors_result([{"message": (
                f"The operation took longer than {settings.request_timeout_seconds:g} s and"
                " was stopped."), "extensions": {"code": "TIMEOUT"}}])
        except InvalidOperationTypeError as error:
            message = ("Mutations must use POST." if error.operation_type
                       is OperationType.MUTATION else "Subscriptions are not served here.")
            return errors_result([{"message": message,
                                   "extensions": {"code": "METHOD_NOT_ALLOWED"}}])
        except CannotGetOperationTypeError as error:
            return errors_result([{"message": error.as_http_error_reason(),
                                   "extensions": {"code": "BAD_REQUEST"}}])
        finally:
            await context.db.close()
        return event("next", self._encode(result, item.query or ""))

    def _encode(self, result: ExecutionResult, query: str) -> str:
        errors = result.errors or []
        if result.data is None and errors and all(error.path is None for error in errors):
            errors = request_errors(errors, query, self.context.settings.max_tokens)
            return self.context.resources.live.encode({"errors": formatted(errors)})
        payload: dict[str, Any] = {"data": result.data}
        if errors:
            payload["errors"] = formatted(errors)
        if result.extensions:
            payload["extensions"] = result.extensions
        return self.context.resources.live.encode(payload)


class _Pending:
    """Nothing yet: a heartbeat is due."""


_PENDING = _Pending()


async def _heartbeat_while(awaitable: Awaitable[Any], seconds: float) -> Any:
    """What `awaitable` gives, or _PENDING after `seconds` (it is then cancelled: a
    subscriber's `next` and a shielded run are safe to wait for again)."""
    try:
        return await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        return _PENDING


class EventStream(Response):
    """The response: the operation's events as they come, until it ends, the client leaves
    or the token expires; then the stream's place in the live layer is given back."""

    def __init__(self, operation: Operation | None, first: bytes = b"") -> None:
        # No body, so no Content-Length (Response.__init__ would write 0): as StreamingResponse.
        self.status_code = 200
        self.media_type = f"{EVENT_STREAM}; charset=utf-8"
        self.background = None
        self.init_headers(HEADERS)
        self.operation = operation
        self.first = first  # an answer known before the stream opened (a refusal)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": self.raw_headers})
        tasks = [asyncio.create_task(self._write(send)),
                 asyncio.create_task(_disconnected(receive))]
        if self.operation is not None:
            tasks.append(asyncio.create_task(_expiry(self.operation.context)))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.operation is not None:
                self.operation.connection.close()
        if tasks[1] not in done:  # the client is still there: end the response properly
            with contextlib.suppress(OSError):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _write(self, send: Send) -> None:
        async def chunk(body: bytes) -> None:
            await send({"type": "http.response.body", "body": body, "more_body": True})

        if self.first:
            await chunk(self.first)
        if self.operation is None:
            return
        # Closed however the writing ends (cancelled included): the subscription is let go,
        # a query's run cancelled, its place given back.
        events = contextlib.aclosing(self.operation.events())
        with contextlib.suppress(OSError):  # the client left mid-send: `_disconnected` says so
            async with events as stream:
                async for data in stream:
                    await chunk(HEARTBEAT if data is None else data)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _expiry(context: Context) -> None:
    expires_at = context.viewer.expires_at
    if expires_at is None:
        await asyncio.Event().wait()  # never
        return
    leeway = context.settings.jwt_leeway_seconds
    await asyncio.sleep(max(0.0, expires_at + leeway - time.time()))


async def respond(
    request: Request, context: Context, parsed: Awaitable[GraphQLRequestData | list[Any]],
    allowed_origins: Collection[str],
) -> Response:
    """The event stream for `request` (or the HTTP refusal of a request that cannot have
    one). `parsed` reads its operation as an HTTP request's; what it raises (bad JSON, a
    content type, 400s) is the router's to answer."""
    accept = request.headers.get("accept", "")
    if not origin_allowed(request, allowed_origins):
        return refusal(403, "This origin may not open an event stream: list it in"
                       " CORS_ORIGINS.", "FORBIDDEN", accept)
    try:
        item = await parsed
    except PersistedQueryError as error:  # refused before execution: told in the stream
        return EventStream(None, errors_result(
            [{"message": error.message, "extensions": {"code": error.code}}]) + COMPLETE)
    if isinstance(item, list):
        return refusal(400, "A batch cannot be sent over an event stream: one operation a"
                       " request.", "BAD_REQUEST", accept)
    if not item.query:
        return EventStream(None, errors_result([{"message": "The request needs a `query`.",
                                                  "extensions": {"code": "BAD_REQUEST"}}])
                           + COMPLETE)
    try:
        connection = context.resources.live.connect(context)
    except LiveRefused as refused:
        return Response(
            orjson.dumps({"errors": refused.errors()}), status_code=503,
            media_type="application/json", headers={"Retry-After": "5",
                                                    "Cache-Control": "no-store"})
    context.live_connection = connection
    live = subscription_request(
        item.query, item.variables, item.operation_name, context.settings.max_tokens)
    subscriber = None
    if live is not None:
        # Subscribed before the stream opens: once a client has the response's headers, a
        # change committed is delivered.
        try:
            subscriber = connection.subscribe(live)
        except LiveRefused as refused:
            connection.close()
            return EventStream(None, errors_result(refused.errors()) + COMPLETE)
    return EventStream(Operation(context, connection, item, request.method, subscriber))
