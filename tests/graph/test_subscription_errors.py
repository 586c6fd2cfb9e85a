"""Subscription errors follow the one error convention, result by result.

Every result a stream sends (a subscription's first one and each delivery; a query or
mutation sent over the WebSocket) is masked before the transport sends it: an unexpected
exception reaches the client as "Internal server error." with an error id, and the log has
the id and the traceback. A `ClientError` (NOT_FOUND, UNAUTHENTICATED) is shown as it is.

Most tests drive `schema.subscribe` with the context the app builds for a WebSocket; the
last one runs a real server process with a delivery that fails, over graphql-transport-ws.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Collection, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import strawberry
import websockets
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.websockets import WebSocket
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types import ExecutionResult
from websockets.typing import Subprotocol

from domain.events import Event
from domain.viewers import Viewer
from graph.auth import mint_token
from graph.context import Context, Resources
from graph.errors import MASKED_MESSAGE
from graph.execution.database import RequestDatabase
from graph.http.websocket import ClarityTransportWSHandler
from graph.ids import encode_id
from graph.pubsub import LocalBroker, Reader
from graph.resolvers import subscriptions
from graph.resolvers.queries import tasks as task_queries
from graph.schema import build_schema
from graph.settings import Settings
from graph.types import task as task_types
from models import TaskEvent as TaskEventModel
from models.rls import DatabaseViewer, viewer_session
from tests.conftest import GraphQL, make_settings
from tests.graph.test_subscriptions import create_task
from tests.servers import open_operations, running_server

LEAKY = "SELECT secret FROM ai_logs WHERE user_id = 'alice' /srv/app/graph/x.py eyJhbGci"
LEAKS = ("SELECT", "secret", "ai_logs", "/srv/app", "Traceback", "eyJhbGci")
TASK_EVENTS = "subscription { taskEvents { eventType task { title } } }"
MESSAGES = "subscription($id: ID!) { messageAdded(conversationId: $id) { content } }"
WAIT_SECONDS = 5.0


def explode(*_args: Any, **_kwargs: Any) -> Any:
    raise RuntimeError(LEAKY)


async def announce(resources: Resources, *events: Event) -> None:
    """Record `events` (one owner's) in the change outbox and announce them, as a committed
    write does: one transaction (the tests' connection is shared: one writer at a time)."""
    factory = resources.session_factory
    session = viewer_session(factory, DatabaseViewer(events[0].user_id))
    async with session, session.begin():
        recorded = await resources.broker.publish(session, list(events))
    # Woken in-process, whatever the engine: the harness's transaction is never committed,
    # so PostgreSQL never sends its NOTIFY.
    LocalBroker.committed(resources.broker, recorded)


class Subscriptions:
    """Runs subscriptions through the schema as the WebSocket transport does, one viewer."""

    def __init__(self, schema: strawberry.Schema, resources: Resources) -> None:
        self.schema = schema
        self.resources = resources
        self.subscribed = asyncio.Event()
        self.readers: list[Reader] = []
        self._streams: list[AsyncGenerator[Any, None]] = []
        self._databases: list[RequestDatabase] = []

    def context(self, user: str | None) -> Context:
        """What `get_context` builds for a WebSocket connection."""
        viewer = Viewer(user_id=user)
        db = RequestDatabase(self.resources.session_factory, self.resources.broker, viewer)
        self._databases.append(db)
        context = Context(self.resources, viewer, db)
        context.request = WebSocket(
            {"type": "websocket", "path": "/graphql", "headers": []}, _never, _never
        )
        return context

    async def open(
        self, query: str, variables: dict[str, Any] | None = None, *, user: str | None = "alice"
    ) -> AsyncGenerator[ExecutionResult, None]:
        stream = await self.schema.subscribe(
            query, variable_values=variables, context_value=self.context(user)
        )
        self._streams.append(stream)
        return stream

    async def next(self, stream: AsyncGenerator[ExecutionResult, None]) -> ExecutionResult:
        return await asyncio.wait_for(anext(stream), WAIT_SECONDS)

    async def delivery(
        self, stream: AsyncGenerator[ExecutionResult, None], event: Event
    ) -> ExecutionResult:
        """The result the stream sends for `event`, published once the stream listens (its
        queue then keeps what arrives between deliveries)."""
        pending = asyncio.ensure_future(self.next(stream))
        await asyncio.wait_for(self.subscribed.wait(), WAIT_SECONDS)
        await self.idle()
        await announce(self.resources, event)
        return await pending

    async def idle(self) -> None:
        """Until the newest stream waits for a change: the tests' connection is shared, so
        nothing else may use it while the stream reads."""
        async with asyncio.timeout(WAIT_SECONDS):
            # A poll: the reader has no event for "now waiting", and a test needs none.
            while not (self.readers and self.readers[-1].idle):  # noqa: ASYNC110
                await asyncio.sleep(0.005)

    async def close(self) -> None:
        for stream in self._streams:
            await stream.aclose()
        for db in self._databases:
            await db.close()


async def _never(*_args: Any) -> Any:
    raise AssertionError("the schema-level tests never touch the socket")


@pytest.fixture
async def subs(
    app: FastAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Subscriptions]:
    resources: Resources = app.state.resources
    runner = Subscriptions(build_schema(settings), resources)
    listen = resources.broker.reader

    def signalling(user_id: str, kinds: Collection[str] | None = None) -> Reader:
        reader = listen(user_id, kinds)
        runner.readers.append(reader)
        runner.subscribed.set()
        return reader

    monkeypatch.setattr(resources.broker, "reader", signalling)
    yield runner
    await runner.close()


def client_view(result: ExecutionResult) -> list[dict[str, Any]]:
    """The errors as the transport sends them (`GraphQLError.formatted`)."""
    return [dict(error.formatted) for error in result.errors or []]


def assert_masked(
    result: ExecutionResult, caplog: pytest.LogCaptureFixture
) -> dict[str, Any]:
    (error,) = client_view(result)
    assert error["message"] == MASKED_MESSAGE
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    error_id = error["extensions"]["errorId"]
    assert len(error_id) == 32
    sent = json.dumps(error)
    for leak in LEAKS:
        assert leak not in sent
    records = [r for r in caplog.records if r.name == "graph.errors" and error_id in r.getMessage()]
    assert records, "the log has the error id"
    assert any(r.exc_info and LEAKY in str(r.exc_info[1]) for r in records), "and the traceback"
    return error


async def created_task_event(gql: GraphQL, db: AsyncSession, title: str) -> int:
    data = await gql.data(
        "mutation($t: String!) { createTask(input: {title: $t}) { __typename } }", {"t": title}
    )
    assert data["createTask"]["__typename"] == "CreateTaskSuccess"
    row_id = await db.scalar(select(TaskEventModel.id).order_by(TaskEventModel.id.desc()))
    assert row_id is not None
    return int(row_id)


async def test_a_delivery_that_fails_unexpectedly_is_masked_and_logged(
    subs: Subscriptions, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    stream = await subs.open(TASK_EVENTS)
    monkeypatch.setattr(subscriptions, "_reader", explode)  # the delivery's database reads
    with caplog.at_level(logging.ERROR, logger="graph.errors"):
        result = await subs.delivery(stream, Event("task_event", "alice", 1))
    assert result.data is None
    assert_masked(result, caplog)


async def test_a_nested_field_failing_in_a_delivery_is_masked_and_logged(
    subs: Subscriptions,
    gql: GraphQL,
    db: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    row_id = await created_task_event(gql, db, "delivered")
    stream = await subs.open(TASK_EVENTS)
    monkeypatch.setattr(task_types, "_parent_task", explode)  # resolves `TaskEvent.task`
    with caplog.at_level(logging.ERROR, logger="graph.errors"):
        result = await subs.delivery(stream, Event("task_event", "alice", row_id))
    error = assert_masked(result, caplog)
    assert error["path"] == ["taskEvents", "task"]
    assert result.data is None  # `task` is non-null: the null propagates to the root


async def test_each_delivery_is_masked_not_only_the_first(
    subs: Subscriptions,
    gql: GraphQL,
    db: AsyncSession,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    row_id = await created_task_event(gql, db, "twice")
    stream = await subs.open(TASK_EVENTS)
    first = await subs.delivery(stream, Event("task_event", "alice", row_id))
    assert first.errors is None
    assert first.data == {"taskEvents": {"eventType": "CREATED", "task": {"title": "twice"}}}
    monkeypatch.setattr(task_types, "_parent_task", explode)
    with caplog.at_level(logging.ERROR, logger="graph.errors"):
        second = await subs.delivery(stream, Event("task_event", "alice", row_id))
    assert_masked(second, caplog)


async def test_a_query_over_the_websocket_is_masked_too(
    subs: Subscriptions, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The transport runs queries and mutations through the same stream as subscriptions.
    monkeypatch.setattr(task_queries, "owned_connection", explode)
    stream = await subs.schema.stream(
        "{ tasks { totalCount } }", context_value=subs.context("alice")
    )
    with caplog.at_level(logging.ERROR, logger="graph.errors"):
        result = await asyncio.wait_for(anext(stream), WAIT_SECONDS)
    await stream.aclose()
    assert isinstance(result, ExecutionResult)
    assert_masked(result, caplog)


async def test_subscribing_to_a_missing_conversation_answers_not_found(
    subs: Subscriptions,
) -> None:
    stream = await subs.open(MESSAGES, {"id": encode_id("Conversation", uuid.uuid4())})
    result = await subs.next(stream)
    # Raised by the stream's own body before its first item: no field path to report.
    [error] = client_view(result)
    assert error["extensions"] == {"code": "NOT_FOUND"}
    assert error["message"].startswith("No conversation with that id")
    assert result.data is None


async def test_a_subscription_without_identity_answers_unauthenticated(
    subs: Subscriptions,
) -> None:
    stream = await subs.open(TASK_EVENTS, user=None)
    result = await subs.next(stream)
    (error,) = client_view(result)
    assert error["message"].startswith("Sign in")
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}


async def test_an_unknown_operation_name_is_still_refused_as_it_is(
    subs: Subscriptions,
) -> None:
    # The transport closes the socket (4400) with this message: it must stay unmasked.
    stream = await subs.schema.stream(
        "subscription A { taskEvents { eventType } }",
        operation_name="B",
        context_value=subs.context("alice"),
    )
    result = await asyncio.wait_for(anext(stream), WAIT_SECONDS)
    await stream.aclose()
    assert isinstance(result, ExecutionResult) and result.errors
    (error,) = result.errors
    assert error.message == 'Unknown operation named "B".'
    # What graphql-transport-ws looks for to close the socket with that reason.
    assert isinstance(error.original_error, CannotGetOperationTypeError)


# End to end: a real server whose task-event delivery fails, over graphql-transport-ws.

FAULT = f'''
"""Test fault injection (tests/graph/test_subscription_errors.py): every subscription
delivery's database read fails with a message full of what must never reach a client."""
from graph.resolvers import subscriptions


def _reader(context):
    raise RuntimeError({LEAKY!r})


subscriptions._reader = _reader
'''


@pytest.fixture(scope="module")
def failing_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("suberr")
    hooks = workdir / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(FAULT)
    path = os.pathsep.join(p for p in (str(hooks), os.environ.get("PYTHONPATH")) if p)
    with running_server(workdir, PYTHONPATH=path, LOG_FORMAT="json") as base:
        yield base, workdir


def server_log(workdir: Path) -> str:
    return "".join(log.read_text() for log in workdir.glob("server-*.log"))


async def eventually(check: Callable[[], bool], seconds: float = WAIT_SECONDS) -> bool:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def test_over_a_real_websocket_a_failed_delivery_is_masked(
    failing_server: tuple[str, Path],
) -> None:
    base, workdir = failing_server
    user = f"suberr-{uuid.uuid4().hex[:8]}"
    token = mint_token(make_settings(), user_id=user, admin=False, ttl_seconds=600)
    url = base.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[Subprotocol("graphql-transport-ws")]) as ws:
        await ws.send(json.dumps(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        ))
        assert json.loads(await asyncio.wait_for(ws.recv(), WAIT_SECONDS))["type"] == (
            "connection_ack"
        )
        await ws.send(json.dumps(
            {"id": "1", "type": "subscribe", "payload": {"query": TASK_EVENTS}}
        ))
        await asyncio.sleep(0.2)  # the subscription listens before the event
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"{base}/graphql",
                json={"query": 'mutation { createTask(input: {title: "x"}) { __typename } }'},
                headers={"Authorization": f"Bearer {token}"},
            )
        assert "errors" not in response.json()
        raw = await asyncio.wait_for(ws.recv(), WAIT_SECONDS)
    message = json.loads(raw)
    assert message["type"] == "next"
    (error,) = message["payload"]["errors"]
    assert error["message"] == MASKED_MESSAGE
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    for leak in LEAKS:
        assert leak not in str(raw)
    error_id = error["extensions"]["errorId"]
    assert await eventually(lambda: error_id in server_log(workdir))
    logged = [
        json.loads(line) for line in server_log(workdir).splitlines()
        if error_id in line and line.startswith("{")
    ]
    assert any(LEAKY in entry.get("traceback", "") for entry in logged)


async def test_a_client_leaving_while_its_result_is_sent_is_not_logged_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The race (a close between the result and its send) cannot be timed from outside, so the
    # handler's hook is called as strawberry calls it when the send fails.
    handler = object.__new__(ClarityTransportWSHandler)  # the hook reads no instance state
    with caplog.at_level(logging.ERROR, logger="strawberry.ws.task"):
        await handler.handle_task_exception(WebSocketDisconnected())
        assert caplog.records == []
        await handler.handle_task_exception(RuntimeError("a real failure"))
    assert [record.getMessage() for record in caplog.records] == ["Exception in worker task"]


FIELD_FAULT = f'''
"""Test fault injection (tests/graph/test_subscription_errors.py): a delivery's nested field
(`TaskEvent.task`) fails, after the delivery's own read succeeded."""
from graph.types import task


async def _parent_task(info, task_id):
    raise RuntimeError({LEAKY!r})


task._parent_task = _parent_task
'''


@pytest.fixture(scope="module")
def failing_field_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("fielderr")
    hooks = workdir / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(FIELD_FAULT)
    path = os.pathsep.join(p for p in (str(hooks), os.environ.get("PYTHONPATH")) if p)
    with running_server(workdir, PYTHONPATH=path) as base:
        yield base


async def test_a_delivery_whose_field_fails_unexpectedly_is_masked_and_ends_the_stream(
    failing_field_server: str,
) -> None:
    # decisions.md: a delivery that fails unexpectedly "answers the masked error ... and ends
    # that subscription". A nested field's failure did not end it (issue 22, case 3).
    base = failing_field_server
    user = f"fielderr-{uuid.uuid4().hex[:8]}"
    sockets: list[Any] = []
    socket = await open_operations(base, user, sockets, {"1": TASK_EVENTS})
    try:
        await create_task(base, user, "x")
        failed = await socket.next(WAIT_SECONDS)
        assert failed["type"] == "next" and failed["payload"]["data"] is None
        (error,) = failed["payload"]["errors"]
        assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
        assert error["path"] == ["taskEvents", "task"]
        assert await socket.next(WAIT_SECONDS) == {"id": "1", "type": "complete"}
    finally:
        for opened in sockets:
            await opened.close()
