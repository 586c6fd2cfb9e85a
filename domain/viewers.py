"""Who a request acts as: a signed-in user (a token's subject) or an anonymous visitor."""

from __future__ import annotations

from dataclasses import dataclass

# An anonymous visitor owns rows as `session:<visit id>` (ANONYMOUS_SESSIONS); a token may
# never claim such a subject.
ANONYMOUS_PREFIX = "session:"


@dataclass(frozen=True)
class Viewer:
    """The identity a request acts as. `user_id` is None for a visitor with no identity."""

    user_id: str | None
    is_admin: bool = False
    session_id: str | None = None
    # The token's `exp` (seconds since the epoch); a WebSocket is closed when it passes.
    expires_at: float | None = None

    @property
    def is_anonymous(self) -> bool:
        return self.user_id is None or self.user_id.startswith(ANONYMOUS_PREFIX)


def anonymous_user_id(session_id: str) -> str:
    return f"{ANONYMOUS_PREFIX}{session_id}"
