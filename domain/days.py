"""Calendar days of stored instants in a time zone, computed in SQL alike on both databases.

Neither engine is trusted with the zone's rules: SQLite has none, and PostgreSQL's own tz
database may differ from Python's. Python's `zoneinfo` gives the zone's UTC offsets over the
range of the rows asked about, as segments (from this instant on, this many minutes), and the
statement adds the segment's offset to each UTC instant before taking its date: one CASE per
row, one branch per offset change in the range (two a year in a zone with daylight saving
time). Both engines then group the same rows under the same dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Date, Integer, case, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from domain.errors import Invalid

ZONE_NAME_MAX = 64  # the longest IANA name is 32 characters
UTC_NAME = "UTC"
# Names of UTC itself: no offset to look up, so no statement to find the rows' range.
_UTC_KEYS = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "UCT",
                       "Universal", "Zulu"})
# Offsets are sampled once a day: no zone has changed its offset twice within a day.
_SAMPLE = timedelta(days=1)


def time_zone(name: str, value: str) -> ZoneInfo:
    """An IANA time zone by name (`Europe/Paris`, `America/New_York`, `UTC`)."""
    problem = f"is not an IANA time zone name, such as {UTC_NAME} or Europe/Paris"
    if not value or len(value) > ZONE_NAME_MAX or not value.isprintable():
        raise Invalid({name: problem})
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as error:  # ValueError: a path, not a key
        raise Invalid({name: problem}) from error


def is_utc(zone: ZoneInfo) -> bool:
    return zone.key in _UTC_KEYS


@dataclass(frozen=True)
class Segment:
    """From `starts` (a UTC instant; None: from the beginning) the zone is `minutes` ahead
    of UTC."""

    starts: datetime | None
    minutes: int


def _offset(zone: ZoneInfo, instant: datetime) -> int:
    offset = instant.astimezone(zone).utcoffset()
    return int(offset.total_seconds() // 60) if offset is not None else 0


def _change(zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first second in (before, after] whose offset differs from `before`'s."""
    was = _offset(zone, before)
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        if _offset(zone, middle) == was:
            before = middle
        else:
            after = middle
    return after.replace(microsecond=0)


def segments(zone: ZoneInfo, first: datetime, last: datetime) -> list[Segment]:
    """The zone's offsets from `first` to `last` (UTC instants), in order."""
    first, last = first.astimezone(UTC), last.astimezone(UTC)
    found = [Segment(None, _offset(zone, first))]
    at = first
    while at < last:
        following = min(at + _SAMPLE, last)
        if _offset(zone, following) != found[-1].minutes:
            changed = _change(zone, at, following)
            found.append(Segment(changed, _offset(zone, changed)))
        at = following
    return found


def offset_minutes(column: Any, zone_segments: list[Segment]) -> ColumnElement[int]:
    """The zone's offset at each row's instant, in minutes."""
    *earlier, latest = zone_segments
    if not earlier:
        return literal(latest.minutes, Integer)
    # Segment k applies before segment k+1 starts.
    branches = [(column < after.starts, current.minutes)
                for current, after in pairwise(zone_segments)]
    return case(*branches, else_=latest.minutes)


class local_day(FunctionElement[date]):
    """`local_day(instant, minutes)`: the date of a stored UTC instant moved by `minutes`.
    SQLite stores naive UTC text; PostgreSQL's timestamptz is taken as UTC wall time first,
    whatever the session's TimeZone."""

    type = Date()
    name = "local_day"
    inherit_cache = True


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    instant, minutes = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"date({instant}, ({minutes}) || ' minutes')"


@compiles(local_day, "postgresql")
def _local_day_postgresql(element: local_day, compiler: SQLCompiler, **kw: Any) -> str:
    instant, minutes = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(({instant} AT TIME ZONE 'UTC') + ({minutes}) * INTERVAL '1 minute' AS DATE)"


def as_date(value: date | str) -> date:
    # The Date type parses SQLite's text already; this guards drivers that return text.
    return value if isinstance(value, date) else date.fromisoformat(value)
