"""The one error convention.

Expected failures are data: a mutation returns a union whose error members implement
`UserError` (see `graph/types/errors.py`); services raise `UserFacingError` and the mutation
turns it into its payload. Request-level refusals (not signed in, a page too large) are
`ClientError`s: GraphQL errors with a code, shown as they are. Everything else is masked:
the client gets a generic message and an error id; the log gets the id and the traceback.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.exceptions import MissingQueryError
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import StreamExecutionResult

logger = logging.getLogger("graph.errors")

MASKED_MESSAGE = "Internal server error."


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
    """The HTTP request itself is malformed (a bad header): answered with HTTP 400."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAuthenticated(ClientError):
    code = "UNAUTHENTICATED"

    def __init__(self) -> None:
        super().__init__("Sign in to do this: send an Authorization: Bearer token.")


class Forbidden(ClientError):
    code = "FORBIDDEN"


class UserFacingError(Exception):
    """An expected failure of a mutation; `payload` is the GraphQL error object to return."""

    def __init__(self, payload: Any) -> None:
        super().__init__(getattr(payload, "message", "user error"))
        self.payload = payload


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


def present(error: GraphQLError) -> GraphQLError:
    """The error as the client may see it."""
    original = error.original_error
    if isinstance(original, ClientError):
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            path=error.path,
            extensions={**(error.extensions or {}), **original.extensions},
        )
    if _is_expected(error):
        return error
    error_id = uuid.uuid4().hex
    logger.error(
        "unexpected error %s at %s",
        error_id,
        ".".join(str(part) for part in error.path or ()),
        exc_info=original,
    )
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        path=error.path,
        extensions={"code": "INTERNAL_SERVER_ERROR", "errorId": error_id},
    )


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
