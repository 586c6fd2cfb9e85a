"""Chat mutations. A message is one turn of the assistant's agent (`domain.assistant.agent`):
its tools commit as they go, the model is asked with no transaction or connection held, and
the user's message and the reply are then stored together in one transaction, with the
turn's ai_logs rows and audit entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

import models
from domain import chat as service
from domain import scope
from domain.assistant import agent, generations, make_title, timed
from domain.assistant.actions import ToolContext
from domain.assistant.generations import Generation
from domain.assistant.listing import Listing
from domain.errors import AssistantUnavailable, NotFound
from domain.validation import Checks, text_problem
from graph.context import Context, Info
from graph.ids import decode_key, encode_id
from graph.resolvers.mutations.base import in_transaction, mutation, with_generation
from graph.types import chat_payloads as payloads
from graph.types.chat import Conversation, Message
from models.chat import CONVERSATION_TITLE_MAX, MESSAGE_CONTENT_MAX


def _assistant_unavailable() -> AssistantUnavailable:
    return AssistantUnavailable(
        "The assistant could not answer; your message was not sent. Try again."
    )


async def _history(context: Context, conversation_id: str) -> list[tuple[str, str]]:
    rows = await context.db.scalars(
        scope.owned(models.Message, context.user_id)
        .where(models.Message.conversation_id == conversation_id)
        .order_by(models.Message.created_at.desc(), models.Message.id.desc())
        .limit(agent.HISTORY)  # the most the agent gives the model
    )
    return [(row.role, row.content) for row in reversed(rows)]


@dataclass(frozen=True)
class Exchange:
    """A finished turn, ready to store: the reply, the list it left shown, a first title."""

    content: str
    reply: str
    listing: dict[str, Any] | None
    title: str | None


async def _converse(
    context: Context, content: str, *, history: list[tuple[str, str]],
    listing: dict[str, Any] | None, titled: bool,
) -> tuple[Exchange | None, Generation]:
    """Run the agent's turn (tools commit as they go); None when nothing came of it."""
    assistant, viewer = context.resources.assistant, context.viewer
    seconds = context.settings.assistant_timeout_seconds
    tools = ToolContext(context.user_id, viewer.session_id, Listing.from_json(listing))
    turn = await agent.take_turn(assistant, context.db, tools, content, history,
                                 seconds=seconds)
    generation = Generation(generations.CHAT_REPLY, {"message": content}, calls=turn.calls,
                            output=generations.turn_output(turn.reply, turn.done),
                            error=turn.failure)
    if turn.failure is not None and not turn.changed_anything:
        return None, generation
    title = None
    if not titled:
        named = await timed("title", content, assistant.complete("title", content),
                            seconds=seconds)
        generation.calls.append(named.call)
        title = str(named.value or "").strip()[:CONVERSATION_TITLE_MAX] or None
    fallback = make_title(content)[:CONVERSATION_TITLE_MAX]
    stored = tools.listing.to_json() if tools.listing else None
    return Exchange(content, turn.reply, stored, title or fallback), generation


async def _store(
    session: AsyncSession, conversation: models.Conversation, exchange: Exchange
) -> tuple[Message, Message, Conversation]:
    mine, theirs = await service.store_exchange(
        session, conversation, exchange.content, exchange.reply,
        listing=exchange.listing, title=exchange.title,
    )
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
        exchange, generation = await _converse(
            context, content, history=history, listing=conversation.listing,
            titled=conversation.title is not None,
        )

        async def work(session: AsyncSession, user_id: str) -> payloads.SendMessageSuccess:
            if exchange is None:
                raise _assistant_unavailable()
            owned = await service.owned_conversation(session, user_id, key)
            mine, theirs, conv = await _store(session, owned, exchange)
            return payloads.SendMessageSuccess(message=mine, reply=theirs, conversation=conv)

        return await with_generation(info, generation, work)

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
        context.require_identity()  # before any work, the assistant's included
        checks = Checks()
        title = checks.text("title", input.title, max_len=CONVERSATION_TITLE_MAX,
                            required=False) or None
        content = _content(checks, "message", input.message) if input.message is not None else None
        checks.raise_if_any()
        if content is None:
            async def empty(
                session: AsyncSession, user_id: str
            ) -> payloads.StartConversationSuccess:
                conversation = await service.start_conversation(session, user_id, title)
                return payloads.StartConversationSuccess(
                    conversation=Conversation.from_model(conversation), message=None, reply=None
                )

            return await in_transaction(info, empty)
        exchange, generation = await _converse(
            context, content, history=[], listing=None, titled=title is not None
        )

        async def work(session: AsyncSession, user_id: str) -> payloads.StartConversationSuccess:
            if exchange is None:
                raise _assistant_unavailable()
            conversation = await service.start_conversation(session, user_id, title)
            mine, theirs, conv = await _store(session, conversation, exchange)
            return payloads.StartConversationSuccess(conversation=conv, message=mine, reply=theirs)

        return await with_generation(info, generation, work)

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
            conversation = await service.rename_conversation(session, conversation, title or None)
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
            conversation = await _owned(session, user_id, input.id)
            await service.delete_conversation(session, conversation)
            # The canonical global id, whatever spelling of it the client sent.
            return payloads.DeleteConversationSuccess(
                deleted_id=strawberry.ID(encode_id("Conversation", conversation.id))
            )

        return await in_transaction(info, work)


async def _owned(session: AsyncSession, user_id: str, global_id: str) -> models.Conversation:
    key = decode_key(global_id, "Conversation")
    if key is None:
        raise NotFound(models.Conversation, None, named=global_id)
    return await service.owned_conversation(session, user_id, key)
