"""The schema documents itself: every type, field, argument, input field and enum value of the
live schema has a description. This is the authoritative check (it runs with pytest
everywhere); CI also runs graphql-schema-linter over `schema.graphql` (examples/)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from graphql import (
    GraphQLNamedType,
    GraphQLSchema,
    is_enum_type,
    is_input_object_type,
    is_interface_type,
    is_object_type,
    is_specified_scalar_type,
)

from graph.schema import build_schema
from graph.settings import Settings


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    # The development schema is the full one (what schema.graphql holds).
    return build_schema(Settings(environment="development"))._schema


def own_types(schema: GraphQLSchema) -> Iterator[GraphQLNamedType]:
    """The schema's own types: not introspection's, not GraphQL's built-in scalars (both are
    described by graphql-core and never printed in schema.graphql)."""
    for name, named in sorted(schema.type_map.items()):
        if not name.startswith("__") and not is_specified_scalar_type(named):
            yield named


def undescribed_types(schema: GraphQLSchema) -> list[str]:
    return [named.name for named in own_types(schema) if not named.description]


def undescribed_fields(schema: GraphQLSchema) -> list[str]:
    return [
        f"{named.name}.{name}"
        for named in own_types(schema)
        if is_object_type(named) or is_interface_type(named)
        for name, field in named.fields.items()
        if not field.description
    ]


def undescribed_arguments(schema: GraphQLSchema) -> list[str]:
    return [
        f"{named.name}.{name}({argument_name})"
        for named in own_types(schema)
        if is_object_type(named) or is_interface_type(named)
        for name, field in named.fields.items()
        for argument_name, argument in field.args.items()
        if not argument.description
    ]


def undescribed_input_fields(schema: GraphQLSchema) -> list[str]:
    return [
        f"{named.name}.{name}"
        for named in own_types(schema)
        if is_input_object_type(named)
        for name, field in named.fields.items()
        if not field.description
    ]


def undescribed_enum_values(schema: GraphQLSchema) -> list[str]:
    return [
        f"{named.name}.{name}"
        for named in own_types(schema)
        if is_enum_type(named)
        for name, value in named.values.items()
        if not value.description
    ]


def test_every_type_has_a_description(schema: GraphQLSchema) -> None:
    assert undescribed_types(schema) == []


def test_every_field_has_a_description(schema: GraphQLSchema) -> None:
    assert undescribed_fields(schema) == []


def test_every_argument_has_a_description(schema: GraphQLSchema) -> None:
    assert undescribed_arguments(schema) == []


def test_every_input_field_has_a_description(schema: GraphQLSchema) -> None:
    assert undescribed_input_fields(schema) == []


def test_every_enum_value_has_a_description(schema: GraphQLSchema) -> None:
    assert undescribed_enum_values(schema) == []


def test_the_walk_sees_every_kind_of_schema_member(schema: GraphQLSchema) -> None:
    """Guards the five tests above against passing on an empty walk."""
    names = {named.name for named in own_types(schema)}
    assert {"Query", "Mutation", "Subscription", "Task", "TaskFilter", "TaskStatus"} <= names
    assert {"DateTime", "JSONObject", "UserError", "CreateTaskPayload"} <= names


def test_the_page_size_arguments_state_the_default_and_the_maximum(
    schema: GraphQLSchema,
) -> None:
    tasks = schema.query_type.fields["tasks"] if schema.query_type else None
    assert tasks is not None
    for name in ("first", "last"):
        description = tasks.args[name].description or ""
        assert "20" in description and "100" in description, name


def test_the_datetime_scalar_says_an_offset_is_required(schema: GraphQLSchema) -> None:
    description = schema.type_map["DateTime"].description or ""
    assert "offset" in description
    assert "BAD_USER_INPUT" in description
