"""Schema walking for generated tests: the introspected schema, selections of everything a
type offers, and inputs built from a table of sample values per input field name and type.

Used by the isolation probe (test_isolation_probe.py); a required input field with no sample
stops it with CannotProbe, naming the field, so a new operation forces SAMPLES to be taught.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLField,
    GraphQLInputField,
    GraphQLNamedType,
    GraphQLSchema,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    get_nullable_type,
    is_enum_type,
    is_input_object_type,
    is_interface_type,
    is_leaf_type,
    is_list_type,
    is_object_type,
    is_required_argument,
    is_required_input_field,
    is_union_type,
)

from tests.conftest import GraphQL

CURSOR_KEYS = ("cursor", "startCursor", "endCursor")


class CannotProbe(AssertionError):
    """The probe met an operation or input field it does not know how to fill."""


class NotYet(Exception):
    """An input needs an id of a type the actor does not own yet: try after the others."""


@dataclass
class Marks:
    """What sample values are built from: the sender's marker and the victim's visit
    credential."""

    token: str
    victim_session: str


def _text(suffix: str) -> Callable[[Marks], Any]:
    return lambda m: f"{m.token} {suffix}"


# Sample values per input field name. Required fields not named here are filled by type where
# that is safe (enums, Boolean, JSON), or the probe stops with CannotProbe.
SAMPLES: dict[str, Callable[[Marks], Any]] = {
    "title": _text("title"),
    "description": _text("description"),
    "content": _text("content"),
    "input": lambda m: f"{m.token} plan, then pack the bags, then book the train",
    "message": _text("hello there"),
    "note": _text("heart racing"),
    "documentType": lambda m: f"memo-{m.token}",
    "inputData": lambda m: {"probe": m.token},
    "generatedText": lambda m: {"text": m.token},
    "metadata": lambda m: {"probe": m.token},
    "steps": lambda m: [f"{m.token} step one", f"{m.token} step two"],
    "intensity": lambda _m: 3,
    "tokensUsed": lambda _m: 12,
    "generationTimeMs": lambda _m: 34,
    "completed": lambda _m: True,
    "sessionId": lambda m: m.victim_session,
}
JSON_SCALARS = {"JSON", "JSONObject"}


# --- the schema, as introspected -------------------------------------------------------------


async def introspect(gql: GraphQL) -> GraphQLSchema:
    payload = await gql.data(get_introspection_query())
    return build_client_schema(payload)


def node_type_names(schema: GraphQLSchema) -> set[str]:
    node = schema.get_type("Node")
    assert is_interface_type(node), "the schema has no Node interface"
    return {t.name for t in schema.get_possible_types(node)}


def selection(
    schema: GraphQLSchema, type_: Any, path: frozenset[str] = frozenset(), depth: int = 99
) -> str:
    """Every field reachable without required arguments, each type once per path, objects
    down to `depth` levels (the probes' answers need fewer than the snapshots')."""
    named: GraphQLNamedType = get_named_type(type_)
    if is_leaf_type(named):
        return ""
    path = path | {named.name}
    parts = ["__typename"]
    if is_object_type(named) or is_interface_type(named):
        parts += _fields(schema, named, path, depth)
    if is_union_type(named) or is_interface_type(named):
        possible_types = schema.get_possible_types(named)
        shapes: dict[str, set[str]] = {}
        for possible in possible_types:
            for name, definition in possible.fields.items():
                shapes.setdefault(name, set()).add(str(definition.type))
        # Same-named fields of different shapes cannot share a response key: alias those
        # (and every object field, whose sub-selections differ by path) per type.
        clashing = {n for n, s in shapes.items() if len(s) > 1}
        for possible in possible_types:
            inner = " ".join(_fields(schema, possible, path | {possible.name}, depth, clashing))
            parts.append(f"... on {possible.name} {{ __typename {inner} }}")
    return "{ " + " ".join(parts) + " }"


def _fields(
    schema: GraphQLSchema, owner: Any, path: frozenset[str], depth: int,
    clashing: set[str] | None = None,
) -> list[str]:
    parts = []
    for name, definition in owner.fields.items():
        alias = f"{name}_{owner.name}: " if clashing is not None else ""
        if any(is_required_argument(arg) for arg in definition.args.values()):
            continue
        if name == "nodes" and "edges" in owner.fields:
            continue  # the same rows as edges { node }
        target = get_named_type(definition.type)
        if is_leaf_type(target):
            parts.append(f"{alias}{name}" if clashing and name in clashing else name)
        elif target.name not in path and depth > 0:
            inner = selection(schema, definition.type, path, depth - 1)
            parts.append(f"{alias}{name} {inner}")
    return parts


def is_connection_field(definition: GraphQLField) -> bool:
    return "first" in definition.args and "after" in definition.args


def has_required_args(definition: GraphQLField) -> bool:
    return any(is_required_argument(arg) for arg in definition.args.values())


def id_argument(definition: GraphQLField) -> str | None:
    """The `id`/`ids` argument of a lookup field, if the field is one."""
    for name in ("id", "ids"):
        argument = definition.args.get(name)
        if argument is not None and get_named_type(argument.type).name == "ID":
            others = [
                n for n, a in definition.args.items() if n != name and is_required_argument(a)
            ]
            return name if not others else None
    return None


# --- inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """An ID-typed position in a mutation's arguments."""

    path: str
    name: str
    is_list: bool
    required: bool


