"""Claiming an anonymous visit: what the visitor owns (tasks, conversations, panic events,
audit entries) moves to the signed-in user. As a use case (`claimSession`): the credential
is checked first (`claimable`: issued by this server, and the request's own visit), then
the visit claimed in one transaction (`claim_visit`); every refusal is the same NotFound,
naming the credential as it was sent."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain import scope
from domain.errors import NotFound
from domain.viewers import anonymous_user_id
from domain.visit_credentials import InvalidVisitCredential, VisitCredential
from models import AuditLog, Conversation, PanicEvent, Task, Visit
from models.base import utcnow


@dataclass(frozen=True)
class Claimed:
    visit_id: str  # the visit's id (not its credential)
    tasks: int  # the rows moved to the claimer, by kind
    conversations: int
    panic_events: int
    audit_entries: int


def claimable(
    verify: Callable[[str], VisitCredential], presented: str, visit_id: str | None
) -> VisitCredential:
    """The credential `presented`, if this server issued it (`verify`) and it is the visit
    the request comes from (`visit_id`: the header must hold the credential too)."""
    try:
        credential = verify(presented)
    except InvalidVisitCredential as forged:
        raise NotFound(Visit, None, named=presented) from forged
    if credential.visit_id != visit_id:
        raise NotFound(Visit, None, named=presented)
    return credential


async def claim_visit(
    session: AsyncSession, user_id: str, credential: VisitCredential, presented: str
) -> Claimed:
    """`claim`, answered as counts; a refusal names the credential as sent, like the others."""
    try:
        moved = await claim(session, credential=credential, user_id=user_id)
    except NotFound as missing:
        raise NotFound(Visit, None, named=presented) from missing
    return Claimed(credential.visit_id, moved[Task], moved[Conversation], moved[PanicEvent],
                   moved[AuditLog])


async def claim(
    session: AsyncSession, *, credential: VisitCredential, user_id: str
) -> dict[type, int]:
    """Mark the visit claimed by `user_id`, then move what the visitor owns now (each model
    the ownership declares claimed: the rows moved, by model); one transaction.

    A visit belongs to its first claimer: the guarded UPDATE matches an unclaimed visit
    (nobody else signed in on it) or one this user claimed before, never another user's, so
    of two users claiming at once only one wins. The same user may claim again to pick up
    what the visitor did since; `claimed_at` is the latest claim. The caller has checked the
    credential (it verified, and it is the request's own visit).
    """
    session_id = credential.visit_id
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
    if session.get_bind().dialect.name == "postgresql":
        return await _moved_by_the_database(session, credential)
    visitor = anonymous_user_id(session_id)
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


async def _moved_by_the_database(
    session: AsyncSession, credential: VisitCredential
) -> dict[type, int]:
    """PostgreSQL: the application role may not change any row's owner (its policies permit
    no cross-owner UPDATE). `claim_visit`, a SECURITY DEFINER function of the tables' owner
    (migration 0009), moves the visitor's rows to the claimer the visit records, given the
    credential's secret: the visit it moves is the one the secret derives, so no setting or
    known id a statement could forge can aim it at anyone else's rows."""
    by_table = {scope.OWNERSHIP[model].owner.table.name: model for model in scope.CLAIMED}
    claimed = func.claim_visit(credential.secret).table_valued("moved_table", "moved_rows")
    rows = await session.execute(select(claimed.c.moved_table, claimed.c.moved_rows))
    moved = dict.fromkeys(scope.CLAIMED, 0)
    for name, count in rows:
        moved[by_table[name]] = int(count)
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
