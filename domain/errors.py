"""Expected failures of the domain: nothing was changed (the caller's transaction rolls back).

`graph/` answers them as data (a mutation's payload union member) or, where a query meets
them, as a GraphQL error with a code; the domain knows neither.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K")


class DomainError(Exception):
    """An expected failure, worded for the person who caused it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """No such row, or not the viewer's: the two are the same answer on purpose. `entity`
    is the model class, `key` the row key asked for; `named` is how the caller named it
    when that was no key at all (a malformed reference)."""

    def __init__(self, entity: type, key: object, *, named: str | None = None) -> None:
        # What was not found and what to do, in words: "Not found." told a client neither.
        what = re.sub(r"(?<!^)(?=[A-Z])", " ", entity.__name__).lower()  # TaskStep: task step
        super().__init__(
            f"No {what} with that id: it does not exist, was deleted, or is not yours. Send an"
            " id this API answered (a list or `node` gives the current ones)."
        )
        self.what = what
        self.entity = entity
        self.key = key
        self.named = named


@dataclass(frozen=True)
class Ref(Generic[K]):
    """A row as the caller named it: its key, or None when the name held none (a malformed
    id), with the name as sent, so that a use case answers NotFound for it where it would
    answer NotFound for a missing row (after the checks that come first, in one transaction)."""

    key: K | None
    named: str

    def key_of(self, entity: type) -> K:
        """The key, or NotFound naming what was sent."""
        if self.key is None:
            raise NotFound(entity, None, named=self.named)
        return self.key


class Invalid(DomainError):
    """The input breaks the domain's rules: a problem per field, all reported at once."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__(f"Invalid input: {', '.join(problems)}.")
        self.problems = dict(problems)


class Forbidden(DomainError):
    """The viewer may not do this (an admin-only view, say)."""


class AssistantUnavailable(DomainError):
    """The assistant failed or timed out, so nothing was changed; retrying is safe."""


class RateLimited(DomainError):
    """Too many of these from one client for now: nothing was done. `retry_after_seconds`
    says when one more will be allowed."""

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