OMIT = object()
IdChooser = Callable[[Slot], Any]


def build_arguments(
    mutation: str, definition: GraphQLField, marks: Marks, ids: IdChooser
) -> dict[str, Any]:
    values = {}
    for name, argument in definition.args.items():
        value = _value(argument, name, f"{mutation}.{name}", marks, ids)
        if value is not OMIT:
            values[name] = value
    return values


def _value(
    holder: GraphQLArgument | GraphQLInputField, name: str, path: str, marks: Marks,
    ids: IdChooser,
) -> Any:
    required = (
        is_required_argument(holder) if isinstance(holder, GraphQLArgument)
        else is_required_input_field(holder)
    )
    type_ = get_nullable_type(holder.type)
    is_list = is_list_type(type_)
    named = get_named_type(type_)
    if named.name == "ID":
        return ids(Slot(path, name, is_list, required))
    if is_input_object_type(named) and not is_list:
        if not required:
            return OMIT
        inner = {
            fname: _value(f, fname, f"{path}.{fname}", marks, ids)
            for fname, f in named.fields.items()
        }
        return {k: v for k, v in inner.items() if v is not OMIT}
    if name in SAMPLES:
        return SAMPLES[name](marks)
    if not required:
        return OMIT
    if is_list:
        raise CannotProbe(f"{path}: no sample for a required list; add one to SAMPLES")
    if is_enum_type(named):
        return next(iter(named.values))
    if named.name == "Boolean":
        return True
    if named.name in JSON_SCALARS:
        return {"probe": marks.token}
    raise CannotProbe(
        f"{path} ({holder.type}) is required and the probe has no sample for it; add one to "
        f"SAMPLES in tests/graph/schema_walk.py"
    )


def id_slots(mutation: str, definition: GraphQLField) -> list[Slot]:
    found: list[Slot] = []

    def record(slot: Slot) -> Any:
        found.append(slot)
        return "x"

    build_arguments(mutation, definition, Marks("x", "x"), record)
    return found


def slot_type(slot: Slot, mutation: str, node_types: set[str]) -> str | None:
    """The node type an ID slot names: `taskId` a Task, `stepIds` a TaskStep, and a plain `id`
    the longest node type named in the mutation (`updateTaskStep`: TaskStep)."""
    stem = slot.name.removesuffix("Ids").removesuffix("Id")
    if stem and stem != slot.name:
        wanted = stem[0].upper() + stem[1:]
        if wanted in node_types:
            return wanted
        endings = [t for t in node_types if t.endswith(wanted)]
        return endings[0] if len(endings) == 1 else None
    named = [t for t in node_types if t.lower() in mutation.lower()]
    return max(named, key=len) if named else None


def operation(kind: str, field_name: str, definition: GraphQLField, sel: str) -> str:
    declared = ", ".join(f"${n}: {a.type}" for n, a in definition.args.items())
    passed = ", ".join(f"{n}: ${n}" for n in definition.args)
    head = f"{kind}({declared})" if declared else kind
    call = f"{field_name}({passed})" if passed else field_name
    return f"{head} {{ {call} {sel} }}"


# --- walking answers -----------------------------------------------------------------------------


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def node_refs(value: Any, node_types: set[str]) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        if value.get("__typename") in node_types and isinstance(value.get("id"), str):
            yield value["__typename"], value["id"]
        for item in value.values():
            yield from node_refs(item, node_types)
    elif isinstance(value, list):
        for item in value:
            yield from node_refs(item, node_types)


def cursors(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key in CURSOR_KEYS and isinstance(item, str):
                yield item
            else:
                yield from cursors(item)
    elif isinstance(value, list):
        for item in value:
            yield from cursors(item)


def error_codes(payload: dict[str, Any]) -> set[Any]:
    return {(e.get("extensions") or {}).get("code") for e in payload.get("errors") or []}
