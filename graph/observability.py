"""Structured logs with a request id, one line per GraphQL operation, optional tracing."""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from graph.terminal import RECORD_ATTRIBUTES, HumanFormatter, is_terminal

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
operation_logger = logging.getLogger("graph.operations")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, pid, request id, extras,
    traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            # Which process wrote it: under `serve --workers N` each worker is one.
            "pid": record.process,
        }
        if (current := request_id.get()) is not None:
            entry["request_id"] = current
        entry.update({k: v for k, v in vars(record).items() if k not in RECORD_ATTRIBUTES})
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


def human_output(log_format: str) -> bool:
    """Short human lines (`text`, or `auto` on a terminal) rather than JSON."""
    return log_format == "text" or (log_format == "auto" and is_terminal(sys.stderr))


def configure_logging(level: str, log_format: str) -> None:
    handler = logging.StreamHandler()
    human = human_output(log_format)
    handler.setFormatter(HumanFormatter(request_id.get) if human else JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    quiet = logging.WARNING if root.level > logging.DEBUG else logging.NOTSET
    # Alembic tells how it sets itself up at INFO: most of a first start's screen. A log
    # collector keeps its "Running upgrade" lines; a person at a terminal reads the banner.
    logging.getLogger("alembic.runtime.plugins").setLevel(quiet)
    logging.getLogger("alembic").setLevel(quiet if human else logging.NOTSET)
    # SQLAlchemy logs every statement at INFO and every fetched row at DEBUG, and aiosqlite
    # every call with its values at DEBUG: messages, notes, prompts, answers. Those never
    # reach the log, whatever LOG_LEVEL says. The cost: LOG_LEVEL=DEBUG shows no SQL; a
    # developer who wants it sets the engine's `echo` (statements only, values hidden).
    for chatty in ("sqlalchemy.engine", "aiosqlite"):
        logging.getLogger(chatty).setLevel(logging.WARNING)



class FirstThenCounted:
    """Logs the first of a run of like failures in full, then only counts the rest.

    An outage fails every request the same way: logged one by one, a 12 s database outage
    wrote 1,300-1,800 tracebacks and buried whatever else happened. Here the first failure of
    a run is logged at `level` with its traceback; the rest go to DEBUG one line each (no
    traceback) and are counted, with a summary at `level` at most every `summary_seconds`
    while they continue. `recovered()` ends the run with one line; so does the next failure
    after `quiet_seconds` without any (it then starts a new run, logged in full again).

    Nothing runs in the background: lines are written only when a failure or a recovery is
    reported. One instance per kind of failure, shared by everything in the process that
    reports it; the event loop is the only caller, so there is no lock.
    """

    def __init__(
        self,
        logger: logging.Logger,
        what: str,
        *,
        level: int = logging.ERROR,
        summary_seconds: float = 10.0,
        quiet_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.what = what
        self.level = level
        self.summary_seconds = summary_seconds
        self.quiet_seconds = quiet_seconds
        self._clock = clock
        self._started: float | None = None  # the run's first failure; None: no run
        self._last = self._summarised = 0.0
        self._total = self._unsummarised = 0

    def failed(self, message: str, *args: object, exc_info: BaseException | None) -> bool:
        """Report one failure; True when it was logged in full (the first of its run)."""
        now = self._clock()
        if self._started is not None and now - self._last > self.quiet_seconds:
            self._end(self._started, now)
        self._last = now
        if self._started is None:
            self._started = self._summarised = now
            self._total, self._unsummarised = 1, 0
            self.logger.log(self.level, message, *args, exc_info=exc_info,
                            extra={"repeats": "the first of a run; the rest are counted"})
            return True
        self._total += 1
        self._unsummarised += 1
        self.logger.debug(message, *args)
        if now - self._summarised >= self.summary_seconds:
            self.logger.log(
                self.level, "%s: %d more in the last %.0f s, %d since the first",
                self.what, self._unsummarised, now - self._summarised, self._total,
                extra={"failures": self._total},
            )
            self._summarised, self._unsummarised = now, 0
        return False

    def recovered(self) -> None:
        """Report a success: ends the run, if any, with one line."""
        if self._started is not None:
            self._end(self._started, self._clock())

    def _end(self, started: float, now: float) -> None:
        # A run that went quiet ended with its last failure, not with whatever came next.
        ended = self._last if now - self._last > self.quiet_seconds else now
        # WARNING, not INFO: the end of a run belongs next to its start in a filtered log.
        self.logger.warning(
            "%s: over after %.1f s, %d in all", self.what, ended - started, self._total,
            extra={"failures": self._total},
        )
        self._started = None


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
