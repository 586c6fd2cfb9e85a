"""graph/http/edge.py extends uvicorn's protocol classes, which are not uvicorn's public API:
these fail when an upgrade of uvicorn renames, re-signs or stops providing what the edge
overrides or reads (tests/graph/test_edge_server.py then shows what broke, on a real server).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from graph.http.edge import EdgeHttpProtocol, EdgeWebSocketProtocol, configure
from graph.serving import uvicorn_options
from tests.conftest import make_settings

HTTP_HOOKS = (
    "__init__", "connection_made", "connection_lost", "data_received", "on_message_begin",
    "on_headers_complete", "on_response_complete", "handle_websocket_upgrade",
)
WEBSOCKET_HOOKS = ("connection_lost",)


async def nothing(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app for uvicorn's Config to load."""


def signature_of(method: Callable[..., object]) -> list[str]:
    return list(inspect.signature(method).parameters)


@pytest.mark.parametrize("hook", HTTP_HOOKS)
def test_each_http_hook_the_edge_overrides_is_uvicorns_with_the_same_parameters(
    hook: str,
) -> None:
    assert hook in vars(HttpToolsProtocol), f"uvicorn's HttpToolsProtocol has no {hook}"
    assert hook in vars(EdgeHttpProtocol)
    ours, theirs = getattr(EdgeHttpProtocol, hook), getattr(HttpToolsProtocol, hook)
    assert signature_of(ours) == signature_of(theirs)


@pytest.mark.parametrize("hook", WEBSOCKET_HOOKS)
def test_each_websocket_hook_the_edge_overrides_is_uvicorns(hook: str) -> None:
    assert hook in vars(WebSocketsSansIOProtocol)
    ours, theirs = getattr(EdgeWebSocketProtocol, hook), getattr(WebSocketsSansIOProtocol, hook)
    assert signature_of(ours) == signature_of(theirs)


def test_serve_gives_uvicorn_the_edge_protocols() -> None:
    options = uvicorn_options(make_settings(), "127.0.0.1", 8000)
    config = uvicorn.Config(nothing, **options)
    config.load()
    assert config.http_protocol_class is EdgeHttpProtocol
    assert config.ws_protocol_class is EdgeWebSocketProtocol


async def test_the_state_the_edge_reads_is_uvicorns() -> None:
    settings = make_settings(limit_concurrency=50, max_connections_per_client=20)
    configure(settings)
    config = uvicorn.Config(nothing, **uvicorn_options(settings, "127.0.0.1", 8000))
    state = ServerState()
    protocol = EdgeHttpProtocol(config=config, server_state=state, app_state={})
    assert protocol.connections is state.connections
    assert protocol.limit_concurrency == 50
    assert protocol.server_state is state
    assert protocol.cycle is None and protocol.transport is None
    assert callable(protocol.loop.call_later)
