"""Where /metrics is served, to whom, and how N workers' figures become one scrape.

- Development: at `/metrics` beside the API; with METRICS_TOKEN set, only to
  `Authorization: Bearer <token>`.
- Production: beside the API only with METRICS_TOKEN (refused at start-up when weak, as
  JWT_SECRET is); without one it is not mounted at all, so an open /metrics on the API port
  cannot happen. METRICS_PORT serves it on its own small server (prometheus-client's, in a
  thread of the `serve` process) bound to METRICS_HOST, 127.0.0.1 unless set: no token there,
  so it belongs on loopback or on a network only the scraper reaches.
- `serve --workers N`: prometheus-client's multiprocess mode. `serve` makes a temporary
  PROMETHEUS_MULTIPROC_DIR (or uses the one set) before the workers start; each worker writes
  its figures to its own files there, a scrape of any worker or of METRICS_PORT (the `serve`
  process) sums them, and a worker that stops removes its open-connection and subscription
  gauges (counters of a dead worker stay: they count what happened).
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
    start_http_server,
)

from graph.auth import ConfigurationError
from graph.secret_strength import GENERATE_A_SECRET, secret_weakness
from graph.settings import Settings

logger = logging.getLogger(__name__)
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"


def check_metrics_settings(settings: Settings) -> None:
    """An empty METRICS_TOKEN is refused; a weak one too in production (development warns)."""
    if settings.metrics_token is None:
        return
    token = settings.metrics_token.get_secret_value()
    if not token.strip():
        raise ConfigurationError("METRICS_TOKEN is empty")
    weakness = secret_weakness(token, "METRICS_TOKEN")
    if weakness is None:
        return
    if settings.is_production:
        raise ConfigurationError(f"{weakness}; {GENERATE_A_SECRET}")
    logger.warning("%s (development only warns); %s", weakness, GENERATE_A_SECRET)


def multiprocess_registry(path: str | None = None) -> CollectorRegistry:
    registry = CollectorRegistry()
    # prometheus-client's multiprocess module has no annotations.
    multiprocess.MultiProcessCollector(registry, path=path)  # type: ignore[no-untyped-call]
    return registry


def registry() -> CollectorRegistry:
    """This process's figures, or every worker's under multiprocess mode."""
    return multiprocess_registry() if os.environ.get(MULTIPROC_DIR) else REGISTRY


def mount_metrics(app: FastAPI, settings: Settings) -> bool:
    """`/metrics` on the API's app, unless production has no token for it; True if mounted."""
    if settings.is_production and settings.metrics_token is None:
        return False
    token = settings.metrics_token.get_secret_value().encode() if settings.metrics_token else None

    async def metrics(request: Request) -> Response:
        if token is not None and not _bearer_matches(request, token):
            return Response("Unauthorized\n", status_code=401, media_type="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
        return Response(generate_latest(registry()), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", metrics, methods=["GET"], include_in_schema=False)
    return True


def _bearer_matches(request: Request, token: bytes) -> bool:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    # Constant time: how much of a guess matched must not show in the answer's timing.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token)


def forget_this_process() -> None:
    """A worker's shutdown: its live gauges (connections, subscriptions) leave the sum."""
    if os.environ.get(MULTIPROC_DIR):
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]  # as above


@contextlib.contextmanager
def multiprocess_dir() -> Iterator[str]:
    """PROMETHEUS_MULTIPROC_DIR for the workers `serve` is about to spawn (they import
    prometheus-client afresh and read it): the one set, emptied of a previous run's files, or
    a new temporary one removed at the end."""
    given = os.environ.get(MULTIPROC_DIR)
    if given:
        os.makedirs(given, exist_ok=True)
        for name in os.listdir(given):
            if name.endswith(".db"):
                os.remove(os.path.join(given, name))
        yield given
        return
    path = tempfile.mkdtemp(prefix="clarity-metrics-")
    os.environ[MULTIPROC_DIR] = path
    try:
        yield path
    finally:
        os.environ.pop(MULTIPROC_DIR, None)
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def metrics_server(settings: Settings, api_port: int, path: str | None) -> Iterator[None]:
    """METRICS_PORT's server, in a thread of this process, while the block runs: this
    process's figures, or with `path` every worker's."""
    if settings.metrics_port is None:
        yield
        return
    if settings.metrics_port == api_port:
        raise ConfigurationError("METRICS_PORT must differ from the API's port")
    if settings.is_production and settings.metrics_host not in ("127.0.0.1", "::1", "localhost"):
        logger.warning("METRICS_PORT is served without a token on %s: only the scraper's "
                       "network should reach it", settings.metrics_host)
    chosen = multiprocess_registry(path) if path else REGISTRY
    server: Any
    server, thread = start_http_server(settings.metrics_port, settings.metrics_host,
                                       registry=chosen)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
