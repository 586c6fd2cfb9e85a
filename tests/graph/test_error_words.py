"""Every error message the API can produce is in the API's words, never Python's.

Generated from the schema: every argument of every query and mutation gets every kind of bad
value (null where a value is required, a wrong scalar, an unknown enum value, an unknown or
missing input field, an over-maximum string or list, a malformed or unknown id, a bad
cursor, a bad DateTime), as a variable and as a literal, through HTTP, as the argument's
only fault (the others get a sample that coerces). Plus unknown fields and arguments, and
every domain error's message as a query and a mutation answer it. No message may hold a
Python word: `None`, a Python repr, a class name, a library's name, or a bare "Not found.".

Budget: about 900 requests in one test (~30 s on SQLite on an idle 2-core machine); a literal
is sent only where its wording differs from a variable's (null, input objects).
"""

from __future__ import annotations

import base64
import builtins
import json
import re
from typing import Any

import graphql
import pytest
import sqlalchemy.exc
import strawberry.exceptions
from graphql import (
    GraphQLInputType,
    GraphQLSchema,
    get_named_type,
    is_enum_type,
    is_input_object_type,
    is_list_type,
    is_non_null_type,
    is_required_argument,
    is_required_input_field,
)

import domain.errors
import graph.errors
import models
from graph.errors import client_error, plain_words
from graph.resolvers.mutations.base import payload_of
from tests.conftest import GraphQL
from tests.graph.schema_walk import introspect, selection

LONG_TEXT = "x" * 40_000  # past every text maximum (MESSAGE_CONTENT_MAX is 32,000)
LONG_LIST = 1_001  # items: past every list maximum
UNKNOWN_ID = base64.b64encode(b"Task:999999").decode()
SAMPLES: dict[str, Any] = {
    "String": "x", "ID": UNKNOWN_ID, "Int": 1, "Float": 1.0, "Boolean": True,
    "DateTime": "2024-05-01T09:00:00Z", "Date": "2024-05-01", "JSON": {}, "JSONObject": {},
}
BAD_SCALARS: dict[str, list[Any]] = {
    "String": [5, LONG_TEXT], "ID": [True, "zzz", "!!", "x" * 300, UNKNOWN_ID],
    "Int": ["x", 2**40, 1.5, -1, 100_000], "Float": ["x"], "Boolean": ["x"],
    "DateTime": ["yesterday", "2024-05-01T09:00:00", 5], "Date": ["May 1", 5],
    "JSON": [], "JSONObject": [[1], "x"],
}
CURSOR_ARGUMENTS = {"after", "before"}

# Words that are Python's or a library's, not the API's.
FORBIDDEN = ["not to be None", "NoneType", "Traceback", "<class", "object at 0x", "Not found.",
             "strawberry", "Strawberry", "sqlalchemy", "SQLAlchemy", "dateutil", "graphql-core"]
PYTHON_REPR = re.compile(r"\bNone\b|found: [\[{(]?'|got '|\bu'|b'")
# API type names that end like exception classes: they are the schema's, shown on purpose.
API_TYPES = {"ValidationError", "NotFoundError", "AssistantError", "RateLimitedError",
             "UserError", "FieldError"}


def _exception_names() -> set[str]:
    modules = [builtins, graph.errors, domain.errors, graphql.error, strawberry.exceptions,
               sqlalchemy.exc]
    names = {
        name for module in modules for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, BaseException)
    }
    # One English word (Invalid, Forbidden, Warning) is no tell; CamelCase is.
    return {name for name in names if re.search(r"[a-z][A-Z]", name)} - API_TYPES


EXCEPTION_NAME = re.compile(r"\b(" + "|".join(sorted(_exception_names())) + r")\b")


def python_words(message: str) -> list[str]:
    found = [word for word in FORBIDDEN if word in message]
    found += [match.group(0) for match in PYTHON_REPR.finditer(message)]
    found += [match.group(0) for match in EXCEPTION_NAME.finditer(message)]
    return found


