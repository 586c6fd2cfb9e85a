"""BoundedLRU: the least recently used entries go first, by entries and by bytes, and the
map's own memory per entry is counted with each."""

from __future__ import annotations

from graph.extensions.cache import ENTRY_BYTES, BoundedLRU, string_bytes


def test_the_least_recently_used_entry_is_evicted_past_the_byte_limit() -> None:
    cache: BoundedLRU[str, str] = BoundedLRU(max_entries=10, max_bytes=3 * (ENTRY_BYTES + 100))
    for key in ("a", "b", "c"):
        assert cache.put(key, key, 100)
    assert cache.get("a") == "a"  # now the most recently used
    assert cache.put("d", "d", 100)
    assert ("a" in cache, "b" in cache, "c" in cache, "d" in cache) == (True, False, True, True)
    assert cache.total_bytes == 3 * (ENTRY_BYTES + 100)


def test_the_entry_limit_holds_whatever_the_weights() -> None:
    cache: BoundedLRU[int, int] = BoundedLRU(max_entries=2, max_bytes=10**9)
    for key in range(3):
        cache.put(key, key, 1)
    assert len(cache) == 2 and 0 not in cache


def test_putting_a_key_again_weighs_it_again() -> None:
    cache: BoundedLRU[str, str] = BoundedLRU(max_entries=10, max_bytes=10_000)
    cache.put("a", "first", 100)
    cache.put("a", "again", 900)
    assert cache.get("a") == "again"
    assert cache.total_bytes == ENTRY_BYTES + 900


def test_an_entry_weighed_again_over_the_limit_is_dropped() -> None:
    # A document whose validation errors make it heavier than the whole cache.
    cache: BoundedLRU[str, str] = BoundedLRU(max_entries=10, max_bytes=1_000)
    cache.put("a", "a", 100)
    assert not cache.put("a", "a", 5_000)
    assert "a" not in cache and cache.total_bytes == 0


def test_an_entry_over_the_limit_alone_is_not_kept_and_evicts_nothing() -> None:
    cache: BoundedLRU[str, str] = BoundedLRU(max_entries=10, max_bytes=1_000)
    cache.put("a", "a", 100)
    assert not cache.put("b", "b", 1_000)
    assert "a" in cache and "b" not in cache


def test_shared_strings_weigh_nothing() -> None:
    assert string_bytes(None) == string_bytes("") == string_bytes("a") == string_bytes("é") == 0
    assert string_bytes("ab") > 0 and string_bytes("€") > 0
    assert string_bytes("😀" + "x" * 99) > 4 * 100  # CPython stores it at 4 bytes a character
