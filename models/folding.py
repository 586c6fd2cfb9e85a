"""Text folded for ordering and search, so SQLite and PostgreSQL agree.

Neither database can fold text the way the other does: SQLite's `lower()` and `LIKE` fold
ASCII letters only, and PostgreSQL's depend on the database's collation. So the fold is
computed here, in Python, and stored next to the text it folds (`title_folded`,
`description_folded`, `content_folded`); the databases only compare the stored strings byte
by byte: SQLite's BINARY collation, and `COLLATE "C"` on PostgreSQL (`FoldedText`). Both
compare UTF-8 bytes, and UTF-8 byte order is code point order, so both order the same.

The fold is Unicode's canonical caseless form (The Unicode Standard, section 3.13, D145):
NFD(casefold(NFD(text))). "ÉTÉ", "Été" and "été" fold alike, "Straße" folds as "strasse",
and the decomposed form puts an accented letter just after its base letter ("ete" < "été"
< "f") rather than after "z".

A model keeps each folded column in step with its text (`folded_column` for inserts that
bypass the ORM, such as the seeder's, and `keep_folded` for every ORM write), and migration
0005 folded the rows that existed before.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from sqlalchemy import ColumnElement, Text, event
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

# Compared byte-wise on both databases: BINARY is SQLite's default, "C" is PostgreSQL's.
FoldedText = Text().with_variant(Text(collation="C"), "postgresql")

# An indexed key (a title's) is cut to this many UTF-8 bytes, so that with the longest owner
# id (255 characters, up to 1,020 bytes) it fits PostgreSQL's b-tree row limit (2,704 bytes).
# A 200-character title folds to more only if it is made of characters that fold to more
# than six bytes each (polytonic Greek, some musical symbols); such titles order and match
# by their first 1,200 bytes.
KEY_MAX_BYTES = 1_200


def folded(text: str) -> str:
    """`text` in Unicode's canonical caseless form."""
    return unicodedata.normalize("NFD", unicodedata.normalize("NFD", text).casefold())


def folded_key(text: str | None) -> str | None:
    """The folded text of an indexed column, cut to `KEY_MAX_BYTES` on a character boundary."""
    if text is None:
        return None
    whole = folded(text)
    encoded = whole.encode("utf-8")
    if len(encoded) <= KEY_MAX_BYTES:
        return whole
    return encoded[:KEY_MAX_BYTES].decode("utf-8", "ignore")


def _fold(text: str | None, *, key: bool) -> str | None:
    if key:
        return folded_key(text)
    return None if text is None else folded(text)


def folded_column(source: str, *, key: bool = False, nullable: bool = False) -> Mapped[Any]:
    """A column holding `source`'s folded text. Its default folds the inserted row's
    `source`, for inserts that do not go through ORM objects (the seeder's bulk inserts);
    a NOT NULL one defaults to '' on the server only for rows written by hand in SQL (and
    for the rows that existed when migration 0005 added it, which it then folded)."""

    def default(context: DefaultExecutionContext) -> str | None:
        row = context.get_current_parameters()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it unannotated
        return _fold(row.get(source), key=key)

    if nullable:
        return mapped_column(FoldedText, default=default, nullable=True)
    return mapped_column(FoldedText, default=default, server_default="")


def keep_folded(source: InstrumentedAttribute[Any], target: str, *, key: bool = False) -> None:
    """Whenever `source` is set on an object (its constructor included), set `target` to
    its folded text: every ORM write path keeps the two in step."""

    @event.listens_for(source, "set", propagate=True)
    def _set(instance: Any, value: str | None, _old: Any, _initiator: Any) -> None:
        setattr(instance, target, _fold(value, key=key))


def escaped_like(text: str) -> str:
    """`text` as a literal LIKE pattern, with `\\` as the escape character."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column: InstrumentedAttribute[Any], needle: str) -> ColumnElement[bool]:
    """`column` (a folded column) contains `needle`, folded the same way: the same answer
    on both databases. A b-tree cannot serve a contains match: it is checked row by row
    over the rows the other conditions (the owner's index) select."""
    return column.like(f"%{escaped_like(folded(needle))}%", escape="\\")
