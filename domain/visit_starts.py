"""How many visits one client may start: the bound on the visit rows any one client writes.

Every visit row comes from a credential the server issued (domain/visit_credentials.py), and
each credential is at most one row, so limiting issuance limits rows. A client is a signed-in
user by its id, an anonymous one by its address: an IPv4 address, or an IPv6 /64 (one
subscriber usually holds a whole /64, so counting single IPv6 addresses would count nothing).

Per process, in memory: with N workers a client may start N times as many. The table of
clients is bounded; past it the least recently seen client is forgotten (and starts afresh:
a client that can spread over that many addresses is not "one client" any more).
"""

from __future__ import annotations

import ipaddress

CLIENTS_MAX = 20_000  # under 6 MB (tests/domain/test_visit_starts.py measures a client)


def client_key(user_id: str | None, ip: str | None) -> str:
    """Who counts as one client: the signed-in user, else the address (IPv6: its /64)."""
    if user_id is not None:
        return f"user:{user_id}"
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "ip:unknown"  # no peer address (a test transport, a Unix socket): one client
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is None:
        return f"net:{ipaddress.IPv6Network((address, 64), strict=False)}"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return f"ip:{address.ipv4_mapped}"
    return f"ip:{address}"


class StartsPerClient:
    """A token bucket per client: it holds at most `per_hour` starts and refills at
    `per_hour` an hour, so a burst of `per_hour` is allowed, then one every 3600/per_hour s."""

    def __init__(self, per_hour: int, *, clients_max: int = CLIENTS_MAX) -> None:
        if per_hour < 1:
            raise ValueError("per_hour must be at least 1")
        self._capacity = float(per_hour)
        self._per_second = per_hour / 3600
        self._clients_max = clients_max
        # client -> (tokens, when counted); insertion order is recency (re-inserted on use).
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str, now: float) -> float:
        """Take one start for `client` at `now` (monotonic seconds): 0 if it was allowed,
        else the seconds until one will be (nothing is taken then)."""
        tokens, counted = self._buckets.pop(client, (self._capacity, now))
        tokens = min(self._capacity, tokens + max(0.0, now - counted) * self._per_second)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self._per_second
        self._buckets[client] = (tokens, now)
        if len(self._buckets) > self._clients_max:
            del self._buckets[next(iter(self._buckets))]
        return wait

    def __len__(self) -> int:
        return len(self._buckets)
