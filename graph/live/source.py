"""The events a subscription's resolver delivers (graph/resolvers/subscriptions.py), each
read through its own session and loaders, and paid for from the viewer's live budget.

A stream's deliveries run one after another (graphql-core executes one event before it asks
for the next), so when the resolver asks for the next event the previous delivery's fields
are resolved: its session is closed and a new one (with new loaders) serves the next. No
row read by one delivery is read by another, and no session outlives its delivery or waits
with a connection. (Before, every subscription of a socket shared the socket's session, and
one subscription's end-of-delivery rollback expired the rows another was reading:
MissingGreenlet, answered as INTERNAL_SERVER_ERROR.)
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Collection

from domain.events import Event, as_events, changes_after, latest_change
from graph.context import Context
from graph.errors import ClientError
from graph.live.refusals import FELL_BEHIND, FELL_BEHIND_MESSAGE
from graph.live.resume import resume_point
from graph.pubsub import FellBehind, Fetch, Head


async def deliveries(
    context: Context, kinds: Collection[str], after: str | None = None
) -> AsyncGenerator[Event, None]:
    """The viewer's events of `kinds`, in commit order; `FELL_BEHIND` if they waited past the
    backlog (graph/pubsub/). In a live stream the events are its reader's, which listens
    from the moment the subscription was accepted; elsewhere (a test running the schema
    alone) from now, unpaced. With `after` (a change's cursor, graph/live/resume.py), first
    every change recorded after that one: CURSOR_EXPIRED or BAD_USER_INPUT, before any
    delivery, for a cursor that cannot be resumed from."""
    user_id = context.user_id
    resumed = await resume_point(context, after) if after is not None else None
    stream = context.live_stream
    reader = stream.reader if stream is not None else None
    own = reader is None
    if reader is None:
        reader = context.resources.broker.reader(user_id, kinds)
    else:
        reader.keep_only(kinds)
    reader.read_through(*_reads(context))
    if resumed is not None:
        reader.resume(resumed)
    else:
        await reader.place()
    try:
        while True:
            await context.renew_reads()
            try:
                event = await reader.get()
            except FellBehind as error:
                raise ClientError(FELL_BEHIND_MESSAGE, code=FELL_BEHIND) from error
            if stream is not None:
                await stream.pace()
            yield event
    finally:
        if own:
            reader.close()
        await context.db.close()


def _reads(context: Context) -> tuple[Fetch, Head]:
    """The stream reads the outbox through its delivery's session (renewed per delivery),
    under its lock like every read of the stream, acting for its viewer."""

    async def fetch(user_id: str, after: int, kinds: Collection[str] | None,
                    limit: int) -> list[Event]:
        # A snapshot of its own: a read transaction keeps its first statement's snapshot
        # (REPEATABLE READ; SQLite's WAL), and a page read after a wake in the same one as
        # an earlier page would not see what the wake announced. Nothing is lost by ending
        # it: a page is read between deliveries, never during one.
        await context.db.release()
        return as_events(await context.db.rows(changes_after(user_id, after, kinds, limit)))

    async def head(user_id: str) -> int:
        return int(await context.db.scalar(latest_change(user_id)) or 0)

    return fetch, head
