"""The cost limit: an estimate of the work a query asks for, refused before any SQL runs.

One per field, multiplied by the page size (`first`/`last`) for everything below a list, and
by the number of ids below `nodes(ids:)`, each id costed as the type it names; variables are
read as execution will see them, their defaults included.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    get_named_type,
    is_abstract_type,
    is_interface_type,
    is_object_type,
    value_from_ast_untyped,
)
from strawberry import relay
from strawberry.extensions import SchemaExtension

from graph.pagination import DEFAULT_PAGE_SIZE, page_too_large


def too_many_ids(limit: int) -> str:
    """The refusal of a `nodes(ids:)` list longer than a page: each id is resolved, so an
    unbounded list would multiply the work like an unbounded page."""
    return f"`nodes` takes at most {limit} ids, like a page; ask for fewer."


def query_cost_limit(max_cost: int, max_page_size: int) -> type[SchemaExtension]:
    class QueryCost(SchemaExtension):
        """Refuses an operation whose estimated cost exceeds the limit, before executing it.

        Each field costs 1; a field with `first`/`last` multiplies the cost of what is below
        it by the page size asked for (the default page when absent); below `nodes(ids:)`
        counts once per id. Variables count as execution will see them, defaults included.
        """

        def on_execute(self) -> Iterator[None]:
            context = self.execution_context
            document = context.graphql_document
            if document is not None and context.result is None:
                schema: GraphQLSchema = context.schema._schema
                walker = _CostWalker(
                    schema, document.definitions, context.variables or {}, max_page_size
                )
                cost = walker.operation_cost(context.operation_name)
                error = _refusal(walker, cost, max_cost=max_cost, max_page_size=max_page_size)
                if error is not None:
                    context.result = ExecutionResult(data=None, errors=[error])
            yield

    return QueryCost


def _refusal(
    walker: _CostWalker, cost: int, *, max_cost: int, max_page_size: int
) -> GraphQLError | None:
    """The same refusals the resolvers would give (page size, ids), but before any SQL runs;
    then the cost itself."""
    if walker.largest_page > max_page_size:
        return GraphQLError(page_too_large(max_page_size), extensions={"code": "BAD_USER_INPUT"})
    if walker.most_ids > max_page_size:
        return GraphQLError(too_many_ids(max_page_size), extensions={"code": "BAD_USER_INPUT"})
    if cost > max_cost:
        return GraphQLError(
            f"Query is too costly: estimated cost {cost} exceeds the limit of"
            f" {max_cost}. Ask for smaller pages or fewer fields.",
            extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": max_cost},
        )
    return None


class _CostWalker:
    def __init__(
        self, schema: GraphQLSchema, definitions: Any, variables: dict[str, Any], max_ids: int
    ) -> None:
        self.schema = schema
        self.max_ids = max_ids
        self.definitions = definitions
        self.fragments = {
            d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.sent = variables
        self.variables: dict[str, Any] = {}
        self.largest_page = 0
        self.most_ids = 0

    def operation_cost(self, operation_name: str | None) -> int:
        operations = [
            d for d in self.definitions
            if isinstance(d, OperationDefinitionNode)
            and (operation_name is None or (d.name is not None and d.name.value == operation_name))
        ]
        if not operations:
            return 0
        self.variables = _effective_variables(operations[0], self.sent)
        root = self.schema.get_root_type(operations[0].operation)
        return self.selections(operations[0].selection_set, root, frozenset())

    def selections(self, node: SelectionSetNode | None, parent: Any, seen: frozenset[str]) -> int:
        total = 0
        for selection in node.selections if node is not None else ():
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, seen)
            elif isinstance(selection, InlineFragmentNode):
                target = self.condition(selection.type_condition, parent)
                if target is not None:
                    total += self.selections(selection.selection_set, target, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    target = self.condition(fragment.type_condition, parent)
                    if target is not None:
                        total += self.selections(fragment.selection_set, target, seen | {name})
        return total

    def field(self, node: FieldNode, parent: Any, seen: frozenset[str]) -> int:
        fields = getattr(parent, "fields", None) or {}
        definition = fields.get(node.name.value)
        if definition is None:
            return 1
        target = get_named_type(definition.type)
        if "ids" in definition.args:
            return 1 + self.per_id(node, target, seen)
        below = self.selections(node.selection_set, target, seen)
        return 1 + self.multiplier(node, definition) * below

    def per_id(self, node: FieldNode, target: Any, seen: frozenset[str]) -> int:
        """`nodes(ids:)` resolves every id, so what is below it counts once per id: as the
        type the id names (only that type's fragments run for it), or as any type the field
        may return when the id names none of them."""
        ids = self.argument(node, "ids")
        ids = ids if isinstance(ids, list) else [ids]  # one value is coerced to a list of one
        self.most_ids = max(self.most_ids, len(ids))
        if len(ids) > self.max_ids:
            return len(ids)  # refused by the cap: not worth costing a huge list id by id
        costs: dict[str, int] = {}
        total = 0
        for raw in ids:
            named = self.type_named_by(raw, target)
            if named.name not in costs:
                costs[named.name] = self.selections(node.selection_set, named, seen)
            total += costs[named.name]
        return total

    def type_named_by(self, raw: Any, target: Any) -> Any:
        try:
            name = relay.GlobalID.from_id(raw).type_name if isinstance(raw, str) else None
        except ValueError:
            name = None
        named = self.schema.get_type(name) if name is not None else None
        if is_object_type(named) and (
            named is target or (is_abstract_type(target) and self.schema.is_sub_type(target, named))
        ):
            return named
        return target

    def argument(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return self.value(argument.value)
        return None

    def multiplier(self, node: FieldNode, definition: Any) -> int:
        if "first" not in definition.args and "last" not in definition.args:
            return 1
        for argument in node.arguments or ():
            if argument.name.value not in ("first", "last"):
                continue
            size = self.value(argument.value)
            # null (or a value execution will refuse anyway) leaves the field's default page
            if isinstance(size, int) and not isinstance(size, bool):
                self.largest_page = max(self.largest_page, size)
                return max(size, 1)
        return DEFAULT_PAGE_SIZE

    def value(self, node: ValueNode) -> Any:
        """An argument's value as execution will see it: literals, variables (also inside
        lists and objects) and variable defaults; Undefined for a variable never given."""
        return value_from_ast_untyped(node, self.variables)

    def condition(self, condition: Any, parent: Any) -> Any:
        """The type a fragment's fields are costed as, or None when they never run: the
        parent is one object type the fragment does not apply to. Without this, a selection
        with a fragment per Node type would count every type's fields for every id."""
        if condition is None:
            return parent
        named = self.schema.get_type(condition.name.value)
        if is_object_type(parent):
            applies = named is parent or (
                is_abstract_type(named) and self.schema.is_sub_type(named, parent)
            )
            return parent if applies else None
        return named if is_object_type(named) or is_interface_type(named) else parent


def _effective_variables(
    operation: OperationDefinitionNode, sent: dict[str, Any]
) -> dict[str, Any]:
    """The variables as execution will coerce them: what the client sent, else the
    definition's default. An explicit null is kept (it overrides the default), so the field's
    own default applies, as it does at execution."""
    values = dict(sent)
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in values and definition.default_value is not None:
            values[name] = value_from_ast_untyped(definition.default_value)
    return values
