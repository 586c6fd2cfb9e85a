"""An operation compiled into a plan: per response key, how its value is read and written.

A plan is made for one operation of one document and one set of `@skip`/`@include` values
(`graph/compiler/collect.py` decides which fields are in it, as graphql-core would). Each
field is one of four kinds:

- `__typename`: the concrete type's name, known here;
- an attribute: a strawberry field with no resolver and no extensions, which strawberry
  answers with `getattr(source, python_name)`;
- a Relay `id`: `relay.Node`'s own id resolver on a type that does not override how ids are
  made: `base64("Type:" + str(key))`, what strawberry's `GlobalID` serializes to;
- a call: the field's own strawberry resolver, called as strawberry calls it (its
  `get_arguments`, then `get_result`) with graphql-core's coerced arguments. A resolver that
  takes `info` is called only if `CONTEXT_RESOLVERS` names it, with a `CompiledInfo` that
  has `context` and `selected_fields` and nothing else (graph/compiler/run.py).

Values are completed as graphql-core completes them (non-null, lists, leaf serialization,
`is_type_of` on object types), except that anything graphql-core would answer with an error
(a null in a non-null field, a value the scalar refuses, a wrong type, an exception) raises
`Fallback`, and the whole operation runs through the standard executor instead. Interfaces
and unions as a field's type, introspection, fields with extensions (permissions, the
mutations' error convention) and resolvers that read `info` without being named below are
refused when compiling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationDefinitionNode,
    is_leaf_type,
)
from graphql.execution import VariableValues
from graphql.pyutils import Undefined, is_iterable
from strawberry import relay
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from graph.compiler.collect import Fragments, Refused, collect, field_sets

# Resolvers that read nothing of `info` but `info.context` (and, for the task page's
# look-ahead, `info.selected_fields`): the compiler may call them. Any other attribute of
# the info it passes raises, and the operation falls back; a resolver added or changed
# elsewhere is not called until it is named here and the differential test covers it.
CONTEXT_RESOLVERS: frozenset[tuple[str, str]] = frozenset({
    ("Query", "viewer"), ("Query", "tasks"), ("Query", "task"),
    ("Task", "steps"), ("Task", "stepCount"), ("Task", "completedStepCount"),
    ("Task", "events"), ("TaskStep", "task"), ("TaskEvent", "task"),
})
# The function strawberry resolves every Relay `id` with (Node._id is a classmethod field).
_NODE_ID = relay.Node._id.__func__
_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF

TYPENAME, ATTRIBUTE, RELAY_ID, CALL = range(4)

Complete = Callable[[Any, Any], Any]  # (value, run) -> the response value


class Fallback(Exception):
    """The answer would differ from graphql-core's (an error, most likely): the operation is
    executed again by the standard executor."""


@dataclass(eq=False)
class Call:
    """A field answered by its own resolver."""

    definition: StrawberryField
    field: GraphQLField
    nodes: list[FieldNode]
    parent: GraphQLObjectType
    takes_arguments: bool


# (response key, kind, attribute / type name / (id attribute, type name) / Call, the Node
# class an id is made for, completion)
FieldPlan = tuple[str, int, Any, Any, Complete | None]


@dataclass(eq=False)
class Plan:
    root: tuple[FieldPlan, ...]
    root_type: GraphQLObjectType
    fragments: Fragments
    weight: int  # an estimate of its bytes, for the bounded cache
    calls: list[Call] = field(default_factory=list)
    # The root fields refused (response key -> its nodes) and every root key in the
    # document's order: graphql-core answers those beside the plan (graph/compiler/split.py).
    refused: dict[str, list[FieldNode]] = field(default_factory=dict)
    keys: tuple[str, ...] = ()


class Compiler:
    """Builds one plan; each distinct (type, merged selections) is compiled once, so a
    fragment spread in many places costs one sub-plan."""

    def __init__(self, schema: strawberry.Schema, fragments: Fragments,
                 variables: VariableValues) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.selections: dict[tuple[str, tuple[int, ...]], tuple[FieldPlan, ...]] = {}
        self.fields = 0
        self.calls: list[Call] = []

    def operation(self, operation: OperationDefinitionNode) -> Plan:
        root = self.schema._schema.query_type  # the strawberry schema's graphql-core schema
        if operation.operation.value != "query" or root is None:
            raise Refused("not a query")
        grouped = collect(self.schema._schema, self.fragments, root, [operation.selection_set],
                          self.variables)
        fields: list[FieldPlan] = []
        refused: dict[str, list[FieldNode]] = {}
        for key, nodes in grouped.items():  # root fields are independent: refused one by one
            try:
                fields.append(self.field(root, key, nodes))
            except Refused:
                refused[key] = nodes
        if not fields:
            raise Refused("no root field compiles")
        return Plan(tuple(fields), root, self.fragments, 2_000 + 400 * self.fields, self.calls,
                    refused, tuple(grouped) if refused else ())

    def selection(self, runtime: GraphQLObjectType, sets: Sequence[Any]) -> tuple[FieldPlan, ...]:
        key = (runtime.name, tuple(id(selection_set) for selection_set in sets))
        known = self.selections.get(key)
        if known is None:
            grouped = collect(self.schema._schema, self.fragments, runtime, sets, self.variables)
            known = tuple(self.field(runtime, name, nodes) for name, nodes in grouped.items())
            self.selections[key] = known
        return known

    def field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        self.fields += 1
        name = nodes[0].name.value
        if name == "__typename":
            return (key, TYPENAME, parent.name, None, None)
        if name.startswith("__"):
            raise Refused("introspection")
        graphql_field = parent.fields[name]
        definition = graphql_field.extensions.get(_BACKREF)
        if not isinstance(definition, StrawberryField) or definition.extensions:
            raise Refused(f"{parent.name}.{name}: not a plain strawberry field")
        complete = self.completion(graphql_field.type, nodes)
        resolver = definition.base_resolver
        if resolver is None:
            if definition.default_resolver is not getattr or graphql_field.args:
                raise Refused(f"{parent.name}.{name}: a custom default resolver")
            return (key, ATTRIBUTE, definition.python_name, None, complete)
        relay_id = _relay_id(parent, definition)
        if relay_id is not None:
            return (key, RELAY_ID, (relay_id.resolve_id_attr(), parent.name), relay_id, None)
        if resolver.info_parameter is not None and (parent.name, name) not in CONTEXT_RESOLVERS:
            raise Refused(f"{parent.name}.{name}: a resolver that reads info")
        call = Call(definition, graphql_field, nodes, parent, bool(graphql_field.args))
        self.calls.append(call)
        return (key, CALL, call, None, complete)

    def completion(self, output: GraphQLOutputType, nodes: list[FieldNode]) -> Complete:
        if isinstance(output, GraphQLNonNull):
            return _non_null(self.completion(output.of_type, nodes))
        if isinstance(output, GraphQLList):
            return _list(self.completion(output.of_type, nodes))
        if is_leaf_type(output):
            return _leaf(output.coerce_output_value)
        if isinstance(output, GraphQLObjectType):
            fields = self.selection(output, field_sets(nodes))
            return _object(fields, output.is_type_of)
        raise Refused(f"abstract type {output}")


def _relay_id(parent: GraphQLObjectType, definition: StrawberryField) -> type[relay.Node] | None:
    """The Node class whose default id `definition` resolves, if it is exactly that."""
    resolver = definition.base_resolver
    wrapped = getattr(resolver.wrapped_func, "__func__", None) if resolver else None
    origin = getattr(parent.extensions.get(_BACKREF), "origin", None)
    if wrapped is not _NODE_ID or not isinstance(origin, type):
        return None
    if not issubclass(origin, relay.Node) or not all(
        getattr(getattr(origin, name), "__func__", None) is getattr(relay.Node, name).__func__
        for name in ("resolve_id", "resolve_typename")
    ):
        return None
    return origin


def _non_null(inner: Complete) -> Complete:
    def complete(value: Any, run: Any) -> Any:
        if value is None:
            raise Fallback("null in a non-null field")
        return inner(value, run)

    return complete


def _list(item: Complete) -> Complete:
    def complete(value: Any, run: Any) -> Any:
        if value is None:
            return None
        if not is_iterable(value):
            raise Fallback("not a list")
        return [item(entry, run) for entry in value]

    return complete


def _leaf(coerce: Callable[[Any], Any]) -> Complete:
    def complete(value: Any, run: Any) -> Any:
        if value is None:
            return None
        coerced = coerce(value)
        if coerced is None or coerced is Undefined:
            raise Fallback("a value the scalar refuses")
        return coerced

    return complete


def _object(fields: tuple[FieldPlan, ...], is_type_of: Any) -> Complete:
    def complete(value: Any, run: Any) -> Any:
        if value is None:
            return None
        if is_type_of is not None and not is_type_of(value, None):
            raise Fallback("an object of another type")
        return run.write(fields, value)

    return complete
