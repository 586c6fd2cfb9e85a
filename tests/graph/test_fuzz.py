"""Fuzzing the GraphQL endpoint: generated operations, and a corpus of malformed requests.

Whatever arrives, the answer is HTTP 200/400 (or a transport refusal: 405, 413, 415) with a
JSON body, never a 500 and never a hang; every error is either a refusal with a known code or
a graphql-core syntax/validation error (no `path`); nothing unexpected is unmasked
(INTERNAL_SERVER_ERROR does not appear at all), and no answer shows server internals:
tracebacks, SQL, file paths or table names.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import graphql
import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from hypothesis_graphql import strategies as gql_st

from graph.cli import render_schema
from graph.http.limits import MAX_JSON_DEPTH, json_too_deep
from graph.ids import encode_id
from graph.types.node import NODE_TYPES
from models import Base
from tests.conftest import GraphQL
from tests.graph.schema_walk import operation, selection

SCHEMA = render_schema()
KNOWN_CODES = {
    "BAD_USER_INPUT", "UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "QUERY_TOO_COSTLY",
    "QUERY_TOO_DEEP", "TOO_MANY_ALIASES", "QUERY_TOO_COMPLEX", "BAD_REQUEST",
    "GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "TOO_MANY_TOKENS", "TOO_MANY_DIRECTIVES",
}
# Refusals of the HTTP transport itself (router.py, limits.py; a visit credential the server
# did not issue, context.py), seen by the corpus only.
TRANSPORT_CODES = {"METHOD_NOT_ALLOWED", "UNSUPPORTED_MEDIA_TYPE", "PAYLOAD_TOO_LARGE",
                   "INVALID_SESSION_ID", "EMPTY_BATCH", "TOO_MANY_OPERATIONS"}
TABLES = sorted(table.name for table in Base.metadata.sorted_tables)
# Words of a table name a generated value could hardly produce (`tasks` or `sessions` alone
# are ordinary words a validation message may use).
INTERNAL_TEXT = ["Traceback", "sqlalchemy", "SELECT ", "/work/", "asyncpg", "aiosqlite",
                 'File "'] + [t for t in TABLES if "_" in t]
TIMEOUT_SECONDS = 5
# Marks bob's data: no answer to alice may ever hold it.
BOBS_MARK = "bobsecret7f3a"


def check_answer(response: httpx.Response, *, codes: set[str] = KNOWN_CODES) -> dict[str, Any]:
    """The checks every answer must pass; returns the decoded body."""
    where = f"HTTP {response.status_code}: {response.text[:800]}"
    assert response.status_code != 500, where
    body_text = response.text
    # What the request sent may come back in a message (hypothesis also mines this module's
    # literals): only text the request did not carry counts as leaked.
    sent = response.request.content.decode("utf-8", "replace") + str(response.request.url)
    for internal in [*INTERNAL_TEXT, BOBS_MARK]:
        if internal not in sent:
            assert internal not in body_text, f"{internal!r} leaked: {where}"
    try:
        payload = response.json()
    except ValueError:
        raise AssertionError(f"not JSON: {where}") from None
    assert isinstance(payload, dict), where
    for error in payload.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code != "INTERNAL_SERVER_ERROR", f"an unexpected error: {where}"
        if code is None:
            # graphql-core's own syntax or validation errors: before execution, no path.
            assert "path" not in error, f"an error with a path but no code: {error}"
        else:
            assert code in codes, f"unknown error code {code!r}: {error}"
    return payload


# --- generated operations ------------------------------------------------------------------------


def _value_node(value: Any) -> graphql.ValueNode:
    """A JSON value as a GraphQL literal."""
    if value is None:
        return nodes.Null
    if isinstance(value, bool):
        return nodes.Boolean(value)
    if isinstance(value, int):
        return nodes.Int(value)
    if isinstance(value, float):
        return nodes.Float(value)
    if isinstance(value, str):
        return nodes.String(value)
    if isinstance(value, list):
        return nodes.List([_value_node(item) for item in value])
    fields = [
        graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=_value_node(v))
        for k, v in value.items()
    ]
    return nodes.Object(fields)


NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**31), 2**31 - 1)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(NAMES, inner, max_size=4),
    max_leaves=12,
)
DATETIMES = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
)
NODE_TYPE_NAMES = st.sampled_from(sorted(NODE_TYPES))
# Keys no row has: past 32 bits, negative, non-ASCII digits, NUL, text where a number goes.
ODD_KEYS = st.one_of(
    st.integers(-5, 2**40).map(str),
    st.sampled_from(["²", "٣", "\x00", "1\x00", "9" * 30, "0x1f", " 1", "1.0", "-0", ""]),
    st.text(st.characters(codec="utf-8"), max_size=12),
)
# A real id now and then (on SQLite the arranged rows have small keys), else anything.
ID_VALUES = st.one_of(
    st.builds(encode_id, NODE_TYPE_NAMES, st.integers(1, 40)),
    st.builds(encode_id, NODE_TYPE_NAMES, ODD_KEYS),
    st.text(max_size=30),
    st.uuids().map(str),
)
IDS = ID_VALUES.map(nodes.String)
CUSTOM_SCALARS = {
    "ID": IDS,
    "JSON": JSON_VALUES.map(_value_node),
    "JSONObject": st.one_of(
        st.dictionaries(NAMES, JSON_VALUES, max_size=5), JSON_VALUES
    ).map(_value_node),
    "DateTime": st.one_of(DATETIMES.map(datetime.isoformat), st.text(max_size=30)).map(
        nodes.String
    ),
    "Date": st.one_of(st.dates().map(str), st.text(max_size=12)).map(nodes.String),
}
def fuzz_settings(examples: int) -> settings:
    return settings(
        FUZZ_SETTINGS, max_examples=examples
    )


FUZZ_SETTINGS = settings(
    deadline=None,
    database=None,  # no .hypothesis directory in the repository; failures print a blob
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

ARRANGE = [
    """mutation { createTask(input: {title: "Pack", description: "bags", metadata: {a: 1},
       steps: ["one", "two", "three"]}) { __typename } }""",
    """mutation { breakDownTask(input: {input: "plan the trip, then book the train"}) {
       __typename } }""",
    """mutation { startConversation(input: {title: "Chat", message: "list my tasks"}) {
       __typename } }""",
    """mutation { pressPanic(input: {note: "racing", intensity: 7}) { __typename } }""",
    """mutation { recordGeneration(input: {documentType: "memo", inputData: {q: 1},
       generatedText: {a: "b"}, tokensUsed: 10, generationTimeMs: 5}) { __typename } }""",
]


@pytest.fixture
async def arranged(gql: GraphQL) -> GraphQL:
    """Alice and bob each own a bit of everything, bob's marked; fuzzing runs as alice."""
    for user in ("bob", "alice"):
        for mutation in ARRANGE:
            marked = mutation.replace('"', f'"{BOBS_MARK} ', 1) if user == "bob" else mutation
            data = await gql.data(marked, user=user)
            assert all(v["__typename"].endswith("Success") for v in data.values()), data
    return gql


