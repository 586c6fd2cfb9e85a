"""The server's own AI generations and their records: one ai_logs row per provider call and
one audit entry per generation the user asked for (seed 004's `log_generation`), written
for failures too, in a transaction of their own so that they outlive a failed mutation."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from domain import audit
from domain.assistant import Assistant, Call, UnusableAnswer, ai_log_row, timed
from domain.assistant.breakdown import Breakdown
from domain.transactions import Transactions
from models.ai_log import AiLog

T = TypeVar("T")
logger = logging.getLogger(__name__)
# What a user reads of any failed generation, with its error id: never an exception's
# name or a provider's words.
FAILED = "The assistant could not complete this request"
# The purposes of ai_logs rows (domain.md), used as the audit entries' document types too.
BREAKDOWN = "task_breakdown"
CHAT_REPLY = "chat_reply"
PANIC_RESPONSE = "panic_response"
BREAKDOWN_ATTEMPTS = 2  # a reply without usable steps is asked once more
# The mapped table as Core sees it (Table() hands back the one in the metadata): an ORM insert
# would RETURN the new ids, and the server may not read ai_logs.
AI_LOGS = Table(AiLog.__tablename__, AiLog.metadata)


@dataclass
class Generation:
    """One generation: what was asked, what came out, and the provider calls it took."""

    document_type: str
    input_data: dict[str, Any]
    output: dict[str, Any] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    # Why it failed, for the server's log only (each call's own error is in its ai_logs
    # row); users see `public_error`, which names the failure by `error_id` alone.
    error: str | None = None
    error_id: str | None = None

    def __post_init__(self) -> None:
        if self.error is not None and self.error_id is None:
            self.error_id = uuid.uuid4().hex

    def fail(self, reason: str) -> None:
        self.error = reason
        self.error_id = self.error_id or uuid.uuid4().hex

    def succeed(self) -> None:
        self.error = self.error_id = None

    @property
    def public_error(self) -> str | None:
        """What the audit entry (`auditLogs.errorMessage`) says of a failure."""
        if self.error is None:
            return None
        return f"{FAILED} (error {self.error_id})."

    @property
    def tokens(self) -> int | None:
        counted = [call.tokens for call in self.calls if call.tokens is not None]
        return sum(counted) if counted else None

    @property
    def generation_ms(self) -> int:
        return sum(call.latency_ms for call in self.calls)


async def record(
    session: AsyncSession, assistant: Assistant, generation: Generation, *,
    user_id: str, session_id: str | None,
) -> None:
    """Append the generation's ai_logs rows and its audit entry (source: server)."""
    if generation.error is not None:
        logger.warning("assistant %s failed: error %s: %s", generation.document_type,
                       generation.error_id, generation.error)
    rows = [
        ai_log_row(assistant, call, user_id=user_id, session_id=session_id)
        for call in generation.calls
    ]
    if rows:  # inline: no RETURNING of the new ids, which needs SELECT (ai_log_row says why)
        await session.execute(insert(AI_LOGS).inline(), rows)
    await audit.record_server_generation(
        session, user_id=user_id, document_type=generation.document_type,
        input_data=generation.input_data, generated=generation.output, model=assistant.model,
        tokens=generation.tokens, generation_ms=generation.generation_ms,
        error=generation.public_error,
    )


async def recorded(
    db: Transactions, assistant: Assistant, generation: Generation, *, user_id: str,
    session_id: str | None, work: Callable[[AsyncSession], Awaitable[T]],
) -> T:
    """Run `work` in one transaction with the generation's records. If it fails (the
    generation's failure included), the records are written alone and the failure raised:
    a generation that happened is always on record."""
    try:
        async with db.transaction() as session:
            await record(session, assistant, generation, user_id=user_id, session_id=session_id)
            return await work(session)
    except Exception:
        async with db.transaction() as session:
            await record(session, assistant, generation, user_id=user_id, session_id=session_id)
        raise


async def break_down(
    assistant: Assistant, text: str, *, seconds: float | None
) -> tuple[Breakdown | None, Generation]:
    """Ask for a breakdown, once more if the answer was unusable (no steps, not JSON); a
    failure to answer (a timeout, an HTTP error) is not asked again: it would only double
    the wait."""
    generation = Generation(BREAKDOWN, {"input": text})
    for _ in range(BREAKDOWN_ATTEMPTS):
        answer = await timed(BREAKDOWN, text, assistant.break_down(text), seconds=seconds)
        generation.calls.append(answer.call)
        if isinstance(answer.value, Breakdown) and answer.value.steps:
            generation.output = {"title": answer.value.title, "steps": answer.value.steps}
            generation.succeed()  # an earlier unusable answer stays in ai_logs only
            return answer.value, generation
        generation.fail(answer.call.error or "the answer had no steps")
        if answer.failure is not None and not isinstance(answer.failure, UnusableAnswer):
            break
    return None, generation


def turn_output(reply: str, done: Sequence[Any]) -> dict[str, Any]:
    """A chat turn's audit output: the reply and the tools it used, in order."""
    return {
        "reply": reply,
        "tools": [{"tool": item.tool, "ok": item.ok, "changed": item.changed} for item in done],
    }
