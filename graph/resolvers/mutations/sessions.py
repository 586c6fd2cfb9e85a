"""`claimSession`: a signed-in user takes over the data of their anonymous visit."""

from __future__ import annotations

from typing import Annotated, TypeAlias

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

import models
from domain import sessions as service
from domain.errors import NotFound
from domain.visits import InvalidSessionId, parse_session_id
from graph.context import Info
from graph.errors import NotAuthenticated
from graph.resolvers.mutations.base import in_transaction, mutation
from graph.types.errors import NotFoundError, payload_union


@strawberry.input(description="The anonymous visit to claim.")
class ClaimSessionInput:
    session_id: str = strawberry.field(description=(
        "The anonymous visit's X-Session-Id (a UUID, at most 64 characters); it must also be "
        "this request's X-Session-Id header."
    ))


@strawberry.type(description="The visit's data now belongs to the viewer.")
class ClaimSessionSuccess:
    session_id: str = strawberry.field(description="The claimed visit's id.")
    tasks_moved: int = strawberry.field(description="Tasks moved to the viewer.")
    conversations_moved: int = strawberry.field(description="Conversations moved to the viewer.")
    panic_events_moved: int = strawberry.field(description="Panic events moved to the viewer.")
    audit_entries_moved: int = strawberry.field(
        description="Audit entries moved to the viewer (the visit's AI generations)."
    )


ClaimSessionPayload: TypeAlias = Annotated[
    ClaimSessionSuccess | NotFoundError,
    payload_union("ClaimSessionPayload", "claimSession"),
]


@strawberry.type
class SessionMutations:
    @mutation(
        description="Move what the anonymous visit owns now (tasks, conversations, panic "
        "events, audit entries) to the signed-in viewer. Send it with the same X-Session-Id. "
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
        viewer = info.context.viewer
        if viewer.is_anonymous:
            raise NotAuthenticated()
        try:
            session_id = parse_session_id(input.session_id)
        except InvalidSessionId as malformed:
            raise NotFound(models.Visit, None, named=input.session_id) from malformed
        # Only the visit this request comes from: the header must name it too (no proof of
        # possession: docs/decisions.md, "The visit id is a bearer secret").
        if session_id != viewer.session_id:
            raise NotFound(models.Visit, session_id, named=input.session_id)

        async def work(session: AsyncSession, user_id: str) -> ClaimSessionSuccess:
            moved = await service.claim(session, session_id=session_id, user_id=user_id)
            return ClaimSessionSuccess(
                session_id=session_id,
                tasks_moved=moved[models.Task],
                conversations_moved=moved[models.Conversation],
                panic_events_moved=moved[models.PanicEvent],
                audit_entries_moved=moved[models.AuditLog],
            )

        return await in_transaction(info, work)
