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
    id: strawberry.ID

    @classmethod
    def of(cls, node_id: str) -> NotFoundError:
        return cls(message="Not found.", code="NOT_FOUND", id=strawberry.ID(node_id))


@strawberry.type(description="The assistant could not answer; nothing changed.")
class AssistantError(UserError):
    pass
