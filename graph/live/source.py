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

from domain.events import Event
from graph.context import Context
from graph.errors import ClientError
from graph.live.refusals import FELL_BEHIND, FELL_BEHIND_MESSAGE
from graph.pubsub import FellBehind


async def deliveries(context: Context, kinds: Collection[str]) -> AsyncGenerator[Event, None]:
    """The viewer's events of `kinds`, in commit order; `FELL_BEHIND` if they waited past the
    backlog (graph/pubsub.py). In a live stream the events are its reader's, which listens
    from the moment the subscription was accepted; elsewhere (a test running the schema
    alone) from now, unpaced."""
    user_id = context.user_id
    stream = context.live_stream
    reader = stream.reader if stream is not None else None
    own = reader is None
    if reader is None:
        reader = context.resources.broker.reader(user_id, kinds)
    else:
        reader.keep_only(kinds)
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
