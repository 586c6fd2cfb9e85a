"""A least-recently-used map bounded by entries and by bytes, for caches a client fills.

Every per-document cache (parsed and validated documents, APQ texts, compiled plans) is
keyed by what a client sends, so an entry limit alone lets large entries add up to gigabytes:
each entry carries a weight, the bytes its key and value hold (measured, or bounded from
above by measured constants), and the total weight is bounded too.
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")
# What the map itself holds per entry, counted in `total_bytes` besides the entry's weight:
# its slot in the hash table and its link, the (value, weight) pair and the weight (~180 to
# 230 bytes measured with tracemalloc, from 10,000 down to 100 entries, evicting as it goes).
ENTRY_BYTES = 250


class BoundedLRU(Generic[K, V]):
    def __init__(self, *, max_entries: int, max_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.total_bytes = 0
        self._entries: OrderedDict[K, tuple[V, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: K) -> bool:
        return key in self._entries

    def get(self, key: K) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        self._entries.move_to_end(key)
        return entry[0]

    def put(self, key: K, value: V, weight: int) -> bool:
        """Keep `value`, whose key and value hold `weight` bytes, evicting the least recently
        used entries to make room; False (and nothing kept under `key`, not even what was)
        when it alone is over the byte limit."""
        weight += ENTRY_BYTES
        previous = self._entries.pop(key, None)  # replaced, or weighed again
        if previous is not None:
            self.total_bytes -= previous[1]
        if self.max_entries < 1 or weight > self.max_bytes:
            return False
        self._entries[key] = (value, weight)
        self.total_bytes += weight
        while len(self._entries) > self.max_entries or self.total_bytes > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.total_bytes -= evicted
        return True


def string_bytes(text: str | None) -> int:
    """A string's own memory; nothing for None and for the strings CPython shares (the
    empty one and those of one Latin-1 character)."""
    if text is None or (len(text) <= 1 and text <= "\xff"):
        return 0
    return sys.getsizeof(text)