async def send_as_alice(gql: GraphQL, document: str) -> None:
    response = await asyncio.wait_for(gql.post(document), TIMEOUT_SECONDS)
    assert response.status_code in (200, 400), response.text[:800]
    check_answer(response)


@fuzz_settings(150)
@given(document=gql_st.queries(SCHEMA, custom_scalars=CUSTOM_SCALARS))
async def test_generated_queries_are_answered_cleanly(arranged: GraphQL, document: str) -> None:
    await send_as_alice(arranged, document)


@fuzz_settings(100)
@given(document=gql_st.mutations(SCHEMA, custom_scalars=CUSTOM_SCALARS))
async def test_generated_mutations_are_answered_cleanly(arranged: GraphQL, document: str) -> None:
    await send_as_alice(arranged, document)


@fuzz_settings(60)
@given(
    document=gql_st.from_schema(
        SCHEMA, custom_scalars=CUSTOM_SCALARS, mode=gql_st.Mode.NEGATIVE
    )
)
async def test_operations_breaking_the_schema_are_refused_cleanly(
    arranged: GraphQL, document: str
) -> None:
    await send_as_alice(arranged, document)


# --- hostile variables --------------------------------------------------------------------------

# Strings a literal cannot carry but a JSON variable can (lone surrogates), and the usual
# suspects for SQL, LIKE patterns, number parsing and sizes.
HOSTILE_TEXT = st.one_of(
    st.text(max_size=20),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
    st.sampled_from([
        "\x00", "a\x00b", "\ud800", "x\udfff", "²", "%", "_", "\\", "'", "' OR 1=1 --",
        "\u202e", "a" * 5000, "2024-05-01", "2024-05-01T09:00:00", "0001-01-01T00:00:00+14:00",
    ]),
)
HOSTILE_INTS = st.one_of(
    st.integers(-(2**31), 2**31 - 1), st.sampled_from([0, -1, 100, 101, 2**31 - 1])
)
HOSTILE_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | HOSTILE_TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(HOSTILE_TEXT, inner, max_size=3),
    max_leaves=8,
)
PARSED_SCHEMA = graphql.build_schema(SCHEMA)


