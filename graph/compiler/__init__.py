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

**How it falls back.** A query whose root fields are only partly refused is split
(`split.py`): the plan answers its root fields, graphql-core's public `execute` the refused
ones, at the same time, on a document of the same operation with just those fields (the
original nodes, fragments, variables and context), and the data is merged in the document's
key order; root fields are independent, so this is sound. Anything else refused runs through
the standard executor, whole. So does an operation whose plan meets anything graphql-core
would answer with an error (a null in a non-null field, a refused scalar, an exception from
a resolver, a missing identity), and a split one whose graphql-core part has an error or
whose parts used a loader in common (their batches could differ from graphql-core's alone;
that document is not split again): the
plan's statements (and that part's) are uncounted, every read and loader batch they began
is waited for (`RequestDatabase.quiet`, counted, not timed), the loaders are forgotten, and
graphql-core runs the operation from the start, so errors, paths, locations and diagnostics
are graphql-core's own. Extensions that hook every resolver (tracing) turn the compiler off.

Plans are cached per document, operation and `@skip`/`@include` values (other variables
are read at run time) in a cache bounded by bytes (`graph/extensions/cache.py`); compiling
visits each distinct (type, selection) once.
"""

from graph.compiler.extension import CompiledReads, compiled_reads

__all__ = ["CompiledReads", "compiled_reads"]
