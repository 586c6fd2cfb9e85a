"""Every id the API answers is a Relay global id: in every field of type ID (payloads,
errors, changes), in the JSON it writes (a TaskEvent's `stepId`), and in every subscription
delivery. The schema is walked by introspection, as the isolation probe walks it, so a new
field, payload or subscription is checked without editing this file.

Only user ids are not global ids (a user is no object of this API: the JWT's subject), and
they are named here.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLSchema, get_named_type, is_interface_type, is_object_type
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.types import ExecutionResult

from domain.events import Event, EventKind
from graph.ids import decode_key, encode_id
from graph.resolvers import subscriptions
from graph.types.node import NODE_KINDS
from models import TaskStep
from tests.conftest import GraphQL
from tests.factories import make_task, task_gid
from tests.graph.schema_walk import (
    OMIT,
    Marks,
    NotYet,
    Slot,
    build_arguments,
    id_slots,
    introspect,
    operation,
    selection,
    slot_type,
)
from tests.graph.test_isolation_probe import CREATING_PREFIXES, Actor, Probe
from tests.graph.test_subscription_errors import Subscriptions, subs

__all__ = ["subs"]  # a fixture, used by name
USER_IDS = {("Viewer", "id"), ("AuditLog", "userId"), ("AuditUserStats", "userId")}
JSON_SCALARS = {"JSON", "JSONObject"}
ID_KEY = re.compile(r"(?:^id|Id|Ids)$")  # JSON keys that name objects
# The event kinds each subscription listens to; a new subscription fails until named here.
LISTENS = {
    "taskEvents": frozenset({EventKind.TASK_EVENT}),
    "taskChanges": subscriptions.TASK_KINDS,
    "conversationChanges": subscriptions.CONVERSATION_KINDS,
    "panicEventChanges": subscriptions.PANIC_KINDS,
    "messageAdded": frozenset({EventKind.MESSAGE}),
}
# Subscriptions of ephemeral events, announced and never recorded (a reply's drafts): their
# key is the draft itself, not a row's, so this walk cannot make one from a table's key.
# tests/graph/test_chat_drafts.py checks their global id and that another user gets none.
EPHEMERAL = {"messageDrafts": "MessageDraft"}
# The table each kind's key names (a deletion's key names a row that is gone).
KEYED_BY = {
    EventKind.TASK_EVENT: "TaskEvent", EventKind.TASK_DELETED: "Task",
    EventKind.CONVERSATION_CREATED: "Conversation", EventKind.CONVERSATION_RENAMED:
    "Conversation", EventKind.CONVERSATION_DELETED: "Conversation", EventKind.MESSAGE: "Message",
    EventKind.PANIC_PRESSED: "PanicEvent", EventKind.PANIC_RESOLVED: "PanicEvent",
    EventKind.EXERCISE_COMPLETED: "GroundingExercise",
}


@dataclass
class RecordingActor(Actor):
    answers: list[Any] = field(default_factory=list)

    async def call(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        payload = await super().call(query, variables)
        self.answers.append(payload.get("data"))
        return payload


def is_global_id(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        global_id = relay.GlobalID.from_id(value)
    except (relay.GlobalIDValueError, ValueError, TypeError):
        return False
    kind = NODE_KINDS.get(global_id.type_name)
    return kind is not None and kind.key(global_id.node_id) is not None


def id_fields(schema: GraphQLSchema) -> set[tuple[str, str]]:
    """Every field of type ID (or a list of them) of the schema's object types."""
    return {
        (name, field_name) for name, type_ in schema.type_map.items()
        if is_object_type(type_) and not name.startswith("__")
        for field_name, definition in type_.fields.items()
        if get_named_type(definition.type).name == "ID"
    }


def not_global(
    schema: GraphQLSchema, value: Any, seen: set[tuple[str, str]], where: str = ""
) -> Iterator[str]:
    """Where an answer holds an id that is not a global id; `seen` gathers the ID fields
    the answer had."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from not_global(schema, item, seen, f"{where}.{index}")
        return
    if not isinstance(value, dict):
        return
    owner = schema.get_type(str(value.get("__typename")))
    fields = owner.fields if is_object_type(owner) or is_interface_type(owner) else {}
    for key, item in value.items():
        name = key.removesuffix(f"_{owner.name}") if owner is not None else key  # an alias
        named = get_named_type(fields[name].type).name if name in fields else None
        here = f"{where}.{key}"
        if named == "ID" and owner is not None:
            seen.add((owner.name, name))
            ids = item if isinstance(item, list) else [item]
            if (owner.name, name) not in USER_IDS:
                yield from (f"{here} = {i!r}" for i in ids if i is not None
                            and not is_global_id(i))
        elif named in JSON_SCALARS:
            yield from json_ids(item, here)
        else:
            yield from not_global(schema, item, seen, here)


def json_ids(value: Any, where: str) -> Iterator[str]:
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from json_ids(item, f"{where}.{index}")
    elif isinstance(value, dict):
        for key, item in value.items():
            if ID_KEY.search(key):
                ids = item if isinstance(item, list) else [item]
                yield from (f"{where}.{key} = {i!r}" for i in ids if not is_global_id(i))
            else:
                yield from json_ids(item, f"{where}.{key}")


def missing_id(slot: Slot, mutation: str, node_types: set[str]) -> Any:
    """A well-formed global id of a row that does not exist, of the type the slot names."""
    wanted = slot_type(slot, mutation, node_types) or "Task"
    key = uuid.uuid4() if wanted in {"Conversation", "AuditLog"} else 2**31 - 1
    gid = str(relay.GlobalID(wanted, str(key)))
    return [gid] if slot.is_list else gid


async def every_mutation(probe: Probe, actor: RecordingActor) -> None:
    """Every mutation that takes an id, with the actor's own ids, then with missing ones."""
    mutations = probe.mutation.fields
    # Deletions last: what they delete, the other mutations need.
    for name in sorted(mutations, key=lambda name: name.startswith("delete")):
        definition = mutations[name]
        if not id_slots(name, definition) or name.startswith(CREATING_PREFIXES):
            continue
        sel = selection(probe.schema, definition.type)
        try:
            own = build_arguments(name, definition, Marks(actor.token, actor.visit.text),
                                  probe.own_id(actor, name))
        except NotYet:
            own = None
        if own is not None:
            await actor.call(operation("mutation", name, definition, sel), own)

        def absent(slot: Slot, name: str = name) -> Any:
            return missing_id(slot, name, probe.node_types) if slot.required else OMIT

        missing = build_arguments(name, definition, Marks(actor.token, actor.visit.text), absent)
        await actor.call(operation("mutation", name, definition, sel), missing)


