"""The one error convention.

Expected failures are data: the domain raises `domain.errors` exceptions, and a mutation
answers them as its payload union's error member (`payload_of` in
`graph/resolvers/mutations/base.py`); met by a query or a subscription they are
`ClientError`s (`client_error`). Request-level refusals (not signed in, a page too large) are
`ClientError`s: GraphQL errors with a code, shown as they are. A database that cannot be
reached is told apart (`SERVICE_UNAVAILABLE`, "retry shortly"): the request was fine, and
a later one may succeed. Everything else is masked: the client gets a generic message and an
error id; the log gets the id and the traceback. An outage fails every request alike, so
its errors are logged first-then-counted (`graph.observability.FirstThenCounted`).
"""

from __future__ import annotations

import ast
import json
import logging
import re
import traceback
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from sqlalchemy.exc import DBAPIError, DisconnectionError, PendingRollbackError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import StreamExecutionResult

from domain.errors import (
    AssistantUnavailable,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
)
from graph.observability import FirstThenCounted

logger = logging.getLogger("graph.errors")

MASKED_MESSAGE = "Internal server error."
UNAVAILABLE_MESSAGE = "The database is unavailable; retry shortly."
SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
# One per process (there is one app per process outside the tests): its first error is
# logged with the traceback, the rest of the outage counted; `RequestDatabase.close` reports
# the first request that used the database successfully again.
DATABASE_OUTAGE = FirstThenCounted(logger, "database unavailable")


class ClientError(Exception):
    """A refusal the client may see verbatim, with a machine-readable code."""

    code = "BAD_REQUEST"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code}


