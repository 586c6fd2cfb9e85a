"""A least-recently-used map bounded by entries and by bytes, for caches a client fills.

Every per-document cache (parsed and validated documents, APQ texts) is keyed by what a
client sends, so an entry limit alone lets large entries add up to gigabytes: each entry
carries a weight (its bytes, or an estimate of them) and the total weight is bounded too.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


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
        """Keep `value`, evicting the least recently used entries to make room; False (and
        nothing kept) when it alone is over the byte limit."""
        if self.max_entries < 1 or weight > self.max_bytes:
            return False
        previous = self._entries.pop(key, None)
        if previous is not None:
            self.total_bytes -= previous[1]
        self._entries[key] = (value, weight)
        self.total_bytes += weight
        while len(self._entries) > self.max_entries or self.total_bytes > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self.total_bytes -= evicted
        return True
