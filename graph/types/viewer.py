"""The `viewer` query: who the request acts as."""

from __future__ import annotations

import strawberry

from domain.viewers import Viewer as ViewerIdentity


@strawberry.type(description="The identity this request acts as.")
class Viewer:
    id: strawberry.ID = strawberry.field(
        description="The user id (the token's `sub`), or `session:<uuid>` for an anonymous visitor."
    )
    is_admin: bool = strawberry.field(
        description="Whether the token grants the admin role (audit figures across users)."
    )
    session_id: str | None = strawberry.field(description=(
        "The id of the visit whose credential this request sent as X-Session-Id (a UUID; "
        "not the credential, which cannot be read back), if it sent one."
    ))
    is_anonymous: bool = strawberry.field(
        description="Whether this is an anonymous visitor acting by its visit credential "
        "(X-Session-Id), no token."
    )

    @classmethod
    def from_identity(cls, viewer: ViewerIdentity) -> Viewer | None:
        if viewer.user_id is None:
            return None
        return cls(
            id=strawberry.ID(viewer.user_id),
            is_admin=viewer.is_admin,
            session_id=viewer.session_id,
            is_anonymous=viewer.is_anonymous,
        )
