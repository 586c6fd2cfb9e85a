"""The live layer's entry points, for every transport: a connection (`Live.connect`) and its
subscriptions (`LiveConnection.subscribe`), each refused past its cap with a code.

Caps, per process: sockets without a token (MAX_ANONYMOUS_SOCKETS; an anonymous session costs
a client one `startVisit`, so such sockets count here, not per visit), sockets of one user
(MAX_SOCKETS_PER_USER), operations in flight on one connection
(MAX_SUBSCRIPTIONS_PER_CONNECTION, queries and mutations sent over it included),
subscriptions of one user (MAX_SUBSCRIPTIONS_PER_USER) and of the process
(MAX_SUBSCRIPTIONS_PER_PROCESS).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import orjson
import strawberry
from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
)
from strawberry.schema.exceptions import CannotGetOperationTypeError

from domain.viewers import Viewer
from graph.context import Context
from graph.execution.database import RequestDatabase
from graph.extensions.documents import over_token_limit
from graph.live.budget import CostBudget
from graph.live.feeds import Feed, Subscriber
from graph.live.refusals import TOO_MANY_SOCKETS, LiveRefused, too_many_subscriptions
from graph.metrics import subscribed
from graph.settings import Settings


@dataclass(frozen=True)
class LiveRequest:
    """A subscription operation, parsed."""

    query: str
    variables: dict[str, Any]
    operation_name: str | None
    document: DocumentNode
    operation: OperationDefinitionNode


def subscription_request(
    query: str, variables: dict[str, Any] | None, operation_name: str | None, max_tokens: int
) -> LiveRequest | None:
    """The operation as a LiveRequest when it is a subscription; None for a query, a mutation,
    or a document that does not parse or names no operation (the schema refuses those)."""
    if "subscription" not in query:  # no parse for the queries and mutations sent over a socket
        return None
    try:
        document = parse(query, max_tokens=max_tokens)
    except (GraphQLError, RecursionError):  # the schema's own parse answers it as it should
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
        return None
    return LiveRequest(query, dict(variables or {}), operation_name, document, operation)


def request_errors(
    errors: list[GraphQLError], query: str, max_tokens: int
) -> list[GraphQLError]:
    """An operation's refusal before execution, coded as HTTP codes it, for a transport that
    streams it (graphql-transport-ws's `error`, graphql-sse's `next`): strawberry's stream
    hands the errors over before the extensions' last hook codes a syntax error, so it is
    coded here; an unknown operation name is HTTP's 400, BAD_REQUEST."""
    coded = []
    for error in errors:
        original = error.original_error
        if isinstance(error, GraphQLSyntaxError):
            too_many = over_token_limit(query, error, max_tokens)
            code = "TOO_MANY_TOKENS" if too_many else "GRAPHQL_PARSE_FAILED"
            error.extensions = {**(error.extensions or {}), "code": code}
        elif not (error.extensions or {}).get("code"):
            if isinstance(original, CannotGetOperationTypeError):
                error, code = GraphQLError(original.as_http_error_reason()), "BAD_REQUEST"
            else:
                code = "BAD_USER_INPUT"  # graph/errors.py's code for a request's other refusals
            error.extensions = {**(error.extensions or {}), "code": code}
        coded.append(error)
    return coded


