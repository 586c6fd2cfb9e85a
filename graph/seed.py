"""`clarity-graph seed`: realistic demo data in bulk, with a progress bar.

Rows go in as multi-row INSERTs in batches (SQLAlchemy's insertmanyvalues, RETURNING the ids
the children need), a few thousand per statement, so 10,000 tasks take seconds.
"""

from __future__ import annotations

import random
import sys
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TextIO

from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncConnection

import models
from models.base import utcnow
from models.task import STEPS_MAX

BATCH = 2_000
VERBS = ["Write", "Review", "Plan", "Call", "Book", "Fix", "Tidy", "Draft", "Send", "Read"]
THINGS = ["the report", "mum", "the dentist", "the garden", "the budget", "slides",
          "the kitchen", "a thank-you note", "the lease", "tax forms", "the bike", "notes"]
STEPS = ["Gather what is needed", "Block thirty minutes", "Do the first small part",
         "Check it over", "Finish and tick it off", "Tell whoever is waiting"]
STATUSES = ["pending"] * 5 + ["in_progress"] * 2 + ["completed"] * 3 + ["failed", "cancelled"]
DOCUMENTS = ["invoice", "memo", "contract", "summary", "letter"]


class SeedRefused(RuntimeError):
    pass


async def refuse_row_security(connection: AsyncConnection) -> None:
    """The seeder writes every demo user's rows in bulk, acting for no one: it runs as the
    tables' owner, whom PostgreSQL's row-level security does not apply to. As the
    application role every row would be refused; say so before trying."""
    if connection.dialect.name != "postgresql":
        return
    if await connection.scalar(text("SELECT row_security_active('tasks')")):
        raise SeedRefused(
            "row-level security applies to this role: seed as the tables' owner "
            "(DATABASE_URL of the role that runs `clarity-graph migrate`)"
        )


@dataclass(frozen=True)
class SeedPlan:
    users: int
    tasks_per_user: int
    steps_per_task: int = 3
    events_per_task: int = 2
    conversations_per_user: int = 2
    messages_per_conversation: int = 6
    audit_logs_per_user: int = 10
    random_seed: int = 7

    def __post_init__(self) -> None:
        if not 0 <= self.steps_per_task <= STEPS_MAX:
            raise ValueError(f"--steps-per-task must be 0 to {STEPS_MAX}, a task's most steps")


