"""The differential suite's data beyond tasks: conversations and messages, panic events and
their exercises, audit logs; alice's with nulls, empty lists, unicode, equal timestamps
and more than a page, and a few of bob's that she must never see."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from graph.ids import encode_id
from models import AuditLog, Conversation, GroundingExercise, Message, PanicEvent
from tests.factories import tick

TEXTS = ["Ünïcødé ✓ été", "中文", "emoji 🎉🚀", "RTL \u202eabc", "quote \" and \\ back", "x"]
MESSAGES = 105  # more than a maximum page (100) in the first conversation


async def seed_lists(db: AsyncSession) -> dict[str, list[str]]:
    """Everyone's rows of the lists; the global ids, alice's first within each type."""
    conversations = [await _conversation(db, "alice", n) for n in range(4)]
    conversations.append(await _conversation(db, "bob", 1))
    events = [await _panic_event(db, "alice", n) for n in range(6)]
    events.append(await _panic_event(db, "bob", 1))
    logs = [_audit_log("alice", n) for n in range(12)] + [_audit_log("bob", n) for n in range(3)]
    db.add_all(logs)
    await db.commit()
    messages = (await db.execute(Message.__table__.select().order_by(Message.id))).all()
    exercises = (await db.execute(GroundingExercise.__table__.select())).all()
    return {
        "Conversation": [encode_id("Conversation", row.id) for row in conversations],
        "Message": [encode_id("Message", row.id) for row in messages],
        "PanicEvent": [encode_id("PanicEvent", row.id) for row in events],
        "GroundingExercise": [encode_id("GroundingExercise", row.id) for row in exercises],
        "AuditLog": [encode_id("AuditLog", row.id) for row in logs],
    }


async def _conversation(db: AsyncSession, user: str, n: int) -> Conversation:
    """Conversation 0 holds more than a page; 1 a few (two with one timestamp); 2 none."""
    stamp = tick()
    conversation = Conversation(user_id=user, title=None if n == 3 else f"{TEXTS[n]} {n}",
                                created_at=stamp, updated_at=stamp)
    db.add(conversation)
    await db.flush()
    count = {0: MESSAGES, 1: 5, 2: 0}.get(n, 2)
    for m in range(count):
        if m % 4 != 1:
            stamp = tick()
        db.add(Message(conversation_id=conversation.id, role="user" if m % 2 else "assistant",
                       content=f"{TEXTS[m % len(TEXTS)]} {m}", created_at=stamp))
    conversation.updated_at = stamp
    await db.flush()
    return conversation


async def _panic_event(db: AsyncSession, user: str, n: int) -> PanicEvent:
    stamp = tick()
    event = PanicEvent(
        user_id=user, note=None if n % 2 else TEXTS[n], intensity=None if n % 3 == 0 else n,
        ai_response=None if n == 4 else "Breathe with me.", created_at=stamp,
        resolved_at=stamp if n % 2 else None,
    )
    db.add(event)
    await db.flush()
    for position in range(1, n % 4 + 1):
        db.add(GroundingExercise(
            panic_event_id=event.id, kind="breathing", position=position, created_at=stamp,
            title=None if position == 2 else TEXTS[position], instructions=None,
            completed_at=stamp if position == 1 else None,
        ))
    await db.flush()
    return event


def _audit_log(user: str, n: int) -> AuditLog:
    fields: dict[str, Any] = {
        "input_data": {"patient": TEXTS[n % len(TEXTS)], "n": n},
        "generated_text": {} if n % 3 else {"title": TEXTS[n % 5], "list": [1, None]},
    }
    return AuditLog(
        user_id=user, document_type="plan" if n % 2 else "treatment_summary",
        status="error" if n % 4 == 3 else "success", source="server" if n % 3 else "client",
        error_message="timed out" if n % 4 == 3 else None,
        tokens_used=None if n % 5 == 0 else 10 * n, generation_time_ms=None if n % 4 else n,
        created_at=tick(), **fields,
    )
