"""Claiming an anonymous visit: its tasks, conversations and panic events move to the user."""

from __future__ import annotations

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain import scope
from domain.errors import Conflict, NotFound
from domain.viewers import anonymous_user_id
from models import Visit
from models.base import utcnow
from models.rls import permit_claim

ALREADY_CLAIMED = "ALREADY_CLAIMED"


async def claim(session: AsyncSession, *, session_id: str, user_id: str) -> dict[type, int]:
    """Mark the visit claimed by `user_id`, then move the visitor's rows (each model the
    ownership declares claimed: the rows moved, by model); one transaction.

    The guarded UPDATE is the "once": of two concurrent claims only one matches the row.
    """
    now = utcnow()
    marked = await session.execute(
        update(Visit)
        .where(
            Visit.session_id == session_id,
            Visit.claimed_at.is_(None),
            or_(Visit.user_id.is_(None), Visit.user_id == user_id),
        )
        .values(claimed_by=user_id, claimed_at=now, user_id=user_id)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]  # DML results carry rowcount
        visit = await session.get(Visit, session_id)
        if visit is not None and visit.claimed_by == user_id:
            raise Conflict(ALREADY_CLAIMED, "This visit was claimed already.")
        raise NotFound(Visit, session_id)
    visitor = anonymous_user_id(session_id)
    # Row-level security shows a viewer only its own rows; this transaction may also move
    # the visitor's (PostgreSQL: one statement).
    await permit_claim(session, visitor)
    moved: dict[type, int] = {}
    for model in scope.CLAIMED:  # what the ownership declares claimable
        owner = scope.OWNERSHIP[model].owner
        result = await session.execute(
            update(model)
            .where(owner == visitor)
            .values({owner.key: user_id})
            .execution_options(synchronize_session=False)
        )
        moved[model] = int(result.rowcount)  # type: ignore[attr-defined]  # as above
    return moved


async def known_visit(session: AsyncSession, session_id: str | None) -> str | None:
    """The visit id if its sessions row exists, else None.

    The request context records the visit before resolvers run, but that write may have failed
    (it is bookkeeping, and never fails the request) or the row may have gone since; a
    dangling id would break the foreign key and with it the whole write. The row is held with
    FOR KEY SHARE until commit, so it cannot be deleted between this check and the insert.
    """
    if session_id is None:
        return None
    statement = (
        select(Visit.session_id)
        .where(Visit.session_id == session_id)
        .with_for_update(read=True, key_share=True)
    )
    found: str | None = await session.scalar(statement)
    return found
