"""An operation compiled into a plan: per response key, how its value is read and written.

A plan is made for one operation of one document and one set of `@skip`/`@include` values
(`graph/compiler/collect.py` decides which fields are in it, as graphql-core would). Each
field is one of four kinds, one class each (graph/compiler/kinds.py):

- `Typename`, `__typename`: the concrete type's name, known here;
- `Attribute`: a strawberry field with no resolver and no extensions, which strawberry
  answers with `getattr(source, python_name)`;
- `RelayId`: `relay.Node`'s own id resolver on a type that does not override how ids are
  made: `base64("Type:" + str(key))`, what strawberry's `GlobalID` serializes to;
- `Resolved`: the field's own strawberry resolver, called as strawberry calls it (its
  `get_arguments`, then `get_result`) with graphql-core's coerced arguments. A resolver that
  takes `info` is called only if `CONTEXT_RESOLVERS` names it, with a `CompiledInfo` that
  has `context` and `selected_fields` and nothing else (graph/compiler/run.py).

Values are completed as graphql-core completes them (non-null, lists, leaf serialization,
`is_type_of` on object types), except that anything graphql-core would answer with an error
(a null in a non-null field, a value the scalar refuses, a wrong type, an exception) raises
`Fallback`, and the whole operation runs through the standard executor instead.

A field of an interface or union type (`node`, `nodes`) gets a sub-plan per possible object
type; at run time the abstract type's own `resolve_type` (strawberry's, or graphql-core's
`default_type_resolver` when it has none) names the value's type, given a `TypeInfo` with
the field and the schema, and that type's sub-plan writes it. When it cannot tell (no name,
an awaitable, a type not among the possible ones, or one whose sub-plan was refused), the
operation falls back. Introspection, fields with extensions (permissions, the mutations'
error convention) and resolvers that read `info` without being named below are refused when
compiling.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from inspect import iscoroutine
from typing import Any

import strawberry
from graphql import (
    FieldNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLID,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLString,
    GraphQLUnionType,
    OperationDefinitionNode,
    default_type_resolver,
    is_leaf_type,
)
from graphql.execution import VariableValues
from graphql.pyutils import Undefined, is_awaitable, is_iterable
from strawberry import relay
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from graph.compiler.collect import (
    Collected,
    Fragments,
    Refused,
    collect,
    collect_root,
    fragment_details,
)
from graph.compiler.kinds import (
    Attribute,
    Call,
    Complete,
    FieldPlan,
    RelayId,
    Resolved,
    Typename,
)

# Resolvers that read nothing of `info` but `info.context` (and, for the task page's
# look-ahead, `info.selected_fields`): the compiler may call them. Any other attribute of
# the info it passes raises, and the operation falls back; a resolver added or changed
# elsewhere is not called until it is named here and the differential test covers it.
# Each was read for this: what it and the helpers it calls (`owned_connection`,
# `node_of_type`, `resolve_nodes`, `prefetch_children`, the pagination helpers) read of
# `info` is `info.context` (its viewer, db, loaders and settings), and `tasks` also
# `info.selected_fields`.
CONTEXT_RESOLVERS: frozenset[tuple[str, str]] = frozenset({
    ("Query", "viewer"), ("Query", "tasks"), ("Query", "task"),
    ("Task", "steps"), ("Task", "stepCount"), ("Task", "completedStepCount"),
    ("Task", "events"), ("TaskStep", "task"), ("TaskEvent", "task"),
    ("Query", "conversations"), ("Query", "conversation"),
    ("Conversation", "messageCount"), ("Conversation", "lastMessage"),
    ("Conversation", "messages"), ("Message", "conversation"),
    ("Query", "panicEvents"), ("Query", "panicEvent"),
    ("PanicEvent", "exercises"), ("GroundingExercise", "panicEvent"),
    ("Query", "auditLogs"), ("Query", "auditStats"),
    ("Query", "node"), ("Query", "nodes"),
})
# The function strawberry resolves every Relay `id` with (Node._id is a classmethod field).
_NODE_ID = relay.Node._id.__func__
_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF

_UNCHANGED = ((GraphQLString, str), (GraphQLID, str), (GraphQLBoolean, bool))

class Fallback(Exception):
    """The answer would differ from graphql-core's (an error, most likely): the operation is
    executed again by the standard executor."""


# The field a completion is for: its parent type and its definition.
Site = tuple[GraphQLObjectType, GraphQLField]


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
        self.details = fragment_details(fragments)  # as graphql-core's collection takes them
        self.variables = variables
        self.operation_node: OperationDefinitionNode | None = None
        self.selections: dict[tuple[str, tuple[int, ...]], tuple[FieldPlan, ...]] = {}
        self.fields = 0
        self.calls: list[Call] = []

    def operation(self, operation: OperationDefinitionNode) -> Plan:
        root = self.schema._schema.query_type  # the strawberry schema's graphql-core schema
        if operation.operation.value != "query" or root is None:
            raise Refused("not a query")
        self.operation_node = operation
        grouped = collect_root(self.schema._schema, self.details, self.variables, operation,
                               root)
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

    def selection(self, runtime: GraphQLObjectType,
                  nodes: Sequence[FieldNode]) -> tuple[FieldPlan, ...]:
        """The sub-plan of one field's merged `nodes` on `runtime`."""
        key = (runtime.name, tuple(id(node.selection_set) for node in nodes
                                   if node.selection_set is not None))
        known = self.selections.get(key)
        if known is None:
            known = tuple(self.field(runtime, name, nodes)
                          for name, nodes in self._collect(runtime, nodes).items())
            self.selections[key] = known
        return known

    def _collect(self, runtime: GraphQLObjectType, nodes: Sequence[FieldNode]) -> Collected:
        assert self.operation_node is not None  # set by `operation`, which every plan starts
        return collect(self.schema._schema, self.details, self.variables, self.operation_node,
                       runtime, nodes)

    def field(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        self.fields += 1
        name = nodes[0].name.value
        if name == "__typename":
            return Typename(key, parent.name)
        if name.startswith("__"):
            raise Refused("introspection")
        graphql_field = parent.fields[name]
        definition = graphql_field.extensions.get(_BACKREF)
        if not isinstance(definition, StrawberryField) or definition.extensions:
            raise Refused(f"{parent.name}.{name}: not a plain strawberry field")
        complete = self.completion(graphql_field.type, nodes, (parent, graphql_field))
        resolver = definition.base_resolver
        if resolver is None:
            if definition.default_resolver is not getattr or graphql_field.args:
                raise Refused(f"{parent.name}.{name}: a custom default resolver")
            return Attribute(key, definition.python_name, complete)
        relay_id = _relay_id(parent, definition)
        if relay_id is not None:
            return RelayId(key, relay_id.resolve_id_attr(), parent.name, relay_id)
        if resolver.info_parameter is not None and (parent.name, name) not in CONTEXT_RESOLVERS:
            raise Refused(f"{parent.name}.{name}: a resolver that reads info")
        call = Call(definition, graphql_field, nodes, parent, bool(graphql_field.args))
        self.calls.append(call)
        return Resolved(key, call, complete)

    def completion(self, output: GraphQLOutputType, nodes: list[FieldNode], site: Site) -> Complete:
        if isinstance(output, GraphQLNonNull):
            if is_leaf_type(output.of_type):  # the most common field: one step, not two
                return _leaf(output.of_type.coerce_output_value, output.of_type, required=True)
            return _non_null(self.completion(output.of_type, nodes, site))
        if isinstance(output, GraphQLList):
            return _list(self.completion(output.of_type, nodes, site))
        if is_leaf_type(output):
            return _leaf(output.coerce_output_value, output)
        if isinstance(output, GraphQLObjectType):
            fields = self.selection(output, nodes)
            return _object(fields, output.is_type_of)
        if isinstance(output, GraphQLInterfaceType | GraphQLUnionType):
            return self.abstract(output, nodes, site)
        raise Refused(f"output type {output}")

    def abstract(self, output: GraphQLInterfaceType | GraphQLUnionType,
                 nodes: list[FieldNode], site: Site) -> Complete:
        """A sub-plan per possible type, chosen at run time by the type's own resolver. A
        type whose sub-plan is refused is not refused for the operation: only a value of
        that type falls back, when one comes."""
        branches: dict[str, Complete | None] = {}
        for possible in self.schema._schema.get_possible_types(output):
            try:
                branches[possible.name] = self.completion(possible, nodes, site)
            except Refused:
                branches[possible.name] = None
        parent, graphql_field = site
        info = TypeInfo(nodes[0].name.value, nodes, graphql_field.type, parent,
                        self.schema._schema)
        return _abstract(output, branches, info)


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


class TypeInfo:
    """What a type resolver may read of graphql-core's resolve info: the field and the
    schema (strawberry's reads `schema` and `field_name`; graphql-core's default also
    `is_awaitable`). Reading anything else raises, and the operation falls back."""

    __slots__ = ("field_name", "field_nodes", "parent_type", "return_type", "schema")

    def __init__(self, field_name: str, field_nodes: list[FieldNode],
                 return_type: GraphQLOutputType, parent_type: GraphQLObjectType,
                 schema: GraphQLSchema) -> None:
        self.field_name = field_name
        self.field_nodes = field_nodes
        self.return_type = return_type
        self.parent_type = parent_type
        self.schema = schema

    @staticmethod
    def is_awaitable(value: Any) -> bool:
        return is_awaitable(value)


def _abstract(output: GraphQLInterfaceType | GraphQLUnionType,
              branches: dict[str, Complete | None], info: TypeInfo) -> Complete:
    # graphql-core's own choice: the type's resolver, else its default one.
    resolve_type = output.resolve_type or default_type_resolver

    def complete(value: Any, run: Any) -> Any:
        if value is None:
            return None
        name = resolve_type(value, info, output)  # type: ignore[arg-type]  # the stand-in info
        if iscoroutine(name):
            name.close()  # an answer to await: graphql-core awaits it, the plan does not
        branch = branches.get(name) if isinstance(name, str) else None
        if branch is None:  # not one of the type's, unknown here, or a refused sub-plan
            raise Fallback("a runtime type the plan does not answer")
        return branch(value, run)

    return complete


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


def _leaf(coerce: Callable[[Any], Any], output: Any, *, required: bool = False) -> Complete:
    # A value the scalar's serializer returns as it is (a str for graphql-core's String and
    # ID, a bool for Boolean) is written without calling it.
    unchanged = next((kind for scalar, kind in _UNCHANGED if scalar is output), None)

    def complete(value: Any, run: Any) -> Any:
        if value is None:
            if required:
                raise Fallback("null in a non-null field")
            return None
        if type(value) is unchanged:
            return value
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
