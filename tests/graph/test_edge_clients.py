"""Who a client is and how many connections it holds (graph/http/clients.py), and the
start-up check that one client can never hold every slot."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.cli import main
from graph.http.clients import ConnectionLedger, TrustedProxies, client_key


def test_an_ipv4_client_is_counted_by_its_address() -> None:
    assert client_key("203.0.113.7") == "203.0.113.7"


def test_an_ipv6_client_is_counted_by_its_64_bit_prefix() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::9")
    assert client_key("2001:db8:1:2::1") == "2001:db8:1:2::/64"


def test_ipv6_clients_in_different_64_bit_prefixes_are_different_clients() -> None:
    assert client_key("2001:db8:1:2::1") != client_key("2001:db8:1:3::1")


def test_an_ipv4_mapped_ipv6_address_is_the_ipv4_client() -> None:
    assert client_key("::ffff:203.0.113.7") == "203.0.113.7"


@pytest.mark.parametrize("peer", [None, "", "/run/clarity.sock", "not-an-address"])
def test_a_peer_that_is_not_an_ip_address_is_not_counted(peer: str | None) -> None:
    assert client_key(peer) is None


def test_a_trusted_proxy_is_any_address_in_its_networks() -> None:
    trusted = TrustedProxies(["10.0.0.0/8", "2001:db8::1"])
    assert "10.2.3.4" in trusted
    assert "2001:db8::1" in trusted
    assert "::ffff:10.2.3.4" in trusted


def test_an_address_outside_the_trusted_networks_is_not_a_proxy() -> None:
    trusted = TrustedProxies(["10.0.0.0/8", "2001:db8::1"])
    assert "11.0.0.1" not in trusted
    assert "2001:db8::2" not in trusted  # a single trusted IPv6 address, not its /64
    assert None not in trusted


def test_a_trusted_proxies_entry_that_is_not_a_network_trusts_nothing() -> None:
    assert "10.0.0.1" not in TrustedProxies(["proxy.internal"])


def test_a_client_is_admitted_up_to_its_cap_and_refused_past_it() -> None:
    ledger = ConnectionLedger(cap=2)
    assert [ledger.admit(holder, "a") for holder in ("c1", "c2", "c3")] == [True, True, False]
    assert ledger.held("a") == 2


def test_another_client_is_admitted_while_one_is_at_its_cap() -> None:
    ledger = ConnectionLedger(cap=1)
    ledger.admit("c1", "a")
    assert ledger.admit("c2", "b")


def test_a_released_connection_gives_its_slot_back() -> None:
    ledger = ConnectionLedger(cap=1)
    ledger.admit("c1", "a")
    ledger.release("c1")
    assert ledger.admit("c2", "a")


def test_releasing_twice_or_what_was_never_admitted_changes_nothing() -> None:
    ledger = ConnectionLedger(cap=2)
    ledger.admit("c1", "a")
    ledger.admit("c2", "a")
    ledger.admit("refused", "a")
    for holder in ("c1", "c1", "refused", "unknown"):
        ledger.release(holder)
    assert ledger.held("a") == 1
    assert ledger.counts == {"a": 1}


def test_serve_refuses_a_per_client_cap_over_half_the_concurrency_limit(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("LIMIT_CONCURRENCY", "100")
    monkeypatch.setenv("MAX_CONNECTIONS_PER_CLIENT", "51")
    assert main(["serve"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(
        "clarity-graph: MAX_CONNECTIONS_PER_CLIENT (51) may be at most half of LIMIT_CONCURRENCY"
    )
    assert list(tmp_path.iterdir()) == []  # refused before anything started
