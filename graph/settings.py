"""The one settings object: read from the environment once, at start-up.

Nothing here connects to anything; `create_app(settings)` and the CLI own the resources.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[list[str], NoDecode]
# Over a proxy's health check interval x failures to mark a server down (1-2 s usually).
PRODUCTION_DRAIN_DELAY_SECONDS = 5.0


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///./clarity.db",
        validation_alias=AliasChoices("DATABASE_URL", "ASYNC_DATABASE_URI", "database_url"),
    )
    # PostgreSQL through PgBouncer in transaction pool mode (docs/database.md): `pgbouncer`
    # turns off prepared-statement caching and sends the statement timeout in each BEGIN.
    # LISTEN needs a connection of its own for the process's life, which such a pool cannot
    # give: LISTEN_DATABASE_URL is the direct URL the live events' listener uses (unset:
    # DATABASE_URL).
    database_pooler: Literal["none", "pgbouncer"] = "none"
    listen_database_url: str | None = None
    environment: Literal["development", "production"] = "development"

    jwt_secret: SecretStr | None = None
    # Where development keeps the generated HS256 secret that `clarity-graph token` also reads;
    # unset: $XDG_CONFIG_HOME/clarity-graph/jwt-secret, else ~/.config/... (graph/auth.py
    # `dev_secret_file`), one place whatever folder either is run from.
    jwt_dev_secret_file: Path | None = None
    jwt_public_key_file: Path | None = None
    jwks_file: Path | None = None
    jwt_algorithms: CommaList = ["HS256"]
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)

    anonymous_sessions: bool = False
    # Visits (graph/visits.py): the secret the X-Session-Id credentials are signed with
    # (unset: derived from JWT_SECRET, or the development secret; production refuses a weak
    # one), how often a visit's last_seen_at may be rewritten, how long a visit unseen is
    # kept, how many visits one client may start an hour (per process), and how often the
    # lifespan deletes expired visits (a bounded batch each time).
    visit_secret: SecretStr | None = None
    visit_refresh_seconds: int = Field(default=60, ge=1)
    visit_retention_days: int = Field(default=30, ge=1, le=36_500)
    visit_starts_per_hour: int = Field(default=60, ge=1)
    visit_prune_interval_seconds: float = Field(default=600.0, gt=0)
    trusted_proxies: CommaList = []
    diagnostics: bool = False
    # Read operations answered by their compiled plan (graph/compiler/); off: graphql-core
    # executes every operation. Plans are cached per process, bounded by bytes.
    compiled_reads: bool = True
    plan_cache_bytes: int = Field(default=16 * 1024 * 1024, ge=1024 * 1024)
    graphiql: bool | None = None
    introspection: bool | None = None

    max_page_size: int = Field(default=100, ge=1, le=1000)
    max_depth: int = Field(default=12, ge=2)
    # 50,000: a full page of 100 tasks with all their steps (at most 100 each) fits.
    max_cost: int = Field(default=50_000, ge=1)
    max_tokens: int = Field(default=2_000, ge=10)
    max_aliases: int = Field(default=30, ge=1)
    max_directives_per_field: int = Field(default=5, ge=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1_024)
    suggestions: bool | None = None
    request_timeout_seconds: float = Field(default=30.0, gt=0)
    max_subscriptions_per_connection: int = Field(default=20, ge=1)
    # Operations in one HTTP batch (a JSON array, Apollo's BatchHttpLink); graph/http/batching.py.
    max_batch_operations: int = Field(default=10, ge=1, le=100)
    # A comment line on an idle event stream (graph/http/sse.py), under proxies' idle timeouts.
    sse_heartbeat_seconds: float = Field(default=12.0, gt=0, le=300)
    ws_init_timeout_seconds: float = Field(default=10.0, gt=0)
    # Live subscriptions (graph/live/), per process: subscriptions of one user (every socket
    # of theirs) and of all users; sockets of one signed-in user; sockets without a token
    # (no identity, or an anonymous session: a new one costs a client one startVisit).
    max_subscriptions_per_user: int = Field(default=100, ge=1)
    max_subscriptions_per_process: int = Field(default=10_000, ge=1)
    max_sockets_per_user: int = Field(default=32, ge=1)
    max_anonymous_sockets: int = Field(default=100, ge=0)
    # Each delivery's estimated cost (as a query's, MAX_COST's units) is paid from its user's
    # budget, refilled at this rate up to the burst; a user past it waits (per process).
    live_cost_per_second: float = Field(default=10_000, gt=0)
    live_cost_burst: float = Field(default=20_000, gt=0)
    # Events waiting to be delivered (graph/pubsub/ Backlog): past either, the stream
    # furthest behind is ended with FELL_BEHIND. Results waiting to be sent on one socket,
    # in characters of JSON, and on all sockets: past either, the subscription whose result
    # does not fit is ended with FELL_BEHIND.
    live_backlog_per_user: int = Field(default=10_000, ge=1)
    live_backlog_per_process: int = Field(default=200_000, ge=1)
    # The change outbox (graph/live/retention.py): a change is kept this long for streams
    # resuming from a cursor, then pruned (every CHANGE_PRUNE_INTERVAL_SECONDS).
    change_retention_seconds: int = Field(default=86_400, ge=1, le=30 * 86_400)
    change_prune_interval_seconds: float = Field(default=600.0, gt=0)
    live_send_buffer_per_socket: int = Field(default=4 * 1024 * 1024, ge=1024)
    live_send_buffer_per_process: int = Field(default=256 * 1024 * 1024, ge=1024)
    # uvicorn, under `clarity-graph serve`: a keep-alive connection idle this long after a
    # response is closed; past `limit_concurrency` open connections or running requests a
    # request is answered 503 at once; connections waiting to be accepted; how long SIGTERM
    # waits for running requests before cancelling them (under Kubernetes' default 30 s
    # grace). uvicorn has no timeout for reading a request's headers, nor for a connection
    # that never sends one: `serve` adds one (HEADER_TIMEOUT_SECONDS, below).
    keep_alive_timeout_seconds: int = Field(default=5, ge=1)
    # `serve`'s worker processes behind its one port (`--workers` wins); unset: see
    # `worker_count`. Every limit here is per worker, connection pools included.
    workers: int | None = Field(default=None, ge=1)
    limit_concurrency: int = Field(default=1000, ge=2)
    listen_backlog: int = Field(default=2048, ge=1)
    shutdown_timeout_seconds: int = Field(default=20, ge=1)
    # On SIGTERM, how long `serve` goes on serving with /readyz at 503 before it closes its
    # listener (graph/drain.py); unset: 5 s in production, 0 (at once) in development.
    drain_delay_seconds: float | None = Field(default=None, ge=0, le=60)
    # The edge under `serve` (graph/http/edge.py, graph/http/clients.py), per worker: a
    # request's headers must all arrive within HEADER_TIMEOUT_SECONDS of its first byte (a new
    # connection's, of being accepted), else 408 and closed; one client address (an IPv6
    # /64) holds at most MAX_CONNECTIONS_PER_CLIENT connections, keep-alive and WebSockets
    # alike, and more are answered 429. Behind TRUSTED_PROXIES the client is the address
    # X-Forwarded-For names, and its running requests and open WebSockets are what count. At
    # most half of LIMIT_CONCURRENCY (checked at start-up): the other half stays for others.
    header_timeout_seconds: float = Field(default=10.0, gt=0)
    max_connections_per_client: int = Field(default=100, ge=1)
    # Parsed and validated documents, per process (graph/extensions/documents.py), bounded by bytes.
    document_cache_bytes: int = Field(default=32 * 1024 * 1024, ge=1024 * 1024)
    # Persisted queries (graph/http/persisted.py): the per-process APQ cache's entry, byte and
    # per-text limits, and the only-known-operations mode with its committed manifest
    # ({"<sha256 hex>": "text"}).
    apq_cache_size: int = Field(default=1000, ge=1)
    apq_cache_bytes: int = Field(default=4 * 1024 * 1024, ge=1024)
    apq_max_query_bytes: int = Field(default=32 * 1024, ge=256)
    persisted_queries_only: bool = False
    persisted_queries_manifest: Path | None = None

    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_statement_timeout_ms: int = Field(default=10_000, ge=0)
    # PostgreSQL: how long opening a connection may take before it fails (asyncpg's own
    # default is 60 s, long enough for an unreachable host to hang readiness and requests).
    db_connect_timeout_seconds: float = Field(default=5.0, gt=0)
    db_pool_timeout_seconds: float = Field(default=10.0, gt=0)
    sqlite_busy_timeout_ms: int = Field(default=5_000, ge=0)

    assistant_provider: Literal["offline", "openai"] = "offline"
    openai_base_url: str = "https://api.openai.com/v1"
    openai_api_key: SecretStr | None = None
    openai_model: str = "gpt-4o-mini"
    assistant_timeout_seconds: float = Field(default=20.0, gt=0)
    # A delete, cancel or change to several tasks waits this long for the user's yes.
    assistant_confirmation_seconds: float = Field(default=300.0, gt=0, le=86_400)
    # Retries of one provider call answered 429 or 5xx (or not answered), with backoff and
    # the provider's Retry-After, all within ASSISTANT_TIMEOUT_SECONDS.
    assistant_retries: int = Field(default=3, ge=0, le=10)

    # /metrics (graph/metrics_exposure.py): a bearer token for it (production serves it
    # beside the API only with one); a port of its own (its own small server, bound to
    # METRICS_HOST); how many operation names get a label of their own (the rest: "other").
    metrics_token: SecretStr | None = None
    metrics_port: int | None = Field(default=None, ge=1, le=65_535)
    metrics_host: str = "127.0.0.1"
    metrics_operation_names: int = Field(default=200, ge=0, le=10_000)

    log_level: str = "INFO"
    # auto: JSON for collectors, short human lines when stderr is a terminal (graph/terminal.py)
    log_format: Literal["auto", "json", "text"] = "auto"
    tracing: bool = False
    cors_origins: CommaList = []

    @field_validator("jwt_algorithms", "trusted_proxies", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("jwt_algorithms")
    @classmethod
    def _no_none_algorithm(cls, value: list[str]) -> list[str]:
        if not value or any(alg.lower() == "none" for alg in value):
            raise ValueError("JWT_ALGORITHMS must list real algorithms; 'none' is never allowed")
        return value

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_production

    @property
    def suggestions_enabled(self) -> bool:
        return self.suggestions if self.suggestions is not None else not self.is_production

    @model_validator(mode="after")
    def _listen_apart_from_pgbouncer(self) -> Settings:
        if self.is_sqlite:
            return self  # in-process events: no LISTEN, no pooler
        if self.listen_database_url is not None \
                and not self.listen_database_url.startswith("postgresql"):
            raise ValueError("LISTEN_DATABASE_URL must be a PostgreSQL URL")
        if self.database_pooler == "pgbouncer" and self.listen_database_url is None:
            # LISTEN through a transaction-mode pool is accepted and then hears nothing.
            raise ValueError("DATABASE_POOLER=pgbouncer needs LISTEN_DATABASE_URL, a direct "
                             "URL for the live events' LISTEN connection")
        return self

    @property
    def listener_database_url(self) -> str:
        """Where the live events' LISTEN connection goes: LISTEN_DATABASE_URL, else
        DATABASE_URL (and DATABASE_URL on SQLite, whose events stay in-process)."""
        if self.is_sqlite:
            return self.database_url
        return self.listen_database_url or self.database_url

    @property
    def drain_delay(self) -> float:
        if self.drain_delay_seconds is not None:
            return self.drain_delay_seconds
        return PRODUCTION_DRAIN_DELAY_SECONDS if self.is_production else 0.0

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def worker_count(self) -> int:
        """WORKERS; unset, 1 on SQLite (live events are in-process there, and SQLite takes one
        writer at a time) and on PostgreSQL the CPUs this process may run on."""
        if self.workers is not None:
            return self.workers
        return 1 if self.is_sqlite else available_cpus()


def available_cpus() -> int:
    """The CPUs this process may run on (a container's or taskset's share), not the host's."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # no sched_getaffinity outside Linux
        return os.cpu_count() or 1