def sample(type_: GraphQLInputType) -> Any:
    if is_non_null_type(type_):
        return sample(type_.of_type)
    if is_list_type(type_):
        return [sample(type_.of_type)]
    if is_enum_type(type_):
        return next(iter(type_.values))
    if is_input_object_type(type_):
        return {name: sample(field.type) for name, field in type_.fields.items()
                if is_required_input_field(field)}
    return SAMPLES.get(get_named_type(type_).name, "x")


def bad_values(type_: GraphQLInputType, name: str = "", depth: int = 0) -> list[Any]:
    """Every kind of bad value for `type_` (an argument or input field called `name`)."""
    if is_non_null_type(type_):
        return [None, *bad_values(type_.of_type, name, depth)]
    if is_list_type(type_):
        item = type_.of_type
        return ["not a list item" if is_input_object_type(get_named_type(item)) else {},
                [sample(item)] * LONG_LIST,
                *([value] for value in bad_values(item, name, depth)[:3])]
    if is_enum_type(type_):
        return ["NOPE", 5]
    if is_input_object_type(type_):
        values: list[Any] = ["not an object", {**sample(type_), "zzz": 1}]
        if any(is_required_input_field(field) for field in type_.fields.values()):
            values.append({})
        if depth < 2:
            for field_name, field in type_.fields.items():
                for bad in bad_values(field.type, field_name, depth + 1):
                    values.append({**sample(type_), field_name: bad})
        return values
    values = list(BAD_SCALARS.get(get_named_type(type_).name, [5]))
    if name in CURSOR_ARGUMENTS:
        values += ["zzz", "x" * 3_000]
    return values


def literal(value: Any, type_: GraphQLInputType) -> str:
    """`value` written as a GraphQL literal for `type_` (enum values bare when valid)."""
    named = get_named_type(type_)
    if value is None:
        return "null"
    if isinstance(value, dict):
        fields = named.fields if is_input_object_type(named) else {}
        return "{" + ", ".join(
            f"{key}: {literal(item, fields[key].type) if key in fields else json.dumps(item)}"
            for key, item in value.items()) + "}"
    if isinstance(value, list):
        inner = type_.of_type if is_list_type(type_) else type_
        inner = inner.of_type if is_non_null_type(inner) and is_list_type(inner.of_type) else inner
        return "[" + ", ".join(literal(item, inner) for item in value) + "]"
    if is_enum_type(named) and isinstance(value, str) and value.isidentifier():
        return value
    return json.dumps(value)


def literal_worded(value: Any) -> bool:
    """Whether a literal `value` meets wording of its own (validation, not coercion): null,
    and input objects (graphql-core prints a literal object its own way). A literal scalar
    is coerced by the same code as a variable's value: sent once, as a variable (budget)."""
    return value is None or isinstance(value, dict) or (
        isinstance(value, list) and len(value) == 1 and literal_worded(value[0]))


def operations(schema: GraphQLSchema) -> list[tuple[str, str, dict[str, Any]]]:
    """(what, document, variables): each argument's every bad value, as a variable and as a
    literal, the other required arguments given a sample."""
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for kind, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        assert root is not None
        for field_name, field in root.fields.items():
            shown = selection(schema, field.type, depth=1)
            for arg_name, arg in field.args.items():
                others = {name: sample(other.type) for name, other in field.args.items()
                          if name != arg_name and is_required_argument(other)}
                declared = "".join(f", ${name}: {field.args[name].type}" for name in others)
                passed = "".join(f", {name}: ${name}" for name in others)
                for bad in bad_values(arg.type, arg_name):
                    what = f"{field_name}({arg_name}: {json.dumps(bad)[:60]})"
                    cases.append((what, f"{kind}($v: {arg.type}{declared}) {{ {field_name}"
                                  f"({arg_name}: $v{passed}) {shown} }}", {"v": bad, **others}))
                    if not literal_worded(bad):
                        continue
                    cases.append((what + " literal", f"{kind}({declared[2:]}) {{ {field_name}"
                                  f"({arg_name}: {literal(bad, arg.type)}{passed}) {shown} }}"
                                  if declared else f"{kind} {{ {field_name}({arg_name}:"
                                  f" {literal(bad, arg.type)}) {shown} }}", others))
                if is_required_argument(arg):
                    cases.append((f"{field_name} without {arg_name}", f"{kind} {{ {field_name}"
                                  f" {shown} }}", {}))
            cases.append((f"{field_name}(zzz:)", f"{kind} {{ {field_name}(zzz: 1) {shown} }}", {}))
    cases.append(("unknown field", "{ zzz }", {}))
    cases.append(("unknown node", f'{{ node(id: "{UNKNOWN_ID}") {{ id }} }}', {}))
    return cases


