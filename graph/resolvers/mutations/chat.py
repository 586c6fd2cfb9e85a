"""Chat mutations: each maps its input to a use case (a message and a start:
`domain.assistant.conversation`, the assistant's turn, its records and storing the exchange;
renaming and deleting: `domain.chat`, in one transaction) and the rows it answers to the
payload."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain import chat as service
from domain.assistant import conversation as turn
from domain.transactions import Session
from graph.context import Context, Info
from graph.drafts import DraftPublisher
from graph.ids import encode_id, key_ref
from graph.resolvers.mutations.base import in_transaction, mutation
from graph.types import chat_payloads as payloads
from graph.types.chat import Conversation, Message


def _options(context: Context) -> turn.ChatOptions:
    settings = context.settings
    return turn.ChatOptions(settings.assistant_timeout_seconds,
                            settings.assistant_confirmation_seconds)


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
        conversation = key_ref(input.conversation_id, "Conversation")
        # A reference that names no conversation is NotFound before anything is streamed.
        drafts = DraftPublisher(context.resources.broker, context.user_id,
                                conversation.key or "")
        sent = await turn.send_message(
            context.db, context.resources.assistant, context.viewer, conversation,
            input.content, options=_options(context), on_text=drafts.grown)
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
        started = await turn.begin_conversation(
            context.db, context.resources.assistant, context.viewer, input.title,
            input.message, options=_options(context))
        return payloads.StartConversationSuccess(
            conversation=Conversation.from_model(started.conversation),
            message=Message.from_model(started.message) if started.message else None,
            reply=Message.from_model(started.reply) if started.reply else None)

    @mutation(description="Rename a conversation; null clears the title.")
    async def rename_conversation(
        self,
        info: Info,
        input: Annotated[
            payloads.RenameConversationInput,
            strawberry.argument(description="The conversation and its new title."),
        ],
    ) -> payloads.RenameConversationPayload:
        async def work(session: Session, user_id: str) -> payloads.RenameConversationSuccess:
            conversation = await service.rename(session, user_id, key_ref(input.id, "Conversation"),
                                                input.title)
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
        async def work(session: Session, user_id: str) -> payloads.DeleteConversationSuccess:
            conversation = await service.remove(session, user_id, key_ref(input.id, "Conversation"))
            # The canonical global id, whatever spelling of it the client sent.
            return payloads.DeleteConversationSuccess(
                deleted_id=strawberry.ID(encode_id("Conversation", conversation.id))
            )

        return await in_transaction(info, work)
