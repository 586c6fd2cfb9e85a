"""Every subscription, found by introspection, delivers nothing of another user's even when an
event naming their row reaches it: each delivery loads its row scoped to the subscriber.

The broker routes an event to its owner's subscriptions only (tests/graph/test_live_changes.py
shows it over the real transport); here an event naming Alice's row is handed to Bob's
subscription directly, as a routing mistake would, and Bob's first delivery must be his own
row's. Deletions are left out: they carry only a key, and routing is what keeps them the
owner's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from domain.events import Event, EventKind
from graph.ids import decode_key
from tests.conftest import GraphQL
from tests.graph.schema_walk import introspect, node_refs, node_type_names, operation, selection
from tests.graph.test_global_ids import EPHEMERAL, KEYED_BY, LISTENS
from tests.graph.test_isolation_probe import Actor, Probe
from tests.graph.test_subscription_errors import WAIT_SECONDS, Subscriptions, announce, subs

__all__ = ["subs"]  # a fixture, used by name
DELETIONS = {EventKind.TASK_DELETED, EventKind.CONVERSATION_DELETED}


def keys_of(actor: Actor) -> dict[str, Any]:
    """A key of one of the actor's rows, per node type (as an event carries it)."""
    keys: dict[str, Any] = {}
    for type_name, ids in actor.ids.items():
        key = decode_key(sorted(ids)[0], type_name)
        keys[type_name] = int(key) if key is not None and key.isdigit() else key
    return keys


async def test_no_subscription_delivers_another_users_row(
    gql: GraphQL, subs: Subscriptions
) -> None:
    schema = await introspect(gql)
    alice, bob = Actor("alice", gql, "alice"), Actor("bob", gql, "bob")
    probe = Probe(schema, alice, bob)
    await probe.arrange(alice)
    await probe.arrange(bob)
    theirs, own = keys_of(alice), keys_of(bob)
    assert schema.subscription_type is not None
    for name, definition in schema.subscription_type.fields.items():
        if name in EPHEMERAL:  # their own isolation test: tests/graph/test_chat_drafts.py
            continue
        kinds = sorted(LISTENS[name] - DELETIONS)
        passed = {"conversationId": sorted(bob.ids["Conversation"])[0]}
        subs.subscribed.clear()
        stream = await subs.open(
            operation("subscription", name, definition, selection(schema, definition.type)),
            {arg: passed[arg] for arg in definition.args if arg in passed}, user="bob",
        )
        pending = asyncio.ensure_future(subs.next(stream))
        await asyncio.wait_for(subs.subscribed.wait(), WAIT_SECONDS)
        await subs.idle()
        # Alice's rows, in events that reached Bob by mistake, then one of his own.
        await announce(subs.resources, *(Event(kind, "bob", theirs[KEYED_BY[kind]])
                                         for kind in kinds),
                       Event(kinds[0], "bob", own[KEYED_BY[kinds[0]]]))
        result = await pending
        assert result.errors is None and result.data, (name, result)
        seen = {node_id for _, node_id in node_refs(result.data, node_type_names(schema))}
        assert seen and seen <= bob.all_ids(), (name, result.data)
