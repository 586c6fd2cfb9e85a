"""Validation rules and small extensions, each a refusal with a clear GraphQL error before
any SQL runs: directives per field, subscriptions only over the WebSocket, the WebSocket's
own time limit, and the switch that drops "Did you mean ...?" suggestions.

Tokens use strawberry's parser option; depth, aliases and cost are measured in one linear
walk (`graph/extensions/analysis.py`) and list and text inputs have maxima
(`graph/extensions/inputs.py`), both applied by `graph/extensions/documents.py`.
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
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import StreamExecutionResult
from strawberry.types.graphql import OperationType

from graph.errors import ClientError

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


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
            and getattr(context.context, "live_stream", None) is None  # graph/live's streams
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


