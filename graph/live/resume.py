"""Resuming a change stream from a client's cursor, the same on every transport.

Every change a stream delivers carries its cursor (`cursor` on the change types): its change
outbox id (models/outbox.py), opaque to clients (base64url of `change:<id>`). A client that
lost its connection subscribes again with `after: <the last cursor it received>` and is
given, in commit order, every change of its own committed after that one, then what commits
next, with no gap and no duplicate between the two (graph/pubsub/: the reader reads the
outbox after an id, whether replaying or live).

A cursor is honoured while its own change is kept: pruning (CHANGE_RETENTION_SECONDS) deletes
a prefix of ids, so a kept change has lost nothing after it. One that is no longer kept, or
never was the viewer's, answers CURSOR_EXPIRED (refetch, then subscribe without `after`); one
that is not a cursor at all, BAD_USER_INPUT. Either ends the subscription with its `error`.

Sharing. A subscription with `after` replays its own history before it joins what is live,
so it never shares a stream (graph/live/feeds.py): `resumes` tells the hub. Once replayed it
costs what any unshared stream costs.
"""

from __future__ import annotations

import base64
import binascii
import re

from graphql import (
    FieldNode,
    NullValueNode,
    OperationDefinitionNode,
    VariableNode,
)

from domain.events import kept_change
from graph.context import Context
from graph.errors import ClientError

CURSOR_EXPIRED = "CURSOR_EXPIRED"
CURSOR_EXPIRED_MESSAGE = (
    "This cursor is no longer kept (older than the retention of changes) or is not one of "
    "yours: changes after it cannot be replayed. Refetch what the screen shows, then "
    "subscribe without `after`."
)
# What ends a resuming subscription before its first delivery, as its `error` message.
RESUME_REFUSALS = frozenset({CURSOR_EXPIRED, "BAD_USER_INPUT"})
BAD_CURSOR_MESSAGE = "`after` is not a change cursor: pass a `cursor` a change carried."
_PREFIX = "change:"
_DECODED = re.compile(r"change:([1-9][0-9]{0,18})")
ARGUMENT = "after"


def encode_cursor(change_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{change_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The change id a cursor names; None when it is not a cursor."""
    if not 0 < len(cursor) <= 40:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    match = _DECODED.fullmatch(text)
    return int(match.group(1)) if match is not None else None


async def resume_point(context: Context, cursor: str) -> int:
    """The change id to replay after; BAD_USER_INPUT for what is not a cursor,
    CURSOR_EXPIRED for one whose change is no longer kept or is not the viewer's."""
    change_id = decode_cursor(cursor)
    if change_id is None:
        raise ClientError(BAD_CURSOR_MESSAGE, code="BAD_USER_INPUT")
    if await context.db.scalar(kept_change(context.user_id, change_id)) is None:
        raise ClientError(CURSOR_EXPIRED_MESSAGE, code=CURSOR_EXPIRED)
    return change_id


def resumes(operation: OperationDefinitionNode, variables: dict[str, object]) -> bool:
    """Whether a subscription operation passes a non-null `after` to its root field."""
    for selection in operation.selection_set.selections:
        if not isinstance(selection, FieldNode):
            continue
        for argument in selection.arguments or ():
            if argument.name.value != ARGUMENT:
                continue
            value = argument.value
            if isinstance(value, VariableNode):
                if variables.get(value.name.value) is not None:
                    return True
            elif not isinstance(value, NullValueNode):
                return True
    return False
