"""A chat message as a use case: the viewer sends words to a conversation and the assistant
answers, acting on their tasks (`agent`). No GraphQL here: the resolvers, a job or the CLI
call `send_message` / `begin_conversation` with the viewer and plain inputs (checked here).

Order of work: what the conversation remembers is read (a waiting proposal is claimed
under the row's lock, so two concurrent yeses cannot both carry it out); the agent runs
with no transaction held while the model thinks (its tools commit as they go); then the
user's message, the reply and the memory are stored together, in one transaction with the
turn's ai_logs rows and audit entry. A turn whose provider failed before changing anything
stores no message and raises `AssistantUnavailable`, whose message carries the error id.

Streaming: `on_text` gets a `ReplyText` per piece the provider streams, the reply's text so
far and the turn's `stream_id`; the final reply is stored once, at the end, and the
`stream_id` is returned with it (`Sent`) so a subscriber can replace what it grew.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from domain import chat, scope
from domain.assistant import Assistant, agent, generations, make_title, timed
from domain.assistant.confirm import Pending
from domain.assistant.generations import Generation
from domain.assistant.listing import Listing
from domain.assistant.toolkit import ToolContext
from domain.errors import AssistantUnavailable, Ref
from domain.transactions import Transactions
from domain.validation import Checks
from domain.viewers import Viewer
from models import Conversation, Message
from models.base import utcnow
from models.chat import CONVERSATION_TITLE_MAX


@dataclass(frozen=True)
class ChatOptions:
    seconds: float | None  # each provider call's limit (ASSISTANT_TIMEOUT_SECONDS)
    confirm_seconds: float  # a proposal's life (ASSISTANT_CONFIRMATION_SECONDS)


@dataclass(frozen=True)
class ReplyText:
    """A streamed reply as it grows: its text so far, for the conversation being answered
    (None while a conversation is being started) and the turn (`stream_id`)."""

    conversation_id: str | None
    stream_id: str
    text: str


ReplyHook = Callable[[ReplyText], Awaitable[None]]


@dataclass(frozen=True)
class Sent:
    conversation: Conversation
    message: Message
    reply: Message
    stream_id: str


@dataclass(frozen=True)
class _Memory:
    history: list[tuple[str, str]]
    listing: Listing | None = None
    focus: int | None = None
    waiting: Pending | None = None
    titled: bool = False


def _user(viewer: Viewer) -> str:
    if viewer.user_id is None:
        raise ValueError("a chat turn needs a viewer with an identity")
    return viewer.user_id


async def send_message(
    db: Transactions, assistant: Assistant, viewer: Viewer, conversation_id: Ref[str],
    content: str | None, *, options: ChatOptions, on_text: ReplyHook | None = None,
) -> Sent:
    """The viewer's message to their conversation, answered; NotFound if it is not theirs
    (the message is checked first)."""
    user_id = _user(viewer)
    checks = Checks()
    text = chat.message_content(checks, "content", content)
    checks.raise_if_any()
    key = conversation_id.key_of(Conversation)
    memory = await _recall(db, user_id, key)

    async def conversation(session: AsyncSession) -> Conversation:
        return await chat.owned_conversation(session, user_id, key)

    return await _answer(db, assistant, viewer, text, memory, key,
                         conversation, options=options, on_text=on_text)


@dataclass(frozen=True)
class Started:
    conversation: Conversation
    message: Message | None  # with the reply, when it started with a message
    reply: Message | None


async def begin_conversation(
    db: Transactions, assistant: Assistant, viewer: Viewer, title: str | None,
    message: str | None, *, options: ChatOptions,
) -> Started:
    """A new conversation of the viewer's; with a first message, answered (the assistant is
    asked only then)."""
    user_id = _user(viewer)
    checks = Checks()
    title = chat.title_text(checks, title)
    content = chat.message_content(checks, "message", message) if message is not None else None
    checks.raise_if_any()
    if content is None:
        async with db.transaction() as session:
            return Started(await chat.start_conversation(session, user_id, title), None, None)
    sent = await start_conversation(db, assistant, viewer, title, content, options=options)
    return Started(sent.conversation, sent.message, sent.reply)


async def start_conversation(
    db: Transactions, assistant: Assistant, viewer: Viewer, title: str | None, content: str,
    *, options: ChatOptions, on_text: ReplyHook | None = None,
) -> Sent:
    """A new conversation of the viewer's, with its first message answered."""
    user_id = _user(viewer)

    async def conversation(session: AsyncSession) -> Conversation:
        return await chat.start_conversation(session, user_id, title)

    return await _answer(db, assistant, viewer, content, _Memory([], titled=title is not None),
                         None, conversation, options=options, on_text=on_text)


