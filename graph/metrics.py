"""Prometheus figures (prometheus-client): what is counted, and the hooks that count it.

Every figure is per process and, under `serve --workers N`, kept in prometheus-client's
multiprocess files (graph/metrics_exposure.py): a scrape of any worker, or of the separate
metrics port, reads all of them. The names and their labels are the contract docs/production.md
lists; every label's values are bounded:

- `operation`: "anonymous" for an operation without a name; the names of the persisted-query
  manifest's operations (a bounded list the deployment chose); then the first
  METRICS_OPERATION_NAMES other names this process sees naming an operation of a document
  that parsed; every later name, and a name that names no operation of its document, is
  "other". First-come rather than least-recently-used: a Prometheus series, once written,
  is kept until the process ends, so only a set that never changes bounds the series.
- `type`: query, mutation, subscription, or "unknown" (the document did not parse).
- `transport`: http, websocket, sse (an HTTP request that asked for text/event-stream), or
  "live" for a shared stream's own executions (counted by the hub per subscriber instead).
- `code`: an error's `extensions.code` as the server sets it (a fixed set); "NONE" for an
  error without one; any other value past the first MAX_CODES is "other".
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any

from graphql import DocumentNode, GraphQLError, OperationDefinitionNode, parse
from prometheus_client import Counter, Gauge, Histogram
from strawberry.extensions import SchemaExtension

OTHER = "other"
ANONYMOUS = "anonymous"
MAX_CODES = 64
# Notifications published and not yet heard back, per process: past it the oldest are
# forgotten (a rolled-back transaction's are never heard). Each costs ~200 bytes.
MAX_PENDING_NOTIFICATIONS = 10_000
_CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,47}$")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0)
LAG_BUCKETS = (0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0)

REQUESTS = Counter("clarity_graphql_requests", "GraphQL operations received (a subscription: "
                   "each subscriber)", ["operation", "type", "transport"])
DURATION = Histogram("clarity_graphql_request_duration_seconds", "GraphQL operations' time, "
                     "parse to result", ["operation", "type", "transport"],
                     buckets=LATENCY_BUCKETS)
ERRORS = Counter("clarity_graphql_errors", "Errors in GraphQL results, by code",
                 ["operation", "code"])
POOL_IN_USE = Gauge("clarity_db_pool_in_use", "Database connections checked out of the pool",
                    multiprocess_mode="livesum")
POOL_OVERFLOW = Gauge("clarity_db_pool_overflow", "Connections open beyond DB_POOL_SIZE "
                      "(negative: pool slots not yet opened)", multiprocess_mode="livesum")
POOL_WAITING = Gauge("clarity_db_pool_waiting", "Checkouts waiting for a connection (queued, "
                     "or one being opened)", multiprocess_mode="livesum")
POOL_WAIT = Histogram("clarity_db_pool_wait_seconds", "Time a checkout took, waiting "
                      "included", buckets=(*LAG_BUCKETS, 10.0))
SUBSCRIPTIONS = Gauge("clarity_live_subscriptions_open", "Subscriptions open",
                      ["transport"], multiprocess_mode="livesum")
CACHE = Counter("clarity_cache_lookups", "Lookups of the per-process caches",
                ["cache", "result"])
PUBLISHED = Counter("clarity_live_notifications_published", "Live events announced after a "
                    "commit (PostgreSQL: NOTIFY payloads)", ["broker"])
RECEIVED = Counter("clarity_live_notifications_received", "Live events this process received "
                   "(PostgreSQL: LISTEN; every process hears every one)", ["broker"])
NOTIFY_LAG = Histogram("clarity_live_notify_lag_seconds", "From announcing an event (pg_notify, "
                       "just before COMMIT; in-process: after it) to its receipt", ["broker"],
                       buckets=LAG_BUCKETS)

DOCUMENT_HIT, DOCUMENT_MISS = CACHE.labels("document", "hit"), CACHE.labels("document", "miss")
PLAN_HIT, PLAN_MISS = CACHE.labels("plan", "hit"), CACHE.labels("plan", "miss")


class BoundedNames:
    """Label values: the `known` ones, then the first `bound` others; the rest are "other"."""

    def __init__(self, bound: int, known: Iterable[str] = ()) -> None:
        self.bound = bound
        self.known = frozenset(known)
        self._seen: set[str] = set()

    def label(self, name: str) -> str:
        if name in self.known or name in self._seen:
            return name
        if len(self._seen) >= self.bound:
            return OTHER
        self._seen.add(name)
        return name


OPERATIONS = BoundedNames(200)
CODES = BoundedNames(MAX_CODES)


def configure(bound: int, manifest_texts: Collection[str]) -> None:
    """Set by `create_app`: METRICS_OPERATION_NAMES, and the manifest's operations' names."""
    global OPERATIONS
    OPERATIONS = BoundedNames(bound, operation_names(manifest_texts))


def operation_names(texts: Iterable[str]) -> set[str]:
    names: set[str] = set()
    for text in texts:
        try:
            document = parse(text)
        except GraphQLError:  # the manifest is checked elsewhere; a bad text names nothing
            continue
        names.update(d.name.value for d in document.definitions
                     if isinstance(d, OperationDefinitionNode) and d.name is not None)
    return names


def operation_label(name: str | None, document: DocumentNode | None) -> str:
    if name is None:
        return ANONYMOUS
    if document is None or not any(
        isinstance(d, OperationDefinitionNode) and d.name is not None and d.name.value == name
        for d in document.definitions
    ):
        return OTHER  # a client's operationName that names nothing: not a label of its own
    return OPERATIONS.label(name)


def code_label(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    if code is None:
        return "NONE"
    return CODES.label(code) if isinstance(code, str) and _CODE.match(code) else OTHER


def transport_of(request: Any) -> str:
    """The transport a request came by: its ASGI scope's type, and SSE by what it accepts."""
    scope = getattr(request, "scope", None)
    if not isinstance(scope, dict):
        return "live"
    if scope.get("type") == "websocket":
        return "websocket"
    accept = getattr(request, "headers", {}).get("accept", "")
    return "sse" if "text/event-stream" in accept else "http"


