"""Which fields a selection asks for on one concrete type: graphql-core's own collection.

`collect_root` and `collect` call graphql-core's `collect_fields` and `collect_subfields`
(`graphql.execution.collect_fields`, the functions its executor calls; not re-exported by
`graphql.execution` and documented there as internal, so the lock pins the version and the
differential tests compare both paths): fields grouped by response key in the order they
first appear, `@skip`/`@include` evaluated, fragments applied to the type they name or to an
abstract type the type belongs to, each fragment spread once per selection.

What is ours is only what must differ: graphql-core collects `@defer` into deferred groups,
lets fragment variables and arguments reach the fields, and ignores any other directive
(strawberry may act on one), and a plan answers none of these. So `condition_variables`
refuses a document holding any of them before a plan is built, and collecting refuses a
deferred group all the same, should one get through.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLIncludeDirective,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLSkipDirective,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    VariableNode,
)
from graphql.execution import VariableValues
from graphql.execution.collect_fields import (
    CollectedFields,
    FieldDetails,
    FragmentDetails,
    collect_fields,
    collect_subfields,
)

_CONDITIONS = (GraphQLSkipDirective.name, GraphQLIncludeDirective.name)


class Refused(Exception):
    """The operation holds something the compiler does not prove equal: the standard
    executor runs it."""


Fragments = dict[str, FragmentDefinitionNode]
Collected = dict[str, list[FieldNode]]  # response key -> its field nodes, in document order


def fragment_details(fragments: Fragments) -> dict[str, FragmentDetails]:
    """The fragments as graphql-core's collection takes them: with no variable signatures,
    as fragment variables are refused (`condition_variables`)."""
    return {name: FragmentDetails(definition) for name, definition in fragments.items()}


def collect_root(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDetails],
    variables: VariableValues,
    operation: OperationDefinitionNode,
    root: GraphQLObjectType,
) -> Collected:
    """The operation's root fields, as graphql-core's executor collects them."""
    return _nodes(collect_fields(schema, fragments, variables, root, operation))


def collect(
    schema: GraphQLSchema,
    fragments: dict[str, FragmentDetails],
    variables: VariableValues,
    operation: OperationDefinitionNode,
    runtime: GraphQLObjectType,
    nodes: Sequence[FieldNode],
) -> Collected:
    """The response keys of the merged selections of one field's `nodes` on `runtime`. No
    node is deferred or holds fragment variables (refused), so each one's details are the
    node alone, as graphql-core's executor would make them."""
    details = [FieldDetails(node, None) for node in nodes]
    return _nodes(collect_subfields(schema, fragments, variables, operation, runtime, details))


def _nodes(collected: CollectedFields) -> Collected:
    if collected.new_defer_usages:
        raise Refused("@defer")
    return {key: [details.node for details in group]
            for key, group in collected.grouped_field_set.items()}


def condition_variables(
    operation: OperationDefinitionNode, fragments: Fragments
) -> tuple[str, ...]:
    """The variables `@skip`/`@include` read anywhere in the operation: the plan depends on
    their values and on nothing else of the variables (arguments are read at run time).
    Refuses what graphql-core's collection would treat otherwise than a plan can: any other
    directive (`@defer`, or one strawberry acts on), fragment variables and arguments."""
    if operation.directives:
        raise Refused("operation directives")
    for fragment in fragments.values():
        if fragment.variable_definitions or fragment.directives:
            raise Refused("fragment variables or directives")
    names: dict[str, None] = {}
    for selection_set in [operation.selection_set,
                          *(fragment.selection_set for fragment in fragments.values())]:
        for selection in _selections(selection_set):
            if isinstance(selection, FragmentSpreadNode) and selection.arguments:
                raise Refused("fragment arguments")
            for directive in selection.directives or ():
                if directive.name.value not in _CONDITIONS:
                    raise Refused(f"directive @{directive.name.value}")
                for argument in directive.arguments or ():
                    if isinstance(argument.value, VariableNode):
                        names[argument.value.name.value] = None
    return tuple(names)


def _selections(selection_set: SelectionSetNode) -> Iterator[SelectionNode]:
    stack: list[SelectionSetNode] = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            yield selection
            inner = getattr(selection, "selection_set", None)
            if inner is not None:
                stack.append(inner)
