"""Structured logs with a request id, one line per GraphQL operation, optional tracing."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
operation_logger = logging.getLogger("graph.operations")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id, extras, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if (current := request_id.get()) is not None:
            entry["request_id"] = current
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def configure_logging(level: str, log_format: str) -> None:
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


class RequestIdMiddleware:
    """Gives every HTTP request and WebSocket an id (a sane incoming X-Request-Id is kept),
    visible in every log line of the request and echoed in the response header."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        current = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(current)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (b"x-request-id", current.encode())]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)


class OperationLog(SchemaExtension):
    """Logs each operation once it ends: name, type, duration, error count."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        result = context.result
        errors = len(result.errors or []) if result is not None else 0
        errors += len(context.pre_execution_errors or []) if result is None else 0
        try:
            operation_type = context.operation_type
        except Exception:  # no parsable operation: nothing to name
            operation_type = None
        operation_logger.info(
            "graphql operation",
            extra={
                "operation_name": context.operation_name,
                "operation_type": getattr(operation_type, "value", None),
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "errors": errors,
            },
        )


def tracing_extension() -> type[SchemaExtension] | None:
    """Strawberry's OpenTelemetry extension, when the `otel` extra is installed."""
    try:
        from strawberry.extensions.tracing import OpenTelemetryExtension
    except ImportError:  # opentelemetry is an optional extra
        return None
    return OpenTelemetryExtension
