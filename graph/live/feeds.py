"""One stream per distinct subscription, its results fanned out to every subscriber.

A feed runs one subscription (`schema.subscribe`) for every subscriber that sent the same
operation as the same viewer (`FeedKey`): each change is read and its result built and
encoded once, however many subscribers share it. Each subscriber has an outbox of encoded
results its transport sends from; a subscriber whose results wait past the send buffer
(its client is not reading) is ended with FELL_BEHIND, alone: the feed and the other
subscribers carry on.

A feed ends when its stream ends (an error before the first result, a refusal such as
NOT_FOUND, a stream that fell behind, a delivery that failed unexpectedly) and then every
subscriber is told the same way; or when its last subscriber leaves.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import uuid
from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from graphql import GraphQLError
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from graph.context import Context
from graph.errors import MASKED_MESSAGE, SERVICE_UNAVAILABLE
from graph.extensions.analysis import analyse, effective_variables
from graph.live.budget import DELIVERY_OVERHEAD, SEND_OVERHEAD, CostBudget
from graph.live.refusals import FELL_BEHIND, fell_behind_errors
from graph.live.resume import RESUME_REFUSALS
from graph.observability import FirstThenCounted, request_id

if TYPE_CHECKING:
    from graph.live.hub import Live, LiveConnection, LiveRequest

logger = logging.getLogger(__name__)
# Many stalled clients fall behind alike: the first logged, the rest counted.
SLOW_CLIENTS = FirstThenCounted(logger, "subscribers falling behind their clients",
                                level=logging.WARNING)
# A delivery that failed so: its result is sent, then the stream ends (complete).
_ENDS_THE_STREAM = frozenset({"INTERNAL_SERVER_ERROR", SERVICE_UNAVAILABLE})
_INCREMENTAL = "Incremental delivery is not supported by subscriptions."
FAN_OUT_STEP = 16  # subscribers woken before the event loop runs anything else


@dataclass(frozen=True)
class Delivery:
    """What a transport sends for one subscription: a result (`next`, the GraphQL response
    as JSON text) or the error that ends it (`error`, a JSON list of GraphQL errors)."""

    kind: Literal["next", "error"]
    payload: str


@dataclass(frozen=True)
class Ending:
    errors: list[dict[str, Any]] | None = None  # None: the stream completed


COMPLETED = Ending()


class Feed:
    def __init__(
        self, hub: Live, key: Hashable, request: LiveRequest, context: Context,
        budget: CostBudget | None,
    ) -> None:
        self.hub = hub
        self.key = key
        self.request = request
        self.context = context
        self.budget = budget
        self.subscribers: dict[Subscriber, None] = {}  # a set that keeps the order of joining
        self.results = 0  # deliveries run (each read and built once, for every subscriber)
        self._cost: int | None = None
        self._running = False  # a delivery paid for has not produced its result yet
        self._task: asyncio.Task[None] | None = None
        # Listening from now, before the stream runs: a change committed after the
        # subscription was accepted reaches it (the resolver keeps only its kinds).
        user_id = context.viewer.user_id
        self.reader = context.resources.broker.reader(user_id) if user_id is not None else None
        context.live_stream = self

    def start(self) -> None:
        # Its own contextvars: the stream outlives the request that started it.
        self._task = asyncio.get_running_loop().create_task(
            self._run(), context=contextvars.Context()
        )

    def attach(self, subscriber: Subscriber) -> None:
        self.subscribers[subscriber] = None

    def detach(self, subscriber: Subscriber) -> None:
        self.subscribers.pop(subscriber, None)
        if not self.subscribers:
            self.hub.forget(self)
            if self._task is not None:
                self._task.cancel()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def pace(self) -> None:
        """Pay for the next delivery from the viewer's budget, waiting if it is spent."""
        if self.budget is None:
            return
        self._finished()  # the last event paid for delivered nothing (its row was gone)
        if self._cost is None:  # measured once the stream runs: its document is valid then
            request = self.request
            variables = effective_variables(request.operation, request.variables)
            self._cost = analyse(
                self.hub.schema._schema, request.document, request.operation, variables,
                self.hub.settings.max_page_size,
            ).cost
        await self.budget.spend(
            self._cost + DELIVERY_OVERHEAD + SEND_OVERHEAD * len(self.subscribers)
        )
        self._running = True

    def _finished(self) -> None:
        if self._running and self.budget is not None:
            self._running = False
            self.budget.finished()

    async def _run(self) -> None:
        request_id.set(f"live-{uuid.uuid4().hex[:12]}")  # groups the stream's log lines
        ending = COMPLETED
        try:
            ending = await self._stream()
        except Exception as error:  # strawberry turns a stream's failures into results
            error_id = uuid.uuid4().hex
            logger.error("live stream failed: error %s", error_id, exc_info=error)
            extensions = {"code": "INTERNAL_SERVER_ERROR", "errorId": error_id}
            ending = Ending([{"message": MASKED_MESSAGE, "extensions": extensions}])
        finally:
            self._finished()
            self.hub.forget(self)  # no one joins a stream that is ending
            for subscriber in list(self.subscribers):
                subscriber.finish(ending)
            if self.reader is not None:
                self.reader.close()
            await self.context.db.close()

    async def _stream(self) -> Ending:
        request = self.request
        stream = await self.hub.schema.subscribe(
            request.query, variable_values=request.variables, context_value=self.context,
            operation_name=request.operation_name,
        )
        first = True
        async with aclosing(stream):
            async for result in stream:
                ending = await self._deliver(result, first=first)
                first = False
                if ending is not None:
                    return ending
        return COMPLETED

    async def _deliver(self, result: Any, *, first: bool) -> Ending | None:
        """Fan out one result; the stream's ending when it ends here."""
        self._finished()
        if first and isinstance(result, PreExecutionError):
            return Ending([dict(error.formatted) for error in result.errors or ()])
        if not isinstance(result, ExecutionResult):
            return Ending([dict(GraphQLError(_INCREMENTAL).formatted)])
        codes = {(error.extensions or {}).get("code") for error in result.errors or ()}
        if FELL_BEHIND in codes:
            return Ending(fell_behind_errors())
        if first and result.data is None and codes and codes <= RESUME_REFUSALS:
            # A cursor it cannot resume from (graph/live/resume.py): the operation's `error`.
            return Ending([dict(error.formatted) for error in result.errors or ()])
        self.results += 1
        payload: dict[str, Any] = {"data": result.data}
        if result.errors:
            payload["errors"] = [error.formatted for error in result.errors]
        if result.extensions:
            payload["extensions"] = result.extensions
        text = self.hub.encode(payload)
        for number, subscriber in enumerate(list(self.subscribers), 1):
            subscriber.push(text)
            if not number % FAN_OUT_STEP:
                # Let the subscribers woken so far send before waking more: 400 sends in
                # one go held the event loop ~20 ms, and every step of another user's
                # request waited behind them (its median latency went 2.5 -> 11 ms).
                await asyncio.sleep(0)
        # A masked failure ends the stream (docs: "ends that subscription"): the client
        # resubscribes rather than trusting a stream that failed halfway.
        return COMPLETED if codes & _ENDS_THE_STREAM else None


