"""What the live layer tells a client, the same on every transport: the codes, and the
refusals of a socket or a subscription past a cap."""

from __future__ import annotations

from typing import Any

# An `error` message for the operation: a cap on subscriptions was reached (`limit` says
# which: "connection", "user" or "process"; `max` its value). The socket and its other
# subscriptions stay open.
TOO_MANY_SUBSCRIPTIONS = "TOO_MANY_SUBSCRIPTIONS"
# An `error` message for the operation: it fell behind (its changes waited past the backlog,
# or its results waited to be sent past the send buffer) and was ended. A change stream
# resumes from the last cursor it delivered (graph/live/resume.py); any other refetches what
# the screen shows, then subscribes again.
FELL_BEHIND = "FELL_BEHIND"
FELL_BEHIND_MESSAGE = (
    "This subscription fell behind and was ended; changes were missed. Refetch what it "
    "shows, then subscribe again (a change stream may instead subscribe with `after` set "
    "to the last cursor it received)."
)
# A socket refused at `connection_init` past a socket cap (`limit`: "anonymous" or "user").
TOO_MANY_SOCKETS = "TOO_MANY_SOCKETS"
# A socket refused at `connection_init` is closed with this code, "Try Again Later" in the
# WebSocket registry (RFC 6455, 7.4.2), which graphql-ws clients retry with backoff.
TRY_AGAIN_LATER = 1013


class LiveRefused(Exception):
    """A cap refused a socket (closed with `close_code`) or a subscription (an error with
    `code` and `extensions`)."""

    def __init__(
        self, message: str, *, code: str, close_code: int = TRY_AGAIN_LATER, **extensions: Any
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.close_code = close_code
        self.extensions = extensions

    def errors(self) -> list[dict[str, Any]]:
        """The refusal as a GraphQL error list (graphql-transport-ws's `error` payload)."""
        return [{"message": self.message, "extensions": {"code": self.code, **self.extensions}}]


def fell_behind_errors() -> list[dict[str, Any]]:
    return [{"message": FELL_BEHIND_MESSAGE, "extensions": {"code": FELL_BEHIND}}]


def too_many_subscriptions(limit: str, maximum: int) -> LiveRefused:
    where = {"connection": "on this connection", "user": "for this user",
             "process": "on this server"}[limit]
    return LiveRefused(
        f"Too many subscriptions {where} (at most {maximum}); complete one first.",
        code=TOO_MANY_SUBSCRIPTIONS, limit=limit, max=maximum,
    )
