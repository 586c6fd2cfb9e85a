"""Custom scalars, registered with the schema through `SCALAR_MAP`."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from typing import Any, NewType

import strawberry
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY
from strawberry.types.scalar import ScalarDefinition

from models.audit import JSON_MAX_BYTES

JSONObject = NewType("JSONObject", dict[str, Any])

_JSON_OBJECT_DESCRIPTION = (
    "A JSON object (string keys, any JSON values). As an input it is checked by the mutation, "
    "which answers a ValidationError naming the field when it is not an object, holds NUL or "
    f"invalid text, NaN or Infinity, or is larger than its limit when serialized "
    f"(compact UTF-8; {JSON_MAX_BYTES // 1024} KiB for audit log documents)."
)


_DATETIME_DESCRIPTION = (
    "An instant, as ISO 8601 text with its UTC offset: 2024-05-01T09:00:00Z, "
    "2024-05-01T11:00:00+02:00. Answers are always in UTC (+00:00), with microseconds when "
    "not zero. An input without an offset names no instant and is refused like a malformed "
    "one (BAD_USER_INPUT)."
)
_DATE_DESCRIPTION = "A calendar date as ISO 8601 text, YYYY-MM-DD, e.g. 2024-05-01."


def _described(origin: type, description: str) -> ScalarDefinition:
    """Strawberry's own scalar (same name, parsing and output) with our description."""
    return dataclasses.replace(DEFAULT_SCALAR_REGISTRY[origin], description=description)


_STRAWBERRY_DATETIME = DEFAULT_SCALAR_REGISTRY[datetime].parse_value


def _instant(value: object) -> datetime:
    """strawberry's own parsing (dateutil's isoparse, its errors), and an offset required: a
    time without one names no instant. Refused here, as a coercion error, it is refused
    exactly as a malformed one is (a request error for a variable, a validation error for a
    literal), instead of as a field error once the resolver runs."""
    parsed = _STRAWBERRY_DATETIME(value) if _STRAWBERRY_DATETIME else value
    if not isinstance(parsed, datetime) or parsed.utcoffset() is None:
        raise StrawberryInputCoercionError(
            f'Value cannot represent a DateTime: "{value}". It needs a UTC offset, e.g. '
            "2024-05-01T09:00:00Z."
        )
    return parsed


def _identity(value: Any) -> Any:
    # Parsed as is: the mutation's checks (domain/validation.py, Checks.json_object)
    # report a bad value as a ValidationError naming the field, which a scalar cannot.
    return value


SCALAR_MAP: dict[object, ScalarDefinition] = {
    datetime: dataclasses.replace(
        _described(datetime, _DATETIME_DESCRIPTION),
        parse_value=_instant,
    ),
    date: _described(date, _DATE_DESCRIPTION),
    JSONObject: strawberry.scalar(
        name="JSONObject",
        description=_JSON_OBJECT_DESCRIPTION,
        specified_by_url="https://www.rfc-editor.org/rfc/rfc8259#section-4",
        serialize=_identity,
        parse_value=_identity,
    ),
}
