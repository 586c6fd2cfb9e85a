"""Tasks, their ordered steps and their append-only event history (seeds 000, 002, 003)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import NEVER_REUSE_IDS, Base, check_in, created_at_column, updated_at_column
from models.folding import folded_column, keep_folded

TASK_STATUSES = ("pending", "in_progress", "completed", "failed", "cancelled")
OPEN_STATUSES = ("pending", "in_progress")
TASK_EVENT_TYPES = (
    "created",
    "updated",
    "status_changed",
    "step_added",
    "step_updated",
    "step_removed",
    "steps_reordered",
)
TITLE_MAX = 200
DESCRIPTION_MAX = 10_000
KIND_MAX = 50
STEP_CONTENT_MAX = 2_000
# Steps one task may have: a checklist, not a table (40,000 in one request held a writer for
# 21 s). It is also what the cost limit counts a task's `steps` as: a full page of 100 tasks
# with all their steps costs ~41,000, within the default MAX_COST.
STEPS_MAX = 100
METADATA_MAX_BYTES = 16 * 1024

_open_tasks = text(check_in("status", OPEN_STATUSES))


class Task(Base):
    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint(check_in("status", TASK_STATUSES), name="status"),
        Index("ix_tasks_user_id_created_at", "user_id", "created_at"),
        Index("ix_tasks_user_id_status", "user_id", "status"),
        # Every order of `tasks` (TITLE by its folded key), on the owner's rows; the id
        # last, so PostgreSQL serves the tie-break from the index too (SQLite's rowid is it).
        Index("ix_tasks_user_id_updated_at_id", "user_id", "updated_at", "id"),
        Index("ix_tasks_user_id_title_folded_id", "user_id", "title_folded", "id"),
        Index(
            "ix_tasks_open_user_id_updated_at",
            "user_id",
            "updated_at",
            sqlite_where=_open_tasks,
            postgresql_where=_open_tasks,
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(Text)
    session_id: Mapped[str | None] = mapped_column(
        Text, ForeignKey("sessions.session_id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(String(TITLE_MAX), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    # models/folding.py: what TITLE ordering and `search` compare, the same on both databases.
    title_folded: Mapped[str] = folded_column("title", key=True)
    description_folded: Mapped[str | None] = folded_column("description", nullable=True)
    original_input: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(KIND_MAX), default="todo", server_default="todo")
    status: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    metadata_: Mapped[dict[str, Any] | None] = mapped_column("metadata")
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()
    completed_at: Mapped[datetime | None]

    steps: Mapped[list[TaskStep]] = relationship(
        back_populates="task", lazy="raise", passive_deletes=True, order_by="TaskStep.step_number"
    )
    events: Mapped[list[TaskEvent]] = relationship(
        back_populates="task", lazy="raise", passive_deletes=True
    )


keep_folded(Task.title, "title_folded", key=True)
keep_folded(Task.description, "description_folded")


class TaskStep(Base):
    __tablename__ = "task_steps"
    __table_args__ = (
        CheckConstraint("step_number >= 1", name="step_number_positive"),
        UniqueConstraint("task_id", "step_number"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    step_number: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    completed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = updated_at_column()

    task: Mapped[Task] = relationship(back_populates="steps", lazy="raise")


class TaskStepRow(Protocol):
    """A step's columns, read-only: a `TaskStep` or a plain result row of its table's columns
    (what a hot list loads, without the cost of building ORM objects)."""

    @property
    def id(self) -> int: ...
    @property
    def task_id(self) -> int: ...
    @property
    def step_number(self) -> int: ...
    @property
    def content(self) -> str: ...
    @property
    def completed(self) -> bool: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...


class TaskEvent(Base):
    __tablename__ = "task_events"
    __table_args__ = (
        CheckConstraint(check_in("event_type", TASK_EVENT_TYPES), name="event_type"),
        CheckConstraint(
            f"from_status IS NULL OR {check_in('from_status', TASK_STATUSES)}", name="from_status"
        ),
        CheckConstraint(
            f"to_status IS NULL OR {check_in('to_status', TASK_STATUSES)}", name="to_status"
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    payload: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = created_at_column(index=True)

    task: Mapped[Task] = relationship(back_populates="events", lazy="raise")