class BadRequest(Exception):
    """The HTTP request itself is malformed (a bad header): answered with HTTP 400, with
    `code` (BAD_REQUEST unless a client should tell this refusal apart)."""

    def __init__(self, message: str, *, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class NotAuthenticated(ClientError):
    code = "UNAUTHENTICATED"

    def __init__(self) -> None:
        super().__init__("Sign in to do this: send an Authorization: Bearer token.")


# A domain failure met outside a mutation's payload (a query, a subscription): a GraphQL
# error with this code. Mutations answer them as payloads (graph/resolvers/mutations/base.py).
_DOMAIN_CODES: dict[type[DomainError], str] = {
    Forbidden: "FORBIDDEN",
    Invalid: "BAD_USER_INPUT",
    NotFound: "NOT_FOUND",
    AssistantUnavailable: "ASSISTANT_ERROR",
    RateLimited: "RATE_LIMITED",
}


def client_error(failure: DomainError) -> ClientError:
    code = next(code for kind, code in _DOMAIN_CODES.items() if isinstance(failure, kind))
    if isinstance(failure, Invalid):
        message = " ".join(f"`{field}` {problem}." for field, problem in failure.problems.items())
        return ClientError(message, code=code)
    return ClientError(failure.message, code=code)


# Shown as they are: our refusals, graphql-core's own errors, and strawberry's refusals of a
# request it cannot run (no query, no such operation, an operation type not allowed), whose
# messages are written for the client. Over HTTP strawberry raises those (answered 400); a
# stream turns them into a result, and the WebSocket closes with their message (4400).
_SHOWN = (
    ClientError,
    GraphQLError,
    MissingQueryError,
    CannotGetOperationTypeError,
    InvalidOperationTypeError,
)


def _is_expected(error: GraphQLError) -> bool:
    original = error.original_error
    # No original error: a syntax or validation error from graphql-core, safe to show.
    return original is None or isinstance(original, _SHOWN)


# What says "the database cannot be reached", as each driver says it (test_faults.py and
# test_outages.py cause each on the real engines):
# - SQLAlchemy: a statement's connection found dead (`connection_invalidated`), a pool that
#   handed out no connection in time, a pool ping that failed, and the next statement of a
#   transaction whose connection died (PendingRollbackError 8s2b).
# - PostgreSQL SQLSTATEs, wrapped or raw (asyncpg's connect errors are not wrapped): class 08
#   (connection exception: lost, refused, "closed in the middle of operation"), shutting
#   down, crashed, starting up, too many connections.
# - SQLite: the file cannot be opened, an I/O error, the file moved away under an open
#   connection.
# - A bare OSError (refused, reset, unreachable; TimeoutError is one) raised inside the
#   driver or the pool: asyncpg's connect lets them through unwrapped. Only there: the same
#   errors from elsewhere (the assistant's HTTP client) are not the database's.
_UNAVAILABLE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_SQLITE_UNAVAILABLE = ("SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_READONLY_DBMOVED")
_DATABASE_CODE = ("asyncpg", "aiosqlite", "sqlalchemy")


def database_unavailable(error: BaseException | None) -> bool:
    """Whether `error`, or an error it was raised from, says the database cannot be reached."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if _says_unavailable(error):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def _says_unavailable(error: BaseException) -> bool:
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, PoolTimeoutError | DisconnectionError):
        return True
    if isinstance(error, PendingRollbackError) and error.code == "8s2b":
        return True
    sqlstate = getattr(error, "sqlstate", None)
    if isinstance(sqlstate, str) and (sqlstate[:2] == "08" or sqlstate in _UNAVAILABLE_SQLSTATES):
        return True
    sqlite_name = getattr(error, "sqlite_errorname", None)
    if isinstance(sqlite_name, str) and sqlite_name.startswith(_SQLITE_UNAVAILABLE):
        return True
    return isinstance(error, OSError) and _raised_in(error, _DATABASE_CODE)


def _raised_in(error: BaseException, packages: tuple[str, ...]) -> bool:
    return any(
        str(frame.f_globals.get("__name__", "")).startswith(packages)
        for frame, _line in traceback.walk_tb(error.__traceback__)
    )


def present(error: GraphQLError) -> GraphQLError:
    """The error as the client may see it."""
    original = error.original_error
    if isinstance(original, DomainError):
        original = client_error(original)
    request_error = error.path is None and (original is None or isinstance(original, GraphQLError))
    if request_error and not (error.extensions or {}).get("code"):
        # graphql-core's refusals of a request: a syntax error (coded by
        # graph/extensions/documents.py unless strawberry met it alone), else a variable's
        # value it could not coerce.
        code = "GRAPHQL_PARSE_FAILED" if isinstance(error, GraphQLSyntaxError) else (
            "BAD_USER_INPUT")
        error.extensions = {**(error.extensions or {}), "code": code}
    if isinstance(original, ClientError):
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            path=error.path,
            extensions={**(error.extensions or {}), **original.extensions},
        )
    if _is_expected(error):
        error.message = plain_words(error.message)
        return error
    error_id = uuid.uuid4().hex
    where = ".".join(str(part) for part in error.path or ())
    if database_unavailable(original):
        DATABASE_OUTAGE.failed(
            "database unavailable: error %s at %s", error_id, where, exc_info=original
        )
        message, code = UNAVAILABLE_MESSAGE, SERVICE_UNAVAILABLE
    else:
        logger.error("unexpected error %s at %s", error_id, where, exc_info=original)
        message, code = MASKED_MESSAGE, "INTERNAL_SERVER_ERROR"
    return GraphQLError(
        message,
        nodes=error.nodes,
        path=error.path,
        extensions={"code": code, "errorId": error_id},
    )


# graphql-core's coercion and validation messages, as Python says them, in the API's words:
# "not to be None" is Python's null, and a variable's value was printed as a Python repr
# (`found: {'title': 'x'}`). Each rule says what to send instead. Reworded here, the one
# place every shown error passes (`present`); tests/graph/test_error_words.py sends every
# kind of bad value the schema can receive and fails on a Python word in any answer.
def _variable_required(match: re.Match[str]) -> str:
    return f"Variable '${match['name']}' is required: give a {match['type']}, not null."


def _variable_missing(match: re.Match[str]) -> str:
    return f"Variable '${match['name']}' is required: give a {match['type']}."


def _null_where_required(match: re.Match[str]) -> str:
    return f"Expected a value of type '{match['type']}!', found null: give a {match['type']}."


def _variable_null_in_position(match: re.Match[str]) -> str:
    return (f"Variable '${match['name']}' is null where a {match['type']} is required: give it a"
            " value, or declare it non-null.")


def _as_json(match: re.Match[str]) -> str:
    """A variable's value graphql-core printed as a Python repr, shown as JSON (or left out
    when it was shortened and no longer parses)."""
    try:
        value = ast.literal_eval(match["value"])
    except (ValueError, SyntaxError, RecursionError, MemoryError):
        return f"{match['head']}."
    return f"{match['head']}, found: {json.dumps(value)}."


def _time_hint(match: re.Match[str]) -> str:
    example = ("ISO 8601 with a UTC offset, e.g. 2024-05-01T09:00:00Z"
               if match["type"] == "DateTime" else "YYYY-MM-DD, e.g. 2024-05-01")
    return f'Value cannot represent a {match["type"]}: "{match["value"]}". Write {example}.'


_REWORDINGS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^Variable '\$(?P<name>\w+)' has invalid value: Expected value of non-null"
                r" type '(?P<type>[^'!]+)!' not to be None\.$"), _variable_required),
    (re.compile(r"^Variable '\$(?P<name>\w+)' has invalid value: Expected a value of non-null"
                r" type '(?P<type>[^'!]+)!' to be provided\.$"), _variable_missing),
    (re.compile(r"Expected value of non-null type '(?P<type>[^'!]+)!' not to be None\."),
     _null_where_required),
    (re.compile(r"Expected variable '\$(?P<name>\w+)' provided to non-null type"
                r" '(?P<type>[^'!]+)!?' not to be None\."), _variable_null_in_position),
    (re.compile(r"(?<=^Variable '\$)(?P<rest>.*) not to be None\."),
     lambda match: f"{match['rest']} not to be null."),
    (re.compile(r"(?s)(?<=^Variable '\$)(?P<head>.*), found: (?P<value>[\[{'\"(].*|None|True"
                r"|False)\.$"), _as_json),
    # Not our own wording (graph/types/scalars.py: "It needs a UTC offset"), only the
    # parser's (dateutil's "Expected 4 digits, got 'yest'").
    (re.compile(r'Value cannot represent a (?P<type>DateTime|Date): "(?P<value>.*?)"\.'
                r'(?! It needs a UTC offset).*$'), _time_hint),
]


def plain_words(message: str) -> str:
    """`message` with graphql-core's Python words replaced by the API's."""
    for pattern, reword in _REWORDINGS:
        message = pattern.sub(reword, message)
    return message.replace(" not to be None.", " not to be null.")


def mask(result: Any) -> None:
    """Replace a result's errors with what the client may see (`present`), in place."""
    errors: list[GraphQLError] | None = getattr(result, "errors", None)
    if errors:
        result.errors = [present(error) for error in errors]


class MaskUnexpectedErrors(SchemaExtension):
    """Masks every result before it is sent.

    A query or mutation over HTTP has one result, masked when the operation ends. A stream
    (a subscription, or any operation over the WebSocket) sends its results from inside the
    operation, each as soon as it exists: the first, every delivery, the error that ends the
    stream. Strawberry passes each of them to `on_stream_result` before the transport sends
    it, so they are masked there, by the same `present`.
    """

    _streamed = False

    def on_operation(self) -> Iterator[None]:
        yield
        if not self._streamed:  # a stream's results are masked already, one by one
            mask(self.execution_context.result)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        self._streamed = True
        mask(result)
        yield
