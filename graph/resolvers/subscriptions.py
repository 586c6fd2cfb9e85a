"""Subscriptions, for the viewer's own rows: `messageAdded(conversationId)` and `taskEvents`
(api.md), and the change streams `taskChanges`, `conversationChanges` and
`panicEventChanges`, which carry every change a screen shows, deletions included.

Each delivery starts from an event (`domain.events`: a kind, the owner, a key) that the
broker routes to the owner's subscriptions only, and loads its row scoped to the subscriber
(`domain.deliveries`): what is not the viewer's by then is not delivered. A deletion has no row
to load; its key, routed to the owner, is the change. Every subscription runs in a stream of
the live layer (graph/live/), shared by identical subscriptions, with its own session and
loaders for each delivery.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import Annotated, Any

import strawberry

import models
from domain import deliveries as reads
from domain.events import Event, EventKind
from graph.context import Context, Info
from graph.drafts import Draft
from graph.errors import ClientError
from graph.ids import decode_key, encode_id
from graph.live.resume import encode_cursor
from graph.live.source import deliveries
from graph.types.changes import ChangeKind, ConversationChange, PanicEventChange, TaskChange
from graph.types.chat import Message
from graph.types.drafts import MessageDraft
from graph.types.panic import GroundingExercise
from graph.types.task import TaskEvent

TASK_KINDS = frozenset({EventKind.TASK_EVENT, EventKind.TASK_DELETED})
CONVERSATION_KINDS = frozenset({
    EventKind.CONVERSATION_CREATED, EventKind.CONVERSATION_RENAMED,
    EventKind.CONVERSATION_DELETED, EventKind.MESSAGE,
})
PANIC_KINDS = frozenset({
    EventKind.PANIC_PRESSED, EventKind.PANIC_RESOLVED, EventKind.EXERCISE_COMPLETED,
})


def _reader(context: Context) -> reads.Reader:
    # The delivery's own session (graph/live/source.py renews it per delivery, so it holds
    # no connection while the stream waits); it acts for the subscriber, like a request's
    # (row-level security reads it).
    return context.db


async def _owned(context: Context, model: Any, key: object) -> Any:
    """The viewer's row of `model` by key, or None; the request's loader is primed with it,
    so the delivery's fields read the row this check read."""
    row = await reads.owned_row(_reader(context), context.user_id, model, key)
    if row is not None:
        context.loaders.by_id(model).prime(key, row)
    return row


def _cursor(event: Event) -> str:
    return encode_cursor(event.id or 0)


async def _task_change(context: Context, event: Event) -> TaskChange | None:
    if event.kind == EventKind.TASK_DELETED:
        return TaskChange.deleted(int(event.key), _cursor(event))
    row = await reads.task_event(_reader(context), context.user_id, event.key)
    return TaskChange.of_event(row, _cursor(event)) if row is not None else None


async def _conversation_change(context: Context, event: Event) -> ConversationChange | None:
    cursor = _cursor(event)
    if event.kind == EventKind.CONVERSATION_DELETED:
        return ConversationChange(kind=ChangeKind.DELETED, node_id=_gid("Conversation", event.key),
                                  cursor=cursor, message=None, _conversation_id=str(event.key))
    if event.kind == EventKind.MESSAGE:
        message = await _owned(context, models.Message, event.key)
        if message is None:
            return None
        key = message.conversation_id
        return ConversationChange(kind=ChangeKind.UPDATED, node_id=_gid("Conversation", key),
                                  cursor=cursor, message=Message.from_model(message),
                                  _conversation_id=key)
    if await _owned(context, models.Conversation, event.key) is None:
        return None
    created = event.kind == EventKind.CONVERSATION_CREATED
    return ConversationChange(
        kind=ChangeKind.CREATED if created else ChangeKind.UPDATED, cursor=cursor,
        node_id=_gid("Conversation", event.key), message=None, _conversation_id=str(event.key),
    )


async def _panic_change(context: Context, event: Event) -> PanicEventChange | None:
    cursor = _cursor(event)
    if event.kind == EventKind.EXERCISE_COMPLETED:
        exercise = await _owned(context, models.GroundingExercise, event.key)
        if exercise is None:
            return None
        key = exercise.panic_event_id
        return PanicEventChange(kind=ChangeKind.UPDATED, node_id=_gid("PanicEvent", key),
                                cursor=cursor, exercise=GroundingExercise.from_model(exercise),
                                _panic_event_id=key)
    if await _owned(context, models.PanicEvent, event.key) is None:
        return None
    pressed = event.kind == EventKind.PANIC_PRESSED
    return PanicEventChange(
        kind=ChangeKind.CREATED if pressed else ChangeKind.UPDATED, cursor=cursor,
        node_id=_gid("PanicEvent", event.key), exercise=None, _panic_event_id=int(event.key),
    )


def _gid(type_name: str, key: object) -> strawberry.ID:
    return strawberry.ID(encode_id(type_name, key))


