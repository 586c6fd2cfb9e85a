"""`recordGeneration`: append one document generation to the audit log.

The audit log is append-only: this is its only mutation, and there is no update or delete.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from domain import audit as service
from domain.validation import Checks
from graph.context import Info
from graph.resolvers.mutations.base import in_transaction, mutation
from graph.types import audit as types
from models.audit import (
    DOCUMENT_TYPE_MAX,
    DOCUMENT_VERSION_MAX,
    ERROR_MESSAGE_MAX,
    JSON_MAX_BYTES,
    MODEL_USED_MAX,
)


def _not_negative(checks: Checks, field: str, value: int | None) -> int | None:
    if value is not None and value < 0:
        checks.fail(field, "must be zero or more")
    return value


def _error_message(checks: Checks, given: types.RecordGenerationInput) -> str | None:
    """Required (not blank) for an ERROR; optional context for a SUCCESS."""
    required = given.status is types.AuditStatus.ERROR
    text = checks.text(
        "errorMessage", given.error_message, max_len=ERROR_MESSAGE_MAX, required=required
    )
    return text or None


def _values(checks: Checks, given: types.RecordGenerationInput) -> dict[str, Any]:
    """Checked column values; every problem is collected into `checks`."""
    return {
        "document_type": checks.text(
            "documentType", given.document_type, max_len=DOCUMENT_TYPE_MAX
        ),
        "document_version": checks.text(
            "documentVersion", given.document_version, max_len=DOCUMENT_VERSION_MAX
        ),
        "input_data": checks.json_object(
            "inputData", given.input_data, max_bytes=JSON_MAX_BYTES
        ),
        "generated_text": checks.json_object(
            "generatedText", given.generated_text, max_bytes=JSON_MAX_BYTES
        ),
        "model_used": checks.text("modelUsed", given.model_used, max_len=MODEL_USED_MAX),
        "tokens_used": _not_negative(checks, "tokensUsed", given.tokens_used),
        "generation_time_ms": _not_negative(
            checks, "generationTimeMs", given.generation_time_ms
        ),
        "status": given.status.value,
        "error_message": _error_message(checks, given),
    }


@strawberry.type
class AuditMutations:
    @mutation(
        description="Append a document generation to the viewer's audit log (append-only)."
    )
    async def record_generation(
        self,
        info: Info,
        input: Annotated[
            types.RecordGenerationInput,
            strawberry.argument(description="The generation to record."),
        ],
    ) -> types.RecordGenerationPayload:
        async def work(session: AsyncSession, user_id: str) -> types.RecordGenerationSuccess:
            checks = Checks()
            values = _values(checks, input)
            checks.raise_if_any()
            log = await service.record_generation(session, user_id, **values)
            return types.RecordGenerationSuccess(audit_log=types.AuditLog.from_model(log))

        return await in_transaction(info, work)