class Progress:
    """A one-line text progress bar on stderr (plain lines when not a terminal)."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total, self.done = max(total, 1), 0
        self.stream = stream if stream is not None else sys.stderr
        self.started = time.perf_counter()

    def advance(self, count: int, label: str) -> None:
        self.done += count
        share = min(self.done / self.total, 1.0)
        bar = "#" * int(share * 30)
        rate = self.done / max(time.perf_counter() - self.started, 1e-9)
        line = f"[{bar:<30}] {share:6.1%} {label:<14} {self.done}/{self.total} rows ({rate:,.0f}/s)"
        end = "\r" if self.stream.isatty() else "\n"
        self.stream.write(line + end)
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n" if self.stream.isatty() else "")
        self.stream.flush()


def total_rows(plan: SeedPlan) -> int:
    tasks = plan.users * plan.tasks_per_user
    conversations = plan.users * plan.conversations_per_user
    return (
        tasks * (1 + plan.steps_per_task + plan.events_per_task)
        + conversations * (1 + plan.messages_per_conversation)
        + plan.users * plan.audit_logs_per_user
    )


def _batches(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), BATCH):
        yield rows[start : start + BATCH]


async def _insert(
    connection: AsyncConnection, model: Any, rows: list[dict[str, Any]], progress: Progress,
    *, returning: bool = False,
) -> list[Any]:
    ids: list[Any] = []
    for batch in _batches(rows):
        statement = insert(model)
        if returning:
            statement = statement.returning(model.id, sort_by_parameter_order=True)
            ids += list((await connection.execute(statement, list(batch))).scalars())
        else:
            await connection.execute(statement, list(batch))
        progress.advance(len(batch), model.__tablename__)
    return ids


async def seed(connection: AsyncConnection, plan: SeedPlan, progress: Progress) -> dict[str, int]:
    rng = random.Random(plan.random_seed)
    users = [f"demo-{n + 1}" for n in range(plan.users)]
    counts = await _seed_tasks(connection, plan, users, rng, progress)
    counts.update(await _seed_chat(connection, plan, users, rng, progress))
    counts["audit_logs"] = await _seed_audit(connection, plan, users, rng, progress)
    progress.close()
    return counts


async def _seed_tasks(
    connection: AsyncConnection, plan: SeedPlan, users: list[str], rng: random.Random,
    progress: Progress,
) -> dict[str, int]:
    now = utcnow()
    tasks: list[dict[str, Any]] = []
    for user in users:
        for _ in range(plan.tasks_per_user):
            created = now - timedelta(minutes=rng.randint(0, 90 * 24 * 60))
            status = rng.choice(STATUSES)
            tasks.append({
                "user_id": user, "title": f"{rng.choice(VERBS)} {rng.choice(THINGS)}",
                "kind": rng.choice(["todo", "errand", "work"]), "status": status,
                "created_at": created, "updated_at": created,
                "completed_at": created + timedelta(hours=2) if status == "completed" else None,
            })
    ids = await _insert(connection, models.Task, tasks, progress, returning=True)
    steps = [
        {"task_id": task_id, "step_number": n, "content": STEPS[(n - 1) % len(STEPS)],
         "completed": rng.random() < 0.4}
        for task_id in ids for n in range(1, plan.steps_per_task + 1)
    ]
    await _insert(connection, models.TaskStep, steps, progress)
    events = [
        {"task_id": task_id, "event_type": "created" if n == 0 else "updated",
         "created_at": task["created_at"] + timedelta(minutes=n), "payload": {"seeded": True}}
        for task_id, task in zip(ids, tasks, strict=True) for n in range(plan.events_per_task)
    ]
    await _insert(connection, models.TaskEvent, events, progress)
    return {"tasks": len(tasks), "task_steps": len(steps), "task_events": len(events)}


async def _seed_chat(
    connection: AsyncConnection, plan: SeedPlan, users: list[str], rng: random.Random,
    progress: Progress,
) -> dict[str, int]:
    now = utcnow()
    conversations, messages = [], []
    for user in users:
        for n in range(plan.conversations_per_user):
            started = now - timedelta(hours=rng.randint(1, 24 * 30))
            conversation_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            # updated_at is the last message's time (domain.chat), the start's without any.
            last = started + timedelta(seconds=max(plan.messages_per_conversation - 1, 0))
            conversations.append({"id": conversation_id, "user_id": user,
                                  "title": f"Chat {n + 1}", "created_at": started,
                                  "updated_at": last})
            for m in range(plan.messages_per_conversation):
                role = "user" if m % 2 == 0 else "assistant"
                text = "list my tasks" if role == "user" else "Here is what you have open."
                messages.append({"conversation_id": conversation_id, "role": role,
                                 "content": text, "created_at": started + timedelta(seconds=m)})
    await _insert(connection, models.Conversation, conversations, progress)
    await _insert(connection, models.Message, messages, progress)
    return {"conversations": len(conversations), "messages": len(messages)}


async def _seed_audit(
    connection: AsyncConnection, plan: SeedPlan, users: list[str], rng: random.Random,
    progress: Progress,
) -> int:
    now = utcnow()
    rows = []
    for user in users:
        for _ in range(plan.audit_logs_per_user):
            failed = rng.random() < 0.1
            rows.append({
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "user_id": user,
                "document_type": rng.choice(DOCUMENTS), "input_data": {"seeded": True},
                "generated_text": {"text": "..."}, "tokens_used": rng.randint(50, 4000),
                "generation_time_ms": rng.randint(200, 9000),
                "status": "error" if failed else "success",
                "error_message": "model timed out" if failed else None,
                "created_at": now - timedelta(minutes=rng.randint(0, 30 * 24 * 60)),
            })
    await _insert(connection, models.AuditLog, rows, progress)
    return len(rows)
