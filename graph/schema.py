"""The schema: the Query, Mutation and extensions, assembled from the domain modules."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated

import strawberry
from graphql import ASTValidationRule, GraphQLError, MaxIntrospectionDepthRule
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from graph.compiler import compiled_reads
from graph.context import Info
from graph.errors import MaskUnexpectedErrors
from graph.extensions.diagnostics import SqlDiagnostics
from graph.extensions.documents import document_checks
from graph.extensions.rules import (
    HideSuggestions,
    SubscriptionsOverWebSocketOnly,
    WebSocketOperationTimeout,
    directives_per_field_rule,
)
from graph.http.persisted import RegisterPersistedQuery
from graph.metrics import OperationMetrics
from graph.observability import OperationLog, tracing_extension
from graph.resolvers.mutations.audit import AuditMutations
from graph.resolvers.mutations.breakdown import BreakdownMutations
from graph.resolvers.mutations.chat import ChatMutations
from graph.resolvers.mutations.panic import PanicMutations
from graph.resolvers.mutations.sessions import SessionMutations
from graph.resolvers.mutations.task_bulk import TaskBulkMutations
from graph.resolvers.mutations.tasks import TaskMutations
from graph.resolvers.queries.audit import AuditQueries
from graph.resolvers.queries.chat import ChatQueries
from graph.resolvers.queries.panic import PanicQueries
from graph.resolvers.queries.tasks import TaskQueries
from graph.resolvers.subscriptions import Subscription
from graph.settings import Settings
from graph.types.node import NODE_TYPES, resolve_nodes
from graph.types.scalars import SCALAR_MAP
from graph.types.viewer import Viewer


@strawberry.type(description=(
    "Reads, all scoped to the viewer: another user's objects answer as missing ones. The "
    "lists and lookups by type need an identity (a token, or an anonymous visit when "
    "enabled) and answer UNAUTHENTICATED without one; `node` and `nodes` then answer null."
))
class Query(TaskQueries, ChatQueries, PanicQueries, AuditQueries):
    @strawberry.field(description="Who this request acts as; null with no token or visit.")
    def viewer(self, info: Info) -> Viewer | None:
        return Viewer.from_identity(info.context.viewer)

    @strawberry.field(description="Any object by its global id; null if missing or not yours.")
    async def node(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description=(
            "A global id (any type's `id`); malformed ids and unknown types answer null too."
        ))],
    ) -> relay.Node | None:
        return (await resolve_nodes(info, [id]))[0]

    @strawberry.field(
        description="Objects by global id, in order; null where missing or not yours."
    )
    async def nodes(
        self, info: Info,
        ids: Annotated[list[strawberry.ID], strawberry.argument(description=(
            "Global ids of any types, at most 100 (the MAX_PAGE_SIZE setting; more is a "
            "BAD_USER_INPUT error). Answered in the same order, one entry per id."
        ))],
    ) -> list[relay.Node | None]:
        return await resolve_nodes(info, list(ids))


@strawberry.type(description=(
    "Writes. Each runs in one transaction and answers a payload union: its success type, or "
    "an error type (UserError) when nothing changed. Each needs an identity."
))
class Mutation(
    TaskMutations, TaskBulkMutations, BreakdownMutations, ChatMutations, SessionMutations,
    PanicMutations, AuditMutations,
):
    pass


class ClaritySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing here. `MaskUnexpectedErrors` logs each unexpected error once, with its
        id and traceback, and `OperationLog` counts every operation's errors; strawberry's
        default would log every error again at ERROR, a client's typo included, so a
        misbehaving client could fill the error log with noise that hides real failures."""
        return None


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    settings = settings or Settings()
    return ClaritySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=list(NODE_TYPES.values()),
        extensions=schema_extensions(settings),
        config=StrawberryConfig(
            auto_camel_case=True, scalar_map=SCALAR_MAP,
            # HTTP batches (graph/http/batching.py bounds and runs them).
            batching_config={"max_operations": settings.max_batch_operations},
        ),
    )


def limit_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """Validation rules beyond graphql-core's own, made once per schema (the validation cache
    is keyed by the rule classes). Depth, aliases and cost are not rules: they read the
    variables and are measured in one linear walk per request (graph/extensions/analysis.py)."""
    return [
        # graphql-core's recommended rule: introspection lists nested at most three deep (the
        # depth limit does not count introspection, so GraphiQL's own query fits).
        MaxIntrospectionDepthRule,
        directives_per_field_rule(settings.max_directives_per_field),
    ]


def schema_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Extensions as classes or factories: strawberry builds fresh ones per operation, so no
    state is shared between requests (a shared instance would be)."""
    extensions: list[Callable[[], SchemaExtension]] = [
        MaskUnexpectedErrors,
        partial(AddValidationRules, limit_rules(settings)),
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        # Parsing and validating dominate a small query's CPU time (validation alone was
        # ~14 ms here); the same documents recur, so both are cached, bounded by bytes. The
        # limits are applied there too, before any SQL, for every transport.
        document_checks(settings),
        RegisterPersistedQuery,
        SubscriptionsOverWebSocketOnly,
        partial(WebSocketOperationTimeout, settings.request_timeout_seconds),
    ]
    extensions.append(OperationLog)
    extensions.append(OperationMetrics)
    if settings.tracing:
        tracer = tracing_extension()
        if tracer is None:
            raise RuntimeError("TRACING=true needs the otel extra: clarity-graph[otel]")
        extensions.append(tracer)
    if not settings.suggestions_enabled:
        extensions.append(HideSuggestions)
    if settings.diagnostics:
        extensions.append(SqlDiagnostics)
    if not settings.introspection_enabled:
        extensions.append(DisableIntrospection)
    # Last, so every other extension's `on_execute` wraps the compiled answer as it wraps
    # graphql-core's; none when an extension must see every field (tracing).
    compiled = compiled_reads(settings.plan_cache_bytes, extensions)
    if settings.compiled_reads and compiled is not None:
        extensions.append(compiled)
    return extensions
