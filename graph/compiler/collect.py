"""Which fields a selection asks for on one concrete type, as graphql-core's executor decides.

`collect` follows graphql-core's `collect_fields`: fields grouped by response key in the
order they first appear, `@skip`/`@include` evaluated on fields, inline fragments and
spreads, a fragment applied when its type condition is the type itself or an abstract type
the type belongs to, each fragment spread once per selection. What graphql-core would treat
differently (`@defer`, `@stream`, fragment variables, any other executable directive) is
refused here, so the plan is never built for it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from graphql import (
    DirectiveNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    NamedTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_directive_values,
    is_abstract_type,
    type_from_ast,
)
from graphql.execution import VariableValues

_CONDITIONS = (GraphQLSkipDirective.name, GraphQLIncludeDirective.name)


class Refused(Exception):
    """The operation holds something the compiler does not prove equal: the standard
    executor runs it."""


Fragments = dict[str, FragmentDefinitionNode]


def included(node: Any, variables: VariableValues) -> bool:
    """graphql-core's `should_include_node`: @skip wins over @include."""
    if not node.directives:
        return True
    for directive in node.directives:
        if directive.name.value not in _CONDITIONS:
            raise Refused(f"directive @{directive.name.value}")
    skip = get_directive_values(GraphQLSkipDirective, node, variables)
    if skip and skip["if"]:
        return False
    include = get_directive_values(GraphQLIncludeDirective, node, variables)
    return not (include is not None and not include["if"])


def _applies(schema: GraphQLSchema, condition: NamedTypeNode | None,
             runtime: GraphQLObjectType) -> bool:
    if condition is None:
        return True
    named = type_from_ast(schema, condition)
    if named is runtime:
        return True
    return is_abstract_type(named) and schema.is_sub_type(named, runtime)


def collect(
    schema: GraphQLSchema,
    fragments: Fragments,
    runtime: GraphQLObjectType,
    selection_sets: Iterable[SelectionSetNode],
    variables: VariableValues,
) -> dict[str, list[FieldNode]]:
    """The response keys of `selection_sets` (one field's merged selections) on `runtime`."""
    grouped: dict[str, list[FieldNode]] = {}
    visited: set[str] = set()
    for selection_set in selection_sets:
        _visit(schema, fragments, runtime, selection_set, variables, grouped, visited)
    return grouped


def _visit(
    schema: GraphQLSchema,
    fragments: Fragments,
    runtime: GraphQLObjectType,
    selection_set: SelectionSetNode,
    variables: VariableValues,
    grouped: dict[str, list[FieldNode]],
    visited: set[str],
) -> None:
    for selection in selection_set.selections:
        if not included(selection, variables):
            continue
        if isinstance(selection, FieldNode):
            key = selection.alias.value if selection.alias else selection.name.value
            grouped.setdefault(key, []).append(selection)
        elif isinstance(selection, InlineFragmentNode):
            if _applies(schema, selection.type_condition, runtime):
                _visit(schema, fragments, runtime, selection.selection_set, variables,
                       grouped, visited)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if getattr(selection, "arguments", None):
                raise Refused("fragment arguments")
            fragment = fragments.get(name)
            if fragment is None or not _applies(schema, fragment.type_condition, runtime):
                continue
            if name in visited:
                continue
            visited.add(name)
            _visit(schema, fragments, runtime, fragment.selection_set, variables,
                   grouped, visited)


def condition_variables(
    operation: OperationDefinitionNode, fragments: Fragments
) -> tuple[str, ...]:
    """The variables `@skip`/`@include` read anywhere in the operation: the plan depends on
    their values and on nothing else of the variables (arguments are read at run time)."""
    if operation.directives:
        raise Refused("operation directives")
    for fragment in fragments.values():
        if getattr(fragment, "variable_definitions", None) or fragment.directives:
            raise Refused("fragment variables or directives")
    names: dict[str, None] = {}
    for selection_set in [operation.selection_set,
                          *(fragment.selection_set for fragment in fragments.values())]:
        for directive in _directives(selection_set):
            for argument in directive.arguments or ():
                if isinstance(argument.value, VariableNode):
                    names[argument.value.name.value] = None
    return tuple(names)


def _directives(selection_set: SelectionSetNode) -> Iterator[DirectiveNode]:
    stack: list[SelectionSetNode] = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            yield from selection.directives or ()
            inner = getattr(selection, "selection_set", None)
            if inner is not None:
                stack.append(inner)


def field_sets(nodes: Sequence[FieldNode]) -> list[SelectionSetNode]:
    return [node.selection_set for node in nodes if node.selection_set is not None]
