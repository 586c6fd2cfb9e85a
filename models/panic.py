"""Panic button presses and the grounding exercises offered for each (seed 000)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import NEVER_REUSE_IDS, Base, created_at_column

NOTE_MAX = 2_000
# Exercises one panic event offers: a short list to follow in a hard moment.
EXERCISES_MAX = 8

_UNRESOLVED = text("resolved_at IS NULL")


class PanicEvent(Base):
    __tablename__ = "panic_events"
    __table_args__ = (
        CheckConstraint("intensity IS NULL OR intensity BETWEEN 0 AND 10", name="intensity"),
        # Both orders of `panicEvents` on the owner's rows, the id last (the tie-break), and
        # the unresolved ones newest first (a small index: most events get resolved).
        Index("ix_panic_events_user_id_created_at_id", "user_id", "created_at", "id"),
        Index("ix_panic_events_user_id_intensity_id", "user_id", "intensity", "id"),
        Index(
            "ix_panic_events_unresolved_user_id_created_at_id",
            "user_id", "created_at", "id",
            sqlite_where=_UNRESOLVED, postgresql_where=_UNRESOLVED,
        ),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str] = mapped_column(Text, index=True)
    session_id: Mapped[str | None] = mapped_column(
        Text, ForeignKey("sessions.session_id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(Text)
    intensity: Mapped[int | None] = mapped_column(Integer)
    ai_response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column(index=True)
    resolved_at: Mapped[datetime | None]

    exercises: Mapped[list[GroundingExercise]] = relationship(
        back_populates="panic_event", lazy="raise", passive_deletes=True
    )


class GroundingExercise(Base):
    __tablename__ = "grounding_exercises"
    __table_args__ = (UniqueConstraint("panic_event_id", "position"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    panic_event_id: Mapped[int] = mapped_column(
        ForeignKey("panic_events.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str | None] = mapped_column(String(200))
    instructions: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = created_at_column()

    panic_event: Mapped[PanicEvent] = relationship(back_populates="exercises", lazy="raise")
