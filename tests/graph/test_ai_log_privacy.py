"""ai_logs never leave the database: with the server's logging at DEBUG (the SQL echo
included), no prompt, answer or message reaches the log, while the rows keep all of it."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from graph.ids import encode_id
from graph.observability import configure_logging
from models import AiLog, Conversation
from tests.conftest import GqlWith
from tests.factories import tick
from tests.fake_openai import FakeOpenAI, calls, fake_openai, says, tool_call

SECRET_WORDS = "zanzibar-ledger-7781"
SECRET_ANSWER = "quokka-harbour-4410"


class Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def debug_log() -> Iterator[Everything]:
    """The server's own logging set-up at DEBUG, every record of every logger captured."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    configure_logging("DEBUG", "json")
    handler = Everything()
    root.addHandler(handler)
    yield handler
    root.handlers[:], level = saved
    root.setLevel(level)
    for name in ("sqlalchemy.engine", "aiosqlite"):
        logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.fixture
def model() -> Iterator[FakeOpenAI]:
    with fake_openai() as fake:
        yield fake


async def test_no_prompt_or_answer_is_logged_at_debug(
    debug_log: Everything, gql_with: GqlWith, db: AsyncSession, model: FakeOpenAI
) -> None:
    # `debug_log` comes first: a connection decides whether to echo when it opens.
    gql = await gql_with(assistant_provider="openai", openai_base_url=model.base_url,
                         openai_api_key="test-key")
    stamp = tick()
    conversation = Conversation(user_id="alice", title="Chat", created_at=stamp,
                                updated_at=stamp)
    db.add(conversation)
    await db.commit()
    model.answer(calls(tool_call("create_task", title=f"Task {SECRET_WORDS}")),
                 says(f"Done: {SECRET_ANSWER}"),
                 says(json.dumps({"title": SECRET_ANSWER, "steps": ["one"]})))
    for _ in range(2):  # the second turn reads the first's messages back as history
        await gql.data("""mutation($input: SendMessageInput!) {
            sendMessage(input: $input) { __typename } }""",
                       {"input": {"conversationId": encode_id("Conversation", conversation.id),
                                  "content": f"please add {SECRET_WORDS}"}})
    logged = "\n".join(debug_log.lines)
    assert "graphql operation" in logged  # DEBUG records are captured; these values are not
    assert SECRET_WORDS not in logged and SECRET_ANSWER not in logged
    responses = "".join(log.response or "" for log in await db.scalars(select(AiLog)))
    assert SECRET_ANSWER in responses
