"""Live events for subscriptions: in-process on SQLite, PostgreSQL LISTEN/NOTIFY across processes.

Every change is recorded in the change outbox (models/outbox.py) in the transaction that
makes it (`publish`, just before its commit; `domain.events.record`), so a rolled-back change
is never recorded nor announced. The announcement only wakes readers: a reader then reads its
user's outbox after the last id it read, through a session of its own acting for that user
(row-level security applies), a page (`PAGE`) at a time. So what a reader is given is the
outbox's order (commit order), with no gap and no duplicate whether it reads what was just
committed or replays from a client's cursor (`Reader.resume`), and a lost announcement costs
a delay, never a change:

- `publish(session, events)` runs inside the write transaction, just before its commit. On
  PostgreSQL it is one statement, `record_changes` (migration 0010): the rows, then one
  NOTIFY per owner (`[owner, {kind: count}, highest id]`), which PostgreSQL sends on commit
  and drops on rollback; a failure there fails (and rolls back) the mutation.
- `committed(events)` runs after the commit; the in-process broker wakes its readers there.
- A LISTEN connection that was lost and is back wakes every reader: each reads what it
  missed meanwhile from the outbox.

What waits to be delivered is bounded, and nothing is dropped unseen. Each reader (one per
running subscription stream, `subscribe`) counts the announced changes of the kinds it asked
for that it has not read yet; those waiting across all of one user's readers are at most
`Backlog.per_user`, and across the process at most `Backlog.per_process`. Past a bound, the
reader furthest behind (the most waiting: of that user, or of the user with the most waiting)
is cut: its next `get` raises `FellBehind`, which its subscriber is told (graph/live/source.py).
Every other reader keeps everything. (The outbox keeps the changes, so a cut client can
resume from its last cursor: graph/live/resume.py.) A replay is not counted: its changes wait
in the database, read a page at a time at the stream's pace.

The package: `reader.py` (a stream's reader, the backlog, the outbox reads), `local.py` (the
in-process broker), `postgres.py` (NOTIFY/LISTEN across processes, `build_broker`).
"""

from graph.pubsub.local import EPHEMERAL_KINDS, LocalBroker
from graph.pubsub.postgres import CHANNEL, PostgresBroker, build_broker
from graph.pubsub.reader import Backlog, FellBehind, Fetch, Head, Reader, outbox_reads

__all__ = [
    "CHANNEL",
    "EPHEMERAL_KINDS",
    "Backlog",
    "FellBehind",
    "Fetch",
    "Head",
    "LocalBroker",
    "PostgresBroker",
    "Reader",
    "build_broker",
    "outbox_reads",
]
