"""The schema: the Query, Mutation and extensions, assembled from the domain modules."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from graph.context import Info
from graph.cost import query_cost_limit
from graph.diagnostics import SqlDiagnostics
from graph.errors import MaskUnexpectedErrors
from graph.execution import PlainFieldsExecutionContext
from graph.limits import (
    HideSuggestions,
    SubscriptionsOverWebSocketOnly,
    directives_per_field_rule,
)
from graph.mutations.audit import AuditMutations
from graph.mutations.breakdown import BreakdownMutations
from graph.mutations.chat import ChatMutations
from graph.mutations.panic import PanicMutations
from graph.mutations.sessions import SessionMutations
from graph.mutations.tasks import TaskMutations
from graph.observability import OperationLog, tracing_extension
from graph.queries.audit import AuditQueries
from graph.queries.chat import ChatQueries
from graph.queries.panic import PanicQueries
from graph.queries.tasks import TaskQueries
from graph.settings import Settings
from graph.subscriptions import Subscription
from graph.types.node import NODE_TYPES, resolve_nodes
from graph.types.scalars import SCALAR_MAP
from graph.types.viewer import Viewer

PARSED_DOCUMENTS_CACHED = 512


@strawberry.type
class Query(TaskQueries, ChatQueries, PanicQueries, AuditQueries):
    @strawberry.field(description="Who this request acts as; null with no token or visit.")
    def viewer(self, info: Info) -> Viewer | None:
        return Viewer.from_identity(info.context.viewer)

    @strawberry.field(description="Any object by its global id; null if missing or not yours.")
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        return (await resolve_nodes(info, [id]))[0]

    @strawberry.field(description="Objects by global id, in order; null where missing or not yours")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[relay.Node | None]:
        return await resolve_nodes(info, list(ids))


@strawberry.type
class Mutation(
    TaskMutations, BreakdownMutations, ChatMutations, SessionMutations, PanicMutations,
    AuditMutations,
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
        config=StrawberryConfig(auto_camel_case=True, scalar_map=SCALAR_MAP),
        execution_context_class=PlainFieldsExecutionContext,
    )


def limit_rules(settings: Settings) -> list[type[ASTValidationRule]]:
    """The depth, alias and directive limits as validation rules, made once per schema.

    The validation cache is keyed by the document and the rule classes. Strawberry's
    `QueryDepthLimiter` and `MaxAliasesLimiter`, built per operation, make a new rule class
    each time, so no validation was ever a cache hit; taking their rules once fixes that.
    """
    return [
        *QueryDepthLimiter(max_depth=settings.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=settings.max_aliases).validation_rules,
        directives_per_field_rule(settings.max_directives_per_field),
    ]


def schema_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Extensions as classes or factories: strawberry builds fresh ones per operation, so no
    state is shared between requests (a shared instance would be)."""
    extensions: list[Callable[[], SchemaExtension]] = [
        # Parsing and validating dominate a small query's CPU time (validation alone was
        # ~14 ms here); the same documents recur, so both are cached, bounded.
        partial(ParserCache, maxsize=PARSED_DOCUMENTS_CACHED),
        partial(ValidationCache, maxsize=PARSED_DOCUMENTS_CACHED),
        MaskUnexpectedErrors,
        partial(AddValidationRules, limit_rules(settings)),
        partial(MaxTokensLimiter, max_token_count=settings.max_tokens),
        query_cost_limit(settings.max_cost, settings.max_page_size),
        SubscriptionsOverWebSocketOnly,
    ]
    extensions.append(OperationLog)
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
    return extensions
