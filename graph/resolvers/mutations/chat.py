"""Chat mutations: input checked, then the domain's use case (`domain.assistant.conversation`
for a message: the assistant's turn, its records and storing the exchange), then the payload."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

import models
from domain import chat as service
from domain.assistant import conversation as turn
from domain.errors import NotFound
from domain.validation import Checks, text_problem
from graph.context import Context, Info
from graph.drafts import DraftPublisher
from graph.ids import decode_key, encode_id
from graph.resolvers.mutations.base import in_transaction, mutation
from graph.types import chat_payloads as payloads
from graph.types.chat import Conversation, Message
from models.chat import CONVERSATION_TITLE_MAX, MESSAGE_CONTENT_MAX


def _options(context: Context) -> turn.ChatOptions:
    settings = context.settings
    return turn.ChatOptions(settings.assistant_timeout_seconds,
                            settings.assistant_confirmation_seconds)


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
        context.require_identity()  # before any work, the assistant's included
        checks = Checks()
        content = _content(checks, "content", input.content)
        checks.raise_if_any()
        key = decode_key(input.conversation_id, "Conversation")
        if key is None:
            raise NotFound(models.Conversation, key, named=input.conversation_id)
        drafts = DraftPublisher(context.resources.broker, context.user_id, key)
        sent = await turn.send_message(
            context.db, context.resources.assistant, context.viewer, key, content,
            options=_options(context), on_text=drafts.grown)
        await drafts.finish(sent.stream_id, sent.reply.content)
        return payloads.SendMessageSuccess(
            message=Message.from_model(sent.message), reply=Message.from_model(sent.reply),
            conversation=Conversation.from_model(sent.conversation))

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
        sent = await turn.start_conversation(
            context.db, context.resources.assistant, context.viewer, title, content,
            options=_options(context))
        return payloads.StartConversationSuccess(
            conversation=Conversation.from_model(sent.conversation),
            message=Message.from_model(sent.message), reply=Message.from_model(sent.reply))

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
