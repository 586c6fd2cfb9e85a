"""Request limits, each refused with a clear GraphQL error before any SQL runs.

Depth, tokens and aliases use strawberry's validators (they follow fragment spreads, and
graphql-core rejects fragment cycles first); this module adds directives per field, a cost
limit that multiplies by the page sizes and id lists requested, the cap on `nodes(ids:)`, the
body size limit and the switch that drops "Did you mean ...?" suggestions.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from typing import Any

import orjson
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
    ValidationRule,
    ValueNode,
    get_named_type,
    is_abstract_type,
    is_interface_type,
    is_object_type,
    value_from_ast_untyped,
)
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry import relay
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import StreamExecutionResult
from strawberry.types.graphql import OperationType

from graph.pagination import DEFAULT_PAGE_SIZE

_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")

# JSON nested deeper than this is refused before it is decoded: the decoder recurses, and a
# few thousand levels of [[[...]]] would raise RecursionError (a 500). No operation needs more.
MAX_JSON_DEPTH = 64
_JSON_SPECIAL = re.compile(rb'[\\"\[\]{}]')


def json_too_deep(data: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays/objects deeper than `limit`: one linear scan over the
    brackets and quotes, skipping string contents (escapes included), before any decoding."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    depth, in_string, skip_to = 0, False, -1
    for match in _JSON_SPECIAL.finditer(raw):
        at = match.start()
        if at < skip_to:
            continue
        char = raw[at]
        if in_string:
            if char == 0x5C:  # a backslash: the next byte is escaped
                skip_to = at + 2
            elif char == 0x22:
                in_string = False
        elif char == 0x22:
            in_string = True
        elif char in b"[{":
            depth += 1
            if depth > limit:
                return True
        elif char in b"]}":
            depth -= 1
    return False


class SubscriptionsOverWebSocketOnly(SchemaExtension):
    """A subscription sent over plain HTTP is refused (BAD_REQUEST) before it runs: only the
    WebSocket transport streams them, and executed as a query it would fail unexpectedly."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if (
            context.result is None
            and context.graphql_document is not None
            and context.operation_type is OperationType.SUBSCRIPTION
            and not isinstance(getattr(context.context, "request", None), WebSocket)
        ):
            error = GraphQLError(
                "Subscriptions are served over the WebSocket transport (graphql-transport-ws).",
                extensions={"code": "BAD_REQUEST"},
            )
            context.result = ExecutionResult(data=None, errors=[error])
        yield


def directives_per_field_rule(limit: int) -> type[ValidationRule]:
    class MaxDirectivesPerField(ValidationRule):
        def enter_field(self, node: FieldNode, *_args: Any) -> None:
            count = len(node.directives or ())
            if count > limit:
                self.report_error(
                    GraphQLError(
                        f"Field '{node.name.value}' has {count} directives;"
                        f" at most {limit} are allowed.",
                        node,
                    )
                )

    return MaxDirectivesPerField


class HideSuggestions(SchemaExtension):
    """Strips "Did you mean ...?" from every error the client receives, so errors cannot map
    hidden schema; the rest of each message stays.

    Validation is not the only source: variable values are coerced during execution, and
    graphql-core words those errors with suggestions too ("unknown field 'statu'. Did you mean
    'status'?"). graphql-core 3.3 can leave them out (`hide_suggestions`), but strawberry does
    not pass that to execution, and `did_you_mean.MAX_LENGTH` is process-wide (it would silence
    every schema in the process, development ones included). So the finished result is
    cleaned, whatever step produced its errors: once per operation, and per streamed result
    (subscriptions).
    """

    def on_operation(self) -> Iterator[None]:
        yield
        _strip_suggestions(getattr(self.execution_context.result, "errors", None))

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        _strip_suggestions(getattr(result, "errors", None))
        yield


def _strip_suggestions(errors: list[GraphQLError] | None) -> None:
    for error in errors or ():
        error.message = _SUGGESTION.sub("", error.message)


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
                if walker.largest_page > max_page_size:
                    # The same refusal the resolver would give, but before any SQL runs.
                    error = GraphQLError(
                        f"A page holds at most {max_page_size} items; ask for fewer.",
                        extensions={"code": "BAD_USER_INPUT"},
                    )
                    context.result = ExecutionResult(data=None, errors=[error])
                elif walker.most_ids > max_page_size:
                    error = GraphQLError(
                        too_many_ids(max_page_size), extensions={"code": "BAD_USER_INPUT"}
                    )
                    context.result = ExecutionResult(data=None, errors=[error])
                elif cost > max_cost:
                    error = GraphQLError(
                        f"Query is too costly: estimated cost {cost} exceeds the limit of"
                        f" {max_cost}. Ask for smaller pages or fewer fields.",
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "maxCost": max_cost},
                    )
                    context.result = ExecutionResult(data=None, errors=[error])
            yield

    return QueryCost


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


class BodySizeLimit:
    """ASGI middleware: a request body over the limit is answered 413 before it is parsed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise _TooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = (
            b'{"errors":[{"message":"Request body too large: at most %d bytes.",'
            b'"extensions":{"code":"PAYLOAD_TOO_LARGE"}}]}' % self.max_bytes
        )
        await send({
            "type": "http.response.start", "status": 413,
            "headers": [(b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode())],
        })
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


class RequestTimeout:
    """ASGI middleware: an HTTP request still running after the limit is cancelled and, if
    nothing was sent yet, answered 504. Cancellation rolls back an open transaction, so a
    timed-out mutation leaves nothing half-written. WebSockets are long-lived by design and
    are not timed."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await asyncio.wait_for(self.app(scope, receive, tracking_send), self.seconds)
        except TimeoutError:
            if started:
                raise
            body = orjson.dumps({"errors": [{
                "message": f"The request took longer than {self.seconds:g} s and was stopped.",
                "extensions": {"code": "TIMEOUT"},
            }]})
            await send({
                "type": "http.response.start", "status": 504,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())],
            })
            await send({"type": "http.response.body", "body": body})
