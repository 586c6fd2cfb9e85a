"""Reading a whole list through its cursors, and the order a list should have.

`forward` pages with `first`/`after`, `backward` with `last`/`before`, each to the end, so a
test sees every page boundary its page size makes. `expected_order` is the oracle: sorted in
Python by the same rules the API documents (the value, then the id, both in the list's
direction; rows without a value last whichever the direction).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

Row = TypeVar("Row")
# Page arguments (first/after or last/before) -> the connection answered.
Fetch = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

_MOST_PAGES = 50  # a list that never ends is a failure, not a hang


def ids_of(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


async def forward(fetch: Fetch, size: int) -> list[str]:
    seen: list[str] = []
    after = None
    for _ in range(_MOST_PAGES):
        connection = await fetch({"first": size, "after": after})
        seen += ids_of(connection)
        if not connection["pageInfo"]["hasNextPage"]:
            return seen
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError(f"still paging forward after {_MOST_PAGES} pages")


async def backward(fetch: Fetch, size: int) -> list[str]:
    seen: list[str] = []
    before = None
    for _ in range(_MOST_PAGES):
        connection = await fetch({"last": size, "before": before})
        seen = ids_of(connection) + seen
        if not connection["pageInfo"]["hasPreviousPage"]:
            return seen
        before = connection["pageInfo"]["startCursor"]
    raise AssertionError(f"still paging backward after {_MOST_PAGES} pages")


def expected_order(
    rows: Sequence[Row], value: Callable[[Row], Any], key: Callable[[Row], Any], *,
    descending: bool,
) -> list[Row]:
    """`rows` by `value` then `key`, rows whose value is None after the others."""
    valued = [row for row in rows if value(row) is not None]
    empty = [row for row in rows if value(row) is None]
    return [
        *sorted(valued, key=lambda row: (value(row), key(row)), reverse=descending),
        *sorted(empty, key=key, reverse=descending),
    ]
