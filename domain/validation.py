"""Input checks that name the offending field; all problems are reported at once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from domain.errors import Invalid


def text_problem(value: str) -> str | None:
    """Why a string cannot be stored as text, or None: PostgreSQL refuses NUL, and a lone
    surrogate (valid in a JSON string escape) is not encodable as UTF-8."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid Unicode text"
    return None


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class Checks:
    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def fail(self, field: str, message: str) -> Checks:
        self.errors.setdefault(field, message)
        return self

    def text(
        self, field: str, value: str | None, *, max_len: int, required: bool = True
    ) -> str | None:
        """Trimmed text within its limit; None stays None for optional fields."""
        if value is None:
            if required:
                self.fail(field, "must not be null")
            return None
        trimmed = value.strip()
        problem = text_problem(trimmed)
        if problem is not None:
            self.fail(field, problem)
        elif required and not trimmed:
            self.fail(field, "must not be empty")
        elif len(trimmed) > max_len:
            self.fail(field, f"must be at most {max_len} characters (got {len(trimmed)})")
        return trimmed

    def json_object(self, field: str, value: Any, *, max_bytes: int) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(field, "must be a JSON object")
            return None
        problem = next(filter(None, map(text_problem, _strings(value))), None)
        if problem is not None:
            self.fail(field, problem)
            return None
        try:
            # The stdlib encoder, like the database's: any integer, but no NaN or Infinity,
            # which are not JSON and which PostgreSQL's jsonb refuses.
            serialized = json.dumps(
                value, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            )
        except (ValueError, TypeError):
            self.fail(field, "must be plain JSON (no NaN or Infinity)")
            return None
        size = len(serialized.encode("utf-8"))
        if size > max_bytes:
            self.fail(field, f"must be at most {max_bytes} bytes serialized (got {size})")
        return value

    def raise_if_any(self) -> None:
        if self.errors:
            raise Invalid(self.errors)
