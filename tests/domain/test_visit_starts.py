"""How many visits one client may start: a token bucket per client, in bounded memory."""

from __future__ import annotations

import tracemalloc

import pytest

from domain.visit_starts import CLIENTS_MAX, StartsPerClient, client_key


def test_a_client_may_start_its_hourly_allowance_at_once_then_waits() -> None:
    starts = StartsPerClient(60)
    assert [starts.take("c", 0.0) for _ in range(60)] == [0.0] * 60
    assert starts.take("c", 0.0) == pytest.approx(60.0)  # one start a minute from now on


def test_the_allowance_refills_at_its_hourly_rate() -> None:
    starts = StartsPerClient(60)
    for _ in range(60):
        starts.take("c", 0.0)
    assert starts.take("c", 30.0) == pytest.approx(30.0)  # half a start refilled
    assert starts.take("c", 60.0) == 0.0
    assert starts.take("c", 60.0) > 0


def test_a_refused_start_takes_nothing() -> None:
    starts = StartsPerClient(1)
    assert starts.take("c", 0.0) == 0.0
    for _ in range(100):
        assert starts.take("c", 1.0) > 0
    assert starts.take("c", 3600.0) == 0.0


def test_the_allowance_never_exceeds_an_hours_worth() -> None:
    starts = StartsPerClient(2)
    starts.take("c", 0.0)
    results = [starts.take("c", 1_000_000.0) for _ in range(3)]
    assert results[:2] == [0.0, 0.0]
    assert results[2] > 0


def test_clients_are_counted_apart() -> None:
    starts = StartsPerClient(1)
    assert starts.take("a", 0.0) == 0.0
    assert starts.take("a", 0.0) > 0
    assert starts.take("b", 0.0) == 0.0


def test_the_table_of_clients_is_bounded_forgetting_the_least_recently_seen() -> None:
    starts = StartsPerClient(1, clients_max=2)
    for client in ("a", "b", "c"):
        starts.take(client, 0.0)
    assert len(starts) == 2
    assert starts.take("c", 0.0) > 0  # still counted
    assert starts.take("a", 0.0) == 0.0  # forgotten: starts afresh


@pytest.mark.parametrize(("user", "ip", "key"), [
    ("alice", "198.51.100.7", "user:alice"),
    (None, "198.51.100.7", "ip:198.51.100.7"),
    (None, "::ffff:198.51.100.7", "ip:198.51.100.7"),
    (None, "2001:db8:1:2:3:4:5:6", "net:2001:db8:1:2::/64"),
    (None, "2001:db8:1:2:ffff::1", "net:2001:db8:1:2::/64"),
    (None, None, "ip:unknown"),
    (None, "testclient", "ip:unknown"),
])
def test_a_client_is_a_user_an_ipv4_address_or_an_ipv6_64(
    user: str | None, ip: str | None, key: str
) -> None:
    assert client_key(user, ip) == key


def test_an_allowance_under_one_is_refused() -> None:
    with pytest.raises(ValueError):
        StartsPerClient(0)


def test_a_client_costs_under_300_bytes_so_the_table_holds_at_most_about_six_megabytes() -> None:
    """Measured on a smaller table (tracemalloc is slow), spread over more addresses than it
    holds, with the longest keys (IPv6 networks): CLIENTS_MAX of them then fit in ~6 MB."""
    held_max = 2_000
    starts = StartsPerClient(60, clients_max=held_max)
    tracemalloc.start()
    try:
        for n in range(held_max + 500):
            starts.take(client_key(None, f"2001:db8:{n >> 16:x}:{n & 0xFFFF:x}::1"), float(n))
        held, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(starts) == held_max
    assert held / held_max < 300, f"{held / held_max:.0f} bytes a client"
    assert CLIENTS_MAX * 300 <= 6_000_000