def _canonical(variables: dict[str, Any]) -> str:
    try:
        return orjson.dumps(variables, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # an integer beyond 64 bits: the stdlib writes any
        return json.dumps(variables, sort_keys=True)


@dataclass
class _User:
    budget: CostBudget
    sockets: int = 0
    subscriptions: int = 0


# The budget of every viewer without a token: a new anonymous session costs one `startVisit`,
# so a budget each would be a budget a client can renew at will. The cost: one anonymous
# client can slow every anonymous subscriber's deliveries (never a signed-in user's).
_ANONYMOUS = "anonymous"


def _budget_holder(viewer: Viewer) -> str:
    return _ANONYMOUS if viewer.is_anonymous or viewer.user_id is None else viewer.user_id


class Live:
    """The process's live layer: its streams (`feeds`), connections' counts and budgets."""

    def __init__(
        self, settings: Settings, schema: strawberry.Schema, encode: Callable[[object], str]
    ) -> None:
        self.settings = settings
        self.schema = schema
        self.encode = encode  # JSON text, as the transports write it
        self.feeds: dict[Hashable, Feed] = {}
        self.subscriptions = 0
        self.anonymous_sockets = 0
        self.queued = 0  # characters of results waiting to be sent, every connection's
        self._users: dict[str, _User] = {}

    def connect(self, context: Context) -> LiveConnection:
        """A connection acting as `context`'s viewer; LiveRefused past a socket cap."""
        viewer, settings = context.viewer, self.settings
        if viewer.is_anonymous:
            if self.anonymous_sockets >= settings.max_anonymous_sockets:
                raise LiveRefused(
                    f"Too many connections without a token (at most "
                    f"{settings.max_anonymous_sockets}); sign in, or retry later.",
                    code=TOO_MANY_SOCKETS, limit="anonymous",
                    max=settings.max_anonymous_sockets,
                )
            self.anonymous_sockets += 1
            return LiveConnection(self, context)
        user = self._user(_budget_holder(viewer))
        if user.sockets >= settings.max_sockets_per_user:
            self._let_go(_budget_holder(viewer))
            raise LiveRefused(
                f"Too many connections for this user (at most "
                f"{settings.max_sockets_per_user}); close one, or retry later.",
                code=TOO_MANY_SOCKETS, limit="user", max=settings.max_sockets_per_user,
            )
        user.sockets += 1
        return LiveConnection(self, context)

    def disconnect(self, viewer: Viewer) -> None:
        if viewer.is_anonymous:
            self.anonymous_sockets -= 1
            return
        holder = _budget_holder(viewer)
        self._user(holder).sockets -= 1
        self._let_go(holder)

    def count_subscription(self, viewer: Viewer) -> None:
        """One more subscription; LiveRefused past the user's or the process's cap (an
        anonymous viewer's are bounded by its sockets' caps)."""
        settings = self.settings
        user = None if viewer.is_anonymous else self._users.get(_budget_holder(viewer))
        if user is not None and user.subscriptions >= settings.max_subscriptions_per_user:
            raise too_many_subscriptions("user", settings.max_subscriptions_per_user)
        if self.subscriptions >= settings.max_subscriptions_per_process:
            raise too_many_subscriptions("process", settings.max_subscriptions_per_process)
        self.subscriptions += 1
        if user is not None:
            user.subscriptions += 1

    def uncount_subscription(self, viewer: Viewer) -> None:
        self.subscriptions -= 1
        holder = _budget_holder(viewer)
        if not viewer.is_anonymous and holder in self._users:
            self._users[holder].subscriptions -= 1

    def feed_for(self, connection: LiveConnection, request: LiveRequest) -> Feed:
        """The stream of `request` as `connection`'s viewer: the running one, or a new one."""
        viewer = connection.context.viewer
        key = (viewer.user_id, viewer.is_admin, viewer.session_id, request.query,
               request.operation_name, _canonical(request.variables))
        feed = self.feeds.get(key)
        if feed is None:
            resources = connection.context.resources
            db = RequestDatabase(resources.session_factory, resources.broker, viewer)
            budget = self._user(_budget_holder(viewer)).budget
            feed = Feed(self, key, request, Context(resources, viewer, db), budget)
            self.feeds[key] = feed
            feed.start()
        return feed

    def forget(self, feed: Feed) -> None:
        if self.feeds.get(feed.key) is feed:
            del self.feeds[feed.key]

    async def stop(self) -> None:
        """At shutdown: end every stream."""
        for feed in list(self.feeds.values()):
            await feed.stop()

    def _user(self, holder: str) -> _User:
        user = self._users.get(holder)
        if user is None:
            budget = CostBudget(self.settings.live_cost_per_second, self.settings.live_cost_burst)
            user = self._users[holder] = _User(budget)
        return user

    def _let_go(self, holder: str) -> None:
        """Forget a user with no socket and no subscription left (and their budget: one
        who comes back starts with a full bucket)."""
        user = self._users.get(holder)
        if user is not None and not user.sockets and not user.subscriptions:
            del self._users[holder]


class LiveConnection:
    """One client connection (a WebSocket) acting as one viewer, and its subscriptions."""

    def __init__(self, hub: Live, context: Context) -> None:
        self.hub = hub
        self.context = context
        self.in_flight = 0  # operations: subscriptions, and queries and mutations sent over it
        self.queued = 0  # characters of results waiting to be sent on it
        self._subscribers: set[Subscriber] = set()
        self._uncount: dict[Subscriber, Callable[[], None]] = {}  # graph/metrics.py's gauge
        self._closed = False

    def admit(self) -> None:
        """One more operation in flight; LiveRefused past MAX_SUBSCRIPTIONS_PER_CONNECTION."""
        maximum = self.hub.settings.max_subscriptions_per_connection
        if self.in_flight >= maximum:
            raise too_many_subscriptions("connection", maximum)
        self.in_flight += 1

    def release(self) -> None:
        self.in_flight -= 1

    def subscribe(self, request: LiveRequest) -> Subscriber:
        """A subscriber to `request`'s stream; LiveRefused past a subscription cap."""
        self.admit()
        try:
            self.hub.count_subscription(self.context.viewer)
        except LiveRefused:
            self.release()
            raise
        feed = self.hub.feed_for(self, request)
        subscriber = Subscriber(self, feed)
        feed.attach(subscriber)
        self._subscribers.add(subscriber)
        self._uncount[subscriber] = subscribed(self.context.request, request.operation)
        return subscriber

    def forget(self, subscriber: Subscriber) -> None:
        """`subscriber` has closed."""
        if subscriber in self._subscribers:
            self._subscribers.discard(subscriber)
            self._uncount.pop(subscriber)()
            self.release()
            self.hub.uncount_subscription(self.context.viewer)

    def reserve(self, characters: int) -> bool:
        """Room for a result of `characters` in the send buffers (this connection's and the
        process's), taken; False when there is none."""
        settings = self.hub.settings
        if (self.queued + characters > settings.live_send_buffer_per_socket
                or self.hub.queued + characters > settings.live_send_buffer_per_process):
            return False
        self.queued += characters
        self.hub.queued += characters
        return True

    def unreserve(self, characters: int) -> None:
        self.queued -= characters
        self.hub.queued -= characters

    def close(self) -> None:
        """The connection ended: its subscriptions end, its socket is counted no more."""
        if self._closed:
            return
        self._closed = True
        for subscriber in list(self._subscribers):
            subscriber.close()
        self.hub.disconnect(self.context.viewer)