_LIVE = (
    "Delivered once the change committed (never for one rolled back), to the owner alone; "
    "each delivery reads the object as it is then. With `after`, every change since that "
    "cursor's is given first, in commit order, then the live ones."
)
AFTER = strawberry.argument(description=(
    "Resume after this change (a `cursor` this subscription delivered): every change "
    "committed since is given first, once and in order, then the live ones. A cursor no "
    "longer kept (CHANGE_RETENTION_SECONDS) or not the viewer's ends the subscription with "
    "CURSOR_EXPIRED: refetch, then subscribe without `after`. One that is not a cursor: "
    "BAD_USER_INPUT."
))


@strawberry.type(description=(
    "Live events, over the WebSocket only (graphql-transport-ws; the token goes in "
    "connection_init). The change streams (taskChanges, conversationChanges, "
    "panicEventChanges) resume: each change carries a `cursor`, and subscribing with "
    "`after` replays what was missed since it; the other streams start from now. A "
    "subscription that falls behind is ended with an `error` whose code is "
    "FELL_BEHIND (refetch, then subscribe again); one past a cap is refused with "
    "TOO_MANY_SUBSCRIPTIONS."
))
class Subscription:
    @strawberry.subscription(description=(
        "New messages of one of the viewer's conversations, the viewer's and the assistant's, "
        "as they are stored."
    ))
    async def message_added(
        self, info: Info,
        conversation_id: Annotated[strawberry.ID, strawberry.argument(description=(
            "The conversation's global id; a missing one or another user's is a NOT_FOUND error."
        ))],
    ) -> AsyncGenerator[Message, None]:
        context = info.context
        user_id = context.user_id
        key = decode_key(conversation_id, "Conversation")
        if key is None or not await reads.owns_conversation(_reader(context), user_id, key):
            raise ClientError(
                "No conversation with that id: it does not exist, was deleted, or is not yours."
                " Subscribe with an id from `conversations`.", code="NOT_FOUND",
            )
        async with aclosing(deliveries(context, frozenset({EventKind.MESSAGE}))) as events:
            async for event in events:
                row = await reads.conversation_message(_reader(context), user_id, key, event.key)
                if row is not None:
                    yield Message.from_model(row)

    @strawberry.subscription(description=(
        "An assistant reply of one of the viewer's conversations as it is written: drafts "
        "of the growing text (at most one each 100 ms, each the whole text so far), the last "
        "with done true once the reply is stored. Ephemeral and at most once; the stored "
        "message (messageAdded, conversationChanges) is the reply."
    ))
    async def message_drafts(
        self, info: Info,
        conversation_id: Annotated[strawberry.ID, strawberry.argument(description=(
            "The conversation's global id; a missing one or another user's is a NOT_FOUND error."
        ))],
    ) -> AsyncGenerator[MessageDraft, None]:
        context = info.context
        key = decode_key(conversation_id, "Conversation")
        if key is None or not await reads.owns_conversation(_reader(context), context.user_id,
                                                            key):
            raise ClientError("Not found.", code="NOT_FOUND")
        kinds = frozenset({EventKind.MESSAGE_DRAFT})
        async with aclosing(deliveries(context, kinds)) as events:
            async for event in events:
                draft = Draft.of(event.key)
                if draft is not None and draft.conversation_id == key:
                    yield MessageDraft.of(draft)

    @strawberry.subscription(description=(
        "Every change to any of the viewer's tasks, as its TaskEvent. A deletion writes no "
        "TaskEvent: taskChanges carries deletions too."
    ))
    async def task_events(self, info: Info) -> AsyncGenerator[TaskEvent, None]:
        context = info.context
        async with aclosing(deliveries(context, frozenset({EventKind.TASK_EVENT}))) as events:
            async for event in events:
                change = await _task_change(context, event)
                if change is not None and change.event is not None:
                    yield change.event

    @strawberry.subscription(description=(
        "Every change to the viewer's tasks: created, updated (fields, status, steps) and "
        f"deleted, one per task changed (a bulk mutation sends one per task). {_LIVE}"
    ))
    async def task_changes(
        self, info: Info, after: Annotated[str | None, AFTER] = None
    ) -> AsyncGenerator[TaskChange, None]:
        context = info.context
        async with aclosing(deliveries(context, TASK_KINDS, after)) as events:
            async for event in events:
                change = await _task_change(context, event)
                if change is not None:
                    yield change

    @strawberry.subscription(description=(
        "Every change to the viewer's conversations: started, renamed, a message added (each "
        f"of an exchange: the viewer's and the assistant's) and deleted. {_LIVE}"
    ))
    async def conversation_changes(
        self, info: Info, after: Annotated[str | None, AFTER] = None
    ) -> AsyncGenerator[ConversationChange, None]:
        context = info.context
        async with aclosing(deliveries(context, CONVERSATION_KINDS, after)) as events:
            async for event in events:
                change = await _conversation_change(context, event)
                if change is not None:
                    yield change

    @strawberry.subscription(description=(
        "Every change to the viewer's panic events: pressed, an exercise completed, resolved "
        f"(each once: repeating a completion or a resolution changes nothing). {_LIVE}"
    ))
    async def panic_event_changes(
        self, info: Info, after: Annotated[str | None, AFTER] = None
    ) -> AsyncGenerator[PanicEventChange, None]:
        context = info.context
        async with aclosing(deliveries(context, PANIC_KINDS, after)) as events:
            async for event in events:
                change = await _panic_change(context, event)
                if change is not None:
                    yield change
