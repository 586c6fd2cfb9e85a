"""Every call to the assistant provider (seed 000). Internal: never exposed by the API and
never written to the server log (`response` keeps the raw answer, also one that failed to
parse)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import NEVER_REUSE_IDS, Base, created_at_column


class AiLog(Base):
    __tablename__ = "ai_logs"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[str | None] = mapped_column(Text)
    session_id: Mapped[str | None] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(50))
    provider: Mapped[str] = mapped_column(String(50))
    model: Mapped[str] = mapped_column(String(100))
    prompt: Mapped[str] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    tokens: Mapped[int | None] = mapped_column(Integer)
    # The provider's id for the call (OpenAI's x-request-id), to find it in their logs.
    request_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column(index=True)
