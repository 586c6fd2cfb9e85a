"""The append-only audit log of document generations (seed 004)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, check_in, created_at_column
from models.chat import new_uuid

AUDIT_STATUSES = ("success", "error")
# Who wrote the row: the server about its own generations (a recorded fact), or a client
# through `recordGeneration` (its claim). Rows from before the column existed are claims.
AUDIT_SOURCES = ("server", "client")
SERVER = "server"
CLIENT = "client"
DOCUMENT_TYPE_MAX = 100
DOCUMENT_VERSION_MAX = 20
MODEL_USED_MAX = 100
ERROR_MESSAGE_MAX = 10_000
# The serialized size (compact UTF-8 JSON) allowed for input_data and generated_text each.
JSON_MAX_BYTES = 64 * 1024


class AuditLog(Base):
    __tablename__ = "audit_logs"
    __table_args__ = (
        CheckConstraint(check_in("status", AUDIT_STATUSES), name="status"),
        CheckConstraint(check_in("source", AUDIT_SOURCES), name="source"),
        CheckConstraint("tokens_used IS NULL OR tokens_used >= 0", name="tokens_used"),
        CheckConstraint(
            "generation_time_ms IS NULL OR generation_time_ms >= 0", name="generation_time_ms"
        ),
        CheckConstraint(
            "status <> 'error' OR error_message IS NOT NULL", name="error_message_required"
        ),
        Index("ix_audit_logs_user_id_created_at", "user_id", "created_at"),
        # The other orders of `auditLogs`: on one user's rows, and on everyone's (an admin's
        # list), the id last (the tie-break).
        Index("ix_audit_logs_user_id_generation_time_ms_id", "user_id", "generation_time_ms", "id"),
        Index("ix_audit_logs_user_id_tokens_used_id", "user_id", "tokens_used", "id"),
        Index("ix_audit_logs_generation_time_ms_id", "generation_time_ms", "id"),
        Index("ix_audit_logs_tokens_used_id", "tokens_used", "id"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True, default=new_uuid)
    user_id: Mapped[str] = mapped_column(Text, index=True)
    document_type: Mapped[str] = mapped_column(String(100), index=True)
    document_version: Mapped[str] = mapped_column(
        String(20), default="1.0", server_default="1.0"
    )
    input_data: Mapped[dict[str, Any]]
    generated_text: Mapped[dict[str, Any]]
    model_used: Mapped[str] = mapped_column(String(100), default="gpt-4o", server_default="gpt-4o")
    tokens_used: Mapped[int | None] = mapped_column(Integer)
    generation_time_ms: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    error_message: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(10), default=CLIENT, server_default=CLIENT)
    created_at: Mapped[datetime] = created_at_column(index=True)
