"""Custom scalars, registered with the schema through `SCALAR_MAP`."""

from __future__ import annotations

from typing import Any, NewType

import strawberry
from strawberry.types.scalar import ScalarDefinition

from models.audit import JSON_MAX_BYTES

JSONObject = NewType("JSONObject", dict[str, Any])

_JSON_OBJECT_DESCRIPTION = (
    "A JSON object (string keys, any JSON values). As an input it is checked by the mutation, "
    "which answers a ValidationError naming the field when it is not an object, holds NUL or "
    f"invalid text, NaN or Infinity, or is larger than its limit when serialized "
    f"(compact UTF-8; {JSON_MAX_BYTES // 1024} KiB for audit log documents)."
)


def _identity(value: Any) -> Any:
    # Parsed as is: the mutation's checks (graph/services/validation.py, Checks.json_object)
    # report a bad value as a ValidationError naming the field, which a scalar cannot.
    return value


SCALAR_MAP: dict[object, ScalarDefinition] = {
    JSONObject: strawberry.scalar(
        name="JSONObject",
        description=_JSON_OBJECT_DESCRIPTION,
        specified_by_url="https://www.rfc-editor.org/rfc/rfc8259#section-4",
        serialize=_identity,
        parse_value=_identity,
    ),
}
