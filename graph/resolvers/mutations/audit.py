"""`recordGeneration`: append one document generation to the audit log
(`domain.audit_claims`, in one transaction).

The audit log is append-only: this is its only mutation, and there is no update or delete.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.audit_claims import Claim, record_claim
from domain.transactions import Session
from graph.context import Info
from graph.resolvers.mutations.base import in_transaction, mutation
from graph.types import audit as types


def _claim(given: types.RecordGenerationInput) -> Claim:
    return Claim(
        document_type=given.document_type, document_version=given.document_version,
        input_data=given.input_data, generated_text=given.generated_text,
        model_used=given.model_used, tokens_used=given.tokens_used,
        generation_time_ms=given.generation_time_ms, status=given.status.value,
        error_message=given.error_message,
    )


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
        async def work(session: Session, user_id: str) -> types.RecordGenerationSuccess:
            log = await record_claim(session, user_id, _claim(input))
            return types.RecordGenerationSuccess(audit_log=types.AuditLog.from_model(log))

        return await in_transaction(info, work)
