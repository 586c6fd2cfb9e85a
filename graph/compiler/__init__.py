"""Compiled execution of read operations.

**What it compiles.** A validated query operation whose every field it can prove answers
what graphql-core would: `__typename`, fields that read an attribute, Relay ids, aliases,
fragments and inline fragments (on the type itself, or on an interface or union it belongs
to), `@skip`/`@include` with literals or variables, lists and nested objects, fields whose
resolver reads nothing of `info` (`Task.completed`, a connection's `nodes` and
`totalCount`), and the resolvers `plan.CONTEXT_RESOLVERS` names, which read only
`info.context` (and the task page's look-ahead, `info.selected_fields`): `tasks` with its
keyset page, `pageInfo`, cursors and `totalCount`, `task(id)`, a task's `steps`, step counts
and `events` page, a step's or an event's `task`. Those resolvers are called, not copied,
so every statement is the one the resolver runs (the viewer's scope, the pagination helper,
the loaders), and arguments, new ones included, reach them as strawberry converts them.

**What it refuses.** Mutations and subscriptions; introspection; a field whose type is an
interface or a union (`node`, `nodes`, payload unions); fields with extensions (permissions,
the mutations' error convention); resolvers that read `info` and are not named; any
directive but `@skip`/`@include`; fragment variables. A refused document is remembered, so
judging it costs once.

**How it falls back.** A refused operation runs through the standard executor, whole. So
does one whose plan meets anything graphql-core would answer with an error (a null in a
non-null field, a refused scalar, an exception from a resolver, a missing identity): the
plan's statements are uncounted, the loaders forgotten, and graphql-core runs the operation
from the start, so errors, paths, locations and diagnostics are graphql-core's own.
Extensions that hook every resolver (tracing) turn the compiler off.

Plans are cached per document, operation and `@skip`/`@include` values (other variables
are read at run time) in a cache bounded by bytes (`graph/extensions/cache.py`); compiling
visits each distinct (type, selection) once.
"""

from graph.compiler.extension import CompiledReads, compiled_reads

__all__ = ["CompiledReads", "compiled_reads"]
