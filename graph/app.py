"""The ASGI app: `create_app(settings)`, whose lifespan owns the engine."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

from domain.assistant import Assistant, OfflineAssistant
from domain.visits import Visits
from graph.auth import AuthenticationFailed, ConfigurationError, TokenVerifier
from graph.context import Resources, get_context
from graph.errors import BadRequest
from graph.http.clients import ProxiedClientLimit
from graph.http.cors import add_cors, allowed_origins
from graph.http.limits import BodySizeLimit, RequestTimeout
from graph.http.persisted import ManifestError, PersistedQueries
from graph.http.responses import refusal
from graph.http.router import ClarityRouter
from graph.live import Live
from graph.metrics import configure as configure_metrics
from graph.metrics import watch_pool
from graph.metrics_exposure import check_metrics_settings, forget_this_process, mount_metrics
from graph.migrations import current_revision, head_revision
from graph.observability import FirstThenCounted, RequestIdMiddleware
from graph.pubsub import Backlog, build_broker
from graph.schema import build_schema
from graph.settings import Settings
from graph.visits import build_visits, pruning
from models.database import EngineOptions, create_engine, create_session_factory

logger = logging.getLogger(__name__)
# An orchestrator probes readiness every few seconds, through a whole outage.
READINESS_FAILURES = FirstThenCounted(logger, "readiness check failing", level=logging.WARNING)
VENDOR = Path(__file__).parent / "http" / "static" / "vendor"
NO_KEY = "ASSISTANT_PROVIDER=openai but OPENAI_API_KEY is not set"


def engine_options(settings: Settings) -> EngineOptions:
    return EngineOptions(
        url=settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        statement_timeout_ms=settings.db_statement_timeout_ms,
        connect_timeout_seconds=settings.db_connect_timeout_seconds,
        pool_timeout_seconds=settings.db_pool_timeout_seconds,
        sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )


@dataclass(frozen=True)
class Checked:
    """What start-up builds from the settings before anything serves, refusing a bad or weak
    setting with one ConfigurationError line (`serve`: exit 2), never a lifespan traceback."""

    verifier: TokenVerifier
    persisted_queries: PersistedQueries
    visits: Visits


def check_settings(settings: Settings) -> Checked:
    """The keys (tokens' and visit credentials'), the origins, the persisted-query manifest
    and the assistant's key. `serve` runs it once before its workers start; `create_app` in
    every process."""
    verifier = TokenVerifier(settings)  # creates the development secret file if needed
    visits = build_visits(settings)  # a missing or weak VISIT_SECRET in production
    allowed_origins(settings)  # origins that never match, or * in production
    try:
        persisted_queries = PersistedQueries.from_settings(settings)
    except ManifestError as error:
        raise ConfigurationError(str(error)) from error
    _check_assistant_key(settings)
    check_metrics_settings(settings)  # an empty METRICS_TOKEN, or a weak one in production
    return Checked(verifier, persisted_queries, visits)


def _check_assistant_key(settings: Settings) -> None:
    """The OpenAI-compatible provider with no OPENAI_API_KEY is refused in production (every
    turn would fail at a hosted service, silently until users try) and warned about in
    development; a local server that needs no key takes any value."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    if settings.assistant_provider != "openai" or key.strip():
        return
    if settings.is_production:
        raise ConfigurationError(NO_KEY + " (set any value for a local server that needs none)")
    logger.warning("%s: requests are sent without a key, which a hosted service refuses (a "
                   "local server may not need one)", NO_KEY)


