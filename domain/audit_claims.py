"""A client's claim of a document generation (`recordGeneration`), as a use case: checked,
every problem at once, then appended to the viewer's audit log (`domain.audit`).

Unlike the server's own generations (`audit.record_server_generation`, clipped and never
refused), a claim that breaks a rule is refused: the client can send it again, right.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain import audit
from domain.transactions import Session
from domain.validation import Checks
from models.audit import (
    DOCUMENT_TYPE_MAX,
    DOCUMENT_VERSION_MAX,
    ERROR_MESSAGE_MAX,
    JSON_MAX_BYTES,
    MODEL_USED_MAX,
    AuditLog,
)

ERROR = "error"  # the status whose error message is required


@dataclass(frozen=True)
class Claim:
    """A generation as the client tells it, unchecked."""

    document_type: str
    document_version: str
    input_data: Any
    generated_text: Any
    model_used: str
    tokens_used: int | None
    generation_time_ms: int | None
    status: str  # 'success' or 'error'
    error_message: str | None


async def record_claim(session: Session, user_id: str, claim: Claim) -> AuditLog:
    """The claim appended to the viewer's audit log, or Invalid naming every problem."""
    checks = Checks()
    values = _values(checks, claim)
    checks.raise_if_any()
    return await audit.record_generation(session, user_id, **values)


def _not_negative(checks: Checks, field: str, value: int | None) -> int | None:
    if value is not None and value < 0:
        checks.fail(field, "must be zero or more")
    return value


def _error_message(checks: Checks, claim: Claim) -> str | None:
    """Required (not blank) for an error; optional context for a success."""
    text = checks.text("errorMessage", claim.error_message, max_len=ERROR_MESSAGE_MAX,
                       required=claim.status == ERROR)
    return text or None


def _values(checks: Checks, claim: Claim) -> dict[str, Any]:
    """Checked column values, in the order the problems are reported."""
    return {
        "document_type": checks.text(
            "documentType", claim.document_type, max_len=DOCUMENT_TYPE_MAX
        ),
        "document_version": checks.text(
            "documentVersion", claim.document_version, max_len=DOCUMENT_VERSION_MAX
        ),
        "input_data": checks.json_object(
            "inputData", claim.input_data, max_bytes=JSON_MAX_BYTES
        ),
        "generated_text": checks.json_object(
            "generatedText", claim.generated_text, max_bytes=JSON_MAX_BYTES
        ),
        "model_used": checks.text("modelUsed", claim.model_used, max_len=MODEL_USED_MAX),
        "tokens_used": _not_negative(checks, "tokensUsed", claim.tokens_used),
        "generation_time_ms": _not_negative(
            checks, "generationTimeMs", claim.generation_time_ms
        ),
        "status": claim.status,
        "error_message": _error_message(checks, claim),
    }
