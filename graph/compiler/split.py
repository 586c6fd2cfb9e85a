"""A query answered in two parts: the plan's root fields, and graphql-core for the rest.

A query's root fields are independent of each other (the specification runs them in
parallel, and graphql-core does), so a query whose plan refused some root fields (an
interface, introspection, a resolver that reads `info`) need not run whole through the
standard executor. The refused root fields run through graphql-core's public `execute`, as
strawberry calls it (its execution context class, the same context, root value, variables and
operation extensions), on a document of their own: the same operation with only those
fields, the very `FieldNode`s of the original (so locations are the original's) and every
fragment. Both parts run at once, as graphql-core would run the fields side by side, so a
loader batches across them as it does under graphql-core; the request's session takes one
statement at a time (graph/execution/database.py). The data is merged in the document's key
order.

An error in either part makes the whole operation run again through graphql-core (the
caller's fallback): graphql-core alone decides which siblings a failure cancels, which
errors it reports and in what order, and which statements were begun, so merging two
failing halves could differ from it, and errors are the rare case. So does a split whose
parts used a loader in common (`task(id)` and `node(id)` both read tasks by id): whether
their keys met in one batch is a matter of event-loop turns, which differ between the plan
and graphql-core, so the statement count could differ from graphql-core's alone; the caller
then stops splitting that document. Parts with no loader in common batch nothing together
under graphql-core either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from inspect import isawaitable
from typing import Any

from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    SelectionSetNode,
    execute,
)
from graphql.execution import VariableValues
from strawberry.execution import optimized_is_awaitable
from strawberry.types import ExecutionContext

from graph.compiler.plan import Fallback, Plan
from graph.compiler.run import Run
from graph.execution.loaders import loaders_used


class RestFailed(Fallback):
    """graphql-core answered a refused root field with an error."""


class SharedLoaders(Fallback):
    """Both parts used one loader: run whole, and do not split this document again."""


@dataclass(eq=False)
class Split:
    """A plan for some root fields and a document for the others (`plan.refused`)."""

    plan: Plan
    document: DocumentNode


def split(plan: Plan, operation: OperationDefinitionNode,
          fragments: dict[str, FragmentDefinitionNode]) -> Split:
    selections = tuple(node for nodes in plan.refused.values() for node in nodes)
    rest = OperationDefinitionNode(
        operation=operation.operation, name=operation.name,
        variable_definitions=operation.variable_definitions, directives=operation.directives,
        selection_set=SelectionSetNode(selections=selections),
    )
    return Split(plan, DocumentNode(definitions=(rest, *fragments.values())))


async def data(prepared: Plan | Split, context: ExecutionContext,
               variables: VariableValues) -> dict[str, Any]:
    """The operation's data; raises `Fallback` when graphql-core must run it whole."""
    plan = prepared.plan if isinstance(prepared, Split) else prepared
    run = Run(plan, context.schema, context.context, context.root_value, variables)
    if not isinstance(prepared, Split):
        return await run.data()
    rest_used: set[int] = set()
    compiled_used: set[int] = set()
    with _using(rest_used):  # graphql-core's tasks inherit it
        # graphql-core calls the refused root resolvers now, returns what is still to come.
        waiting = asyncio.ensure_future(_result(_rest(prepared.document, context)))
    try:
        with _using(compiled_used):
            compiled = await run.data()
    except BaseException as error:
        # graphql-core finishes what it began (its result never raises), so nothing it
        # started outlives this call but loader batches, which the fallback waits for.
        if isinstance(error, asyncio.CancelledError):
            waiting.cancel()
        await asyncio.wait([waiting])
        raise
    result = await waiting
    if result.errors or result.data is None:
        raise RestFailed(f"{len(result.errors or ())} error(s) in the refused root fields")
    if rest_used & compiled_used:
        raise SharedLoaders("both parts used a loader")
    return {key: compiled[key] if key in compiled else result.data[key] for key in plan.keys}


@contextmanager
def _using(used: set[int]) -> Iterator[None]:
    token = loaders_used.set(used)
    try:
        yield
    finally:
        loaders_used.reset(token)


def _rest(document: DocumentNode, context: ExecutionContext) -> Any:
    """The refused root fields through graphql-core, as strawberry's `Schema.execute` calls
    it (no middleware: the compiler is off when an extension hooks resolvers)."""
    schema = context.schema
    return execute(
        schema._schema,  # the strawberry schema's graphql-core schema
        document,
        root_value=context.root_value,
        context_value=context.context,
        variable_values=context.variables,
        operation_name=context.operation_name,
        is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]  # strawberry passes it so; typed bool, not TypeGuard
        executor_class=schema.execution_context_class,
        operation_extensions=context.operation_extensions,
    )


async def _result(rest: Any) -> ExecutionResult:
    return await rest if isawaitable(rest) else rest  # type: ignore[no-any-return]  # execute's result, awaited or not
