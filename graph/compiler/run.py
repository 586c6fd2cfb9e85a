"""Running a plan: the response written from the resolvers' values in one pass.

Fields run in document order. A value that is still to come (an async resolver, a loader
not yet loaded) keeps its key's place in the response and is completed when it arrives,
as graphql-core does: every awaitable met in one pass starts together, and what completing
one leaves pending starts as soon as it arrives, so loaders batch across a page exactly as
they do under graphql-core (the differential test counts the statements on both paths).
Anything graphql-core would answer with an error raises, and the caller
(graph/compiler/extension.py) falls back to the standard executor.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from functools import cached_property
from inspect import CORO_CREATED, getcoroutinestate, isawaitable, iscoroutine
from typing import Any

import strawberry
from graphql.execution import VariableValues, get_argument_values
from strawberry.relay.utils import to_base64
from strawberry.schema.schema_converter import get_arguments
from strawberry.types.nodes import Selection, convert_selections

from graph.compiler.kinds import Attribute, Call, FieldPlan, RelayId, Typename
from graph.compiler.plan import Fallback, Plan


class _SelectionSource:
    """What strawberry's `convert_selections` reads of graphql-core's resolve info."""

    def __init__(self, plan: Plan, variables: VariableValues) -> None:
        self.fragments = plan.fragments
        self.variable_values = variables


class CompiledInfo:
    """The `info` a compiled call passes: the request's context and the field's selections,
    as strawberry's `Info` gives them; any other attribute raises (and the operation falls
    back), so a resolver that starts reading more of `info` is never answered wrongly."""

    __slots__ = ("__dict__", "_call", "_run", "context")

    def __init__(self, run: Run, call: Call) -> None:
        self.context = run.context
        self._run = run
        self._call = call

    @cached_property
    def selected_fields(self) -> list[Selection]:
        source = _SelectionSource(self._run.plan, self._run.variables)
        return convert_selections(source, self._call.nodes)  # type: ignore[arg-type]  # reads .fragments and .variable_values only


class Run:
    def __init__(self, plan: Plan, schema: strawberry.Schema, context: Any, root: Any,
                 variables: VariableValues) -> None:
        self.plan = plan
        self.schema = schema
        self.context = context
        self.root = root
        self.variables = variables
        # Values still to come, each with where it goes: (value, completion, out, key).
        self.pending: list[tuple[Awaitable[Any], Any, dict[str, Any], str]] = []
        self._arguments: dict[int, dict[str, Any]] = {}
        self._group: asyncio.TaskGroup | None = None
        self._made: list[Awaitable[Any]] = []  # every value that was still to come

    async def data(self) -> dict[str, Any]:
        """The response's data. A failure cancels the rest (and waits for them: the
        request's session is shared)."""
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                data = self.write(self.plan.root, self.root)
                self._start()
        except BaseException:
            # A resolver's coroutine that a failure left unstarted (still pending, or its
            # task cancelled before it ran) would be reported never awaited when collected.
            for value in self._made:
                if iscoroutine(value) and getcoroutinestate(value) == CORO_CREATED:
                    value.close()
            raise
        return data

    def _start(self) -> None:
        """Start what a pass left pending, together. Each value is completed as soon as it
        arrives, and what that completion leaves pending starts then, as graphql-core
        starts a field's children once the field has its value: a loader's batch holds the
        keys asked in one turn of the event loop, so starting later (after a whole level,
        say) would batch differently from graphql-core and run a different number of
        statements (the differential test counts them)."""
        batch, self.pending = self.pending, []
        assert self._group is not None
        for value, complete, out, key in batch:
            self._group.create_task(self._later(value, complete, out, key))

    def write(self, fields: tuple[FieldPlan, ...], source: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        # By exact class, the most common kind first (graph/compiler/kinds.py says why).
        for field in fields:
            if type(field) is Attribute:
                out[field.key] = field.complete(getattr(source, field.attribute), self)
            elif type(field) is RelayId:
                value = getattr(source, field.attribute)
                if type(source) is not field.node or value is None:
                    raise Fallback("an id strawberry would make otherwise")
                out[field.key] = to_base64(field.type_name, str(value))
            elif type(field) is Typename:
                out[field.key] = field.name
            else:  # Resolved
                value = self.call(field.call, source)
                if isawaitable(value):
                    out[field.key] = None  # keeps the key's place; filled in by `_later`
                    self.pending.append((value, field.complete, out, field.key))
                    self._made.append(value)
                else:
                    out[field.key] = field.complete(value, self)
        return out

    def call(self, call: Call, source: Any) -> Any:
        """The resolver's value, called as strawberry's resolver wrapper calls it."""
        info = CompiledInfo(self, call)
        raw = self._raw_arguments(call) if call.takes_arguments else {}
        arguments, keywords = get_arguments(
            field=call.definition, source=source, info=info,  # type: ignore[arg-type]  # the compiled info stands in
            kwargs=raw, config=self.schema.config,
            scalar_registry=self.schema.schema_converter.scalar_registry,
        )
        return call.definition.get_result(source, info, arguments, keywords)  # type: ignore[arg-type]  # the compiled info stands in

    def _raw_arguments(self, call: Call) -> dict[str, Any]:
        """graphql-core's coerced arguments of the field, once per run (the same for every
        source: they depend on the document and the variables only)."""
        known = self._arguments.get(id(call))
        if known is None:
            known = get_argument_values(call.field, call.nodes[0], self.variables)
            self._arguments[id(call)] = known
        return known

    async def _later(self, value: Awaitable[Any], complete: Any, out: dict[str, Any],
                     key: str) -> None:
        out[key] = complete(await value, self)
        self._start()
