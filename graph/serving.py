"""`clarity-graph serve` under uvicorn: one process, or N worker processes behind one port.

With one worker the app is built in this process and served here, as it always was. With
more, uvicorn binds the port once and starts N processes (spawned, not forked) that each call
`worker_app()` and accept on the shared socket; the kernel hands each connection to one of
them. What every worker needs from outside is made once, here, before they start: the
development JWT secret file (so all of them sign and verify with one secret), and a check
that the keys, the persisted-query manifest and the database are usable, so a mistake stops
start-up with one message instead of N failing workers.

Only PostgreSQL runs more than one: live events travel by LISTEN/NOTIFY between processes
there, while on SQLite they are delivered in-process (a subscriber on one worker would miss
what another committed), and SQLite takes one writer at a time anyway.
"""

from __future__ import annotations

import asyncio
import ctypes
import gc
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from graph.auth import ConfigurationError
from graph.http.edge import EdgeHttpProtocol, EdgeWebSocketProtocol, check_settings
from graph.http.edge import configure as configure_edge
from graph.metrics_exposure import metrics_server, multiprocess_dir
from graph.observability import configure_logging, human_output
from graph.settings import Settings

logger = logging.getLogger(__name__)
# uvicorn's exit status for a server that could not start (uvicorn.config.STARTUP_FAILURE).
STARTUP_FAILURE = 3
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PARENT_POLL_SECONDS = 1.0  # where there is no parent-death signal (not Linux)
SQLITE_REFUSAL = (
    "{count} workers on SQLite: live events are delivered in-process there, so a subscriber "
    "on one worker would miss what another commits, and SQLite takes one writer at a time. "
    "Run one worker (WORKERS=1, the default on SQLite), or use PostgreSQL for more."
)


def worker_count(settings: Settings, flag: int | None) -> int:
    """`--workers` if given, else the setting (WORKERS, or its default); refused on SQLite
    above 1."""
    count = flag if flag is not None else settings.worker_count
    if count < 1:
        raise ConfigurationError(f"--workers must be at least 1, not {count}")
    if count > 1 and settings.is_sqlite:
        raise ConfigurationError(SQLITE_REFUSAL.format(count=count))
    return count


def uvicorn_options(settings: Settings, host: str, port: int) -> dict[str, Any]:
    """What uvicorn is given in every mode: each worker applies all of it to itself."""
    check_settings(settings)  # a cap that could take every slot stops start-up here
    return {
        "host": host,
        "port": port,
        "log_level": uvicorn_level(settings),
        "log_config": None,  # keep our JSON handler for uvicorn's lines too
        # uvicorn's httptools and websockets-sansio protocols with a header-read deadline and
        # a per-client connection cap (graph/http/edge.py says why, and what it costs).
        "http": EdgeHttpProtocol,
        "ws": EdgeWebSocketProtocol,
        # A WebSocket message is held to the body limit: larger closes the socket (1009).
        "ws_max_size": settings.max_body_bytes,
        "timeout_keep_alive": settings.keep_alive_timeout_seconds,
        # Bounds connections and running requests alike, slow or idle ones included: past it
        # uvicorn answers 503 without calling the app, instead of running out of memory or
        # file descriptors. Per worker. (httptools bounds neither header time nor header size;
        # the edge protocol adds the time; h11_max_incomplete_event_size only applies to h11.)
        "limit_concurrency": settings.limit_concurrency,
        "backlog": settings.listen_backlog,
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds,
        # The client address comes from X-Forwarded-For only through TRUSTED_PROXIES
        # (domain/visits.py); uvicorn's own rewriting (on by default, trusting 127.0.0.1)
        # would have decided it first.
        "proxy_headers": False,
    }


def uvicorn_level(settings: Settings) -> str:
    """uvicorn sets its loggers' levels itself. On a terminal its start-up lines say what
    the banner says, and each operation has its own line: WARNING, unless asked for DEBUG."""
    level = settings.log_level.lower()
    return "warning" if human_output(settings.log_format) and level != "debug" else level


def serve_here(settings: Settings, options: dict[str, Any], announce: Callable[[], None]) -> None:
    """One worker: the app is built and served in this process."""
    import uvicorn

    from graph.app import create_app
    from graph.migrations import upgrade_head

    if settings.is_sqlite:
        upgrade_head(settings.database_url)  # the embedded default is ready with no extra step
    configure_edge(settings)
    app = create_app(settings)
    _freeze()
    announce()
    # workers=1 said outright: left out, uvicorn would read WEB_CONCURRENCY instead.
    with metrics_server(settings, options["port"], None):  # METRICS_PORT, when set
        uvicorn.run(app, workers=1, **options)


