"""SQLAlchemy models and the database engine. Never imports `graph`."""

from models.ai_log import AiLog
from models.audit import AuditLog
from models.base import Base
from models.chat import Conversation, Message
from models.outbox import ChangeOutbox
from models.panic import GroundingExercise, PanicEvent
from models.task import Task, TaskEvent, TaskStep
from models.visit import Visit

__all__ = [
    "AiLog",
    "AuditLog",
    "Base",
    "ChangeOutbox",
    "Conversation",
    "GroundingExercise",
    "Message",
    "PanicEvent",
    "Task",
    "TaskEvent",
    "TaskStep",
    "Visit",
]
