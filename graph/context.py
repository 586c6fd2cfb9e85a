"""The per-request context: who is asking, database access and the loader registry."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

import strawberry
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection
from strawberry.fastapi import BaseContext

from domain.viewers import Viewer, anonymous_user_id
from domain.visit_credentials import InvalidVisitCredential, VisitCredential
from domain.visits import Visits, client_ip
from graph.auth import AuthenticationFailed, TokenVerifier, viewer_from_claims
from graph.errors import BadRequest, NotAuthenticated, database_unavailable
from graph.execution.database import RequestDatabase
from graph.execution.loaders import Loaders
from graph.http.persisted import PersistedQueries
from graph.observability import FirstThenCounted
from graph.pubsub import LocalBroker
from graph.settings import Settings
from models.base import utcnow

if TYPE_CHECKING:
    from domain.assistant import Assistant
    from graph.live import Live, LiveConnection, LiveStream

logger = logging.getLogger(__name__)
# A visit's first request in a process records it: during an outage each such one fails.
VISIT_FAILURES = FirstThenCounted(logger, "recording visits failed", level=logging.WARNING)


@dataclass
class Resources:
    """What the app owns for its lifetime; built in the lifespan, read by every request."""

    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    verifier: TokenVerifier
    visits: Visits
    assistant: Assistant
    broker: LocalBroker
    persisted_queries: PersistedQueries
    live: Live  # subscriptions: shared streams, caps, budgets (graph/live/)


class Context(BaseContext):
    def __init__(self, resources: Resources, viewer: Viewer, db: RequestDatabase) -> None:
        super().__init__()
        self.resources = resources
        self.settings = resources.settings
        self.viewer = viewer
        self.db = db
        self.loaders = Loaders(db, viewer)

    def act_as(self, viewer: Viewer) -> None:
        """Switch identity (a WebSocket authenticates after its context exists)."""
        self.viewer = viewer
        self.db.act_as(viewer)
        self.loaders = Loaders(self.db, viewer)

    @property
    def user_id(self) -> str:
        """The owner id every query is scoped by; refuses a request with no identity."""
        return self.require_identity()

    def require_identity(self) -> str:
        """The one viewer guard: the owner id, or UNAUTHENTICATED for a request with none."""
        if self.viewer.user_id is None:
            raise NotAuthenticated()
        return self.viewer.user_id

    # Live subscriptions (graph/live/). A subscription runs in a stream with a context of
    # its own (`live_stream`: its reader of events and its pace), shared by every identical
    # subscription of the process. A WebSocket's context holds its place in the live layer
    # (`live_connection`, from connection_init on) and gives each query or mutation sent
    # over it a context of its own (`for_operation`).
    live_stream: LiveStream | None = None
    live_connection: LiveConnection | None = None

    def for_operation(self) -> Context:
        """This context's identity and request, with a session and loaders of its own: the
        operations of one socket run side by side, and one's rollback must not expire the
        rows another reads."""
        resources = self.resources
        db = RequestDatabase(resources.session_factory, resources.broker, self.viewer)
        context = Context(resources, self.viewer, db)
        context.request, context.connection_params = self.request, self.connection_params
        context.response, context.background_tasks = self.response, self.background_tasks
        return context

    async def renew_reads(self) -> None:
        """Close this context's session and start a new one, with new loaders: what the next
        delivery reads is fresh, and nothing it reads can be expired by the last one."""
        previous = self.db
        self.db = RequestDatabase(self.resources.session_factory, self.resources.broker,
                                  self.viewer)
        self.loaders = Loaders(self.db, self.viewer)
        await previous.close()


Info: TypeAlias = strawberry.Info[Context, None]


# A client tells this refusal apart to drop its stored credential and start a new visit.
INVALID_SESSION_ID = "INVALID_SESSION_ID"
INVALID_SESSION_MESSAGE = (
    "X-Session-Id is not a visit credential this server issued; a client-made id (a UUID, "
    "say) is refused. Start a visit with the `startVisit` mutation and send the `sessionId` "
    "it answers, or send no X-Session-Id."
)


def resolve_viewer(
    resources: Resources, authorization: str | None, session_id: str | None
) -> Viewer:
    """Who the request acts as. `session_id` is the id of a visit whose credential verified:
    with ANONYMOUS_SESSIONS on, a request without a token acts as `session:<id>`."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationFailed("Authorization must be 'Bearer <token>'")
        claims = resources.verifier.verify(token.strip())
        return viewer_from_claims(claims, session_id)
    if session_id is not None and resources.settings.anonymous_sessions:
        return Viewer(user_id=anonymous_user_id(session_id), session_id=session_id)
    return Viewer(user_id=None, session_id=session_id)


def visit_credential(resources: Resources, header: str | None) -> VisitCredential | None:
    """The request's X-Session-Id, verified; HTTP 400 INVALID_SESSION_ID if the server did
    not issue it."""
    if header is None:
        return None
    try:
        return resources.visits.verify(header)
    except InvalidVisitCredential as error:
        raise BadRequest(INVALID_SESSION_MESSAGE, code=INVALID_SESSION_ID) from error


def request_ip(resources: Resources, connection: HTTPConnection) -> str | None:
    """The client's address (X-Forwarded-For believed only from TRUSTED_PROXIES)."""
    peer = connection.client.host if connection.client else None
    return client_ip(
        peer, connection.headers.get("x-forwarded-for"), resources.settings.trusted_proxies
    )


async def get_context(connection: HTTPConnection) -> AsyncIterator[Context]:
    """FastAPI dependency: one Context per HTTP request or WebSocket connection."""
    resources: Resources = connection.app.state.resources
    credential = visit_credential(resources, connection.headers.get("x-session-id"))
    session_id = credential.visit_id if credential is not None else None
    viewer = resolve_viewer(resources, connection.headers.get("authorization"), session_id)
    db = RequestDatabase(resources.session_factory, resources.broker, viewer)
    try:
        # No write without an identity: a signed-in user's visit, or an anonymous visitor's
        # when ANONYMOUS_SESSIONS is on (only then has it one). A request with neither
        # writes nothing, whatever it sends.
        if session_id is not None and viewer.user_id is not None:
            await _record_visit(resources, db, connection, viewer, session_id)
        yield Context(resources, viewer, db)
    finally:
        await db.close()  # never raises: this runs after the response is sent


async def _record_visit(
    resources: Resources,
    db: RequestDatabase,
    connection: HTTPConnection,
    viewer: Viewer,
    session_id: str,
) -> None:
    user_id = None if viewer.is_anonymous else viewer.user_id
    if not resources.visits.due(session_id, user_id, utcnow()):
        return
    try:
        async with db.transaction() as session:
            await resources.visits.record(
                session,
                session_id=session_id,
                user_id=user_id,
                user_agent=connection.headers.get("user-agent"),
                ip=request_ip(resources, connection),
            )
    except Exception as error:
        # A visit is bookkeeping: failing to record one must not fail the request itself,
        # nor must an outage (asyncpg's refused connect is a bare OSError, no SQLAlchemyError).
        if not isinstance(error, SQLAlchemyError) and not database_unavailable(error):
            raise
        resources.visits.forget(session_id, user_id)
        # The visit id is not the credential, but it is the visitor's owner id: its first
        # eight characters tell visits apart.
        VISIT_FAILURES.failed("could not record visit %s...", session_id[:8], exc_info=error)
    else:
        VISIT_FAILURES.recovered()
