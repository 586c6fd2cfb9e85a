"""Visits: credentials issued and verified, and the `sessions` row each visit records.

A visit row is written only for a request with an identity: a signed-in user, or an
anonymous visitor when ANONYMOUS_SESSIONS is on (graph/context.py decides); once per visit
and process, then refreshed at most once per `VisitPolicy.refresh_after`; its text fields
cut to their maxima; deleted some days after it was last seen (`prune_expired`, run by the
app's lifespan: graph/visits.py). Rows per client are bounded by the starts each
client is allowed (domain/visit_starts.py): one credential is at most one row.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Insert, case, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from domain.errors import RateLimited
from domain.visit_credentials import VisitCredential, VisitSigner
from domain.visit_starts import StartsPerClient, client_key
from models.base import utcnow
from models.visit import CLIENT_IP_MAX, USER_AGENT_MAX, Visit

logger = logging.getLogger(__name__)

MEMO_MAX = 100_000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_ip(peer: str | None, forwarded_for: str | None, trusted: list[str]) -> str | None:
    """The client address, believing X-Forwarded-For only when the peer is a trusted proxy.

    Each trusted proxy appends the address it was connected from, so the list is walked from
    the nearest hop back: the first address that is not one of our proxies is the client.
    A hop that is not an address at all cannot have been written by a proxy of ours; the walk
    stops there and answers the last address it could vouch for.
    """
    networks = _networks(tuple(trusted))
    if peer is None or not forwarded_for or not _is_trusted(_parse(peer), networks):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    vouched = peer
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            return vouched
        if not _is_trusted(address, networks):
            return str(address)
        vouched = str(address)
    return vouched


def _parse(text: str) -> IPAddress | None:
    """An address from a hop: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1` or `[2001:db8::1]:80`."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_trusted(address: IPAddress | None, networks: tuple[IPNetwork, ...]) -> bool:
    return address is not None and any(address in network for network in networks)


@lru_cache(maxsize=16)
def _networks(trusted: tuple[str, ...]) -> tuple[IPNetwork, ...]:
    """TRUSTED_PROXIES parsed once; an entry that is not a network is ignored, with a warning."""
    networks: list[IPNetwork] = []
    for entry in trusted:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            logger.warning("TRUSTED_PROXIES entry %r is not an address or network; ignored", entry)
    return tuple(networks)


@dataclass(frozen=True)
class VisitPolicy:
    """The settings visits follow (VISIT_* in graph/settings.py)."""

    refresh_after: timedelta = timedelta(minutes=1)
    starts_per_hour: int = 60


class Visits:
    """The visits of one process: credentials issued (a bounded number per client) and
    verified, and each visit's row written at most once per `refresh_after`.

    The in-process memo saves a write on almost every request; the SQL guard keeps several
    processes from bumping `last_seen_at` more often than that between them.
    """

    def __init__(self, signer: VisitSigner, policy: VisitPolicy | None = None) -> None:
        self.signer = signer
        self.policy = policy or VisitPolicy()
        self._written: dict[tuple[str, str | None], datetime] = {}
        self._starts = StartsPerClient(self.policy.starts_per_hour)

    def verify(self, text: str) -> VisitCredential:
        """The credential `text` is; InvalidVisitCredential if this server did not issue it."""
        return self.signer.verify(text)

    def start(self, *, user_id: str | None, ip: str | None) -> VisitCredential:
        """A new visit's credential, or RateLimited past the client's starts. Nothing is
        written: the row is recorded by the visit's first request that has an identity."""
        wait = self._starts.take(client_key(user_id, ip), time.monotonic())
        if wait > 0:
            seconds = math.ceil(wait)
            raise RateLimited(
                f"Too many visits started from here; retry in {seconds} s.",
                retry_after_seconds=seconds,
            )
        return self.signer.issue()

    def due(self, session_id: str, user_id: str | None, now: datetime) -> bool:
        last = self._written.get((session_id, user_id))
        return last is None or now - last >= self.policy.refresh_after

    def forget(self, session_id: str, user_id: str | None) -> None:
        """The write was not committed after all: the next request tries again."""
        self._written.pop((session_id, user_id), None)

    async def record(
        self,
        session: AsyncSession,
        *,
        session_id: str,
        user_id: str | None,
        user_agent: str | None,
        ip: str | None,
    ) -> None:
        now = utcnow()
        row = VisitRow(session_id, user_id, user_agent, ip)
        await session.execute(_upsert(session, row, now, self.policy.refresh_after))
        if len(self._written) >= MEMO_MAX:
            self._written.clear()  # bounded memory; the cost is one extra write per visitor
        self._written[(session_id, user_id)] = now


@dataclass(frozen=True)
class VisitRow:
    session_id: str
    user_id: str | None
    user_agent: str | None
    ip: str | None


def _clean(text: str | None, limit: int) -> str | None:
    """Header text as the database can store it: no NUL characters, at most `limit` long."""
    if not text:
        return None
    return text.replace("\x00", "")[:limit] or None


def _upsert(
    session: AsyncSession, row: VisitRow, now: datetime, refresh_after: timedelta
) -> Insert:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Visit).values(
        session_id=row.session_id,
        user_id=row.user_id,
        user_agent=_clean(row.user_agent, USER_AGENT_MAX),
        client_ip=_clean(row.ip, CLIENT_IP_MAX),
        created_at=now,
        last_seen_at=now,
    )
    excluded = statement.excluded
    stale = Visit.last_seen_at < now - refresh_after
    claims_user = Visit.user_id.is_(None) & excluded.user_id.is_not(None)
    return statement.on_conflict_do_update(
        index_elements=[Visit.session_id],
        set_={
            # Bumped at most once per refresh_after, also when written to set the user.
            "last_seen_at": case((stale, excluded.last_seen_at), else_=Visit.last_seen_at),
            # The user is set once: a later, different sign-in does not take the visit over.
            "user_id": func.coalesce(Visit.user_id, excluded.user_id),
            "user_agent": excluded.user_agent,
            "client_ip": excluded.client_ip,
        },
        where=or_(stale, claims_user),
    )


async def prune_expired(session: AsyncSession, *, retention_days: int, max_rows: int) -> int:
    """Delete at most `max_rows` visits last seen over `retention_days` ago, oldest first;
    the number deleted. What the visitors made stays (its `session_id` link is set null).

    PostgreSQL: the application role may delete no visit (nor see another request's), so
    the owner's `prune_visits` (migration 0009) does it, refusing a retention under a day.
    """
    if session.get_bind().dialect.name == "postgresql":
        deleted = await session.scalar(select(func.prune_visits(retention_days, max_rows)))
        return int(deleted or 0)
    cutoff = utcnow() - timedelta(days=retention_days)
    oldest = (
        select(Visit.session_id)
        .where(Visit.last_seen_at < cutoff)
        .order_by(Visit.last_seen_at)
        .limit(max_rows)
    )
    result = await session.execute(
        delete(Visit)
        .where(Visit.session_id.in_(oldest.scalar_subquery()))
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]  # DML results carry rowcount