def hostile_value(type_: Any) -> st.SearchStrategy[Any]:
    """Any value the variable's type admits, made as awkward as the type allows."""
    nullable = not graphql.is_non_null_type(type_)
    inner = graphql.get_nullable_type(type_)
    if graphql.is_list_type(inner):
        strategy: st.SearchStrategy[Any] = st.lists(hostile_value(inner.of_type), max_size=3)
    elif graphql.is_input_object_type(inner):
        fields = inner.fields.items()
        strategy = st.fixed_dictionaries(
            {n: hostile_value(f.type) for n, f in fields if graphql.is_required_input_field(f)},
            optional={
                n: hostile_value(f.type) for n, f in fields
                if not graphql.is_required_input_field(f)
            },
        )
    elif graphql.is_enum_type(inner):
        strategy = st.sampled_from(sorted(inner.values))
    else:
        strategy = {
            "ID": ID_VALUES | HOSTILE_TEXT, "String": HOSTILE_TEXT, "Int": HOSTILE_INTS,
            "Float": st.floats(), "Boolean": st.booleans(), "JSON": HOSTILE_JSON,
            "JSONObject": HOSTILE_JSON, "DateTime": HOSTILE_TEXT, "Date": HOSTILE_TEXT,
        }[inner.name]
    return st.none() | strategy if nullable else strategy


def _root_fields() -> list[tuple[str, str]]:
    fields = []
    roots = (("query", PARSED_SCHEMA.query_type), ("mutation", PARSED_SCHEMA.mutation_type))
    for kind, root in roots:
        assert root is not None
        fields += [(kind, name) for name, f in root.fields.items() if f.args]
    return fields


