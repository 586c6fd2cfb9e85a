"""The chat turn's streaming hook (`domain.assistant.conversation`): the reply's text grows
piece by piece for the hook, with the turn's stream id, and the final reply is stored once."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.assistant import OfflineAssistant
from domain.assistant.conversation import ChatOptions, ReplyText, send_message
from domain.assistant.openai import OpenAIAssistant
from domain.errors import Ref
from domain.viewers import Viewer
from graph.execution.database import RequestDatabase
from graph.pubsub import LocalBroker
from models import Conversation, Message
from tests.factories import make_task, tick
from tests.fake_openai import FakeOpenAI, calls, model, says, tool_call

__all__ = ["model"]  # a fixture, used by name

ALICE = Viewer("alice")
OPTIONS = ChatOptions(seconds=10, confirm_seconds=300)



@pytest.fixture
async def request_db(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[RequestDatabase]:
    database = RequestDatabase(session_factory, LocalBroker(), ALICE)
    yield database
    await database.close()


async def conversation_of(db: AsyncSession) -> str:
    stamp = tick()
    conversation = Conversation(user_id="alice", title="Chat", created_at=stamp,
                                updated_at=stamp)
    db.add(conversation)
    await db.commit()
    return conversation.id


async def test_a_streamed_reply_grows_for_the_hook_and_is_stored_once(
    request_db: RequestDatabase, db: AsyncSession, model: FakeOpenAI
) -> None:
    conversation = await conversation_of(db)
    assistant = OpenAIAssistant(base_url=model.base_url, api_key="k", model="fake-model",
                                timeout_seconds=10)
    model.answer(calls(tool_call("list_tasks")), says("You have nothing open right now."))
    grown: list[ReplyText] = []

    async def hook(text: ReplyText) -> None:
        grown.append(text)

    sent = await send_message(request_db, assistant, ALICE, Ref(conversation, conversation),
                              "what's left?", options=OPTIONS, on_text=hook)
    await assistant.aclose()
    assert [g.text for g in grown] == ["You ", "You have ", "You have nothing ",
                                       "You have nothing open ", "You have nothing open right ",
                                       "You have nothing open right now."]
    assert {(g.conversation_id, g.stream_id) for g in grown} == {(conversation,
                                                                 sent.stream_id)}
    assert all(request.get("stream") for request in model.requests)
    db.expire_all()
    stored = list(await db.scalars(select(Message.content).where(
        Message.conversation_id == conversation).order_by(Message.id)))
    assert stored == ["what's left?", "You have nothing open right now."]


async def test_the_offline_assistant_hands_its_whole_reply_to_the_hook_once(
    request_db: RequestDatabase, db: AsyncSession
) -> None:
    await make_task(db, title="Water the plants")
    conversation = await conversation_of(db)
    grown: list[str] = []

    async def hook(text: ReplyText) -> None:
        grown.append(text.text)

    sent = await send_message(request_db, OfflineAssistant(), ALICE,
                              Ref(conversation, conversation), "how many tasks do I have?",
                              options=OPTIONS, on_text=hook)
    assert grown == [sent.reply.content]
    assert sent.reply.content.startswith("You have 1 task: 1 open")
