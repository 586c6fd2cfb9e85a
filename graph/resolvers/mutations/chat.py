"""Chat mutations. The assistant is asked before the write transaction opens, so a slow model
never holds a database connection; the messages are then written in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

import models
from domain import chat as service
from domain import scope
from domain.assistant import ai_log_row, make_title, timed
from domain.assistant.chatbot import ChatAnswer
from domain.errors import AssistantUnavailable, NotFound
from domain.validation import Checks, text_problem
from graph.context import Context, Info
from graph.ids import decode_key
from graph.resolvers.mutations.base import in_transaction, mutation
from graph.types import chat_payloads as payloads
from graph.types.chat import Conversation, Message
from models.chat import CONVERSATION_TITLE_MAX, MESSAGE_CONTENT_MAX

HISTORY = 20


@dataclass(frozen=True)
class Reply:
    answer: ChatAnswer
    title: str | None


def _assistant_unavailable() -> AssistantUnavailable:
    return AssistantUnavailable(
        "The assistant could not answer; your message was not sent. Try again."
    )


async def _history(context: Context, conversation_id: str) -> list[tuple[str, str]]:
    rows = await context.db.scalars(
        scope.owned(models.Message, context.user_id)
        .where(models.Message.conversation_id == conversation_id)
        .order_by(models.Message.created_at.desc(), models.Message.id.desc())
        .limit(HISTORY)
    )
    return [(row.role, row.content) for row in reversed(rows)]


async def _ask(
    context: Context, content: str, history: list[tuple[str, str]], *, titled: bool
) -> Reply | None:
    """Ask the assistant with no transaction open; log every call in its own transaction."""
    await context.db.release()
    assistant = context.resources.assistant
    timeout = context.settings.assistant_timeout_seconds
    answer, call = await timed(
        "chat_reply", content, assistant.chat(content, history), seconds=timeout
    )
    calls = [call]
    title = None
    if isinstance(answer, ChatAnswer) and not titled:
        title, title_call = await timed(
            "title", content, assistant.complete("title", content), seconds=timeout
        )
        calls.append(title_call)
    viewer = context.viewer
    async with context.db.transaction() as session:
        session.add_all(
            ai_log_row(assistant, c, user_id=viewer.user_id, session_id=viewer.session_id)
            for c in calls
        )
    if not isinstance(answer, ChatAnswer):
        return None
    fallback = make_title(content)[: CONVERSATION_TITLE_MAX]
    return Reply(answer, str(title)[: CONVERSATION_TITLE_MAX] if title else fallback)


async def _exchange(
    session: AsyncSession, context: Context, conversation_id: str, content: str, reply: Reply,
) -> tuple[Message, Message, Conversation]:
    user_id = context.user_id
    conversation = await service.owned_conversation(session, user_id, conversation_id)
    mine = await service.add_message(session, conversation, "user", content)
    words = reply.answer.text or ""
    if reply.answer.command is not None:
        words = await service.carry_out(
            session, reply.answer.command, user_id=user_id, session_id=context.viewer.session_id
        )
    theirs = await service.add_message(session, conversation, "assistant", words or "…")
    if conversation.title is None:
        conversation.title = reply.title
    await session.flush()
    return (Message.from_model(mine), Message.from_model(theirs),
            Conversation.from_model(conversation))


def _content(checks: Checks, field: str, content: str | None) -> str:
    if content is None or not content.strip():
        checks.fail(field, "must not be empty")
    elif (problem := text_problem(content)) is not None:  # NUL, lone surrogates
        checks.fail(field, problem)
    elif len(content) > MESSAGE_CONTENT_MAX:
        checks.fail(field, f"must be at most {MESSAGE_CONTENT_MAX} characters")
    return content or ""


@strawberry.type
class ChatMutations:
    @mutation(description="Send a message; the assistant's reply is stored with it.")
    async def send_message(
        self,
        info: Info,
        input: Annotated[
            payloads.SendMessageInput,
            strawberry.argument(description="The conversation and the message."),
        ],
    ) -> payloads.SendMessagePayload:
        context = info.context
        checks = Checks()
        content = _content(checks, "content", input.content)
        checks.raise_if_any()
        key = decode_key(input.conversation_id, "Conversation")
        conversation = await context.loaders.by_id(models.Conversation).load(key) if key else None
        if key is None or conversation is None:
            raise NotFound(models.Conversation, key, named=input.conversation_id)
        history = await _history(context, key)
        reply = await _ask(context, content, history, titled=conversation.title is not None)
        if reply is None:
            raise _assistant_unavailable()

        async def work(session: AsyncSession, _user: str) -> payloads.SendMessageSuccess:
            mine, theirs, conv = await _exchange(session, context, key, content, reply)
            return payloads.SendMessageSuccess(message=mine, reply=theirs, conversation=conv)

        return await in_transaction(info, work)

    @mutation(description="Start a conversation, optionally with a first message.")
    async def start_conversation(
        self,
        info: Info,
        input: Annotated[
            payloads.StartConversationInput,
            strawberry.argument(description="An optional title and first message."),
        ],
    ) -> payloads.StartConversationPayload:
        context = info.context
        user_id = context.user_id
        checks = Checks()
        title = checks.text("title", input.title, max_len=CONVERSATION_TITLE_MAX,
                            required=False) or None
        content = _content(checks, "message", input.message) if input.message is not None else None
        checks.raise_if_any()
        reply = None
        if content is not None:
            reply = await _ask(context, content, [], titled=title is not None)
            if reply is None:
                raise _assistant_unavailable()

        async def work(session: AsyncSession, _user: str) -> payloads.StartConversationSuccess:
            conversation = await service.start_conversation(session, user_id, title)
            if content is None or reply is None:
                return payloads.StartConversationSuccess(
                    conversation=Conversation.from_model(conversation), message=None, reply=None
                )
            mine, theirs, conv = await _exchange(session, context, conversation.id, content, reply)
            return payloads.StartConversationSuccess(conversation=conv, message=mine, reply=theirs)

        return await in_transaction(info, work)

    @mutation(description="Rename a conversation; null clears the title.")
    async def rename_conversation(
        self,
        info: Info,
        input: Annotated[
            payloads.RenameConversationInput,
            strawberry.argument(description="The conversation and its new title."),
        ],
    ) -> payloads.RenameConversationPayload:
        async def work(session: AsyncSession, user_id: str) -> payloads.RenameConversationSuccess:
            conversation = await _owned(session, user_id, input.id)
            checks = Checks()
            title = checks.text("title", input.title, max_len=CONVERSATION_TITLE_MAX,
                                required=False)
            checks.raise_if_any()
            conversation.title = title or None
            await session.flush()
            return payloads.RenameConversationSuccess(
                conversation=Conversation.from_model(conversation)
            )

        return await in_transaction(info, work)

    @mutation(description="Delete a conversation and its messages.")
    async def delete_conversation(
        self,
        info: Info,
        input: Annotated[
            payloads.DeleteConversationInput,
            strawberry.argument(description="The conversation to delete."),
        ],
    ) -> payloads.DeleteConversationPayload:
        async def work(session: AsyncSession, user_id: str) -> payloads.DeleteConversationSuccess:
            await service.delete_conversation(session, await _owned(session, user_id, input.id))
            return payloads.DeleteConversationSuccess(deleted_id=input.id)

        return await in_transaction(info, work)


async def _owned(session: AsyncSession, user_id: str, global_id: str) -> models.Conversation:
    key = decode_key(global_id, "Conversation")
    if key is None:
        raise NotFound(models.Conversation, None, named=global_id)
    return await service.owned_conversation(session, user_id, key)
