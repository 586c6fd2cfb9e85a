"""The one place where the viewer's scope is applied to queries.

Every statement that reads or writes user data starts here, so a query cannot forget its
owner. Children (steps, events, messages, exercises) are scoped through their parent's owner
even when the parent ids came from an already scoped query: a loader must be safe on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select

from domain.errors import Forbidden
from models import Conversation, GroundingExercise, Message, PanicEvent, Task, TaskEvent, TaskStep
from models.audit import AuditLog

if TYPE_CHECKING:
    from domain.viewers import Viewer

Owned = type[Task] | type[Conversation] | type[PanicEvent] | type[AuditLog]


def owned(model: Owned, user_id: str) -> Select[Any]:
    return select(model).where(model.user_id == user_id)


def owned_ids(model: Owned, user_id: str) -> Select[Any]:
    return select(model.id).where(model.user_id == user_id)


def audit_logs(viewer: Viewer, user_id: str | None = None) -> Select[Any]:
    """The audit logs a viewer may read: their own by default; one named user's only for an
    admin (api.md: admins get cross-user audit analytics, nothing else of other users')."""
    if user_id is None:
        return owned(AuditLog, viewer.user_id or "")
    if not viewer.is_admin:
        raise Forbidden("Only an admin may read another user's audit logs (`userId`).")
    return owned(AuditLog, user_id)


def all_audit_logs(viewer: Viewer) -> Select[Any]:
    """Every user's audit logs: admin analytics only."""
    if not viewer.is_admin:
        raise Forbidden("Only an admin may see audit figures across users (`byUser`).")
    return select(AuditLog)


def task_steps(user_id: str) -> Select[Any]:
    return select(TaskStep).join(Task, Task.id == TaskStep.task_id).where(Task.user_id == user_id)


def task_events(user_id: str) -> Select[Any]:
    return (
        select(TaskEvent).join(Task, Task.id == TaskEvent.task_id).where(Task.user_id == user_id)
    )


def messages(user_id: str) -> Select[Any]:
    return (
        select(Message)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(Conversation.user_id == user_id)
    )


def exercises(user_id: str) -> Select[Any]:
    return (
        select(GroundingExercise)
        .join(PanicEvent, PanicEvent.id == GroundingExercise.panic_event_id)
        .where(PanicEvent.user_id == user_id)
    )
