"""Request limits, each refused with a clear GraphQL error before any SQL runs.

Tokens use strawberry's parser option; depth, aliases and cost are measured in one linear
walk (`graph/analysis.py`) and list and text inputs have maxima (`graph/inputs.py`), both
applied by `graph/documents.py`. This module adds directives per field, the body size
limit, the request timeout and the switch that drops "Did you mean ...?" suggestions.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLError,
    ValidationRule,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import StreamExecutionResult
from strawberry.types.graphql import OperationType

from graph.errors import ClientError
from graph.responses import send_refusal

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")

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


class SubscriptionsOverWebSocketOnly(SchemaExtension):
    """A subscription sent over plain HTTP is refused (BAD_REQUEST) before it runs: only the
    WebSocket transport streams them, and executed as a query it would fail unexpectedly."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if (
            context.result is None
            and context.graphql_document is not None
            and context.operation_type is OperationType.SUBSCRIPTION
            and not isinstance(getattr(context.context, "request", None), WebSocket)
        ):
            error = GraphQLError(
                "Subscriptions are served over the WebSocket transport (graphql-transport-ws).",
                extensions={"code": "BAD_REQUEST"},
            )
            context.result = ExecutionResult(data=None, errors=[error])
        yield


class WebSocketOperationTimeout(SchemaExtension):
    """A query or mutation sent over the WebSocket is held to `REQUEST_TIMEOUT_SECONDS`, as
    an HTTP request is by `RequestTimeout`: past it, it is cancelled (an open transaction
    rolls back) and answered with code TIMEOUT. A subscription lives as long as its socket."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.operation_type is OperationType.SUBSCRIPTION or not isinstance(
            getattr(context.context, "request", None), WebSocket
        ):
            yield
            return
        try:
            async with asyncio.timeout(self.seconds):
                yield
        except TimeoutError as error:
            raise ClientError(
                f"The operation took longer than {self.seconds:g} s and was stopped.",
                code="TIMEOUT",
            ) from error


def directives_per_field_rule(limit: int) -> type[ValidationRule]:
    class MaxDirectivesPerField(ValidationRule):
        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            count = len(node.directives or ())
            if count > limit:
                self.report_error(
                    GraphQLError(
                        f"Field '{node.name.value}' has {count} directives;"
                        f" at most {limit} are allowed.",
                        node,
                        extensions={"code": "TOO_MANY_DIRECTIVES"},
                    )
                )

    return MaxDirectivesPerField


class HideSuggestions(SchemaExtension):
    """Strips "Did you mean ...?" from every error the client receives, so errors cannot map
    hidden schema; the rest of each message stays.

    Validation is not the only source: variable values are coerced during execution, and
    graphql-core words those errors with suggestions too ("unknown field 'statu'. Did you mean
    'status'?"). graphql-core 3.3 can leave them out (`hide_suggestions`), but strawberry does
    not pass that to execution, and `did_you_mean.MAX_LENGTH` is process-wide (it would silence
    every schema in the process, development ones included). So the finished result is
    cleaned, whatever step produced its errors: once per operation, and per streamed result
    (subscriptions).
    """

    def on_operation(self) -> Iterator[None]:
        yield
        _strip_suggestions(getattr(self.execution_context.result, "errors", None))

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        _strip_suggestions(getattr(result, "errors", None))
        yield


def _strip_suggestions(errors: list[GraphQLError] | None) -> None:
    for error in errors or ():
        error.message = _SUGGESTION.sub("", error.message)


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
    are not timed."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
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
