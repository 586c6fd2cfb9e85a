"""The error members of mutation payload unions (api.md, "Errors")."""

from __future__ import annotations

import strawberry


@strawberry.interface(description="An expected failure, returned as data.")
class UserError:
    message: str
    code: str


@strawberry.type(description="One invalid input field.")
class FieldError:
    field: str = strawberry.field(description="The input field's name, as in the schema.")
    message: str


@strawberry.type(description="The input was invalid; nothing changed.")
class ValidationError(UserError):
    fields: list[FieldError]

    @classmethod
    def of(cls, errors: dict[str, str]) -> ValidationError:
        names = ", ".join(errors)
        return cls(
            message=f"Invalid input: {names}.",
            code="VALIDATION_ERROR",
            fields=[FieldError(field=name, message=text) for name, text in errors.items()],
        )


@strawberry.type(description="No such object, or not the viewer's; nothing changed.")
class NotFoundError(UserError):
    # Not `id`: Relay (and Apollo's cache, keyed on `id`) take any field named `id` as the
    # object's own global id, so an error carrying the missing task's id overwrote the task
    # in Relay's store. Only types whose `id` is their own global id have an `id` field.
    missing_id: strawberry.ID = strawberry.field(
        description="The id that was asked for: missing, or not the viewer's."
    )

    @classmethod
    def of(cls, node_id: str) -> NotFoundError:
        return cls(message="Not found.", code="NOT_FOUND", missing_id=strawberry.ID(node_id))


@strawberry.type(description="The assistant could not answer; nothing changed.")
class AssistantError(UserError):
    pass
