"""Inputs and payload unions of the chat mutations."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry

from graph.types.chat import Conversation, Message
from graph.types.errors import AssistantError, NotFoundError, ValidationError, payload_union

_CONVERSATION_ID = "The conversation's global id (`Conversation.id`)."


@strawberry.input(description="A new conversation, optionally with a first message.")
class StartConversationInput:
    title: str | None = strawberry.field(default=None, description=(
        "Up to 200 characters; null or blank: taken from the first message, when one is sent."
    ))
    message: str | None = strawberry.field(
        default=None, description="A first message, 1..32,000 characters; the assistant answers it."
    )


@strawberry.input(description="A conversation and its new title.")
class RenameConversationInput:
    id: strawberry.ID = strawberry.field(description=_CONVERSATION_ID)
    title: str | None = strawberry.field(
        description="Up to 200 characters; null or blank clears the title."
    )


@strawberry.input(description="The conversation to delete.")
class DeleteConversationInput:
    id: strawberry.ID = strawberry.field(description=_CONVERSATION_ID)


@strawberry.input(description="A message to one of the viewer's conversations.")
class SendMessageInput:
    conversation_id: strawberry.ID = strawberry.field(description=_CONVERSATION_ID)
    content: str = strawberry.field(
        description="1..32,000 characters, not blank; stored as sent."
    )


@strawberry.type(description=(
    "The conversation was started, with its first exchange if a message was sent. Alias "
    "`message` when also selecting UserError.message."
))
class StartConversationSuccess:
    conversation: Conversation = strawberry.field(description="The new conversation.")
    message: Message | None = strawberry.field(description="The first message, if one was sent.")
    reply: Message | None = strawberry.field(description="The assistant's answer to it.")


@strawberry.type(description="The conversation has its new title.")
class RenameConversationSuccess:
    conversation: Conversation = strawberry.field(description="The conversation as it is now.")


@strawberry.type(description="The conversation was deleted with its messages.")
class DeleteConversationSuccess:
    deleted_id: strawberry.ID = strawberry.field(
        description="The deleted conversation's global id."
    )


@strawberry.type(description=(
    "Both messages were stored. Alias `message` when also selecting UserError.message."
))
class SendMessageSuccess:
    message: Message = strawberry.field(description="The viewer's message, as stored.")
    reply: Message = strawberry.field(description=(
        "The assistant's answer (a chat command's result, e.g. `add task: ...`, is told here)."
    ))
    conversation: Conversation = strawberry.field(
        description="The conversation, its title and updatedAt as they are now."
    )


StartConversationPayload: TypeAlias = Annotated[
    StartConversationSuccess | ValidationError | AssistantError,
    payload_union("StartConversationPayload", "startConversation"),
]
RenameConversationPayload: TypeAlias = Annotated[
    RenameConversationSuccess | ValidationError | NotFoundError,
    payload_union("RenameConversationPayload", "renameConversation"),
]
DeleteConversationPayload: TypeAlias = Annotated[
    DeleteConversationSuccess | NotFoundError,
    payload_union("DeleteConversationPayload", "deleteConversation"),
]
SendMessagePayload: TypeAlias = Annotated[
    SendMessageSuccess | ValidationError | NotFoundError | AssistantError,
    payload_union("SendMessagePayload", "sendMessage"),
]