def messages(payload: Any) -> list[str]:
    """Every `message` in an answer: its errors and any payload's error member."""
    if isinstance(payload, dict):
        found = [payload["message"]] if isinstance(payload.get("message"), str) else []
        return found + [text for value in payload.values() for text in messages(value)]
    if isinstance(payload, list):
        return [text for value in payload for text in messages(value)]
    return []


async def test_no_error_the_schema_can_answer_holds_a_python_word(gql: GraphQL) -> None:
    schema = await introspect(gql)
    cases = operations(schema)
    assert len(cases) > 600, len(cases)  # every argument of every operation, many values
    offenders: dict[str, str] = {}
    seen = 0
    for what, document, variables in cases:
        response = await gql.post(document, variables)
        assert response.status_code in (200, 400, 413), (what, response.status_code)
        for message in messages(response.json()):
            seen += 1
            words = python_words(message)
            if words and message not in offenders:
                offenders[message] = f"{what}: {words}"
    assert seen > 600, seen
    print(f"{len(cases)} requests, {seen} messages checked")
    assert not offenders, "\n".join(f"{how}\n    {text[:300]}" for text, how in offenders.items())


@pytest.mark.parametrize("entity", [models.Task, models.TaskStep, models.Conversation,
                                    models.PanicEvent, models.GroundingExercise, models.Visit])
def test_not_found_says_what_and_what_to_do(entity: type) -> None:
    failure = domain.errors.NotFound(entity, 7)
    for message in (failure.message, client_error(failure).message, payload_of(failure).message):
        assert python_words(message) == [], message
        assert "with that id" in message and "Send an id" in message


@pytest.mark.parametrize("failure", [
    domain.errors.Invalid({"title": "must not be empty", "steps.2": "is too long"}),
    domain.errors.Forbidden("Only an admin may read every user's audit figures."),
    domain.errors.AssistantUnavailable("The assistant did not answer in time; retry."),
    domain.errors.RateLimited("Too many visits started; retry later.", retry_after_seconds=5),
], ids=lambda failure: type(failure).__name__)
def test_every_domain_error_is_shown_in_the_apis_words(failure: domain.errors.DomainError) -> None:
    shown = [failure.message, client_error(failure).message]
    if not isinstance(failure, domain.errors.Forbidden):  # no mutation answers Forbidden
        shown.append(payload_of(failure).message)
    for message in shown:
        assert python_words(message) == [], message


@pytest.mark.parametrize(("said", "meant"), [
    ("Variable '$title' has invalid value: Expected value of non-null type 'String!' not to be"
     " None.", "Variable '$title' is required: give a String, not null."),
    ("Expected value of non-null type 'String!' not to be None.",
     "Expected a value of type 'String!', found null: give a String."),
    ("Variable '$i' has invalid value: Expected value of type 'CreateTaskInput' not to include"
     " unknown field 'zzz', found: {'title': 'x', 'zzz': None}.",
     "Variable '$i' has invalid value: Expected value of type 'CreateTaskInput' not to include"
     " unknown field 'zzz', found: {\"title\": \"x\", \"zzz\": null}."),
])
def test_graphql_cores_python_words_are_reworded(said: str, meant: str) -> None:
    assert python_words(said)
    assert plain_words(said) == meant
    assert python_words(meant) == []
