"""Folded text (models/folding.py): one fold for every script, kept in step with its text by
every write path."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Conversation, Message, Task
from models.folding import KEY_MAX_BYTES, folded, folded_key
from tests.factories import make_conversation, make_task

# U+1D160 (a musical note) decomposes to three 4-byte code points: 12 bytes folded.
WIDEST = "\U0001d160"


def test_case_and_composition_fold_alike() -> None:
    assert folded("ÉTÉ") == folded("Été") == folded("été") == folded("E\u0301te\u0301")


def test_sharp_s_folds_as_its_capital_spelling() -> None:
    assert folded("Straße") == folded("STRASSE") == "strasse"


def test_an_accented_letter_sorts_just_after_its_base_letter() -> None:
    titles = ["Zebra", "f", "été", "ete", "Alpha", "etz"]
    assert sorted(titles, key=folded) == ["Alpha", "ete", "etz", "été", "f", "Zebra"]


def test_a_key_is_its_whole_fold_when_it_fits() -> None:
    assert folded_key("Été " * 50) == folded("Été " * 50)


def test_a_key_past_its_byte_maximum_is_cut_on_a_character_boundary() -> None:
    key = folded_key(WIDEST * 200)
    assert key is not None
    assert len(key.encode("utf-8")) == KEY_MAX_BYTES
    assert folded(WIDEST * 200).startswith(key)


def test_a_missing_text_has_no_key() -> None:
    assert folded_key(None) is None


def test_a_new_task_carries_its_folded_title_and_description() -> None:
    task = Task(user_id="alice", title="ÉTÉ Plans", description="Un ÉTÉ chaud")
    assert (task.title_folded, task.description_folded) == (folded("été plans"),
                                                             folded("un été chaud"))


async def test_renaming_a_task_refolds_its_title(db: AsyncSession) -> None:
    task = await make_task(db, title="Alpha")
    task.title = "ÉTÉ"
    await db.commit()
    stored = await db.scalar(select(Task.title_folded).where(Task.id == task.id))
    assert stored == folded("été")


async def test_clearing_a_description_clears_its_fold(db: AsyncSession) -> None:
    task = await make_task(db, description="Something")
    task.description = None
    await db.commit()
    assert await db.scalar(select(Task.description_folded).where(Task.id == task.id)) is None


async def test_titling_a_conversation_folds_its_title(db: AsyncSession) -> None:
    conversation = await make_conversation(db, title=None)
    assert conversation.title_folded is None
    conversation.title = "Été"
    await db.commit()
    stored = await db.scalar(
        select(Conversation.title_folded).where(Conversation.id == conversation.id)
    )
    assert stored == folded("été")


async def test_a_message_carries_its_folded_content(db: AsyncSession) -> None:
    conversation = await make_conversation(db, messages=[("user", "Ça va, STRASSE?")])
    stored = await db.scalar(
        select(Message.content_folded).where(Message.conversation_id == conversation.id)
    )
    assert stored == folded("ça va, strasse?")


async def test_a_bulk_insert_without_objects_folds_every_row(db: AsyncSession) -> None:
    # The seeder's way: one multi-row INSERT of plain values, no ORM object, no event.
    rows: list[dict[str, Any]] = [
        {"user_id": "alice", "title": title, "description": description}
        for title, description in (("ÉTÉ", "Un ÉTÉ"), ("Zebra", None))
    ]
    connection = await db.connection()
    await connection.execute(insert(Task), rows)
    stored = (await db.execute(
        select(Task.title, Task.title_folded, Task.description_folded).order_by(Task.id)
    )).all()
    assert [tuple(row) for row in stored] == [
        ("ÉTÉ", folded("été"), folded("un été")), ("Zebra", "zebra", None),
    ]
