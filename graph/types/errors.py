"""The error members of mutation payload unions (api.md, "Errors")."""

from __future__ import annotations

import strawberry
from strawberry.types.union import StrawberryUnion


@strawberry.interface(description=(
    "An expected failure, answered as data in a mutation's payload union; nothing changed. "
    "Apollo Client matches `... on UserError` only when given `possibleTypes` (the examples' "
    "codegen generates them); without, the fragment's fields are silently left out."
))
class UserError:
    message: str = strawberry.field(
        description="What went wrong, in English, for people; branch on `code` or the type."
    )
    code: str = strawberry.field(description=(
        "A stable code for programs: VALIDATION_ERROR, NOT_FOUND, ASSISTANT_ERROR or "
        "RATE_LIMITED, one per concrete type."
    ))


@strawberry.type(description="One invalid input field.")
class FieldError:
    field: str = strawberry.field(description=(
        "The input field's name as in the schema (e.g. `title`); a list item adds its 0-based "
        "index (`steps.2`)."
    ))
    message: str = strawberry.field(
        description="What is wrong with it, e.g. `must not be empty`."
    )


@strawberry.type(description="The input was invalid; nothing changed. Code VALIDATION_ERROR.")
class ValidationError(UserError):
    fields: list[FieldError] = strawberry.field(
        description="Every invalid field found; never empty."
    )

    @classmethod
    def of(cls, errors: dict[str, str]) -> ValidationError:
        names = ", ".join(errors)
        return cls(
            message=f"Invalid input: {names}.",
            code="VALIDATION_ERROR",
            fields=[FieldError(field=name, message=text) for name, text in errors.items()],
        )


@strawberry.type(
    description="No such object, or not the viewer's (the two look alike); nothing changed. "
    "Code NOT_FOUND."
)
class NotFoundError(UserError):
    # Not `id`: Relay (and Apollo's cache, keyed on `id`) take any field named `id` as the
    # object's own global id, so an error carrying the missing task's id overwrote the task
    # in Relay's store. Only types whose `id` is their own global id have an `id` field.
    missing_id: strawberry.ID = strawberry.field(
        description="The id that was asked for (a global id; for claimSession, the sessionId "
        "sent)."
    )

    @classmethod
    def of(cls, node_id: str, message: str) -> NotFoundError:
        return cls(message=message, code="NOT_FOUND", missing_id=strawberry.ID(node_id))


@strawberry.type(description=(
    "Deprecated: never answered since 0.1.0, kept so operations that spread `... on "
    "AlreadyClaimedError` still validate (GraphQL cannot mark a type @deprecated). A visit "
    "belongs to its first claimer, who may claim it again; to anyone else `claimSession` "
    "answers NotFoundError. Drop the spread; this type goes in 0.3.0. Code ALREADY_CLAIMED."
))
class AlreadyClaimedError(UserError):
    # Restored as it was before 8b2a286 removed it without a deprecation step: a client
    # still sending the spread got a validation error and no answer at all.
    pass


@strawberry.type(
    description="The assistant failed or timed out; nothing changed, so retrying is safe. "
    "Code ASSISTANT_ERROR."
)
class AssistantError(UserError):
    pass


@strawberry.type(
    description="Too many of these from this client for now; nothing changed. Retry after "
    "`retryAfterSeconds`. Code RATE_LIMITED."
)
class RateLimitedError(UserError):
    retry_after_seconds: int = strawberry.field(
        description="Seconds until one more will be allowed."
    )


def payload_union(name: str, mutation: str) -> StrawberryUnion:
    """A mutation's payload union, described alike for every mutation (use in `Annotated`)."""
    return strawberry.union(name, description=(
        f"What `{mutation}` answers: its success type, or an error type when nothing changed."
    ))
