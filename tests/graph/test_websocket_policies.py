"""Every limit and policy holds over the WebSocket exactly as over HTTP, through real uvicorn.

One server runs with tight limits (depth, aliases, cost, tokens, no introspection, no
suggestions, no token leeway); another serves persisted operations only. Each refusal is
asked over HTTP and over graphql-transport-ws, and must be the same refusal on both.
Malformed frames close the socket with 4400 and a reason, never a dropped socket or a
traceback in the server's log.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from graph.auth import mint_token
from graph.ids import encode_id
from tests.conftest import make_settings
from tests.graph.test_analysis import fan_out
from tests.servers import running_server

PROTOCOL = Subprotocol("graphql-transport-ws")
WAIT = 5.0
STRICT = {
    "MAX_DEPTH": "4", "MAX_ALIASES": "2", "MAX_COST": "60", "MAX_TOKENS": "120",
    "INTROSPECTION": "false", "SUGGESTIONS": "false", "JWT_LEEWAY_SECONDS": "0",
    "MAX_PAGE_SIZE": "10",
}
KNOWN = "query Known { viewer { id } }"
KNOWN_EVENTS = "subscription KnownEvents { taskEvents { eventType } }"
CREATE = 'mutation { createTask(input: {title: "sneaked in"}) { __typename } }'


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def token(user: str, ttl: int = 600) -> str:
    return mint_token(make_settings(), user_id=user, admin=False, ttl_seconds=ttl)


@pytest.fixture(scope="module")
def strict(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("ws-strict")
    with running_server(workdir, **STRICT) as base:
        yield base, workdir


@pytest.fixture(scope="module")
def persisted_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("ws-persisted")
    manifest = workdir / "manifest.json"
    manifest.write_text(json.dumps({sha(KNOWN): KNOWN, sha(KNOWN_EVENTS): KNOWN_EVENTS}))
    with running_server(
        workdir, PERSISTED_QUERIES_ONLY="true", PERSISTED_QUERIES_MANIFEST=str(manifest)
    ) as base:
        yield base


class Socket:
    def __init__(self, socket: Any) -> None:
        self.socket = socket

    async def send(self, message: object) -> None:
        await self.socket.send(message if isinstance(message, str) else json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        frame = await asyncio.wait_for(self.socket.recv(), WAIT)
        assert isinstance(frame, str), frame
        message: dict[str, Any] = json.loads(frame)
        return message

    async def operation(self, query: str, **payload: Any) -> dict[str, Any]:
        """Subscribe with `query` and return the first answer for it."""
        operation_id = uuid.uuid4().hex[:8]
        body = {"query": query, **payload} if query else payload
        await self.send({"id": operation_id, "type": "subscribe", "payload": body})
        message = await self.receive()
        while message.get("type") == "complete" and message.get("id") != operation_id:
            message = await self.receive()  # an earlier operation's end
        assert message.get("id") == operation_id, message
        return message

    async def closed(self) -> tuple[int, str]:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(self.socket.recv(), WAIT)
        assert closed.value.rcvd is not None, "the socket was dropped without a close frame"
        return closed.value.rcvd.code, closed.value.rcvd.reason


@pytest.fixture
async def connect() -> AsyncIterator[Any]:
    sockets: list[Any] = []

    async def open_socket(base: str, bearer: str | None = None, *, init: bool = True) -> Socket:
        url = base.replace("http://", "ws://") + "/graphql"
        socket = await websockets.connect(url, subprotocols=[PROTOCOL])
        sockets.append(socket)
        opened = Socket(socket)
        if init:
            payload = {"authorization": f"Bearer {bearer}"} if bearer else {}
            await opened.send({"type": "connection_init", "payload": payload})
            assert (await opened.receive())["type"] == "connection_ack"
        return opened

    yield open_socket
    for socket in sockets:
        await socket.close()


async def over_http(base: str, query: str, variables: dict[str, Any] | None = None,
                    **body: Any) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{base}/graphql", json={"query": query, "variables": variables or {}, **body},
            headers={"Authorization": f"Bearer {token('policy-user')}"},
        )
    answer: dict[str, Any] = response.json()
    return answer


def first_error(answer: dict[str, Any]) -> tuple[str, str | None]:
    errors = answer["payload"] if answer.get("type") == "error" else (
        answer.get("payload", answer).get("errors"))
    error = errors[0]
    return error["message"], (error.get("extensions") or {}).get("code")


REFUSALS: dict[str, tuple[str, dict[str, Any]]] = {
    "too deep": ("{ tasks { edges { node { steps { task { id } } } } } }", {}),
    "too many aliases": ("{ a: viewer { id } b: viewer { id } c: viewer { id } }", {}),
    "too costly": (
        "{ tasks(first: 10) { edges { node { id title kind status createdAt } } } }", {}
    ),
    "a page over the maximum": ("{ tasks(first: 11) { totalCount } }", {}),
    "a subscription too costly": (
        "subscription { taskEvents { task { events(first: 10) { nodes {"
        " id payload eventType createdAt fromStatus toStatus } } } } }", {}
    ),
    "introspection": ("{ __schema { queryType { name } } }", {}),
    "a suggestion": ("{ taks { totalCount } }", {}),
    "too many ids": (
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [encode_id("Task", n) for n in range(1, 12)]},
    ),
    "a search over its maximum": (
        "query($s: String) { tasks(filter: {search: $s}) { totalCount } }", {"s": "x" * 201}
    ),
    "a fragment fan-out": (fan_out(6), {}),
}


@pytest.mark.parametrize("name", list(REFUSALS))
async def test_a_refusal_is_the_same_over_the_websocket_as_over_http(
    name: str, strict: tuple[str, Path], connect: Any
) -> None:
    base, _ = strict
    query, variables = REFUSALS[name]
    http_message, http_code = first_error(await over_http(base, query, variables))
    socket = await connect(base, token("policy-user"))
    answer = await socket.operation(query, variables=variables)
    assert first_error(answer) == (http_message, http_code)
    assert "Did you mean" not in http_message


async def test_the_token_limit_is_an_error_for_the_operation_with_the_http_message(
    strict: tuple[str, Path], connect: Any
) -> None:
    # It closed the socket (4400) once; graphql-transport-ws answers an operation's errors
    # with `error` and keeps the socket (tests/graph/test_transport_refusals.py).
    base, _ = strict
    query = "{ viewer { " + "id " * 200 + "} }"
    http_answer = first_error(await over_http(base, query))
    socket = await connect(base, token("policy-user"))
    refused = await socket.operation(query)
    assert refused["type"] == "error"
    assert first_error(refused) == http_answer == (
        "Syntax Error: Document contains more than 120 tokens. Parsing aborted.",
        "TOO_MANY_TOKENS",
    )
    assert (await socket.operation(KNOWN))["type"] == "next"  # the socket carries on


async def test_persisted_only_refuses_an_ad_hoc_mutation_over_the_websocket(
    persisted_only: str, connect: Any
) -> None:
    user = f"persisted-{uuid.uuid4().hex[:8]}"
    socket = await connect(persisted_only, token(user))
    refused = await socket.operation(CREATE)
    assert refused["type"] == "error"
    assert first_error(refused) == (
        "Only persisted operations are accepted.", "PERSISTED_QUERY_REQUIRED"
    )
    known = await over_http_as(persisted_only, user, {"extensions": {
        "persistedQuery": {"version": 1, "sha256Hash": sha(KNOWN)}}})
    assert known["data"] == {"viewer": {"id": user}}


async def over_http_as(base: str, user: str, body: dict[str, Any]) -> dict[str, Any]:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{base}/graphql", json=body, headers={"Authorization": f"Bearer {token(user)}"}
        )
    answer: dict[str, Any] = response.json()
    return answer


async def test_persisted_only_serves_a_manifest_hash_and_text_over_the_websocket(
    persisted_only: str, connect: Any
) -> None:
    socket = await connect(persisted_only, token("persisted-reader"))
    by_hash = await socket.operation(
        "", extensions={"persistedQuery": {"version": 1, "sha256Hash": sha(KNOWN)}}
    )
    assert by_hash["payload"]["data"] == {"viewer": {"id": "persisted-reader"}}
    by_text = await socket.operation(KNOWN)
    assert by_text["payload"]["data"] == {"viewer": {"id": "persisted-reader"}}


async def test_persisted_only_refuses_an_ad_hoc_subscription(
    persisted_only: str, connect: Any
) -> None:
    socket = await connect(persisted_only, token("persisted-reader"))
    refused = await socket.operation("subscription { taskEvents { id } }")
    assert first_error(refused)[1] == "PERSISTED_QUERY_REQUIRED"


async def test_a_socket_is_closed_when_its_token_expires(
    strict: tuple[str, Path], connect: Any
) -> None:
    short = token("expiring-user", ttl=2)
    socket = await connect(strict[0], short)
    listening = await socket.operation(KNOWN)  # a query answers, then the socket idles
    assert listening["payload"]["data"] == {"viewer": {"id": "expiring-user"}}
    await socket.receive()  # its `complete`
    started = time.monotonic()
    assert await socket.closed() == (4403, "The token has expired.")
    assert time.monotonic() - started < WAIT
    async with httpx.AsyncClient() as client:  # the same token over HTTP: refused too
        response = await client.post(
            f"{strict[0]}/graphql", json={"query": KNOWN},
            headers={"Authorization": f"Bearer {short}"},
        )
    assert response.status_code == 401
    assert refusal_lines(strict[1], "WebSocket 4403") == ["The token has expired."]


def refusal_lines(workdir: Path, answer: str) -> list[str]:
    """The reasons the server logged for refusing a token with `answer`."""
    prefix = f"{answer} refused a bearer token: "
    lines = "".join(log.read_text() for log in workdir.glob("server-*.log")).splitlines()
    return [line.split(prefix, 1)[1].split('"')[0] for line in lines if prefix in line]


async def test_a_forged_token_at_connection_init_is_closed_4403_and_logged_with_its_reason(
    strict: tuple[str, Path], connect: Any
) -> None:
    before = len(refusal_lines(strict[1], "WebSocket 4403"))
    socket = await connect(strict[0], init=False)
    await socket.send({"type": "connection_init", "payload": {"authorization": "Bearer forged"}})
    assert (await socket.closed())[0] == 4403
    reasons = refusal_lines(strict[1], "WebSocket 4403")[before:]
    assert len(reasons) == 1 and "forged" not in reasons[0]


MALFORMED = {
    "a list": "[1, 2]",
    "a number": "42",
    "null": "null",
    "a string": '"subscribe"',
    "a numeric type": '{"type": 5}',
    "an object id": json.dumps(
        {"type": "subscribe", "id": {"a": 1}, "payload": {"query": KNOWN}}
    ),
    "an empty id": json.dumps({"type": "subscribe", "id": "", "payload": {"query": KNOWN}}),
    "a huge id": json.dumps({"type": "subscribe", "id": "i" * 1000, "payload": {"query": KNOWN}}),
    "a string payload": json.dumps({"type": "subscribe", "id": "1", "payload": "x"}),
    "string variables": json.dumps(
        {"type": "subscribe", "id": "1", "payload": {"query": KNOWN, "variables": "x"}}
    ),
    "a list query": json.dumps({"type": "subscribe", "id": "1", "payload": {"query": [KNOWN]}}),
    "no query": json.dumps({"type": "subscribe", "id": "1", "payload": {}}),
    "a numeric complete id": json.dumps({"type": "complete", "id": 5}),
    "a string ping payload": json.dumps({"type": "ping", "payload": "x"}),
    "an unknown type": json.dumps({"type": "nope"}),
    "an integer of 5,000 digits": (
        '{"type": "subscribe", "id": "1", "payload": {"query": "query($n: Int) '
        '{ tasks(first: $n) { totalCount } }", "variables": {"n": ' + "9" * 5000 + "}}}"
    ),
    "an integer literal of 5,000 digits": json.dumps({
        "type": "subscribe", "id": "1",
        "payload": {"query": "{ tasks(first: " + "9" * 5000 + ") { totalCount } }"},
    }),
    "not JSON": "{nope",
}


@pytest.mark.parametrize("name", list(MALFORMED))
async def test_a_malformed_frame_closes_the_socket_with_4400_and_a_reason(
    name: str, strict: tuple[str, Path], connect: Any
) -> None:
    base, workdir = strict
    socket = await connect(base, token("frames-user"))
    await socket.send(MALFORMED[name])
    if name == "an integer literal of 5,000 digits":  # a valid frame, refused as input
        answer = await socket.receive()
        assert first_error(answer) == (
            "Integer literal too long: at most 4300 digits.", "BAD_USER_INPUT"
        )
        return
    code, reason = await socket.closed()
    assert code == 4400
    assert reason
    assert "Traceback" not in "".join(p.read_text() for p in workdir.glob("server-*.log"))


async def test_a_null_connection_init_payload_is_accepted(
    strict: tuple[str, Path], connect: Any
) -> None:
    socket = await connect(strict[0], init=False)
    await socket.send({"type": "connection_init", "payload": None})
    assert (await socket.receive())["type"] == "connection_ack"
