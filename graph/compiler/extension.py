"""The compiler as a schema extension: plans cached by bytes, answered before graphql-core
runs (root fields a plan refused through graphql-core beside it, `split.py`), the standard
executor whenever a plan cannot answer.

strawberry skips graphql-core's `execute` when an `on_execute` hook has set the execution
context's result (its documented way to answer from elsewhere, e.g. a cache). This hook does
that for a query it has a plan for, after every other extension's `on_execute` has begun
(it comes last), so the WebSocket's time limit and the operation log wrap it as they wrap
graphql-core. Everything around execution (parsing, validation, the limits, persisted
queries, masking, diagnostics) is the same on both paths: it is not this code's.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FragmentDefinitionNode,
    OperationDefinitionNode,
)
from graphql.execution import get_variable_values
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from graph.compiler import split
from graph.compiler.collect import Refused, condition_variables
from graph.compiler.plan import Compiler, Plan
from graph.compiler.split import Split
from graph.extensions.cache import BoundedLRU, string_bytes
from graph.extensions.documents import document_bytes
from graph.metrics import PLAN_HIT, PLAN_MISS

logger = logging.getLogger(__name__)
PLANS_CACHED = 10_000
# A key's tuple and a shape's, at their largest measured (tracemalloc); their strings apart.
KEY_BYTES = 200
_REFUSED = "refused"  # cached like a plan: a document is judged once per variant


@dataclass
class Counts:
    """What the compiler did, per process: for tests and the benchmark."""

    compiled: int = 0  # documents (per @skip/@include values) with a plan
    split: int = 0  # of those, plans that leave some root fields to graphql-core
    answered: int = 0  # operations the plan answered (with graphql-core's part, if split)
    refused: int = 0  # documents with no plan: graphql-core runs them whole
    fell_back: int = 0  # operations whose plan met an error: graphql-core ran them whole
    shared: int = 0  # of those, splits whose parts used a loader in common: split no more


class CompiledReads:
    """The plans of one schema (the app's, for its life)."""

    def __init__(self, max_bytes: int) -> None:
        # Per (text, operation): the variables @skip/@include read. Per (text, operation,
        # their values): the plan, or _REFUSED.
        self.shapes: BoundedLRU[tuple[str, str | None], tuple[str, ...] | str] = BoundedLRU(
            max_entries=PLANS_CACHED, max_bytes=max_bytes // 8)
        self.plans: BoundedLRU[tuple[Any, ...], Plan | Split | str] = BoundedLRU(
            max_entries=PLANS_CACHED, max_bytes=max_bytes)
        self.counts = Counts()

    async def answer(self, context: ExecutionContext) -> ExecutionResult | None:
        """The operation's result from its plan, or None: run the standard executor."""
        prepared = self._prepare(context)
        if prepared is None:
            return None
        key, plan, variables = prepared
        db = getattr(context.context, "db", None)
        counting = db.counted_apart() if db is not None else nullcontext(None)
        try:
            with counting as apart:
                data = await split.data(plan, context, variables)
        except Exception as error:  # anything graphql-core would answer its own way
            # As if the plan had never run: its statements stay uncounted (the standard
            # executor runs them again and its count is the one diagnostics report), every
            # read and loader batch it began ends before graphql-core starts (the plan's
            # tasks have ended; `quiet` counts the rest), and no loader keeps what it read.
            if db is not None:
                await db.quiet()
            loaders = getattr(context.context, "loaders", None)
            if loaders is not None:
                loaders.clear()
            self.counts.fell_back += 1
            logger.debug("compiled plan fell back: %r", error)
            if isinstance(error, split.SharedLoaders):  # judged: graphql-core runs it whole
                self.counts.shared += 1
                self.plans.put(key, _REFUSED, key_bytes(key))
            return None
        if db is not None and apart is not None:
            db.count(apart)
        self.counts.answered += 1
        return ExecutionResult(data=data, errors=None)

    def _prepare(
        self, context: ExecutionContext
    ) -> tuple[tuple[Any, ...], Plan | Split, Any] | None:
        document, text = context.graphql_document, context.query
        if document is None or not text:
            return None
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        name = context.operation_name
        chosen = [o for o in operations if name is None or (o.name and o.name.value == name)]
        if len(chosen) != 1 or chosen[0].operation.value != "query":
            return None  # graphql-core words the refusal of an ambiguous or missing operation
        operation = chosen[0]
        fragments = {d.name.value: d for d in document.definitions
                     if isinstance(d, FragmentDefinitionNode)}
        shape = self._shape(text, name, operation, fragments)
        if isinstance(shape, str):
            return None
        schema = context.schema._schema  # the strawberry schema's graphql-core schema
        variables = get_variable_values(
            schema, operation.variable_definitions or (), context.variables or {})
        if isinstance(variables, list):
            return None  # graphql-core reports the variables' errors
        key = (text, name, *(_hashable(variables.coerced.get(v)) for v in shape))
        plan = self.plans.get(key)
        (PLAN_MISS if plan is None else PLAN_HIT).inc()
        if plan is None:
            plan = self._compile(context.schema, operation, fragments, variables)
            self.plans.put(key, plan, key_bytes(key) + _held(plan, document, text))
        return None if isinstance(plan, str) else (key, plan, variables)

    def _shape(self, text: str, name: str | None, operation: OperationDefinitionNode,
               fragments: dict[str, FragmentDefinitionNode]) -> tuple[str, ...] | str:
        shape = self.shapes.get((text, name))
        if shape is None:
            try:
                shape = condition_variables(operation, fragments)
            except Refused:
                shape = _REFUSED
            held = (text, name, *(() if isinstance(shape, str) else shape))
            self.shapes.put((text, name), shape, key_bytes(held))
        return shape

    def _compile(self, schema: strawberry.Schema, operation: OperationDefinitionNode,
                 fragments: dict[str, FragmentDefinitionNode],
                 variables: Any) -> Plan | Split | str:
        try:
            plan = Compiler(schema, fragments, variables).operation(operation)
        except Refused as refusal:
            self.counts.refused += 1
            logger.debug("not compiled: %s", refusal)
            return _REFUSED
        self.counts.compiled += 1
        if not plan.refused:
            return plan
        self.counts.split += 1
        logger.debug("root fields left to graphql-core: %s", ", ".join(plan.refused))
        return split.split(plan, operation, fragments)


def _weight(plan: Plan | Split) -> int:
    if isinstance(plan, Plan):
        return plan.weight
    # The refused fields' nodes are the document's (counted with it); the new ones are few.
    return plan.plan.weight + 200 * (1 + len(plan.plan.refused))


def _held(plan: Plan | Split | str, document: DocumentNode, text: str) -> int:
    """What a cached plan holds besides its key. A plan keeps its document's nodes, and
    through them all of the document (its text, tokens and AST), whether the document cache
    still has it or not; a plan of `__typename` alone keeps none, and is counted all the
    same (an upper bound). The text is counted once when the key holds the same string."""
    if isinstance(plan, str):
        return 0
    held = _weight(plan) + document_bytes(document)
    if document.loc is not None and document.loc.source.body is text:
        held -= string_bytes(text)
    return held


def key_bytes(parts: tuple[Any, ...]) -> int:
    """What a cache key (or value) of strings, Booleans and None holds: the tuple and its
    strings (the text, the operation's name, variable names and values)."""
    return KEY_BYTES + sum(string_bytes(part) for part in parts if isinstance(part, str))


def _hashable(value: Any) -> Any:
    # @skip/@include read Booleans; anything else only needs to be told apart.
    return value if isinstance(value, bool | None) else repr(value)


class CompiledReadsExtension(SchemaExtension):
    def __init__(self, reads: CompiledReads) -> None:
        self.reads = reads

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.result is None:
            result = await self.reads.answer(context)
            if result is not None:
                context.result = result
        yield


def sees_every_field(extensions: Sequence[Callable[[], SchemaExtension]]) -> bool:
    """Whether an extension hooks every resolver (tracing): the compiler calls no resolver
    of a plain field, so it must stay off for such an extension to see them all."""
    return any(type(make()).resolve is not SchemaExtension.resolve for make in extensions)


def compiled_reads(
    max_bytes: int, extensions: Sequence[Callable[[], SchemaExtension]]
) -> Callable[[], SchemaExtension] | None:
    """The extension's factory (one plan cache per schema), or None when an extension in
    `extensions` must see every field."""
    if sees_every_field(extensions):
        return None
    reads = CompiledReads(max_bytes)

    def make() -> SchemaExtension:
        return CompiledReadsExtension(reads)

    make.reads = reads  # type: ignore[attr-defined]  # for tests and the benchmark's counts
    return make
