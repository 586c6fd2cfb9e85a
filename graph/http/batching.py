"""HTTP batching, as Apollo's BatchHttpLink sends it: a JSON array of operations POSTed to
/graphql, answered by a JSON array in the same order.

- At most `MAX_BATCH_OPERATIONS` operations (10); more, or none, is HTTP 400
  (`TOO_MANY_OPERATIONS`, `EMPTY_BATCH`) before anything runs. GET carries no batch.
- Each operation is held to every limit on its own (the schema's extensions), and their
  estimated costs are added up and held to `MAX_COST` together: a batch is one request, so
  ten operations just under the limit are ten times the work it allows. Over it the whole
  batch is HTTP 400 `QUERY_TOO_COSTLY` (with `cost`, `maxCost`, `batch: true`), nothing run.
- Operations run one after another, in order, each with a context of its own (its session
  and loaders): a mutation's writes are committed before the next operation reads, and a
  query after it never sees a loader's stale copy. Strawberry ran a batch's operations at
  once on one context.
- Persisted-only mode applies to each operation (graph/http/router.py resolves each).
"""

from __future__ import annotations

from typing import Any

import orjson
from graphql import GraphQLError, GraphQLSchema, get_operation_ast, parse, validate
from starlette.responses import Response

from graph.extensions.analysis import analyse, effective_variables
from graph.http.responses import media_type
from graph.settings import Settings


class BatchRefused(Exception):
    """A batch refused whole, before any of its operations ran: HTTP 400 with `code`."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extensions = extensions

    def response(self, accept: str) -> Response:
        error = {"message": self.message, "extensions": {"code": self.code, **self.extensions}}
        return Response(
            orjson.dumps({"errors": [error]}), status_code=400,
            media_type=f"{media_type(accept)}; charset=utf-8",
            headers={"Cache-Control": "no-store"},
        )


def check_size(count: int, maximum: int) -> None:
    """A batch of `count` operations: BatchRefused when empty or over `maximum`."""
    if count == 0:
        raise BatchRefused("An empty batch: send at least one operation.", "EMPTY_BATCH")
    if count > maximum:
        raise BatchRefused(
            f"Too many operations in one batch: {count}, at most {maximum}"
            " (MAX_BATCH_OPERATIONS). Split it.",
            "TOO_MANY_OPERATIONS", count=count, max=maximum,
        )


_FIELDS: dict[str, tuple[type, str]] = {
    "query": (str, "a string"), "operationName": (str, "a string"),
    "variables": (dict, "an object"), "extensions": (dict, "an object"),
}


def check_items(items: list[Any]) -> str | None:
    """Why a batch's operations are malformed (strawberry checks a single operation's fields,
    not a batch's), or None."""
    for number, item in enumerate(items, 1):
        if not isinstance(item, dict):
            return f"Operation {number} of the batch is not a JSON object."
        for key, (expected, described) in _FIELDS.items():
            value = item.get(key)
            if value is not None and not isinstance(value, expected):
                return f"Operation {number} of the batch: `{key}` must be {described} or null."
    return None


def check_cost(schema: GraphQLSchema, operations: list[Any], settings: Settings) -> None:
    """The operations' estimated costs together against MAX_COST; BatchRefused over it.
    An operation that does not parse or validate counts nothing: it is refused on its own,
    in its place in the answer, when it runs."""
    total = sum(_cost(schema, item.query, item.variables, item.operation_name, settings)
                for item in operations)
    if total > settings.max_cost:
        raise BatchRefused(
            f"The batch is too costly: its operations' estimated costs add up to {total},"
            f" over the limit of {settings.max_cost}. Send fewer operations, or smaller pages.",
            "QUERY_TOO_COSTLY", cost=total, maxCost=settings.max_cost, batch=True,
        )


def _cost(
    schema: GraphQLSchema, query: str | None, variables: dict[str, Any] | None,
    operation_name: str | None, settings: Settings,
) -> int:
    if not query:
        return 0
    try:  # a hostile document's recursion is its own refusal's business, not the sum's
        document = parse(query, max_tokens=settings.max_tokens)
        if validate(schema, document):
            return 0
        operation = get_operation_ast(document, operation_name)
        if operation is None:
            return 0
        sent = effective_variables(operation, variables or {})
        return analyse(schema, document, operation, sent, settings.max_page_size).cost
    except (GraphQLError, RecursionError):
        return 0
