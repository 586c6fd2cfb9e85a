"""Reply drafts: while the assistant writes a reply, the subscribers of its conversation see
the text grow (`messageDrafts`), then the message itself is stored once, as before
(`conversationChanges`, `messageAdded`).

A draft is ephemeral: it is published straight to the broker (`LocalBroker.announce`, on
PostgreSQL a NOTIFY outside any transaction), never staged on a session, never written to a
table, never replayed. Delivery is at most once, like every live event: a subscriber that
joins late sees the next draft, not the earlier ones, and the final stored message is the
truth.

Bounds: a draft is published at most every `INTERVAL_SECONDS` (the first piece at once; the
pieces in between are folded into the next draft, which carries the whole text so far, not a
delta: a missed draft loses nothing). Its text is cut so the event fits a NOTIFY payload
(`PAYLOAD_MAX_BYTES`, under PostgreSQL's 8,000): a longer reply's drafts show its beginning
with `truncated: true`; the stored message is whole. After the exchange is stored, one last
draft with `done: true` (and the final text, cut the same way) tells subscribers to drop it.
A conversation being started has no drafts (nobody can subscribe to it yet).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson

from domain.assistant.conversation import ReplyText
from domain.events import Event, EventKind
from graph.pubsub import LocalBroker

INTERVAL_SECONDS: Final = 0.1
PAYLOAD_MAX_BYTES: Final = 7_900


@dataclass(frozen=True)
class Draft:
    conversation_id: str
    draft_id: str
    text: str
    done: bool
    truncated: bool

    @classmethod
    def of(cls, key: int | str) -> Draft | None:
        """The draft an event's key carries; None for anything malformed."""
        try:
            body: Any = orjson.loads(key) if isinstance(key, str) else None
            return cls(str(body["c"]), str(body["d"]), str(body["t"]), bool(body["done"]),
                       bool(body["cut"]))
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return None


def _event(user_id: str, conversation_id: str, draft_id: str, text: str, *,
           done: bool) -> Event:
    """The draft as an event whose NOTIFY payload ([kind, owner, key]) fits the limit."""
    cut = False
    while True:
        key = orjson.dumps({"c": conversation_id, "d": draft_id, "t": text, "done": done,
                            "cut": cut}).decode()
        event = Event(EventKind.MESSAGE_DRAFT, user_id, key)
        size = len(orjson.dumps([event.kind, user_id, key]))
        if size <= PAYLOAD_MAX_BYTES:
            return event
        # Escaping may make a character cost up to ~12 bytes: shrink in proportion, then
        # check again (a few rounds at most).
        text, cut = text[: max(0, len(text) * PAYLOAD_MAX_BYTES // size - 16)], True


class DraftPublisher:
    """The hook a chat turn streams its reply to (`on_text`), publishing throttled drafts;
    `finish` publishes the last one once the reply is stored."""

    def __init__(self, broker: LocalBroker, user_id: str, conversation_id: str,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._broker, self._user, self._conversation = broker, user_id, conversation_id
        self._clock = clock
        self._last = float("-inf")
        self.published = 0

    async def grown(self, reply: ReplyText) -> None:
        now = self._clock()
        if now - self._last < INTERVAL_SECONDS or not reply.text:
            return
        self._last = now
        await self._publish(reply.stream_id, reply.text, done=False)

    async def finish(self, draft_id: str, text: str) -> None:
        if self.published:  # a reply that never streamed needs no "drop your draft"
            await self._publish(draft_id, text, done=True)

    async def _publish(self, draft_id: str, text: str, *, done: bool) -> None:
        self.published += 1
        await self._broker.announce(_event(self._user, self._conversation, draft_id, text,
                                           done=done))

