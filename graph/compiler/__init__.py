"""Compiled execution of read operations.

**What it compiles.** A validated query operation whose every field it can prove answers
what graphql-core would: `__typename`, fields that read an attribute, Relay ids, aliases,
fragments and inline fragments (on the type itself, or on an interface or union it belongs
to), `@skip`/`@include` with literals or variables, lists and nested objects, fields whose
resolver reads nothing of `info` (`Task.completed`, a connection's `nodes` and
`totalCount`, the audit figures), and the resolvers `plan.CONTEXT_RESOLVERS` names, which
read only `info.context` (and the task page's look-ahead, `info.selected_fields`): every
list of the viewer's rows with its keyset page, `pageInfo`, cursors and `totalCount`
(`tasks`, `conversations`, `panicEvents`, `auditLogs`), the lookups by id (`task`,
`conversation`, `panicEvent`), `auditStats`, and the children the loaders serve (a task's
steps, counts and `events` page; a conversation's `messages` page, `messageCount` and
`lastMessage`; a panic event's exercises; each child's parent). Those resolvers are called,
not copied, so every statement is the one the resolver runs (the viewer's scope, the
pagination helper, the loaders), and arguments, new ones included, reach them as strawberry
converts them. Fields of an interface or union type (`node`, `nodes`) are compiled once per
possible object type; the abstract type's own type resolver picks the sub-plan per value.

**What it refuses.** Mutations (their payload unions included) and subscriptions;
introspection; fields with extensions (permissions, the mutations' error convention);
resolvers that read `info` and are not named; any directive but `@skip`/`@include`; fragment
variables. A refused document is remembered, so judging it costs once.

**How it falls back.** A query whose root fields are only partly refused is split
(`split.py`): the plan answers its root fields, graphql-core's public `execute` the refused
ones, at the same time, on a document of the same operation with just those fields (the
original nodes, fragments, variables and context), and the data is merged in the document's
key order; root fields are independent, so this is sound. Anything else refused runs through
the standard executor, whole. So does an operation whose plan meets anything graphql-core
would answer with an error (a null in a non-null field, a refused scalar, an exception from
a resolver, a missing identity, a page argument the pagination helper refuses) or a value
whose type it cannot tell (an abstract type's resolver that answers no type, an awaitable,
or a type whose sub-plan was refused), and a split one whose graphql-core part has an error
or whose parts used a loader in common (their batches could differ from graphql-core's
alone; that document is not split again): the plan's statements (and that part's) are
uncounted, every read and loader batch they began is waited for (`RequestDatabase.quiet`,
counted, not timed), the loaders are forgotten, and graphql-core runs the operation from
the start, so errors, paths, locations and diagnostics are graphql-core's own. Extensions
that hook every resolver (tracing) turn the compiler off.

A value's children start as soon as the value arrives, as graphql-core starts them, so the
loaders batch the same keys and an operation runs the same statements on both paths.

Plans are cached per document, operation and `@skip`/`@include` values (other variables
are read at run time) in a cache bounded by bytes (`graph/extensions/cache.py`); compiling
visits each distinct (type, selection) once.
"""

from graph.compiler.extension import CompiledReads, compiled_reads

__all__ = ["CompiledReads", "compiled_reads"]