def serve_workers(
    settings: Settings, options: dict[str, Any], count: int, announce: Callable[[], None]
) -> int:
    """`count` worker processes behind one port; each builds its app in `worker_app`."""
    import uvicorn

    try:
        _check_before_workers(settings)
    except ConfigurationError:
        raise  # a setting to fix: `main` says which in one line
    except Exception as error:  # whatever stops a worker's start-up stops it here, once
        logger.error("cannot start the workers: %s", error, exc_info=error)
        return STARTUP_FAILURE
    announce()
    # A worker that fails to start all the same makes uvicorn stop the others, log an error
    # here and return, as it returns after SIGTERM: the error line is what tells them apart.
    # (A SIGHUP restart whose new worker is not ready logs one too: exit 3 after it as well.)
    errors = _ErrorLines()
    supervisor = logging.getLogger("uvicorn.error")
    supervisor.addHandler(errors)
    try:
        # The workers' figures in files of one directory, summed by any scrape (the
        # multiprocess mode of prometheus-client: graph/metrics_exposure.py).
        with multiprocess_dir() as path, metrics_server(settings, options["port"], path):
            uvicorn.run("graph.serving:worker_app", factory=True, workers=count, **options)
    finally:
        supervisor.removeHandler(errors)
    return STARTUP_FAILURE if errors.seen else 0


class _ErrorLines(logging.Handler):
    """Notes whether uvicorn's supervisor, in this process, logged an error."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen = False

    def emit(self, record: logging.LogRecord) -> None:
        self.seen = True


def worker_app() -> FastAPI:
    """uvicorn's factory, called once in each worker process: settings from the environment
    (the parent's), logging as the parent's, then the app, as `serve_here` builds it."""
    from graph.app import create_app

    exit_with_supervisor()
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    configure_edge(settings)
    try:
        app = create_app(settings)
    except ConfigurationError as error:
        # The parent checked the same settings, so only a worker whose environment differs
        # gets here. Raised from the factory, uvicorn would restart the worker for ever; a
        # failed lifespan start-up is what makes its supervisor stop and `serve` exit 3.
        return _refusing_app(error)
    _freeze()
    return app


def _refusing_app(error: ConfigurationError) -> FastAPI:
    @asynccontextmanager
    async def refuse(_app: FastAPI) -> AsyncIterator[None]:
        raise error
        yield  # an async generator: the lifespan protocol's shape

    return FastAPI(lifespan=refuse)


def exit_with_supervisor() -> None:
    """A worker ends when the `serve` process that started it dies, even by SIGKILL: else it
    lives on as an orphan, holding the port, serving with no one to restart or stop it.

    On Linux the kernel sends the worker SIGTERM when its parent dies (prctl's parent-death
    signal), which uvicorn handles as it always does: the listener closes, running requests
    get up to SHUTDOWN_TIMEOUT_SECONDS to finish, WebSockets are closed with 1012. Elsewhere
    a thread watches the parent's pid once a second and sends the same SIGTERM. A parent that
    died before either was set up is caught by the pid check right after."""
    parent = multiprocessing.parent_process()  # uvicorn spawns its workers with multiprocessing
    if parent is None or parent.pid is None:
        return
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    else:
        threading.Thread(target=_watch_parent, args=(parent.pid,), daemon=True).start()
    if os.getppid() != parent.pid:
        os.kill(os.getpid(), signal.SIGTERM)


def _watch_parent(pid: int) -> None:
    while os.getppid() == pid:
        time.sleep(PARENT_POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


def _freeze() -> None:
    # What exists now (modules, the schema, the mappers) lives as long as the process; frozen,
    # it is no longer re-scanned by every full collection, ~10% of a task page's CPU here.
    # The cost: a garbage cycle made before this line is never freed, and nothing has served
    # a request yet.
    gc.collect()
    gc.freeze()


def _check_before_workers(settings: Settings) -> None:
    from graph.app import check_settings

    check_settings(settings)  # the development secret file is made here, once, for all
    asyncio.run(_reach_database(settings))


async def _reach_database(settings: Settings) -> None:
    """Opens and closes what a worker opens first: the LISTEN connection."""
    from graph.pubsub import build_broker

    broker = build_broker(settings.database_url)
    await broker.start()
    await broker.stop()