class Subscriber:
    """One subscription of one connection: an outbox of its feed's results."""

    def __init__(self, connection: LiveConnection, feed: Feed) -> None:
        self.connection = connection
        self.feed = feed
        self._outbox: deque[str] = deque()
        self._queued = 0  # characters in the outbox
        self._wake = asyncio.Event()
        self._ending: Ending | None = None
        self._told = False
        self._closed = False

    def push(self, text: str) -> None:
        if self._ending is not None or self._closed:
            return
        if not self.connection.reserve(len(text)):
            self._fall_behind()
            return
        self._outbox.append(text)
        self._queued += len(text)
        self._wake.set()

    def finish(self, ending: Ending) -> None:
        """The feed ended: what is queued is still sent, then the ending."""
        if self._ending is None:
            self._ending = ending
            self._wake.set()

    async def next(self) -> Delivery | None:
        """The next thing to send; None once the subscription completed."""
        while True:
            if self._outbox:
                text = self._outbox.popleft()
                self._queued -= len(text)
                self.connection.unreserve(len(text))
                return Delivery("next", text)
            if self._ending is not None:
                if self._ending.errors is None or self._told:
                    return None
                self._told = True
                return Delivery("error", self.connection.hub.encode(self._ending.errors))
            self._wake.clear()
            await self._wake.wait()

    def close(self) -> None:
        """The transport is done with it (sent its end, or the client left): let go."""
        if self._closed:
            return
        self._closed = True
        self._drop_outbox()
        self.feed.detach(self)
        self.connection.forget(self)

    def _fall_behind(self) -> None:
        SLOW_CLIENTS.failed("a subscriber fell behind (%d characters waiting to be sent); it "
                            "is told FELL_BEHIND", self._queued, exc_info=None)
        self._drop_outbox()
        self._ending = Ending(fell_behind_errors())
        self._wake.set()
        self.feed.detach(self)

    def _drop_outbox(self) -> None:
        self.connection.unreserve(self._queued)
        self._outbox.clear()
        self._queued = 0