async def _answer(
    db: Transactions, assistant: Assistant, viewer: Viewer, content: str, memory: _Memory,
    conversation_id: str | None, conversation: Callable[[AsyncSession], Awaitable[Conversation]],
    *, options: ChatOptions, on_text: ReplyHook | None,
) -> Sent:
    """The turn, then the exchange stored in `conversation` (found or made in the storing
    transaction) with the turn's records; the records alone if the turn came to nothing."""
    stream_id = uuid.uuid4().hex
    turn = await _converse(db, assistant, viewer, content, memory, options,
                           _hook(on_text, conversation_id, stream_id))

    async def work(session: AsyncSession) -> Sent:
        if not turn.usable:
            raise unavailable(turn.generation)
        target = await conversation(session)
        mine, theirs = await chat.store_exchange(session, target, content, turn.reply,
                                                 memory=turn.memory, title=turn.title)
        return Sent(target, mine, theirs, stream_id)

    return await generations.recorded(db, assistant, turn.generation, user_id=_user(viewer),
                                      session_id=viewer.session_id, work=work)


def _hook(on_text: ReplyHook | None, conversation_id: str | None,
          stream_id: str) -> agent.TextHook | None:
    if on_text is None:
        return None

    async def grown(text: str) -> None:
        await on_text(ReplyText(conversation_id, stream_id, text))

    return grown


async def _recall(db: Transactions, user_id: str, conversation_id: str) -> _Memory:
    """What the conversation remembers, its waiting action claimed (cleared, committed)."""
    async with db.transaction() as session:
        conversation = await chat.owned_conversation(session, user_id, conversation_id,
                                                     lock=True)
        waiting = Pending.from_json(conversation.pending_action)
        if waiting is not None:
            conversation.pending_action = None
        rows = await session.scalars(
            scope.owned(Message, user_id).where(Message.conversation_id == conversation_id)
            .order_by(Message.created_at.desc(), Message.id.desc()).limit(agent.HISTORY))
        history = [(row.role, row.content) for row in reversed(list(rows))]
        return _Memory(history, Listing.from_json(conversation.listing),
                       conversation.focus_task_id, waiting, conversation.title is not None)


@dataclass(frozen=True)
class _Turn:
    generation: Generation
    reply: str
    memory: dict[str, Any]
    title: str | None
    usable: bool


async def _converse(
    db: Transactions, assistant: Assistant, viewer: Viewer, content: str, memory: _Memory,
    options: ChatOptions, on_text: agent.TextHook | None,
) -> _Turn:
    tools = ToolContext(_user(viewer), viewer.session_id, memory.listing, memory.focus)
    turn = await agent.take_turn(
        assistant, db, tools, content, memory.history,
        options=agent.TurnOptions(options.seconds, options.confirm_seconds, utcnow()),
        waiting=memory.waiting, on_text=on_text)
    generation = Generation(generations.CHAT_REPLY, {"message": content}, calls=turn.calls,
                            output=generations.turn_output(turn.reply, turn.done))
    if turn.failure is not None:
        generation.fail(turn.failure)
    title = None
    if not memory.titled and (turn.failure is None or turn.changed_anything):
        named = await timed("title", content, assistant.complete("title", content),
                            seconds=options.seconds)
        generation.calls.append(named.call)
        title = str(named.value or "").strip()[:CONVERSATION_TITLE_MAX] or None
    stored = {"listing": tools.listing.to_json() if tools.listing else None,
              "focus_task_id": tools.focus,
              "pending_action": turn.pending.to_json() if turn.pending else None}
    return _Turn(generation, turn.reply, stored,
                 title or make_title(content)[:CONVERSATION_TITLE_MAX],
                 turn.failure is None or turn.changed_anything)


def unavailable(generation: Generation) -> AssistantUnavailable:
    """What the client is told when the assistant failed: a stable message and the id."""
    return AssistantUnavailable(
        f"The assistant could not answer (error {generation.error_id}); your message was not "
        "sent. Try again.")


__all__: Sequence[str] = ("ChatOptions", "ReplyText", "Sent", "send_message",
                          "start_conversation", "unavailable")
