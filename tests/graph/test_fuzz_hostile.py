"""Generated hostile shapes: fragment fan-outs, huge numbers and malformed WebSocket frames.

Each generator has a fixed budget of examples (CI runs on two cores). Whatever arrives, the
answer is clean (`test_fuzz.check_answer`: no 500, nothing unmasked, nothing internal shown)
and comes within a bound; a fan-out's analysis is linear in the document (visits counted);
a malformed frame closes the socket with a close frame, never a dropped socket or a
traceback in the server's log.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets
from graphql import parse
from hypothesis import given
from hypothesis import strategies as st
from websockets.typing import Subprotocol

from graph.extensions.analysis import analyse, effective_variables, select_operation
from graph.schema import build_schema
from tests.conftest import GraphQL, make_settings
from tests.graph.test_fuzz import TIMEOUT_SECONDS, check_answer, fuzz_settings
from tests.graph.test_websocket_policies import token
from tests.servers import running_server

SCHEMA = build_schema(make_settings())._schema

# --- fragment fan-outs --------------------------------------------------------------------------

# (the type the fragments are on, the root that enters them, how one fragment reaches the next,
# the leaf of the last one)
SHAPES = [
    ("Query", "query Q { ...F0 }", "...{next}", "viewer {{ id }}"),
    ("Query", "query Q { ...F0 }", "... on Query {{ ...{next} }}", "tasks {{ totalCount }}"),
    ("Task", 'query Q { task(id: "x") { ...F0 } }', "steps {{ task {{ ...{next} }} }}", "id"),
    ("Task", 'query Q { task(id: "x") { ...F0 } }', "...{next} @include(if: true)", "title"),
    ("Task", "subscription S { taskEvents { task { ...F0 } } }",
     "events {{ nodes {{ task {{ ...{next} }} }} }}", "id"),
    # Fragments on a type that never applies there: never executed, but expanded by the
    # task page's look-ahead.
    ("Message", "query Q { tasks(first: 1) { nodes { id ... on Node { ...F0 } } } }",
     "...{next}", "id"),
]


@st.composite
def fan_outs(draw: st.DrawFn) -> str:
    on, root, step, leaf = draw(st.sampled_from(SHAPES))
    levels = draw(st.integers(1, 40))
    width = draw(st.integers(2, 3))
    aliased = draw(st.booleans())
    parts = [root]
    for level in range(levels):
        spreads = " ".join(step.format(next=f"F{level + 1}") for _ in range(width))
        parts.append(f"fragment F{level} on {on} {{ {spreads} }}")
    last = f"a: {leaf}" if aliased and not leaf.startswith("...") else leaf
    parts.append(f"fragment F{levels} on {on} {{ {last.format()} }}")
    return "\n".join(parts)


def selections_in(text: str) -> int:
    """The selections written in the document: what a linear walk may visit (per type)."""
    return text.count("{") + text.count("...")


@fuzz_settings(40)
@given(document=fan_outs())
async def test_a_fan_out_is_answered_cleanly_and_walked_linearly(
    gql: GraphQL, document: str
) -> None:
    parsed = parse(document)
    operation = select_operation(parsed, None)
    assert operation is not None
    analysis = analyse(SCHEMA, parsed, operation, effective_variables(operation, {}), 100)
    assert analysis.visits <= 3 * selections_in(document)
    response = await asyncio.wait_for(gql.post(document, user=None), TIMEOUT_SECONDS)
    assert response.status_code in (200, 400)
    check_answer(response)


# --- huge numbers -------------------------------------------------------------------------------

DIGITS = st.integers(1, 9000).map(lambda n: "9" * n)
NUMBERS = st.one_of(
    DIGITS, DIGITS.map(lambda d: "-" + d), DIGITS.map(lambda d: d + ".5"),
    DIGITS.map(lambda d: "1e" + d[:6]), st.sampled_from(["1e400", "-1e400", "1e-400", "-0"]),
)
# Where a number may go: an Int page size, a Float-free JSON scalar, an ID, a list of ids.
PLACES = [
    "query($v: Int) { tasks(first: $v) { totalCount } }",
    'mutation($v: JSON) { createTask(input: {title: "n", metadata: {n: $v}}) { __typename } }',
    "query($v: ID!) { node(id: $v) { id } }",
    "query($v: [ID!]!) { nodes(ids: $v) { id } }",
]
LITERALS = [
    "{{ tasks(first: {n}) {{ totalCount }} }}",
    'mutation {{ createTask(input: {{title: "n", metadata: {{n: {n}}}}}) {{ __typename }} }}',
    "{{ tasks(filter: {{createdAfter: {n}}}) {{ totalCount }} }}",
]


@fuzz_settings(60)
@given(number=NUMBERS, place=st.integers(0, len(PLACES) - 1), literal=st.booleans())
async def test_a_huge_number_anywhere_is_answered_cleanly(
    gql: GraphQL, number: str, place: int, literal: bool
) -> None:
    if literal and "e" not in number:
        body = json.dumps({"query": LITERALS[place % len(LITERALS)].format(n=number)})
    else:
        query = json.dumps(PLACES[place])
        body = f'{{"query": {query}, "variables": {{"v": {number}}}}}'
    response = await asyncio.wait_for(
        gql.client.post(
            "/graphql", content=body,
            headers={"content-type": "application/json",
                     "authorization": f"Bearer {gql.token('alice')}"},
        ),
        TIMEOUT_SECONDS,
    )
    assert response.status_code in (200, 400), response.text[:500]
    check_answer(response)


# --- malformed frames ---------------------------------------------------------------------------

PROTOCOL = Subprotocol("graphql-transport-ws")
ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=6,
)
MESSAGE_TYPES = st.sampled_from(
    ["connection_init", "ping", "pong", "subscribe", "complete", "next", "error", "nope"]
)
PAYLOADS = st.one_of(
    ANY_JSON,
    st.fixed_dictionaries({}, optional={
        "query": st.one_of(st.just("{ viewer { id } }"), ANY_JSON),
        "variables": ANY_JSON, "operationName": ANY_JSON, "extensions": ANY_JSON,
    }),
)
FRAMES = st.one_of(
    ANY_JSON.map(json.dumps),
    st.fixed_dictionaries(
        {"type": st.one_of(MESSAGE_TYPES, ANY_JSON)},
        optional={"id": st.one_of(st.text(max_size=4), ANY_JSON), "payload": PAYLOADS},
    ).map(json.dumps),
    st.text(max_size=30),
)
# What a server may close with: 4400 (invalid message), 4401 (subscribe before the ack),
# 4409 (a duplicate id) and 4429 (a second connection_init), per graphql-transport-ws.
PROTOCOL_CLOSES = {4400, 4401, 4409, 4429}


@pytest.fixture(scope="module")
def frame_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    workdir = tmp_path_factory.mktemp("ws-frames")
    with running_server(workdir) as base:
        yield base, workdir


async def outcome(base: str, frames: list[str]) -> int | None:
    """Send the frames after a good handshake; the close code, or None when the socket stays
    open and answering."""
    url = base.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL]) as socket:
        await socket.send(json.dumps(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {token('f')}"}}
        ))
        assert json.loads(await asyncio.wait_for(socket.recv(), 5))["type"] == "connection_ack"
        try:
            for frame in frames:
                await socket.send(frame)
            await socket.send(json.dumps({"type": "ping"}))
            while True:  # answers to valid frames, then the pong proves the socket lives
                answer = json.loads(await asyncio.wait_for(socket.recv(), 5))
                if answer["type"] == "pong":
                    return None
        except websockets.ConnectionClosed as closed:
            assert closed.rcvd is not None, "dropped without a close frame"
            return closed.rcvd.code


@fuzz_settings(50)
@given(frames=st.lists(FRAMES, min_size=1, max_size=3))
async def test_any_frame_is_answered_or_refused_with_a_close_frame(
    frame_server: tuple[str, Path], frames: list[str]
) -> None:
    base, workdir = frame_server
    code = await asyncio.wait_for(outcome(base, frames), 15)
    assert code is None or code in PROTOCOL_CLOSES, code
    log = "".join(p.read_text() for p in workdir.glob("server-*.log"))
    assert "Traceback" not in log
