"""One linear walk of an operation: its depth, its aliases and its estimated cost.

Each fragment is walked once per type it is applied to and the result is remembered, so a
document whose fragments each spread the next one twice (2^n paths) costs about n visits,
not 2^n: the work is linear in the document's size whatever a client sends. strawberry's
depth and alias limiters, and the cost walker this replaces, followed every path: twenty
such fragments (0.8 KB) held the event loop for 16 s.

- **Depth** as strawberry's `QueryDepthLimiter` counts it: the longest chain of fields with
  selections. Introspection fields are not counted (`MaxIntrospectionDepthRule` bounds them).
- **Aliases**, each counted once per place it runs from: a fragment spread three times counts
  its aliases three times.
- **Cost**: 1 per field, times the page size (`first`/`last`, the default page when absent)
  for what is below a paged list, times the most items an unpaged list may hold
  (`LIST_ITEMS`: a task's steps, an event's exercises), and once per id below
  `nodes(ids:)`, each id costed as the type it names (only that type's fragments run for
  it). Variables count as execution sees them, their defaults included. The cost is never
  less than the selections the document expands to when every spread is expanded where it
  stands, whatever its type: strawberry's `selected_fields` (the task page's look-ahead)
  expands fragments that way, so a fan-out of fragments that never apply still counts. Sums
  saturate at COST_CEILING, far past any limit, so a refusal never prints a number a
  JavaScript client cannot read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
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

from graph.execution.pagination import DEFAULT_PAGE_SIZE, page_too_large
from models.panic import EXERCISES_MAX
from models.task import STEPS_MAX

COST_CEILING = 2**53 - 1
# Lists without paging, counted as the most items they hold. The domain enforces the first
# two; the audit figures are estimates (a year of days, the usual number of document types),
# their items are a few numbers each. `test_analysis.py` fails when the schema
# gains an unpaged list that is not declared here. (Before, an unpaged list counted as one
# item: `task { steps { task { steps { task { steps { id } } } } } }` cost 8 and made 10^6
# objects from a task of 100 steps, for 74 s.)
LIST_ITEMS: dict[str, int | None] = {
    "Task.steps": STEPS_MAX,
    "PanicEvent.exercises": EXERCISES_MAX,
    "ValidationError.fields": STEPS_MAX + 10,  # every step of an input, and its other fields
    "AuditStats.byDocumentType": 100,
    "AuditStats.byDay": 366,
    # A bulk mutation's results, one per id: at most a page (None: `MAX_PAGE_SIZE`).
    "SetTasksStatusSuccess.results": None,
    "DeleteTasksSuccess.results": None,
}
# The types below `__schema` and `__type`, which no object type of ours declares as fields.
_INTROSPECTION_ROOTS = {"__schema": "__Schema", "__type": "__Type"}


def _cap(value: int) -> int:
    return min(value, COST_CEILING)


@dataclass(frozen=True)
class Totals:
    cost: int = 0
    depth: int = 0
    aliases: int = 0


@dataclass(frozen=True)
class Analysis:
    """What one operation asks for. `visits` counts the selections walked (the work done)."""

    name: str
    depth: int
    aliases: int
    cost: int
    largest_page: int
    most_ids: int
    visits: int


def select_operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    """The operation that will run, or None when there is no such operation (execution
    refuses that itself)."""
    return next(
        (
            d for d in document.definitions
            if isinstance(d, OperationDefinitionNode)
            and (operation_name is None or (d.name is not None and d.name.value == operation_name))
        ),
        None,
    )


def analyse(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    max_ids: int,
) -> Analysis:
    """`variables` as `effective_variables` gives them."""
    walk = _Walk(schema, document, variables, max_ids)
    root = schema.get_root_type(operation.operation)
    totals = walk.selection_set(operation.selection_set, root)
    expanded = walk.expansion(operation.selection_set)
    return Analysis(
        name=operation.name.value if operation.name else "anonymous",
        depth=totals.depth,
        aliases=totals.aliases,
        cost=max(totals.cost, expanded),
        largest_page=walk.largest_page,
        most_ids=walk.most_ids,
        visits=walk.visits,
    )


@dataclass(frozen=True)
class Limits:
    max_depth: int
    max_aliases: int
    max_cost: int
    max_page_size: int


def refusals(analysis: Analysis, limits: Limits) -> list[GraphQLError]:
    """What the operation is refused for: its depth and aliases (both reported), else a
    page over the maximum, else its cost."""
    errors: list[GraphQLError] = []
    if analysis.depth > limits.max_depth:
        errors.append(GraphQLError(
            f"'{analysis.name}' exceeds maximum operation depth of {limits.max_depth}",
            extensions={"code": "QUERY_TOO_DEEP", "depth": analysis.depth,
                        "maxDepth": limits.max_depth},
        ))
    if analysis.aliases > limits.max_aliases:
        errors.append(GraphQLError(
            f"{analysis.aliases} aliases found. Allowed: {limits.max_aliases}",
            extensions={"code": "TOO_MANY_ALIASES"},
        ))
    if errors:
        return errors
    if analysis.largest_page > limits.max_page_size:
        message = page_too_large(limits.max_page_size)
        return [GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})]
    if analysis.cost > limits.max_cost:
        return [GraphQLError(
            f"Query is too costly: estimated cost {analysis.cost} exceeds the limit of"
            f" {limits.max_cost}. Ask for smaller pages or fewer fields.",
            extensions={"code": "QUERY_TOO_COSTLY", "cost": analysis.cost,
                        "maxCost": limits.max_cost},
        )]
    return []


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        variables: dict[str, Any],
        max_ids: int,
    ) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.variables = variables
        self.max_ids = max_ids
        self.largest_page = 0
        self.most_ids = 0
        self.visits = 0
        # (fragment, the type it is applied to) -> its totals: each walked once.
        self.done: dict[tuple[str, str], Totals] = {}
        self.entered: set[tuple[str, str]] = set()
        # fragment -> the selections it expands to, wherever it is spread: each counted once.
        self.expanded: dict[str, int] = {}

    def selection_set(self, node: SelectionSetNode | None, parent: Any) -> Totals:
        cost = depth = aliases = 0
        for selection in node.selections if node is not None else ():
            self.visits += 1
            if isinstance(selection, FieldNode):
                totals = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                target = self.condition(selection.type_condition, parent)
                totals = self.selection_set(selection.selection_set, target) if target else Totals()
            elif isinstance(selection, FragmentSpreadNode):
                totals = self.spread(selection, parent)
            else:  # pragma: no cover - graphql-core has no other selection kinds
                continue
            cost = _cap(cost + totals.cost)
            depth = max(depth, totals.depth)
            aliases = _cap(aliases + totals.aliases)
        return Totals(cost, depth, aliases)

    def expansion(self, node: SelectionSetNode | None) -> int:
        """The selections below `node` with every spread expanded where it stands."""
        total = 0
        for selection in node.selections if node is not None else ():
            self.visits += 1
            if isinstance(selection, FieldNode):
                total = _cap(total + 1 + self.expansion(selection.selection_set))
            elif isinstance(selection, InlineFragmentNode):
                total = _cap(total + self.expansion(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in self.expanded:
                    self.expanded[name] = 0  # a cycle counts nothing; validation refuses it
                    fragment = self.fragments.get(name)
                    self.expanded[name] = self.expansion(fragment.selection_set if fragment
                                                         else None)
                total = _cap(total + self.expanded[name])
        return total

    def spread(self, node: FragmentSpreadNode, parent: Any) -> Totals:
        fragment = self.fragments.get(node.name.value)
        target = self.condition(fragment.type_condition, parent) if fragment else None
        if fragment is None or target is None:
            return Totals()
        key = (node.name.value, target.name)
        known = self.done.get(key)
        if known is not None:
            return known
        if key in self.entered:  # a cycle: validation refuses those before this walk
            return Totals()
        self.entered.add(key)
        totals = self.done[key] = self.selection_set(fragment.selection_set, target)
        return totals

    def field(self, node: FieldNode, parent: Any) -> Totals:
        name = node.name.value
        alias = 1 if node.alias is not None else 0
        if name in _INTROSPECTION_ROOTS or name == "__typename":
            introspected = self.schema.get_type(_INTROSPECTION_ROOTS.get(name, ""))
            below = self.selection_set(node.selection_set, introspected) if introspected else None
            return Totals(cost=1, aliases=alias + (below.aliases if below is not None else 0))
        definition = (getattr(parent, "fields", None) or {}).get(name)
        if definition is None or node.selection_set is None:
            return Totals(cost=1, aliases=alias)
        target = get_named_type(definition.type)
        shape = self.selection_set(node.selection_set, target)
        if "ids" in definition.args:
            below_cost = self.per_id(node, target, shape)
        else:
            key = f"{parent.name}.{name}"
            if key in LIST_ITEMS:
                items = LIST_ITEMS[key] or self.max_ids
            else:
                items = self.multiplier(node, definition)
            below_cost = _cap(items * shape.cost)
        return Totals(
            cost=_cap(1 + below_cost), depth=1 + shape.depth, aliases=alias + shape.aliases
        )

    def per_id(self, node: FieldNode, target: Any, shape: Totals) -> int:
        """`nodes(ids:)` resolves every id, so what is below it counts once per id: as the
        type the id names, or as any type the field may return when it names none of them."""
        ids = self.argument(node, "ids")
        ids = ids if isinstance(ids, list) else [ids]  # one value is coerced to a list of one
        self.most_ids = max(self.most_ids, len(ids))
        if len(ids) > self.max_ids:
            return len(ids)  # refused by the cap: not worth costing a huge list id by id
        costs: dict[str, int] = {target.name: shape.cost}
        total = 0
        for raw in ids:
            named = self.type_named_by(raw, target)
            if named.name not in costs:
                costs[named.name] = self.selection_set(node.selection_set, named).cost
            total = _cap(total + costs[named.name])
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
            if isinstance(size, float) and size.is_integer():
                size = int(size)  # graphql-core coerces 100.0 to the Int 100
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


def effective_variables(
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
