"""Inputs and payload unions of the chat mutations."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry

from graph.types.chat import Conversation, Message
from graph.types.errors import AssistantError, NotFoundError, ValidationError


@strawberry.input
class StartConversationInput:
    title: str | None = None
    message: str | None = strawberry.field(
        default=None, description="A first message; the assistant answers it."
    )


@strawberry.input
class RenameConversationInput:
    id: strawberry.ID
    title: str | None = strawberry.field(description="Null clears the title.")


@strawberry.input
class DeleteConversationInput:
    id: strawberry.ID


@strawberry.input
class SendMessageInput:
    conversation_id: strawberry.ID
    content: str


@strawberry.type
class StartConversationSuccess:
    conversation: Conversation
    message: Message | None = strawberry.field(description="The first message, if one was sent.")
    reply: Message | None = strawberry.field(description="The assistant's answer to it.")


@strawberry.type
class RenameConversationSuccess:
    conversation: Conversation


@strawberry.type
class DeleteConversationSuccess:
    deleted_id: strawberry.ID


@strawberry.type
class SendMessageSuccess:
    message: Message
    reply: Message
    conversation: Conversation


StartConversationPayload: TypeAlias = Annotated[
    StartConversationSuccess | ValidationError | AssistantError,
    strawberry.union("StartConversationPayload"),
]
RenameConversationPayload: TypeAlias = Annotated[
    RenameConversationSuccess | ValidationError | NotFoundError,
    strawberry.union("RenameConversationPayload"),
]
DeleteConversationPayload: TypeAlias = Annotated[
    DeleteConversationSuccess | NotFoundError, strawberry.union("DeleteConversationPayload")
]
SendMessagePayload: TypeAlias = Annotated[
    SendMessageSuccess | ValidationError | NotFoundError | AssistantError,
    strawberry.union("SendMessagePayload"),
]
