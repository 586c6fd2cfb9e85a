"""Visit tracking: `X-Session-Id` records or refreshes a row of the sessions table."""

from __future__ import annotations

import ipaddress
import logging
import uuid
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import Insert, case, func, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import utcnow
from models.visit import USER_AGENT_MAX, Visit

logger = logging.getLogger(__name__)

REFRESH_AFTER = timedelta(minutes=1)
MEMO_MAX = 100_000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class InvalidSessionId(ValueError):
    pass


def parse_session_id(raw: str) -> str:
    """The canonical form of a visit id; anything but a UUID is refused."""
    try:
        return str(uuid.UUID(raw.strip()))
    except ValueError as error:
        raise InvalidSessionId("X-Session-Id must be a UUID") from error


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


class VisitRecorder:
    """Writes a visit at most once a minute per session id and process.

    The in-process memo saves a write on almost every request; the SQL guard keeps several
    processes from bumping `last_seen_at` more than once a minute between them.
    """

    def __init__(self) -> None:
        self._written: dict[tuple[str, str | None], datetime] = {}

    def due(self, session_id: str, user_id: str | None, now: datetime) -> bool:
        last = self._written.get((session_id, user_id))
        return last is None or now - last >= REFRESH_AFTER

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
        await session.execute(_upsert(session, session_id, user_id, user_agent, ip, now))
        if len(self._written) >= MEMO_MAX:
            self._written.clear()  # bounded memory; the cost is one extra write per visitor
        self._written[(session_id, user_id)] = now


def _clean(text: str | None, limit: int) -> str | None:
    """Header text as the database can store it: no NUL characters, at most `limit` long."""
    if not text:
        return None
    return text.replace("\x00", "")[:limit] or None


def _upsert(
    session: AsyncSession,
    session_id: str,
    user_id: str | None,
    user_agent: str | None,
    ip: str | None,
    now: datetime,
) -> Insert:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Visit).values(
        session_id=session_id,
        user_id=user_id,
        user_agent=_clean(user_agent, USER_AGENT_MAX),
        client_ip=_clean(ip, 64),
        created_at=now,
        last_seen_at=now,
    )
    excluded = statement.excluded
    stale = Visit.last_seen_at < now - REFRESH_AFTER
    claims_user = Visit.user_id.is_(None) & excluded.user_id.is_not(None)
    return statement.on_conflict_do_update(
        index_elements=[Visit.session_id],
        set_={
            # Bumped at most once a minute, also when the row is written to set the user.
            "last_seen_at": case((stale, excluded.last_seen_at), else_=Visit.last_seen_at),
            # The user is set once: a later, different sign-in does not take the visit over.
            "user_id": func.coalesce(Visit.user_id, excluded.user_id),
            "user_agent": excluded.user_agent,
            "client_ip": excluded.client_ip,
        },
        where=or_(stale, claims_user),
    )
