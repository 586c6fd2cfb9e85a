"""A generated isolation probe: every operation the schema offers, aimed at another's data.

The probe learns the schema by introspection at test time, so a new query or mutation is
probed without editing this file, or makes the probe fail until it is told how:

1. Alice (the victim) creates data through every creating mutation (create*, start*, press*,
   record*, breakDown*, add*), with inputs built from a small table of sample values per
   input field name and type; every string she sends carries a unique marker.
2. The intruder (bob, or an anonymous visitor acting as its session) then
   (a) calls every Query field taking `id`/`ids` with each of Alice's global ids,
   (b) calls every connection field (Query's, and those of the intruder's own nodes) with
       each of Alice's cursors as `after` and as `before`,
   (c) calls every Mutation with each of Alice's ids in each ID-typed input field (a list
       of ids as a list of one: a bulk mutation must answer its one result refused),
   (d) lists every connection taking `orderBy` under each order and direction with Alice's
       cursors of that order, and with her marker as each text condition of its `filter`,
   and every answer must be null / empty / refused and hold nothing of Alice's: no marker,
   no id or cursor of hers, no node that is not the intruder's own.
3. The intruder's own view (every Query field without required arguments) is the same
   before Alice's data exists, after, and after the probing: no count leaks.
4. Alice's data, read through the API and table by table, is the same before and after.
5. Every Query and Mutation field found was exercised at least once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from graphql import (
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    build_schema,
    get_named_type,
    get_nullable_type,
    is_enum_type,
    is_input_object_type,
    is_list_type,
    is_object_type,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from domain.visit_credentials import VisitCredential
from models import Base
from tests.conftest import GraphQL, mint_visit
from tests.graph.schema_walk import (
    OMIT,
    CannotProbe,
    IdChooser,
    Marks,
    NotYet,
    Slot,
    build_arguments,
    cursors,
    error_codes,
    has_required_args,
    id_argument,
    id_slots,
    introspect,
    is_connection_field,
    node_refs,
    node_type_names,
    operation,
    selection,
    slot_type,
    strings,
)

CREATING_PREFIXES = ("create", "start", "press", "record", "breakDown", "add")
# Mutations that neither create nor take an ID, probed with a secret of the victim's placed
# in a non-ID field (the table below says which value); anything else new must be added here.
SECRET_INPUT_MUTATIONS = {"claimSession"}
# Expected refusals of an intruder's call: as a payload, or as a request-level error code.
REFUSAL_TYPES = {"NotFoundError", "ValidationError"}
REFUSAL_CODES = {"UNAUTHENTICATED", "FORBIDDEN", "NOT_FOUND", "BAD_USER_INPUT"}
# Tables an intruder's refused calls may still write: its own visit record.
VOLATILE_TABLES = {"sessions"}
# How deep the probes' own selections go (the snapshots take everything): deep enough to see
# a node's fields, a connection's rows, a payload's changed object. Validating a document
# costs the server more than running it, so the probes' hundreds of calls stay small.
LOOKUP_DEPTH, CONNECTION_DEPTH, PAYLOAD_DEPTH = 1, 2, 2


def refused(result: dict[str, Any]) -> bool:
    """A refusal: an error member of the payload union, or a bulk mutation's success whose
    results (one per id sent) are each one."""
    if result.get("__typename") in REFUSAL_TYPES:
        return True
    items = [item for value in result.values() if isinstance(value, list)
             for item in value if isinstance(item, dict)]
    return bool(items) and all(item.get("__typename") in REFUSAL_TYPES for item in items)


def classify_queries(schema: GraphQLSchema) -> dict[str, str]:
    """Query field -> how it is probed: "lookup", "connection" or "view"."""
    query = schema.query_type
    assert query is not None
    kinds = {}
    for name, definition in query.fields.items():
        if id_argument(definition) is not None:
            kinds[name] = "lookup"
        elif has_required_args(definition):
            raise CannotProbe(
                f"Query.{name} has required arguments the probe cannot fill: "
                f"{sorted(definition.args)}; teach tests/graph/test_isolation_probe.py how"
            )
        else:
            kinds[name] = "connection" if is_connection_field(definition) else "view"
    return kinds


# --- actors ------------------------------------------------------------------------------------


@dataclass
class Actor:
    name: str
    gql: GraphQL
    user: str | None
    # A visit the server issued (the header is refused otherwise), alike for every actor.
    visit: VisitCredential = field(default_factory=mint_visit)
    token: str = field(default_factory=lambda: f"probe{uuid.uuid4().hex[:16]}")
    ids: dict[str, set[str]] = field(default_factory=dict)
    cursors: set[str] = field(default_factory=set)
    requests: int = 0

    async def call(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        self.requests += 1
        headers = {"X-Session-Id": self.visit.text}
        return await self.gql(query, variables, user=self.user, headers=headers)

    def all_ids(self) -> set[str]:
        return set().union(*self.ids.values()) if self.ids else set()

    def learn(self, payload: dict[str, Any], node_types: set[str]) -> None:
        for type_name, node_id in node_refs(payload.get("data"), node_types):
            self.ids.setdefault(type_name, set()).add(node_id)
        self.cursors.update(cursors(payload.get("data")))


@dataclass
class Probe:
    schema: GraphQLSchema
    victim: Actor
    intruder: Actor
    exercised: set[tuple[str, str]] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)

    @property
    def node_types(self) -> set[str]:
        return node_type_names(self.schema)

    @property
    def query(self) -> GraphQLObjectType:
        assert self.schema.query_type is not None
        return self.schema.query_type

    @property
    def mutation(self) -> GraphQLObjectType:
        assert self.schema.mutation_type is not None
        return self.schema.mutation_type

    # --- arranging -------------------------------------------------------------------------

    async def arrange(self, actor: Actor) -> None:
        """Run every creating mutation as the actor, those needing an existing id last."""
        pending = [n for n in self.mutation.fields if n.startswith(CREATING_PREFIXES)]
        assert pending, "no creating mutation found: the probe would arrange nothing"
        marks = Marks(actor.token, actor.visit.text)
        while pending:
            progressed = False
            for name in list(pending):
                definition = self.mutation.fields[name]
                try:
                    variables = build_arguments(name, definition, marks, self.own_id(actor, name))
                except NotYet:
                    continue
                sel = selection(self.schema, definition.type)
                payload = await actor.call(operation("mutation", name, definition, sel), variables)
                result = (payload.get("data") or {}).get(name) or {}
                if not str(result.get("__typename", "")).endswith("Success"):
                    raise CannotProbe(
                        f"{name} as {actor.name} did not succeed with the sample input "
                        f"{variables}: {payload}; fix SAMPLES in the probe"
                    )
                actor.learn(payload, self.node_types)
                self.exercised.add(("Mutation", name))
                pending.remove(name)
                progressed = True
            if not progressed:
                raise CannotProbe(f"cannot find ids for the ID inputs of {pending}")

    def own_id(self, actor: Actor, mutation: str) -> IdChooser:
        def choose(slot: Slot) -> Any:
            if not slot.required:
                return OMIT
            wanted = slot_type(slot, mutation, self.node_types)
            if wanted is None:
                raise CannotProbe(f"{slot.path}: cannot tell which node type this ID names")
            if not actor.ids.get(wanted):
                raise NotYet
            chosen = sorted(actor.ids[wanted])[0]
            return [chosen] if slot.is_list else chosen

        return choose

    # --- views and snapshots ---------------------------------------------------------------

    async def view(self, actor: Actor) -> dict[str, Any]:
        """Every Query field without required arguments, as the actor sees it."""
        seen: dict[str, Any] = {}
        for name, definition in self.query.fields.items():
            if has_required_args(definition):
                continue
            sel = selection(self.schema, definition.type)
            payload = await actor.call(operation("query", name, definition, sel))
            # Refused parts (an admin-only field) are fine; anything else is not.
            assert error_codes(payload) <= REFUSAL_CODES, (actor.name, name, payload)
            actor.learn(payload, self.node_types)
            seen[name] = payload["data"]
            self.exercised.add(("Query", name))
        return seen

    async def victim_snapshot(self) -> dict[str, Any]:
        victim = self.victim
        seen = await self.view(victim)
        ids = sorted(victim.all_ids())
        sel = selection(self.schema, self.query.fields["nodes"].type)
        payload = await victim.call(
            f"query($ids: [ID!]!) {{ nodes(ids: $ids) {sel} }}", {"ids": ids}
        )
        assert "errors" not in payload, payload
        assert None not in payload["data"]["nodes"], "the victim cannot read its own nodes"
        seen["nodes"] = dict(zip(ids, payload["data"]["nodes"], strict=True))
        return seen

    # --- checking an intruder's answer -------------------------------------------------------

    def check(
        self, where: str, payload: dict[str, Any], sent: frozenset[str] = frozenset()
    ) -> None:
        """Nothing of the victim's in an answer to the intruder, bar what it sent itself."""
        victim_values = (self.victim.all_ids() | self.victim.cursors) - set(sent)
        for value in strings(payload):
            if self.victim.token in value:
                self.problems.append(f"{where}: the victim's marker in {value!r}")
            elif value in victim_values:
                self.problems.append(f"{where}: the victim's id or cursor {value!r}")
        own = self.intruder.all_ids()
        for type_name, node_id in node_refs(payload.get("data"), self.node_types):
            if node_id not in own:
                self.problems.append(f"{where}: a {type_name} not the intruder's: {node_id}")
        codes = error_codes(payload)
        if not codes <= REFUSAL_CODES:
            self.problems.append(f"{where}: unexpected error codes {codes}: {payload}")

    # --- (a) lookups ------------------------------------------------------------------------

    async def probe_lookups(self) -> None:
        intruder, victim_ids = self.intruder, sorted(self.victim.all_ids())
        assert victim_ids, "the victim has no ids to probe with"
        for name, definition in self.query.fields.items():
            argument = id_argument(definition)
            if argument is None:
                continue
            sel = selection(self.schema, definition.type, depth=LOOKUP_DEPTH)
            query = operation("query", name, definition, sel)
            is_list = is_list_type(get_nullable_type(definition.args[argument].type))
            batches = [[i] for i in victim_ids] + ([victim_ids] if is_list else [])
            for batch in batches:
                value: Any = batch if is_list else batch[0]
                payload = await intruder.call(query, {argument: value})
                where = f"Query.{name}({argument}: {value})"
                self.check(where, payload)
                result = (payload.get("data") or {}).get(name)
                if result is not None and result != [None] * len(batch):
                    self.problems.append(f"{where} answered {result}")
            self.exercised.add(("Query", name))

    # --- (b) cursors ------------------------------------------------------------------------

    async def probe_cursors(self) -> None:
        intruder, victim_cursors = self.intruder, sorted(self.victim.cursors)
        assert victim_cursors, "the victim has no cursors to probe with"
        for name, definition in self.query.fields.items():
            if not is_connection_field(definition) or has_required_args(definition):
                continue
            sel = selection(self.schema, definition.type, depth=CONNECTION_DEPTH)
            for direction in ("after", "before"):
                arg_type = definition.args[direction].type
                query = f"query($c: {arg_type}) {{ {name}({direction}: $c) {sel} }}"
                for cursor in victim_cursors:
                    payload = await intruder.call(query, {"c": cursor})
                    self.check(f"Query.{name}({direction}: {cursor})", payload)
            self.exercised.add(("Query", name))
        await self._probe_nested_cursors(victim_cursors)

    async def _probe_nested_cursors(self, victim_cursors: list[str]) -> None:
        """Connections below a node (a task's events, a conversation's messages), on the
        intruder's own nodes: the victim's cursors only name a position there."""
        intruder = self.intruder
        for type_name in sorted(self.node_types):
            owner = self.schema.get_type(type_name)
            assert is_object_type(owner)
            own = sorted(intruder.ids.get(type_name, ()))
            for name, definition in owner.fields.items():
                if not is_connection_field(definition) or has_required_args(definition):
                    continue
                assert own, f"the intruder owns no {type_name} to probe {type_name}.{name} on"
                sel = selection(
                    self.schema, definition.type, frozenset({type_name}), CONNECTION_DEPTH
                )
                for direction in ("after", "before"):
                    query = (
                        f"query($id: ID!, $c: String) {{ node(id: $id) {{ __typename "
                        f"... on {type_name} {{ id {name}({direction}: $c) {sel} }} }} }}"
                    )
                    for cursor in victim_cursors:
                        payload = await intruder.call(query, {"id": own[0], "c": cursor})
                        self.check(f"{type_name}.{name}({direction}: {cursor})", payload)

    # --- (d) orders and filters ---------------------------------------------------------------

    async def probe_orders(self) -> None:
        """Every connection taking `orderBy` (Query's, and those of the intruder's own nodes)
        under each of its orders, each way: the victim's cursors made under that order, as
        `after` and `before` of the intruder's list; then the victim's marker as each text
        condition of its `filter`."""
        for owner in ["Query", *sorted(self.node_types)]:
            owner_type = self.schema.get_type(owner)
            assert is_object_type(owner_type)
            for name, definition in owner_type.fields.items():
                if "orderBy" not in definition.args or has_required_args(definition):
                    continue
                query = self._list_query(owner, name, definition)
                for order in orderings(definition):
                    await self._probe_order(owner, name, query, order)
                for text_field in filter_texts(definition):
                    variables = {"f": {text_field: self.victim.token}}
                    payload = await self._list_call(self.intruder, owner, query, variables)
                    self.check(f"{owner}.{name}(filter: {variables})", payload)

    async def _probe_order(self, owner: str, name: str, query: str, order: dict[str, str]) -> None:
        listed = await self._list_call(self.victim, owner, query, {"o": order})
        assert "errors" not in listed, listed
        self.victim.learn(listed, self.node_types)
        data = listed["data"] if owner == "Query" else listed["data"]["node"]
        connection = data["after"]
        for cursor in sorted({edge["cursor"] for edge in connection["edges"]}):
            payload = await self._list_call(self.intruder, owner, query, {"o": order, "c": cursor})
            self.check(f"{owner}.{name}(orderBy: {order}, after/before: {cursor})", payload)

    def _list_query(self, owner: str, name: str, definition: GraphQLField) -> str:
        """The list under `$o` after and before cursor `$c` (two aliases), filtered by `$f`;
        below a node of the caller's (`$id`) unless it is a Query field."""
        declared = {"o": str(definition.args["orderBy"].type), "c": "String"}
        passed = "orderBy: $o"
        if "filter" in definition.args:
            declared["f"], passed = str(definition.args["filter"].type), passed + ", filter: $f"
        path = frozenset() if owner == "Query" else frozenset({owner})
        sel = selection(self.schema, definition.type, path, CONNECTION_DEPTH)
        call = " ".join(f"{d}: {name}({passed}, {d}: $c) {sel}" for d in ("after", "before"))
        if owner != "Query":
            declared["id"] = "ID!"
            call = f"node(id: $id) {{ __typename ... on {owner} {{ id {call} }} }}"
        variables = ", ".join(f"${k}: {t}" for k, t in declared.items())
        return f"query({variables}) {{ {call} }}"

    async def _list_call(
        self, actor: Actor, owner: str, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        if owner != "Query":
            own = sorted(actor.ids.get(owner, ()))
            assert own, f"{actor.name} owns no {owner} to list its children under"
            variables = {**variables, "id": own[0]}
        return await actor.call(query, variables)

    # --- (c) mutations ----------------------------------------------------------------------

    async def probe_mutations(self) -> None:
        for name, definition in self.mutation.fields.items():
            slots = id_slots(name, definition)
            if slots:
                await self._probe_slots(name, definition, slots)
            elif name in SECRET_INPUT_MUTATIONS:
                await self._probe_once(name, definition, self._intruder_id(name, None, ""))
            elif not name.startswith(CREATING_PREFIXES):
                raise CannotProbe(
                    f"Mutation.{name} neither creates nor takes an ID: the probe does not know "
                    f"how to aim it at another user's data; add it to SECRET_INPUT_MUTATIONS "
                    f"with a SAMPLES entry, or teach the probe"
                )
            # A creating mutation without ID inputs ran as the intruder in its arrangement,
            # and its answers were checked there.

    async def _probe_slots(self, name: str, definition: GraphQLField, slots: list[Slot]) -> None:
        for target in slots:
            for victim_id in sorted(self.victim.all_ids()):
                await self._probe_once(name, definition, self._intruder_id(name, target, victim_id))

    def _intruder_id(self, mutation: str, target: Slot | None, victim_id: str) -> IdChooser:
        """The victim's id in the target slot; the intruder's own (or the same) elsewhere."""

        def choose(slot: Slot) -> Any:
            value = victim_id
            if target is None or slot.path != target.path:
                wanted = slot_type(slot, mutation, self.node_types)
                own = sorted(self.intruder.ids.get(wanted or "", ()))
                if not slot.required and not own:
                    return OMIT
                value = own[0] if own else victim_id
            return [value] if slot.is_list else value

        return choose

    async def _probe_once(self, name: str, definition: GraphQLField, ids: IdChooser) -> None:
        marks = Marks(self.intruder.token, self.victim.visit.text)
        variables = build_arguments(name, definition, marks, ids)
        sel = selection(self.schema, definition.type, depth=PAYLOAD_DEPTH)
        payload = await self.intruder.call(operation("mutation", name, definition, sel), variables)
        sent = frozenset(strings(variables))
        where = f"Mutation.{name}({variables})"
        self.check(where, payload, sent)
        result = (payload.get("data") or {}).get(name)
        if result is None:
            if not payload.get("errors"):
                self.problems.append(f"{where}: neither data nor errors: {payload}")
        elif not refused(result):
            self.problems.append(f"{where} was not refused: {result}")
        self.exercised.add(("Mutation", name))

    # --- coverage ---------------------------------------------------------------------------

    def every_field(self) -> set[tuple[str, str]]:
        return {("Query", n) for n in self.query.fields} | {
            ("Mutation", n) for n in self.mutation.fields
        }


def orderings(definition: GraphQLField) -> list[dict[str, str]]:
    """Every `orderBy: {field, direction}` a connection takes."""
    order = get_named_type(definition.args["orderBy"].type)
    assert is_input_object_type(order)
    fields, directions = (get_named_type(order.fields[n].type) for n in ("field", "direction"))
    assert is_enum_type(fields) and is_enum_type(directions)
    return [{"field": f, "direction": d} for f in fields.values for d in directions.values]


def filter_texts(definition: GraphQLField) -> list[str]:
    """The text conditions of a connection's `filter` (searches, kinds, types)."""
    argument = definition.args.get("filter")
    named = get_named_type(argument.type) if argument is not None else None
    if named is None or not is_input_object_type(named):
        return []
    return [n for n, f in named.fields.items() if get_named_type(f.type).name == "String"]


async def table_rows(db: AsyncSession) -> dict[str, list[str]]:
    """Every row of every table (bar visits), in a stable order."""
    tables = {}
    for table in Base.metadata.sorted_tables:
        if table.name in VOLATILE_TABLES:
            continue
        rows = (await db.execute(text(f"SELECT * FROM {table.name}"))).all()
        tables[table.name] = sorted(repr(tuple(row)) for row in rows)
    return tables


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(params=["bob", "anonymous"])
def intruder(request: pytest.FixtureRequest, gql: GraphQL, anonymous_gql: GraphQL) -> Actor:
    if request.param == "anonymous":
        return Actor("anonymous visitor", anonymous_gql, None)
    return Actor("bob", gql, "bob")


@pytest.fixture
async def probe(gql: GraphQL, intruder: Actor) -> Probe:
    return Probe(await introspect(gql), Actor("alice", gql, "alice"), intruder)


# --- tests -------------------------------------------------------------------------------------


async def test_the_probe_knows_how_to_probe_every_operation(gql: GraphQL) -> None:
    """A new query or mutation the probe cannot fill fails here, naming what to teach it."""
    schema = await introspect(gql)
    node_types = node_type_names(schema)
    kinds = classify_queries(schema)
    assert {"lookup", "connection"} <= set(kinds.values()), kinds
    assert schema.mutation_type is not None
    for name, definition in schema.mutation_type.fields.items():
        slots = id_slots(name, definition)
        creating = name.startswith(CREATING_PREFIXES)
        assert slots or creating or name in SECRET_INPUT_MUTATIONS, (
            f"Mutation.{name}: the probe does not know how to aim it at another user's data"
        )
        for slot in slots:
            if creating and slot.required:
                assert slot_type(slot, name, node_types), f"{slot.path}: which node type?"


async def test_the_probe_fails_on_an_input_it_cannot_fill() -> None:
    """The guard itself: a required input field with no sample stops the probe."""
    schema = build_schema(
        "type Query { a: Int } input I { mystery: String! }"
        " type Mutation { createX(input: I!): Int }"
    )
    assert schema.mutation_type is not None
    definition = schema.mutation_type.fields["createX"]
    with pytest.raises(CannotProbe, match=r"createX\.input\.mystery"):
        build_arguments("createX", definition, Marks("t", "s"), lambda slot: "id")


async def test_an_intruder_reaches_none_of_alices_data_by_any_operation(
    probe: Probe, db: AsyncSession
) -> None:
    victim, intruder = probe.victim, probe.intruder
    await probe.arrange(intruder)
    intruder_view = await probe.view(intruder)

    await probe.arrange(victim)
    before = await probe.victim_snapshot()
    rows_before = await table_rows(db)
    assert victim.cursors and victim.all_ids()
    assert not victim.all_ids() & intruder.all_ids()
    # Every Node type, found by introspection, has a victim id to probe with: a new type
    # that no mutation creates would otherwise go unprobed without a word.
    unprobed = probe.node_types - set(victim.ids)
    assert not unprobed, f"node types with no victim id to probe: {sorted(unprobed)}"

    # Alice's data exists now; the intruder's view must not have moved by one count.
    assert await probe.view(intruder) == intruder_view, "the intruder's view changed"
    await probe.probe_lookups()
    await probe.probe_cursors()
    await probe.probe_orders()
    await probe.probe_mutations()

    assert not probe.problems, "\n".join(probe.problems[:40])
    assert await probe.view(intruder) == intruder_view, "the intruder's own data changed"
    assert await probe.victim_snapshot() == before, "alice's data changed (API)"
    assert await table_rows(db) == rows_before, "the tables changed"

    missing = probe.every_field() - probe.exercised
    assert not missing, f"fields the probe found but never exercised: {sorted(missing)}"
    assert intruder.requests + victim.requests >= len(probe.every_field())
