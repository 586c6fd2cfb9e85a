"""The GraphQL router: GraphQL-over-HTTP conventions and WebSocket authentication.

- `Accept: application/graphql-response+json` is answered in that media type, and a request
  that fails before execution (unparsable, invalid, over a limit) then gets HTTP 400 and no
  `data` entry; plain `application/json` keeps the legacy 200.
- Under that media type, an operation that produced nothing (`data: null`) because the
  database could not be reached (`SERVICE_UNAVAILABLE`) is HTTP 503 with `Retry-After`, so
  load balancers, monitors and retrying clients see an outage for what it is. The spec only
  RECOMMENDS 200 for `data: null`; legacy `application/json` keeps 200.
- Refusals of the transport are JSON too: a mutation over GET is 405 (Allow: POST), a body
  in any content type but JSON is 415 (form and text/plain are what a cross-site form can
  send without a CORS preflight, so refusing them is the CSRF guard), other bad requests 400.
- Persisted queries (graph/http/persisted.py) are resolved in `parse_http_body`, for GET and POST,
  before anything is parsed: a hash becomes its text, or the request is refused.
- A request that accepts `text/event-stream` is answered as an event stream, graphql-sse's
  distinct connections mode (graph/http/sse.py), after the same parsing and persisted rules.
- A JSON array POSTed is a batch (Apollo's BatchHttpLink): bounded, its costs added up, its
  operations run in order, each with a context of its own (graph/http/batching.py). Each
  operation's answer has its own errors; the batch's status is 200 unless refused whole.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from fastapi import Request, Response
from graphql import GraphQLError
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http import process_result as default_process_result
from strawberry.http.base import BaseRequestProtocol
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from graph.auth import AuthenticationFailed, log_refusal
from graph.context import Context, resolve_viewer
from graph.errors import SERVICE_UNAVAILABLE
from graph.http.batching import BatchRefused, check_cost, check_items, check_size
from graph.http.caching import caching
from graph.http.limits import MAX_JSON_DEPTH, json_too_deep
from graph.http.persisted import PersistedQueries, PersistedQueryError
from graph.http.responses import GRAPHQL_RESPONSE, JSON, media_type, refusal
from graph.http.sse import respond as event_stream
from graph.http.sse import wants_event_stream
from graph.http.websocket import ClarityTransportWSHandler

# How long a client should wait before retrying during an outage: a restarting PostgreSQL
# or a failover takes seconds, and the pool reconnects on the next request.
RETRY_AFTER_SECONDS = 5
PLAYGROUND = Path(__file__).parent / "static" / "graphiql.html"


def wants_graphql_response(request: Request) -> bool:
    return media_type(request.headers.get("accept", "")) == GRAPHQL_RESPONSE


class UnsupportedMediaType(Exception):
    """A POST body in any content type but JSON."""


def _transport_refusal(error: HTTPException, accept: str) -> Response:
    """strawberry's refusal of a request, its status told by what strawberry raised (the
    exception it raised from), never by the words of its message."""
    if isinstance(error.__cause__, InvalidOperationTypeError):  # a mutation over GET
        return refusal(405, "Mutations must use POST.", "METHOD_NOT_ALLOWED", accept,
                       {"Allow": "POST"})
    if error.status_code == 404:
        return refusal(404, str(error.reason), "NOT_FOUND", accept)
    return refusal(400, str(error.reason), "BAD_REQUEST", accept)


def _is_json(content_type: str | None) -> bool:
    """strawberry's own test of a JSON body (the media type, any parameters)."""
    return "application/json" in (content_type or "").split(";")[0].strip().lower()


def _code(error: GraphQLError) -> object:
    return (error.extensions or {}).get("code")


