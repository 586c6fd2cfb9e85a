"""record_server_generation: the server's own generations (a breakdown, a chat turn, panic
support) are appended with source 'server', success and error alike, and never refused: what
does not fit its column is made to fit."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain.audit import NO_MESSAGE, json_size, record_server_generation
from graph.ids import encode_id
from models import AuditLog
from models.audit import JSON_MAX_BYTES
from tests.conftest import GraphQL

SERVER_LOGS = """{ auditLogs(filter: {source: SERVER}) { nodes { id source status } } }"""


async def server_entry(db: AsyncSession, **given: Any) -> AuditLog:
    """A server entry recorded and committed, then read back from the database."""
    values: dict[str, Any] = {
        "user_id": "alice", "document_type": "breakdown", "input_data": {"text": "plan"},
        "generated": {"title": "Plan"}, "model": "gpt-4o-mini", "tokens": 12,
        "generation_ms": 340, "error": None,
    }
    values.update(given)
    log = await record_server_generation(db, **values)
    await db.commit()
    db.expunge_all()
    stored = await db.get(AuditLog, log.id)
    assert stored is not None
    return stored


def fields_of(log: AuditLog) -> dict[str, Any]:
    return {
        "user_id": log.user_id, "source": log.source, "status": log.status,
        "document_type": log.document_type, "document_version": log.document_version,
        "input_data": log.input_data, "generated_text": log.generated_text,
        "model_used": log.model_used, "tokens_used": log.tokens_used,
        "generation_time_ms": log.generation_time_ms, "error_message": log.error_message,
    }


async def test_a_server_success_is_stored_with_every_field(db: AsyncSession) -> None:
    log = await server_entry(
        db, user_id="alice", document_type="breakdown",
        input_data={"text": "Plan my week", "limit": 5},
        generated={"title": "Week", "steps": ["Mon", "Tue"]},
        model="gpt-4o-mini", tokens=321, generation_ms=1234, error=None,
    )

    assert fields_of(log) == {
        "user_id": "alice", "source": "server", "status": "success",
        "document_type": "breakdown", "document_version": "1.0",
        "input_data": {"text": "Plan my week", "limit": 5},
        "generated_text": {"title": "Week", "steps": ["Mon", "Tue"]},
        "model_used": "gpt-4o-mini", "tokens_used": 321, "generation_time_ms": 1234,
        "error_message": None,
    }


async def test_a_server_failure_is_stored_as_an_error_with_its_message(
    db: AsyncSession,
) -> None:
    log = await server_entry(
        db, user_id="bob", document_type="chat_turn", input_data={"message": "hi"},
        generated={}, model="gpt-4o", tokens=None, generation_ms=20000,
        error="The assistant timed out.",
    )

    assert fields_of(log) == {
        "user_id": "bob", "source": "server", "status": "error",
        "document_type": "chat_turn", "document_version": "1.0",
        "input_data": {"message": "hi"}, "generated_text": {},
        "model_used": "gpt-4o", "tokens_used": None, "generation_time_ms": 20000,
        "error_message": "The assistant timed out.",
    }


async def test_a_server_failure_with_a_blank_message_still_says_it_failed(
    db: AsyncSession,
) -> None:
    log = await server_entry(db, error="  ")

    assert (log.status, log.error_message) == ("error", NO_MESSAGE)


async def test_server_texts_are_cut_to_their_columns(db: AsyncSession) -> None:
    log = await server_entry(db, document_type="d" * 150, model="m" * 150, error="e" * 10_050)

    assert (log.document_type, log.model_used) == ("d" * 100, "m" * 100)
    assert log.error_message == "e" * 10_000


async def test_server_texts_lose_nul_and_lone_surrogates(db: AsyncSession) -> None:
    log = await server_entry(
        db, document_type="break\x00down", model="gpt\ud800-4o",
        input_data={"k\x00ey": "a\udfffb", "pair": "\ud83d\ude00"}, error="bad\x00 reply",
    )

    assert (log.document_type, log.model_used, log.error_message) == (
        "breakdown", "gpt-4o", "bad reply",
    )
    # A surrogate pair is one character, kept; a lone surrogate is dropped.
    assert log.input_data == {"key": "ab", "pair": "\U0001f600"}


async def test_blank_server_names_are_stored_as_unknown(db: AsyncSession) -> None:
    log = await server_entry(db, document_type=" \x00 ", model="")

    assert (log.document_type, log.model_used) == ("unknown", "unknown")


async def test_server_json_over_the_limit_has_its_longest_texts_cut(db: AsyncSession) -> None:
    long_text = "x" * (JSON_MAX_BYTES + 500)

    log = await server_entry(db, generated={"title": "Plan", "body": long_text, "n": [1, 2]})

    kept = log.generated_text["body"].removesuffix("\u2026")
    assert (log.generated_text["title"], log.generated_text["n"]) == ("Plan", [1, 2])
    assert log.generated_text["body"] == kept + "\u2026" and long_text.startswith(kept)
    assert json_size(log.generated_text) <= JSON_MAX_BYTES
    # The longest cut that fits: one character more would pass the limit.
    longer = {**log.generated_text, "body": kept + "x\u2026"}
    assert json_size(longer) > JSON_MAX_BYTES


async def test_server_json_too_large_even_without_texts_is_replaced(db: AsyncSession) -> None:
    numbers = list(range(20_000))  # ~110 KB of numbers, no text to cut

    log = await server_entry(db, input_data={"numbers": numbers})

    assert log.input_data == {
        "truncated": f"{json_size({'numbers': numbers})} bytes of JSON, over the "
        f"{JSON_MAX_BYTES}-byte limit",
    }


async def test_server_json_values_that_are_not_json_are_made_plain(db: AsyncSession) -> None:
    log = await server_entry(
        db, input_data={"nan": math.nan, "inf": math.inf, "pair": (1, 2), 3: "three"},
    )

    assert log.input_data == {"nan": None, "inf": None, "pair": [1, 2], "3": "three"}


async def test_server_counts_below_zero_are_unknown_and_huge_ones_capped(
    db: AsyncSession,
) -> None:
    log = await server_entry(db, tokens=-1, generation_ms=2**40)

    assert (log.tokens_used, log.generation_time_ms) == (None, 2**31 - 1)


async def test_a_server_entry_is_listed_as_server_for_its_owner(
    gql: GraphQL, db: AsyncSession
) -> None:
    log = await server_entry(db, user_id="alice")

    data = await gql.data(SERVER_LOGS)

    assert data["auditLogs"]["nodes"] == [
        {"id": encode_id("AuditLog", log.id), "source": "SERVER", "status": "SUCCESS"},
    ]
