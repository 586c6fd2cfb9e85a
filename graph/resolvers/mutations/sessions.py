"""Visits: `startVisit` issues a visit credential; `claimSession` lets a signed-in user take
over the data of their anonymous visit, given that credential."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry

from domain import sessions as service
from domain.transactions import Session
from graph.context import Info, request_ip
from graph.errors import NotAuthenticated
from graph.resolvers.mutations.base import in_transaction, mutation
from graph.types.errors import (
    AlreadyClaimedError,
    NotFoundError,
    RateLimitedError,
    payload_union,
)


@strawberry.type(description="A new visit: send its credential as X-Session-Id from now on.")
class StartVisitSuccess:
    session_id: str = strawberry.field(description=(
        "The visit's credential (46 characters): send it as the X-Session-Id header on every "
        "request of the visit, and as claimSession's sessionId. It is the visit's bearer "
        "secret: keep it as you keep a token, never in a URL."
    ))


StartVisitPayload: TypeAlias = Annotated[
    StartVisitSuccess | RateLimitedError,
    payload_union("StartVisitPayload", "startVisit"),
]


@strawberry.input(description="The anonymous visit to claim.")
class ClaimSessionInput:
    session_id: str = strawberry.field(description=(
        "The visit's credential, as startVisit answered it (at most 64 characters); it must "
        "also be this request's X-Session-Id header."
    ))


@strawberry.type(description="The visit's data now belongs to the viewer.")
class ClaimSessionSuccess:
    session_id: str = strawberry.field(
        description="The claimed visit's id (as `viewer.sessionId` shows it; not a credential)."
    )
    tasks_moved: int = strawberry.field(description="Tasks moved to the viewer.")
    conversations_moved: int = strawberry.field(description="Conversations moved to the viewer.")
    panic_events_moved: int = strawberry.field(description="Panic events moved to the viewer.")
    audit_entries_moved: int = strawberry.field(
        description="Audit entries moved to the viewer (the visit's AI generations)."
    )


ClaimSessionPayload: TypeAlias = Annotated[
    # AlreadyClaimedError is never answered: a deprecated member, kept for old operations.
    ClaimSessionSuccess | NotFoundError | AlreadyClaimedError,
    payload_union("ClaimSessionPayload", "claimSession"),
]


@strawberry.type
class SessionMutations:
    @mutation(
        description="Start a visit: the server issues its credential (a client never makes "
        "one; X-Session-Id values the server did not issue are refused with HTTP 400 "
        "INVALID_SESSION_ID). Needs a token, or ANONYMOUS_SESSIONS on. Writes nothing: the "
        "visit is recorded by its first request with an identity. A client may start a "
        "bounded number of visits an hour (VISIT_STARTS_PER_HOUR); past it, RateLimitedError."
    )
    async def start_visit(self, info: Info) -> StartVisitPayload:
        context = info.context
        viewer = context.viewer
        signed_in = viewer.user_id is not None and not viewer.is_anonymous
        if not signed_in and not context.settings.anonymous_sessions:
            raise NotAuthenticated()
        credential = context.resources.visits.start(
            user_id=viewer.user_id if signed_in else None,
            ip=request_ip(context.resources, context.request) if context.request else None,
        )
        return StartVisitSuccess(session_id=credential.text)

    @mutation(
        description="Move what the anonymous visit owns now (tasks, conversations, panic "
        "events, audit entries) to the signed-in viewer. Send the visit's credential both as "
        "X-Session-Id and as `sessionId`: the credential, not the visit's id, is the proof. "
        "The first user to claim a visit keeps it: they may claim again later to pick up "
        "newer work; to anyone else it is a NotFoundError."
    )
    async def claim_session(
        self,
        info: Info,
        input: Annotated[
            ClaimSessionInput,
            strawberry.argument(description="The visit to claim."),
        ],
    ) -> ClaimSessionPayload:
        context = info.context
        viewer = context.viewer
        if viewer.is_anonymous:
            raise NotAuthenticated()
        credential = service.claimable(context.resources.visits.verify, input.session_id,
                                       viewer.session_id)

        async def work(session: Session, user_id: str) -> ClaimSessionSuccess:
            claimed = await service.claim_visit(session, user_id, credential, input.session_id)
            return ClaimSessionSuccess(
                session_id=claimed.visit_id,
                tasks_moved=claimed.tasks,
                conversations_moved=claimed.conversations,
                panic_events_moved=claimed.panic_events,
                audit_entries_moved=claimed.audit_entries,
            )

        return await in_transaction(info, work)