class ClarityRouter(GraphQLRouter[Context, None]):
    @property
    def graphql_ide_html(self) -> str:
        """Our GraphiQL page: the token stays in the headers editor, never in the URL."""
        return PLAYGROUND.read_text()

    graphql_transport_ws_handler_class = ClarityTransportWSHandler
    # Set by the app's lifespan (graph/app.py), which also hands it to every request's
    # context: the APQ cache and the manifest live as long as the app, one per app.
    persisted_queries: PersistedQueries | None = None

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET with only a persisted-query hash has no `query` either: it is an operation.
        return super().should_render_graphql_ide(request) and not request.query_params.get(
            "extensions"
        )

    def decode_json(self, data: str | bytes) -> object:
        """strawberry's decoder, but what would crash it (a 500 over HTTP) is a JSONDecodeError,
        which it answers 400 (or 4400 on a WebSocket): nesting deeper than MAX_JSON_DEPTH
        (RecursionError), bytes that are not UTF-8 (UnicodeDecodeError) and integers longer
        than Python converts (ValueError)."""
        if json_too_deep(data):
            raise json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} levels", "", 0)
        try:
            return super().decode_json(data)
        except UnicodeDecodeError as error:
            raise json.JSONDecodeError("not valid UTF-8", "", 0) from error
        except json.JSONDecodeError:
            raise
        except ValueError as error:  # an integer of more digits than Python converts (4,300)
            raise json.JSONDecodeError(str(error).partition(":")[0], "", 0) from error

    def encode_json(self, data: object) -> str:
        """orjson: a 50-task page encodes ~10x faster than with the stdlib. It refuses what
        it cannot write exactly (an integer beyond 64 bits inside a stored JSON value); those
        rare answers take the stdlib's path, which writes any integer. A str, not bytes:
        strawberry sends bytes over a WebSocket as binary frames, which browser graphql-ws
        clients cannot read."""
        try:
            return orjson.dumps(data).decode()
        except TypeError:
            return json.dumps(data, separators=(",", ":"))

    def parse_json(self, data: str | bytes) -> Any:
        try:
            parsed = self.decode_json(data)
        except json.JSONDecodeError as error:
            raise HTTPException(400, f"Unable to parse the JSON: {error.msg}.") from error
        # A body (bytes; query parameters are str) must be an object, or a list for a batch:
        # strawberry reads it with `.get` and would crash on a string, number or null.
        if isinstance(data, bytes) and not isinstance(parsed, dict | list):
            raise HTTPException(400, "The request body must be a JSON object.")
        if isinstance(parsed, list):  # a batch: bounded before anything in it is read
            check_size(len(parsed), self.schema.config.batching_config["max_operations"]
                       if self.schema.config.batching_config else 0)
            if (problem := check_items(parsed)) is not None:
                raise HTTPException(400, problem)
        return parsed

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """The request's operations, with persisted-query hashes swapped for their text (or
        refused) before anything is parsed or executed; GET and POST alike. A POST body that
        is not JSON is refused first: form and text/plain are what a cross-site form can send
        without a CORS preflight, so refusing them is the CSRF guard."""
        if request.method == "POST" and not _is_json(request.content_type):
            raise UnsupportedMediaType
        parsed = await super().parse_http_body(request)
        if self.persisted_queries is None:
            raise RuntimeError("ClarityRouter.persisted_queries is set by create_app")
        persisted = self.persisted_queries
        items = parsed if isinstance(parsed, list) else [parsed]
        for item in items:
            item.query = persisted.resolve(item.query, item.extensions)
        return parsed

    async def run(self, request: Any, context: Any = UNSET, root_value: Any = UNSET) -> Any:
        if request.scope["type"] == "websocket":
            return await super().run(request, context=context, root_value=root_value)
        accept = request.headers.get("accept", "")
        try:
            if wants_event_stream(accept):  # graphql-sse (graph/http/sse.py)
                parsed = self.parse_http_body(self.request_adapter_class(request))
                return await event_stream(request, context, parsed, self.allowed_origins)
            response = await super().run(request, context=context, root_value=root_value)
        except HTTPException as error:
            return _transport_refusal(error, accept)
        except PersistedQueryError as error:
            return refusal(error.status, error.message, error.code, accept)
        except BatchRefused as refused:
            return refused.response(accept)
        except UnsupportedMediaType:
            return refusal(415, "Send the request body as application/json.",
                           "UNSUPPORTED_MEDIA_TYPE", accept)
        if response.media_type != JSON:
            return response  # GraphiQL's page
        if wants_graphql_response(request):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
            if getattr(request.state, "batch", False):
                pass  # each operation's answer tells its own errors; the batch is 200
            elif getattr(request.state, "request_error", False):
                response.status_code = 400
            elif getattr(request.state, "service_unavailable", False):
                response.status_code = 503
                response.headers["retry-after"] = str(RETRY_AFTER_SECONDS)
        return caching(request, response, errors=getattr(request.state, "had_errors", True),
                       data=getattr(request.state, "answered_data", None))

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        if not isinstance(request_data, list):
            return await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response)
        check_cost(context.resources.live.schema._schema, request_data, context.settings)
        request.state.batch = True
        results: list[ExecutionResult] = []
        for item in request_data:  # in order: a mutation commits before the next one reads
            operation_context = context.for_operation()
            try:
                results.append(await self.execute_single(
                    request, request_adapter, sub_response, operation_context, root_value, item))
            except HTTPException as error:  # an unknown operation name: refused in its place
                results.append(ExecutionResult(data=None, errors=[GraphQLError(
                    str(error.reason), extensions={"code": "BAD_REQUEST"})]))
            finally:
                await operation_context.db.close()
        return results

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        data = default_process_result(result)
        errors = result.errors or []
        request.state.had_errors = bool(errors)
        request.state.answered_data = result.data
        if result.data is None and errors and all(error.path is None for error in errors):
            # Nothing ran: a request error, which carries no `data` entry.
            request.state.request_error = True
            if wants_graphql_response(request):
                data.pop("data", None)
        elif result.data is None and any(_code(error) == SERVICE_UNAVAILABLE for error in errors):
            request.state.service_unavailable = True
        return data

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate a WebSocket from `connection_init`'s payload, then open its place in
        the live layer (graph/live/), which refuses a socket past its caps.

        A bad token closes the socket (4403); no token leaves the identity the upgrade request
        had, and subscriptions that need one answer UNAUTHENTICATED. A socket past a cap
        (MAX_ANONYMOUS_SOCKETS, MAX_SOCKETS_PER_USER) is closed with 1013 by the handler
        (graph/http/websocket.py), which catches the LiveRefused raised here.
        """
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        authorization = params.get("authorization") or params.get("Authorization")
        if authorization:
            try:
                viewer = resolve_viewer(
                    context.resources, str(authorization), context.viewer.session_id
                )
            except AuthenticationFailed as error:
                log_refusal(error, "/graphql", answer="WebSocket 4403")
                raise ConnectionRejectionError({"message": error.message}) from error
            context.act_as(viewer)
        context.live_connection = context.resources.live.connect(context)
        accepted: UnsetType = UNSET
        return accepted