class OperationMetrics(SchemaExtension):
    """Counts each operation once it ends: by name, type and transport, its time, its errors'
    codes. A subscription is counted by the hub (one per subscriber, `subscribed`); its
    stream's own execution counts only its errors here."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        try:
            kind = context.operation_type.value
        except Exception:  # no parsable operation: nothing to name
            kind = "unknown"
        operation = operation_label(context.operation_name, context.graphql_document)
        if kind != "subscription":
            transport = transport_of(getattr(context.context, "request", None))
            REQUESTS.labels(operation, kind, transport).inc()
            DURATION.labels(operation, kind, transport).observe(time.perf_counter() - started)
        result = context.result
        errors = (result.errors if result is not None else context.pre_execution_errors) or []
        for error in errors:
            ERRORS.labels(operation, code_label(error)).inc()


def subscribed(request: Any, operation: OperationDefinitionNode) -> Callable[[], None]:
    """A subscriber opened (graph/live/hub.py): counted, and open until the returned call."""
    transport = transport_of(request)
    name = operation.name.value if operation.name is not None else None
    label = ANONYMOUS if name is None else OPERATIONS.label(name)
    REQUESTS.labels(label, "subscription", transport).inc()
    gauge = SUBSCRIPTIONS.labels(transport)
    gauge.inc()
    return gauge.dec


def watch_pool(sync_engine: Any) -> None:
    """The pool's connections in use and overflow after every checkout and checkin, and the
    checkouts waiting: SQLAlchemy has no event before a checkout, so the pool's `_do_get`
    (what blocks, in a greenlet, until a connection is free or opened) is wrapped. Exact at a
    scrape on the event loop; a scrape from the metrics port's thread may see a checkout that
    is not waiting for the microseconds it takes."""
    from sqlalchemy import event

    pool = sync_engine.pool
    overflow = getattr(pool, "overflow", None)

    # Counted by the events, not read from `pool.checkedout()`: at `checkin` the pool still
    # counts the connection being returned. A checkin without a counted checkout happens (a
    # checkout whose later listener raises is checked back in; so is a connection detached
    # or found dead), so only the records seen going out are counted back in: the gauge never
    # goes below what is really out. The overflow is as of the last checkout or checkin.
    out_now: set[int] = set()

    def out(_dbapi: Any, record: Any, *_args: Any) -> None:
        if id(record) not in out_now:
            out_now.add(id(record))
            POOL_IN_USE.inc()
        if overflow is not None:
            POOL_OVERFLOW.set(overflow())

    def back(_dbapi: Any, record: Any) -> None:
        if id(record) in out_now:
            out_now.discard(id(record))
            POOL_IN_USE.dec()
        if overflow is not None:
            POOL_OVERFLOW.set(overflow())

    event.listen(pool, "checkout", out)
    event.listen(pool, "checkin", back)
    original = pool._do_get

    def waiting_get() -> Any:
        POOL_WAITING.inc()
        started = time.perf_counter()
        try:
            return original()
        finally:
            POOL_WAITING.dec()
            POOL_WAIT.observe(time.perf_counter() - started)

    pool._do_get = waiting_get


class NotifyClock:
    """When each NOTIFY payload was published, until this process hears it back (it LISTENs
    on the channel it notifies, so it hears its own): its lag on one clock, no payload
    change. Bounded by MAX_PENDING_NOTIFICATIONS."""

    def __init__(self) -> None:
        self._sent: OrderedDict[str, deque[float]] = OrderedDict()
        self._count = 0

    def sent(self, payloads: list[str]) -> None:
        PUBLISHED.labels("postgres").inc(len(payloads))
        now = time.monotonic()
        for payload in payloads:
            self._sent.setdefault(payload, deque()).append(now)
            self._count += 1
        while self._count > MAX_PENDING_NOTIFICATIONS:
            _, times = self._sent.popitem(last=False)
            self._count -= len(times)

    def heard(self, payload: str) -> None:
        RECEIVED.labels("postgres").inc()
        times = self._sent.get(payload)
        if times is None:
            return  # another process's
        NOTIFY_LAG.labels("postgres").observe(time.monotonic() - times.popleft())
        self._count -= 1
        if not times:
            del self._sent[payload]


NOTIFY_CLOCK = NotifyClock()


def delivered_locally(count: int, committed_at: float) -> None:
    """The in-process broker handed `count` events to their readers, after the commit at
    `committed_at` (time.monotonic)."""
    if count:
        PUBLISHED.labels("local").inc(count)
        RECEIVED.labels("local").inc(count)
        NOTIFY_LAG.labels("local").observe(time.monotonic() - committed_at)