@st.composite
def hostile_operations(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    """One root field that takes arguments, every argument a variable with a hostile value."""
    kind, name = draw(st.sampled_from(_root_fields()))
    root = PARSED_SCHEMA.query_type if kind == "query" else PARSED_SCHEMA.mutation_type
    assert root is not None
    definition = root.fields[name]
    variables = {n: draw(hostile_value(a.type)) for n, a in definition.args.items()}
    sel = selection(PARSED_SCHEMA, definition.type, depth=2)
    return operation(kind, name, definition, sel), variables


@fuzz_settings(200)
@given(case=hostile_operations())
async def test_every_argument_survives_hostile_variables(
    arranged: GraphQL, case: tuple[str, dict[str, Any]]
) -> None:
    document, variables = case
    # ensure_ascii: lone surrogates travel as \\udXXX escapes, as a client may send them.
    raw = json.dumps({"query": document, "variables": variables}, allow_nan=True).encode()
    headers = {"content-type": "application/json",
               "authorization": f"Bearer {arranged.token('alice')}"}
    response = await asyncio.wait_for(
        arranged.client.post("/graphql", content=raw, headers=headers), TIMEOUT_SECONDS
    )
    assert response.status_code in (200, 400), response.text[:800]
    check_answer(response)


# --- malformed requests -------------------------------------------------------------------------


def nested_json(depth: int, open_: str = "[", close: str = "]") -> str:
    return open_ * depth + close * depth


def nested_object(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


VIEWER_BODY = b'{"query": "{ viewer { id } }"}'
JSON_QUERY = "query($v: JSON) { __typename }"
CREATE_TASK = "mutation($t: String!) { createTask(input: {title: $t}) { __typename } }"
RECORD = (
    "mutation($d: JSONObject!) { recordGeneration(input: {documentType: \\\"memo\\\", "
    "inputData: $d, generatedText: {}}) { __typename } }"
)


def body(query: str, variables: str = "{}", extra: str = "") -> bytes:
    return f'{{"query": {json.dumps(query)}, "variables": {variables}{extra}}}'.encode()


def deep_selection(depth: int) -> str:
    return "{ " + "tasks { edges { node { " * depth + "id" + " } } }" * depth + " }"


# name -> the raw request body (or a dict with method/body/headers/params).
CORPUS: dict[str, Any] = {
    "empty body": b"",
    "whitespace body": b"   \n ",
    "empty object": b"{}",
    "query null": b'{"query": null}',
    "query a number": b'{"query": 123}',
    "query an object": b'{"query": {"a": 1}}',
    "query a list": b'{"query": ["{ viewer { id } }"]}',
    "body an array": b"[]",
    # A batch of operations is served (graph/http/batching.py, tests/graph/test_batching.py).
    "body an array of non-objects": b'[{"query": "{ viewer { id } }"}, 1, null]',
    "body an array over MAX_BATCH_OPERATIONS": b'[' + b','.join([b'{}'] * 11) + b']',
    "body a string": b'"{ viewer { id } }"',
    "body a number": b"42",
    "body null": b"null",
    "body true": b"true",
    "body truncated JSON": b'{"query": "{ viewer { id }',
    "body invalid UTF-8": b'{"query": "{ viewer { id } }\xff\xfe"}',
    "body invalid UTF-8 in a string value": b'{"query": "{ viewer { id } }", "x": "\xc3\x28"}',
    "body UTF-16": '{"query": "{ viewer { id } }"}'.encode("utf-16"),
    "body with a BOM": b'\xef\xbb\xbf{"query": "{ viewer { id } }"}',
    "NUL byte in the body": b'{"query": "{ viewer { id } }"}\x00',
    "NUL byte in the query": b'{"query": "{ viewer\\u0000 { id } }"}',
    "raw NUL inside the JSON string": b'{"query": "{ viewer \x00{ id } }"}',
    "truncated query": body("{ tasks { edges { node { id"),
    "unbalanced braces": body("{ viewer { id } } } }"),
    "only a comment": body("# nothing here"),
    "an empty document": body(""),
    "10k-char field name": body("{ " + "a" * 10_000 + " }"),
    "10k-char operation name": body("query " + "Q" * 10_000 + " { viewer { id } }"),
    "10k-char argument name": body("{ task(" + "x" * 10_000 + ': "1") { id } }'),
    "10k-char variable name": body(f"query(${'v' * 10_000}: ID!) {{ __typename }}"),
    "10k-char fragment name": body(
        f"{{ ...{'F' * 10_000} }} fragment {'F' * 10_000} on Query {{ __typename }}"
    ),
    "deep selection (200 levels)": body(deep_selection(200)),
    "deep selection (3000 levels)": body(deep_selection(3000)),
    "deep braces (20000)": body("{" * 20_000 + "}" * 20_000),
    "deep list literal (5000)": body("{ nodes(ids: " + nested_json(5000) + ") { id } }"),
    "deep object literal (3000)": body(
        "{ tasks(filter: " + "{search: " * 3000 + '"x"' + "}" * 3000 + ") { totalCount } }"
    ),
    "deep JSON literal (3000)": body(
        "mutation { createTask(input: {title: \"t\", metadata: " + nested_json(3000)
        + "}) { __typename } }"
    ),
    "deep variables: lists (5000)": body(JSON_QUERY, '{"v": ' + nested_json(5000) + "}"),
    "deep variables: lists (100000)": body(JSON_QUERY, '{"v": ' + nested_json(100_000) + "}"),
    "deep variables: objects (5000)": body(JSON_QUERY, '{"v": ' + nested_object(5000) + "}"),
    "deep variables: at the top": body(JSON_QUERY, nested_json(5000)),
    "deep extensions (5000)": body(
        "{ viewer { id } }", "{}", ', "extensions": ' + nested_object(5000)
    ),
    "deep JSON after the query (5000)": (
        b'{"query": "{ viewer { id } }", "z": ' + nested_json(5000).encode() + b"}"
    ),
    "deep JSON variables into a JSON input (2000)": body(
        "mutation($m: JSON) { createTask(input: {title: \"t\", metadata: $m}) { __typename } }",
        '{"m": ' + nested_json(2000) + "}",
    ),
    "deep JSONObject variables (2000)": body(
        RECORD.replace('\\"', '"'), '{"d": ' + nested_object(2000) + "}"
    ),
    "unknown operation name": body("query A { viewer { id } }", extra=', "operationName": "B"'),
    "operation name of the wrong type": body(
        "query A { viewer { id } }", extra=', "operationName": 5'
    ),
    "two operations, no name": body("query A { viewer { id } } query B { tasks { totalCount } }"),
    "anonymous and named operations": body("{ viewer { id } } query B { viewer { id } }"),
    "unknown root field": body("{ nope }"),
    "unknown type in a fragment": body("{ ...on Nope { id } }"),
    "fragment cycle": body("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"),
    "subscription over POST": body("subscription { taskEvents { id } }"),
    "undefined variable": body("{ task(id: $x) { id } }"),
    "variables a list": body("{ viewer { id } }", "[1, 2]"),
    "variables a string": body("{ viewer { id } }", '"x"'),
    "variables a number": body("{ viewer { id } }", "7"),
    "extensions a list": body("{ viewer { id } }", "{}", ', "extensions": [1]'),
    "an Int variable given a string": body(
        "query($n: Int) { tasks(first: $n) { totalCount } }", '{"n": "ten"}'
    ),
    "an Int variable given a huge number": body(
        "query($n: Int) { tasks(first: $n) { totalCount } }", '{"n": 1' + "0" * 400 + "}"
    ),
    "an Int variable given 1e400": body(
        "query($n: Int) { tasks(first: $n) { totalCount } }", '{"n": 1e400}'
    ),
    "an Int literal too large": body("{ tasks(first: 99999999999999999999) { totalCount } }"),
    "a negative page": body("{ tasks(first: -1) { totalCount } }"),
    "a page too large": body("{ tasks(first: 100000) { totalCount } }"),
    "a Float variable given NaN": body(
        "mutation($d: JSONObject!) { recordGeneration(input: {documentType: \"m\", "
        "inputData: $d, generatedText: {}}) { __typename } }",
        '{"d": {"x": NaN, "y": Infinity}}',
    ),
    "an ID variable given an object": body(
        "query($id: ID!) { task(id: $id) { id } }", '{"id": {"a": 1}}'
    ),
    "an ID variable given a list": body("query($id: ID!) { node(id: $id) { id } }", '{"id": [1]}'),
    "an enum variable given a bad value": body(
        "mutation($s: TaskStatus!) { setTaskStatus(input: {id: \"x\", status: $s}) "
        "{ __typename } }",
        '{"s": "NOPE"}',
    ),
    "an input object given a string": body(
        "mutation($i: CreateTaskInput!) { createTask(input: $i) { __typename } }", '{"i": "x"}'
    ),
    "a missing required variable": body(CREATE_TASK),
    "a variable given null where required": body(CREATE_TASK, '{"t": null}'),
    "a 500k-char title": body(CREATE_TASK, json.dumps({"t": "x" * 500_000})),
    "a 2MB title (over the body limit)": body(CREATE_TASK, json.dumps({"t": "x" * 2_000_000})),
    "a lone surrogate in a title": body(CREATE_TASK, '{"t": "a\\ud800b"}'),
    "a NUL in a title": body(CREATE_TASK, '{"t": "a\\u0000b"}'),
    "control characters in a title": body(CREATE_TASK, json.dumps({"t": "\x01\x02\x1b[31m"})),
    "a huge cursor": body(
        "query($c: String) { tasks(after: $c) { totalCount } }", json.dumps({"c": "A" * 200_000})
    ),
    "a cursor of garbage base64": body(
        "query($c: String) { tasks(after: $c) { totalCount } }", '{"c": "W1siYSJdXQ=="}'
    ),
    "a cursor of a nested list": body(
        "query($c: String) { tasks(after: $c) { totalCount } }",
        json.dumps({"c": base64.urlsafe_b64encode(nested_json(5000).encode()).decode()}),
    ),
    "an id of garbage": body("query($id: ID!) { node(id: $id) { id } }", '{"id": "%%%%"}'),
    # Regressions: each of these was a 500 (the first three on PostgreSQL only).
    "a message id past 32 bits": body(
        "query($id: ID!) { node(id: $id) { id } }",
        json.dumps({"id": encode_id("Message", 4144084244)}),
    ),
    "a conversation id holding NUL": body(
        "query($id: ID!) { node(id: $id) { id } conversation(id: $id) { id } }",
        json.dumps({"id": encode_id("Conversation", "a\x00b")}),
    ),
    "a conversation id holding NUL, to a mutation": body(
        "mutation($id: ID!) { deleteConversation(input: {id: $id}) { __typename } }",
        json.dumps({"id": encode_id("Conversation", "a\x00b")}),
    ),
    "a message id of non-ASCII digits": body(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        json.dumps({"ids": [encode_id("Message", "²"), encode_id("Message", "٣")]}),
    ),
    "a lone surrogate in a search filter": body(
        "query($s: String) { tasks(filter: {search: $s}) { totalCount } }", '{"s": "a\\ud800"}'
    ),
    "a lone surrogate in an audit filter": body(
        "query($s: String) { auditStats(filter: {documentType: $s}) { total } }",
        '{"s": "\\udfff"}',
    ),
    "a lone surrogate in a first message": body(
        "mutation($m: String) { startConversation(input: {message: $m}) { __typename } }",
        '{"m": "\\ud800"}',
    ),
    "an id with a huge key": body(
        "query($id: ID!) { node(id: $id) { id } }",
        json.dumps({"id": encode_id("Task", "9" * 5000)}),
    ),
    "10k ids": body(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        json.dumps({"ids": [encode_id("Task", n) for n in range(10_000)]}),
    ),
    "a string with bad escapes": body('{ task(id: "\\u{D800}") { id } }'),
    "a block string unterminated": body('{ task(id: """abc) { id } }'),
    "1000 aliases": body("{ " + " ".join(f"a{n}: viewer {{ id }}" for n in range(1000)) + " }"),
    "100 directives": body("{ viewer " + "@include(if: true) " * 100 + "{ id } }"),
    "a huge number of fields": body("{ viewer { " + "id " * 5000 + "} }"),
    "introspection in depth": body(
        "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType "
        "{ name } } } } } } } } } }"
    ),
    "a mutation over GET": {"method": "GET", "params": {"query": "mutation { __typename }"}},
    "a GET with garbage variables": {
        "method": "GET", "params": {"query": "{ viewer { id } }", "variables": "{nope"},
    },
    "a GET with deep variables": {
        "method": "GET", "params": {"query": JSON_QUERY, "variables": nested_json(5000)},
    },
    "a GET with invalid UTF-8": {"method": "GET", "raw_path": b"/graphql?query=%ff%fe"},
    "form-encoded": {"body": b"query=%7B+viewer+%7B+id+%7D+%7D",
                     "headers": {"content-type": "application/x-www-form-urlencoded"}},
    "text/plain": {"body": VIEWER_BODY, "headers": {"content-type": "text/plain"}},
    "no content type": {"body": VIEWER_BODY, "headers": {"content-type": ""}},
    "a content type with a bad charset": {
        "body": b'{"query": "{ viewer { id } }"}',
        "headers": {"content-type": "application/json; charset=nope"},
    },
    "a lying content-length": {
        "body": b'{"query": "{ viewer { id } }"}', "headers": {"content-length": "99999999999"},
    },
    "a bad X-Session-Id": {"body": VIEWER_BODY, "headers": {"x-session-id": "x" * 5000}},
    "a bad Authorization": {
        "body": body("{ viewer { id } }"), "headers": {"authorization": "Bearer " + "a" * 5000},
    },
}
# Status codes a malformed request may get: GraphQL's 200/400, and the transport's refusals.
ALLOWED_STATUS = {200, 400, 401, 405, 413, 415}


@pytest.fixture
async def raw_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sees the app's 500 (if any) instead of the exception behind it."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def send_raw(client: httpx.AsyncClient, gql: GraphQL, case: Any) -> httpx.Response:
    spec = case if isinstance(case, dict) else {"body": case}
    headers = {"content-type": "application/json",
               "authorization": f"Bearer {gql.token('alice')}"}
    headers.update(spec.get("headers") or {})
    headers = {k: v for k, v in headers.items() if v}
    if spec.get("method") == "GET":
        if "raw_path" in spec:
            request = client.build_request("GET", "/graphql", headers=headers)
            request.url = request.url.copy_with(raw_path=spec["raw_path"])
            return await client.send(request)
        return await client.get("/graphql", params=spec["params"], headers=headers)
    return await client.post("/graphql", content=spec["body"], headers=headers)


@pytest.mark.parametrize("name", list(CORPUS))
async def test_a_malformed_request_is_refused_cleanly(
    name: str, raw_client: httpx.AsyncClient, gql: GraphQL
) -> None:
    response = await asyncio.wait_for(send_raw(raw_client, gql, CORPUS[name]), TIMEOUT_SECONDS)
    assert response.status_code in ALLOWED_STATUS, f"{name}: HTTP {response.status_code}"
    check_answer(response, codes=KNOWN_CODES | TRANSPORT_CODES)


async def test_the_server_still_answers_after_the_corpus(
    raw_client: httpx.AsyncClient, gql: GraphQL
) -> None:
    for case in CORPUS.values():
        await asyncio.wait_for(send_raw(raw_client, gql, case), TIMEOUT_SECONDS)
    data = await gql.data("{ viewer { id } }")
    assert data == {"viewer": {"id": "alice"}}


def test_the_corpus_has_every_kind_of_case() -> None:
    names = " ".join(CORPUS)
    for kind in ("truncated", "10k-char", "invalid UTF-8", "NUL", "deep variables",
                 "unknown operation", "two operations", "given a string", "500k-char",
                 "body an array", "body a string", "body a number", "empty body"):
        assert kind in names, kind


# --- regressions found by the fuzzing ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "deep"),
    [
        ("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, False),
        ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1), True),
        ('{"a": "' + "[{" * 500 + '"}', False),  # brackets inside a string do not count
        ('{"a": "\\\\"}' + "[" * 100, True),  # an escaped backslash, then the end quote
        ('{"a": "\\"' + "[" * 100 + '"}', False),  # an escaped quote does not end it
        ('["\u005b", {"b": [[]]}]', False),
        (b'{"x": "\xff\xfe[[["}', False),
    ],
)
def test_json_nesting_is_measured_outside_strings(text: str | bytes, deep: bool) -> None:
    assert json_too_deep(text) is deep