async def test_every_id_in_every_answer_is_a_global_id(gql: GraphQL) -> None:
    schema = await introspect(gql)
    alice = RecordingActor("alice", gql, "alice")
    probe = Probe(schema, alice, RecordingActor("bob", gql, "bob"))
    await probe.arrange(alice)
    await probe.victim_snapshot()  # every query field, and every node by id
    await every_mutation(probe, alice)
    seen: set[tuple[str, str]] = set()
    problems = [p for answer in alice.answers for p in not_global(schema, answer, seen)]
    assert not problems, "\n".join(problems[:20])
    changes = {(name, f) for name, f in id_fields(schema)
               if name.endswith("Change") or name in EPHEMERAL.values()}
    assert id_fields(schema) - changes - USER_IDS - seen == set(), "ID fields no answer had"


async def test_the_walk_finds_a_table_id(gql: GraphQL) -> None:
    """The check itself: an integer where an ID is expected, and in a JSON payload."""
    schema = await introspect(gql)
    answer = {"__typename": "TaskChange", "nodeId": "20",
              "event": {"__typename": "TaskEvent", "payload": {"stepIds": [20]}}}
    assert list(not_global(schema, answer, set())) == [
        ".nodeId = '20'", ".event.payload.stepIds = 20",
    ]


async def test_every_subscription_delivers_global_ids(gql: GraphQL, subs: Subscriptions) -> None:
    schema = await introspect(gql)
    alice = RecordingActor("alice", gql, "alice")
    probe = Probe(schema, alice, RecordingActor("bob", gql, "bob"))
    await probe.arrange(alice)
    keys = {name: decode_key(sorted(ids)[0], name) for name, ids in alice.ids.items()}
    assert schema.subscription_type is not None
    fields = schema.subscription_type.fields
    assert set(fields) == LISTENS.keys() | EPHEMERAL.keys(), (
        "name the event kinds a new subscription listens to")
    delivered: list[ExecutionResult] = []
    for name, definition in fields.items():
        if name in EPHEMERAL:
            continue
        variables = {"conversationId": sorted(alice.ids["Conversation"])[0]}
        passed = {n: variables[n] for n in definition.args if n in variables}
        subs.subscribed.clear()
        stream = await subs.open(operation("subscription", name, definition,
                                           selection(schema, definition.type)), passed)
        for kind in sorted(LISTENS[name]):
            key = keys[KEYED_BY[kind]]
            typed = int(key) if key is not None and key.isdigit() else key
            assert typed is not None
            delivered.append(await subs.delivery(stream, Event(kind, "alice", typed)))
    assert all(result.errors is None and result.data for result in delivered), delivered
    seen: set[tuple[str, str]] = set()
    problems = [p for result in delivered for p in not_global(schema, result.data, seen)]
    assert not problems, "\n".join(problems[:20])
    assert {(name, f) for name, f in id_fields(schema) if name.endswith("Change")} <= seen


async def test_a_deletion_answers_the_canonical_id_whatever_spelling_was_sent(
    gql: GraphQL, db: AsyncSession
) -> None:
    # "Task:007" names task 7 as "Task:7" does; a client's cache holds the latter (Task.id).
    task = await make_task(db, steps=["a", "b"])
    step = await db.scalar(select(TaskStep.id).where(TaskStep.task_id == task.id))
    removed = await gql.data(
        """mutation($id: ID!) { removeTaskStep(input: {id: $id}) {
             ... on RemoveTaskStepSuccess { deletedId } } }""",
        {"id": str(relay.GlobalID("TaskStep", f"00{step}"))},
    )
    deleted = await gql.data(
        """mutation($id: ID!) { deleteTask(input: {id: $id}) {
             ... on DeleteTaskSuccess { deletedId } } }""",
        {"id": str(relay.GlobalID("Task", f"00{task.id}"))},
    )
    assert removed["removeTaskStep"]["deletedId"] == encode_id("TaskStep", step)
    assert deleted["deleteTask"]["deletedId"] == task_gid(task)
