"""A shortcut through graphql-core's executor for fields that only read an attribute.

graphql-core resolves every field alike: a `Path`, a `ResolveInfo`, strawberry's resolver
wrapper, then completion through a chain of type checks, about a dozen calls for what is,
for most fields of a page (titles, statuses, contents and every Relay `id`), one `getattr`
and one scalar serialization. On the 50-task page that machinery was most of the request.

`PlainFieldsExecutionContext.execute_fields` does just those two steps for a field whose
plan says it may, and hands the field to graphql-core's own path whenever the shortcut could
answer differently: when an extension hooks every resolver (tracing), when the value is null
(graphql-core raises the non-null error), when serialization fails, or when the source is
not exactly the type the plan was made for. A field's plan is made once and kept on its
`GraphQLField`, so it lives exactly as long as the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from graphql import (
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
)
from graphql.execution.collect_fields import GroupedFieldSet
from graphql.pyutils import AwaitableOrValue, Path, Undefined, gather_with_cancel
from strawberry import relay
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

_PLAN = "clarity-plain-field"
# The function strawberry resolves every Relay `id` with (Node._id is a classmethod field).
_NODE_ID = relay.Node._id.__func__


class Plan(NamedTuple):
    """How to answer one field without graphql-core's machinery."""

    attribute: str
    serialize: Callable[[Any], Any]
    nullable: bool
    # For a Relay `id`: the only class whose instances may take the shortcut (a subclass
    # could override how its id is made), and the GraphQL type name the id encodes.
    node: type[relay.Node] | None = None
    type_name: str = ""


def plan_of(parent: GraphQLObjectType, field: GraphQLField) -> Plan | None:
    if GraphQLCoreConverter.DEFINITION_BACKREF not in field.extensions:
        return None  # graphql-core's introspection fields, shared by every schema: not ours
    plan = field.extensions.get(_PLAN, Undefined)
    if plan is Undefined:
        plan = _make_plan(parent, field)
        field.extensions[_PLAN] = plan
    return plan  # type: ignore[no-any-return]  # extensions is a dict of Any; only _make_plan writes this key


def _make_plan(parent: GraphQLObjectType, field: GraphQLField) -> Plan | None:
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    leaf = _leaf(field.type)
    if not isinstance(definition, StrawberryField) or leaf is None or field.args:
        return None
    nullable = not isinstance(field.type, GraphQLNonNull)
    if definition.is_basic_field and definition.default_resolver is getattr:
        return Plan(definition.python_name, leaf.coerce_output_value, nullable)
    resolver = definition.base_resolver
    wrapped = getattr(resolver.wrapped_func, "__func__", None) if resolver else None
    origin = getattr(parent.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF),
                     "origin", None)
    if (wrapped is _NODE_ID and not definition.extensions and isinstance(origin, type)
            and issubclass(origin, relay.Node) and _default_id(origin)):
        return Plan(
            origin.resolve_id_attr(), leaf.coerce_output_value, nullable, origin, parent.name
        )
    return None


def _leaf(output: GraphQLOutputType) -> Any:
    inner = output.of_type if isinstance(output, GraphQLNonNull) else output
    return inner if is_leaf_type(inner) else None


def _default_id(origin: type[relay.Node]) -> bool:
    return all(
        getattr(getattr(origin, name), "__func__", None)
        is getattr(relay.Node, name).__func__
        for name in ("resolve_id", "resolve_typename")
    )


def _shortcut(plan: Plan, source: Any) -> Any:
    """The field's value, or Undefined to send it through graphql-core: a null in a non-null
    field and a value the scalar refuses are errors graphql-core words and places (it reads
    the attribute again, so only an error costs two reads). An exception from reading the
    attribute propagates to the caller, which reports it as graphql-core would."""
    if plan.node is not None and type(source) is not plan.node:
        return Undefined
    value = getattr(source, plan.attribute)
    if value is None:
        return None if plan.nullable else Undefined
    try:
        if plan.node is not None:
            value = relay.GlobalID(type_name=plan.type_name, node_id=str(value))
        serialized = plan.serialize(value)
    except Exception:  # graphql-core's path raises it again, as a field error
        return Undefined
    return Undefined if serialized is None else serialized


class PlainFieldsExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        # graphql-core's loop, with the shortcut tried first for each field.
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        manager = self.middleware_manager
        shortcuts = manager is None or not manager.middlewares
        fields = parent_type.fields
        try:
            for response_name, details in grouped_field_set.items():
                field = fields.get(details[0].node.name.value)
                plan = plan_of(parent_type, field) if shortcuts and field else None
                if plan is not None and field is not None:
                    try:
                        value = _shortcut(plan, source_value)
                    except Exception as error:  # as graphql-core's execute_field handles it
                        self.handle_field_error(
                            error, field.type, details,
                            Path(path, response_name, parent_type.name),
                        )
                        results[response_name] = None
                        continue
                    if value is not Undefined:
                        results[response_name] = value
                        continue
                result = self.execute_field(
                    parent_type, source_value, details,
                    Path(path, response_name, parent_type.name), position_context,
                )
                if result is not Undefined:
                    results[response_name] = result
                    if self.is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return _gathered(results, awaitable_fields)


async def _gathered(results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
    if len(awaitable_fields) == 1:
        name = awaitable_fields[0]
        results[name] = await results[name]
        return results
    values = await gather_with_cancel(*(results[name] for name in awaitable_fields))
    results.update(zip(awaitable_fields, values, strict=True))
    return results
