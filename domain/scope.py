"""The one place where the viewer's scope is applied to queries, and where ownership is
declared.

`OWNERSHIP` says, once per model, who owns its rows: a column on the row itself (`user_id`),
or its parent's (a step belongs to its task's owner). Every statement that reads owned rows
starts from `owned` (whole rows) or `owned_columns` (chosen columns, counts), which add the
owner predicate, joining the parent where the owner lives there: a query cannot forget its
owner, and a loader is safe on its own even when its parent ids came from a scoped query.
`tests/domain/test_scope.py` runs every query field and mutation and fails on any SELECT of
an owned table without the viewer's predicate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, select

from domain.errors import Forbidden
from models import Conversation, GroundingExercise, Message, PanicEvent, Task, TaskEvent, TaskStep
from models.audit import AuditLog
from models.outbox import ChangeOutbox

if TYPE_CHECKING:
    from domain.viewers import Viewer


@dataclass(frozen=True)
class Ownership:
    owner: Any  # the column holding the owner's id
    parent: type | None = None  # the model that column is on, when not the row's own
    link: ColumnElement[bool] | None = None  # how the row joins that parent
    # Whether `claimSession` moves the visitor's rows of this model to the signed-in user.
    claimed: bool = False


OWNERSHIP: dict[type, Ownership] = {
    Task: Ownership(Task.user_id, claimed=True),
    Conversation: Ownership(Conversation.user_id, claimed=True),
    PanicEvent: Ownership(PanicEvent.user_id, claimed=True),
    AuditLog: Ownership(AuditLog.user_id, claimed=True),
    # Not claimed: a visitor's changes stay the visitor's, and expire with the retention (a
    # cursor is a stream's, and claimSession starts the claimer's streams afresh).
    ChangeOutbox: Ownership(ChangeOutbox.user_id),
    TaskStep: Ownership(Task.user_id, Task, TaskStep.task_id == Task.id),
    TaskEvent: Ownership(Task.user_id, Task, TaskEvent.task_id == Task.id),
    Message: Ownership(
        Conversation.user_id, Conversation, Message.conversation_id == Conversation.id
    ),
    GroundingExercise: Ownership(
        PanicEvent.user_id, PanicEvent, GroundingExercise.panic_event_id == PanicEvent.id
    ),
}
# Test-only: tests/graph/test_row_security.py sets this False (monkeypatch) to run the isolation
# probe with no owner predicate at all, proving that PostgreSQL's row-level security holds
# alone. It is no setting and nothing else assigns it (tests/domain/test_scope.py checks).
OWNER_PREDICATES = True
# The models owned directly, whose rows `claimSession` moves, in the order it moves them.
CLAIMED: tuple[type, ...] = tuple(model for model, owns in OWNERSHIP.items() if owns.claimed)


def restrict(statement: Select[Any], model: type, user_id: str) -> Select[Any]:
    """`statement` (reading `model`) limited to `user_id`'s rows."""
    owns = OWNERSHIP[model]
    if owns.parent is not None and owns.link is not None:
        statement = statement.join(owns.parent, owns.link)
    if not OWNER_PREDICATES:
        return statement
    return statement.where(owns.owner == user_id)


def owned(model: type, user_id: str) -> Select[Any]:
    """The viewer's rows of `model`."""
    return restrict(select(model), model, user_id)


def owned_columns(model: type, user_id: str, *columns: Any) -> Select[Any]:
    """Chosen columns (or aggregates) of the viewer's rows of `model`."""
    return restrict(select(*columns).select_from(model), model, user_id)


def audit_logs(viewer: Viewer, user_id: str | None = None) -> Select[Any]:
    """The audit logs a viewer may read. A non-admin: their own, whether or not they name
    themselves; naming anyone else is FORBIDDEN. An admin: everyone's, or the named user's
    (`all_audit_logs`). api.md: admins get cross-user audit analytics, nothing else of other
    users' (`node` stays owner-only)."""
    if viewer.is_admin:
        return all_audit_logs(viewer, user_id)
    if user_id is not None and user_id != viewer.user_id:
        # The message names no one: whether that user has logs is not the viewer's business.
        raise Forbidden("Only an admin may read another user's audit logs (`userId`).")
    return owned(AuditLog, viewer.user_id or "")


def all_audit_logs(viewer: Viewer, user_id: str | None = None) -> Select[Any]:
    """Admin analytics, the one read that crosses owners: every user's audit logs, or only
    `user_id`'s when given. FORBIDDEN for anyone else, even about themselves (`byUser`)."""
    if not viewer.is_admin:
        raise Forbidden("Only an admin may see audit figures across users (`byUser`).")
    if user_id is None:
        return select(AuditLog)
    return owned(AuditLog, user_id)