async def test_deeply_nested_json_is_a_400_not_a_recursion_error(
    raw_client: httpx.AsyncClient, gql: GraphQL
) -> None:
    response = await send_raw(raw_client, gql, body(JSON_QUERY, '{"v": ' + nested_json(5000) + "}"))
    assert response.status_code == 400
    error = check_answer(response, codes={"BAD_REQUEST"})["errors"][0]
    assert f"nested deeper than {MAX_JSON_DEPTH} levels" in error["message"]
    assert "recursion" not in response.text


async def test_a_body_that_is_not_a_json_object_in_utf8_is_a_400(
    raw_client: httpx.AsyncClient, gql: GraphQL
) -> None:
    for raw in (b'"{ viewer { id } }"', b"42", b"null", b"true", b'{"query": "\xff"}'):
        response = await send_raw(raw_client, gql, raw)
        assert response.status_code == 400, raw
        check_answer(response, codes={"BAD_REQUEST"})


async def test_a_subscription_over_http_is_refused_before_it_runs(gql: GraphQL) -> None:
    payload = await gql("subscription { taskEvents { id } }")
    assert payload["errors"][0]["extensions"] == {"code": "BAD_REQUEST"}
    assert "WebSocket" in payload["errors"][0]["message"]


async def test_a_failing_field_leaves_the_request_database_usable(arranged: GraphQL) -> None:
    """A field's error cancels its siblings mid-statement (graphql-core); that used to leave
    the session unclosable and the connection inside a transaction, failing what came next."""
    ids = [encode_id(t, n) for t in ("Task", "TaskStep", "Message", "PanicEvent") for n in range(6)]
    document = """query($ids: [ID!]!) {
      tasks { totalCount edges { node { steps { content } events { totalCount } } } }
      nodes(ids: $ids) { id ... on TaskStep { task { steps { content } } } }
      auditLogs(first: 0, last: 5) { totalCount }
    }"""
    for _ in range(3):
        payload = await arranged(document, {"ids": ids})
        assert [e["extensions"]["code"] for e in payload["errors"]] == ["BAD_USER_INPUT"]
    data = await arranged.data("{ tasks { totalCount } }")
    assert data["tasks"]["totalCount"] == 2