def build_assistant(settings: Settings) -> Assistant:
    """The assistant provider `ASSISTANT_PROVIDER` names, configured from the settings (its
    key checked by `check_settings`)."""
    if settings.assistant_provider == "openai":
        from domain.assistant.openai import OpenAIAssistant

        key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
        return OpenAIAssistant(
            base_url=settings.openai_base_url, api_key=key.strip(), model=settings.openai_model,
            timeout_seconds=settings.assistant_timeout_seconds,
            retries=settings.assistant_retries,
        )
    return OfflineAssistant()


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: async_sessionmaker[AsyncSession] | None = None,
) -> FastAPI:
    """The app. Tests may pass a session factory bound to their own rolled-back connection;
    otherwise the lifespan creates the engine from settings and disposes of it at shutdown."""
    settings = settings or Settings()

    # A bad or weak setting stops start-up here, before a server is started: `serve` says
    # which in one line (exit 2). The APQ cache and the manifest are per app.
    checked = check_settings(settings)
    configure_metrics(settings.metrics_operation_names,
                      list(checked.persisted_queries.manifest.values()))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as resources:
            resources.callback(forget_this_process)  # its live gauges leave the workers' sum
            factory = session_factory
            if factory is None:
                engine = create_engine(engine_options(settings))
                resources.push_async_callback(engine.dispose)
                watch_pool(engine.sync_engine)
                factory = create_session_factory(engine)
            assistant = build_assistant(settings)
            closer = getattr(assistant, "aclose", None)
            if closer is not None:
                resources.push_async_callback(closer)
            broker = build_broker(settings.database_url, Backlog(
                settings.live_backlog_per_user, settings.live_backlog_per_process))
            await broker.start()
            resources.push_async_callback(broker.stop)
            await resources.enter_async_context(pruning(factory, broker, settings))
            live = Live(settings, schema, router.encode_json)
            resources.push_async_callback(live.stop)  # streams end before the broker stops
            app.state.resources = Resources(
                settings=settings,
                session_factory=factory,
                verifier=checked.verifier,
                visits=checked.visits,
                assistant=assistant,
                broker=broker,
                persisted_queries=checked.persisted_queries,
                live=live,
            )
            yield

    # No OpenAPI document nor docs pages: the API is GraphQL, and they would list our routes.
    app = FastAPI(
        title="Clarity Graph", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    schema = build_schema(settings)
    router = ClarityRouter(
        schema,
        # FastAPI takes generator dependencies; strawberry's hint predates them.
        context_getter=get_context,  # type: ignore[arg-type]
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        # Only graphql-transport-ws: the legacy graphql-ws protocol had an auth bypass.
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        # Enforced by the live layer instead, with a code (graph/live/hub.py).
        max_subscriptions_per_connection=None,
        allowed_origins=allowed_origins(settings),
    )
    router.persisted_queries = checked.persisted_queries
    app.include_router(router, prefix="/graphql")
    app.add_exception_handler(AuthenticationFailed, _unauthenticated)
    app.add_exception_handler(BadRequest, _bad_request)
    app.add_exception_handler(StarletteHTTPException, _method_not_allowed)
    # The last added is the outermost. CORS goes outside the refusals made by middleware
    # (413, 504), so a browser on another origin can read those too.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestTimeout, seconds=settings.request_timeout_seconds)
    if settings.trusted_proxies:  # direct peers are counted per connection (graph/http/edge.py)
        app.add_middleware(ProxiedClientLimit, trusted_proxies=settings.trusted_proxies,
                           cap=settings.max_connections_per_client)
    add_cors(app, settings)
    app.add_middleware(RequestIdMiddleware)  # added last: outermost, so every line has the id
    if settings.graphiql_enabled:
        app.mount("/playground", StaticFiles(directory=VENDOR), name="playground")
    app.add_api_route("/healthz", _healthz, methods=["GET"])
    app.add_api_route("/readyz", _readyz, methods=["GET"])
    mount_metrics(app, settings)  # not in production without METRICS_TOKEN
    return app


async def _unauthenticated(request: Request, exc: Exception) -> Response:
    message = exc.message if isinstance(exc, AuthenticationFailed) else "unauthenticated"
    return refusal(
        401, f"Authentication failed: {message}.", "UNAUTHENTICATED",
        request.headers.get("accept", ""), {"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


async def _method_not_allowed(request: Request, exc: Exception) -> Response:
    """PUT, DELETE, HEAD...: a GraphQL-shaped 405 on /graphql; anything else as FastAPI
    answers it."""
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    if exc.status_code == 405 and request.url.path.startswith("/graphql"):
        return refusal(405, "GraphQL is served over GET and POST.", "METHOD_NOT_ALLOWED",
                       request.headers.get("accept", ""), {"Allow": "GET, POST"})
    return await http_exception_handler(request, exc)


async def _bad_request(request: Request, exc: Exception) -> Response:
    message = exc.message if isinstance(exc, BadRequest) else "bad request"
    code = exc.code if isinstance(exc, BadRequest) else "BAD_REQUEST"
    return refusal(400, message, code, request.headers.get("accept", ""))


async def _healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _readyz(request: Request) -> JSONResponse:
    resources: Resources = request.app.state.resources
    try:
        async with resources.session_factory() as session:
            connection = await session.connection()
            revision = await connection.run_sync(current_revision)
    except Exception as error:  # any failure to reach the database means "not ready"
        READINESS_FAILURES.failed("readiness check failed", exc_info=error)
        return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
    READINESS_FAILURES.recovered()
    if revision != head_revision():
        return JSONResponse({"status": "unavailable", "database": "not migrated"}, status_code=503)
    return JSONResponse({"status": "ok"})
