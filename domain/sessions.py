"""Claiming an anonymous visit: what the visitor owns (tasks, conversations, panic events,
audit entries) moves to the signed-in user."""

from __future__ import annotations

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain import scope
from domain.errors import NotFound
from domain.viewers import anonymous_user_id
from models import Visit
from models.base import utcnow
from models.rls import permit_claim


async def claim(session: AsyncSession, *, session_id: str, user_id: str) -> dict[type, int]:
    """Mark the visit claimed by `user_id`, then move what the visitor owns now (each model
    the ownership declares claimed: the rows moved, by model); one transaction.

    A visit belongs to its first claimer: the guarded UPDATE matches an unclaimed visit
    (nobody else signed in on it) or one this user claimed before, never another user's, so
    of two users claiming at once only one wins. The same user may claim again to pick up
    what the visitor did since; `claimed_at` is the latest claim.
    """
    marked = await session.execute(
        update(Visit)
        .where(
            Visit.session_id == session_id,
            or_(
                Visit.claimed_by == user_id,
                and_(Visit.claimed_by.is_(None),
                     or_(Visit.user_id.is_(None), Visit.user_id == user_id)),
            ),
        )
        .values(claimed_by=user_id, claimed_at=utcnow(), user_id=user_id)
        .execution_options(synchronize_session=False)
    )
    if marked.rowcount != 1:  # type: ignore[attr-defined]  # DML results carry rowcount
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
