"""What every list's `filter` and `orderBy` share, declared once: the direction, how an order
field becomes a keyset sort (its column, then the id), and the wording of the conditions
every filter offers (exclusive instants, folded text search).

Each list pairs `XFilter` (all given conditions must hold) with `XOrder { field: XOrderField,
direction: OrderDirection }`, as `tasks` did first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

import strawberry

from graph.execution.keyset import SortColumn, sort_by
from graph.extensions.inputs import SEARCH_MAX


@strawberry.enum(description="Which way a list is sorted.")
class OrderDirection(Enum):
    _value_: str  # for mypy: `.value` is this text; enum_value() only adds a description
    ASC = strawberry.enum_value("asc", description="Smallest, earliest or A first.")
    DESC = strawberry.enum_value("desc", description="Largest, latest or Z first.")


@dataclass(frozen=True)
class SortKey:
    """What an order field sorts by: a column, how a cursor holds its value, and whether it
    holds NULLs (rows without a value then come last, whichever the direction)."""

    column: Any
    kind: type
    nullable: bool = False


def keyset_sort(
    key: SortKey, direction: OrderDirection, tiebreak: SortKey
) -> tuple[SortColumn, SortColumn]:
    """The sort of an order: its field's column, then the row's id, both in `direction`."""
    return sort_by(
        key.column, key.kind, tiebreak.column, tiebreak.kind,
        descending=direction is OrderDirection.DESC, nullable=key.nullable,
    )


# Descriptions ------------------------------------------------------------------------------

TIES = "ties are broken by id in the same direction"
NO_VALUE_LAST = "those without one come last in both directions"
FOLDED_ORDER = (
    "compared folded (Unicode's canonical caseless form: `Été`, `ÉTÉ` and `été` sort "
    "together, an accented letter just after its base letter, `ete` < `été` < `f`), code "
    "point by code point: the same order on SQLite and PostgreSQL"
)
SEARCH_NOTE = (
    f"case-insensitively in every script (`ÉTÉ` finds `été`, `STRASSE` finds `Straße`), "
    f"the same on SQLite and PostgreSQL; trimmed; blank matches all. At most {SEARCH_MAX} "
    f"characters."
)


def after(what: str) -> str:
    """An exclusive lower bound on an instant."""
    return f"{what} strictly after this instant (exclusive; an offset is required)."


def before(what: str) -> str:
    """An exclusive upper bound on an instant."""
    return f"{what} strictly before this instant (exclusive; an offset is required)."
