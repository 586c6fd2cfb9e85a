"""Visits: the `sessions` table (seed 000). Named Visit so it never reads as an ORM Session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, created_at_column, utcnow

# Visits are written from request headers: every text is cut to its maximum.
USER_AGENT_MAX = 512
CLIENT_IP_MAX = 64  # an IPv6 address with a zone fits


class Visit(Base):
    __tablename__ = "sessions"

    session_id: Mapped[str] = mapped_column(Text, primary_key=True)
    user_id: Mapped[str | None] = mapped_column(Text, index=True)
    user_agent: Mapped[str | None] = mapped_column(Text)
    client_ip: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    # Indexed: pruning deletes the visits unseen the longest first, a bounded batch a run.
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # Not in domain.md: `claimSession` records who took the visitor's data over, so a visit is
    # claimed once. `user_id` cannot tell, as it is also set by merely signing in on the visit.
    claimed_by: Mapped[str | None] = mapped_column(Text)
    claimed_at: Mapped[datetime | None]
