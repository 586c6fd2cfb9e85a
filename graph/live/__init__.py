"""Live subscriptions, for every transport: shared streams, caps, budgets, backpressure.

A transport (the WebSocket, graph/http/websocket.py; Server-Sent Events, graph/http/sse.py)
is a thin user of this package:
it opens a `LiveConnection` once it knows who the client is (`Live.connect`), hands it each
subscription operation (`LiveConnection.subscribe`, after `subscription_request` told a
subscription from a query or a mutation), and sends what the `Subscriber` gives it. Every
policy is decided here, so it is the same on every transport:

- **Shared streams** (graph/live/feeds.py): identical subscriptions of one viewer (the same
  user, admin flag and session; the same document, operation name and variables) share one
  stream in the process, so a change is read once per selection and its result built and
  encoded once, then fanned out. 400 identical subscriptions cost one delivery per change.
- **Fresh reads** (graph/live/source.py): each delivery reads through a session and loaders
  of its own; a stream never shares them with another, nor with the socket.
- **A budget per user** (graph/live/budget.py): each delivery pays its operation's estimated
  cost and its overheads; past the budget the user's deliveries wait, not other users', and
  they run a few at a time. That is what bounds 400 distinct selections, which sharing
  cannot.
- **Bounded waiting, never a silent drop**: events waiting per user and per process
  (graph/pubsub/), results waiting to be sent per socket and per process (feeds.py,
  hub.py): past a bound, the subscription furthest behind ends with an `error` FELL_BEHIND;
  the others carry on.
- **Resuming** (graph/live/resume.py): a change stream given `after` (a cursor it
  delivered) first replays the viewer's changes since, from the change outbox, then goes on
  live, with no gap and no duplicate; such a stream is never shared.
- **Caps with codes** (graph/live/hub.py): sockets (anonymous, per user), operations per
  connection, subscriptions per user and per process.
"""

from graph.live.feeds import Delivery, Feed, Subscriber
from graph.live.hub import (
    Live,
    LiveConnection,
    LiveRequest,
    request_errors,
    subscription_request,
)
from graph.live.refusals import FELL_BEHIND, TOO_MANY_SUBSCRIPTIONS, LiveRefused

# What a live stream's resolvers see of it (`Context.live_stream`).
LiveStream = Feed

__all__ = [
    "FELL_BEHIND",
    "TOO_MANY_SUBSCRIPTIONS",
    "Delivery",
    "Live",
    "LiveConnection",
    "LiveRefused",
    "LiveRequest",
    "LiveStream",
    "Subscriber",
    "request_errors",
    "subscription_request",
]
