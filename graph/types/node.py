"""`node(id)` and `nodes(ids)`: any Node by global id, for its owner only.

An id that is malformed, names an unknown type, or belongs to another user resolves to null:
the three are indistinguishable on purpose. Every lookup goes through the request's scoped
by-id loaders, so ids asked for together (and alongside other fields) cost one statement per
type. A request holds at most a page's worth of ids (the maximum page size setting).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from strawberry import relay

import models
from graph.context import Info
from graph.execution.keyset import InvalidPage
from graph.ids import int_key, key_can_name_a_row
from graph.types.audit import AuditLog
from graph.types.chat import Conversation, Message
from graph.types.panic import GroundingExercise, PanicEvent
from graph.types.task import Task, TaskEvent, TaskStep

N = TypeVar("N", bound=relay.Node)


def uuid_key(raw: str) -> str | None:
    """The canonical form of a UUID key, or None when the key cannot name a row."""
    try:
        return str(uuid.UUID(raw))
    except (ValueError, TypeError):
        return None


def text_key(raw: str) -> str | None:
    return raw if key_can_name_a_row(raw) else None


@dataclass(frozen=True)
class NodeKind:
    """A Node type, declared once: its GraphQL type (which maps from the model), the model
    its rows are, and how a global id's key names a row (None: it cannot)."""

    node: type[relay.Node]
    model: type[Any]
    key: Callable[[str], Any]

    def to_node(self, row: Any) -> relay.Node:
        # Every Node type of ours has `from_model`; relay.Node does not declare it.
        return cast(relay.Node, self.node.from_model(row))  # type: ignore[attr-defined]


NODE_KINDS: dict[str, NodeKind] = {
    kind.node.__name__: kind
    for kind in (
        NodeKind(Task, models.Task, int_key),
        NodeKind(TaskStep, models.TaskStep, int_key),
        NodeKind(TaskEvent, models.TaskEvent, int_key),
        NodeKind(Conversation, models.Conversation, text_key),
        NodeKind(Message, models.Message, int_key),
        NodeKind(PanicEvent, models.PanicEvent, int_key),
        NodeKind(GroundingExercise, models.GroundingExercise, int_key),
        NodeKind(AuditLog, models.AuditLog, uuid_key),
    )
}
NODE_TYPES: dict[str, type[relay.Node]] = {name: kind.node for name, kind in NODE_KINDS.items()}


def _parse(raw: str) -> tuple[str, Any] | None:
    try:
        global_id = relay.GlobalID.from_id(raw)
    except (relay.GlobalIDValueError, ValueError, TypeError):
        return None
    kind = NODE_KINDS.get(global_id.type_name)
    key = kind.key(global_id.node_id) if kind is not None else None
    return (global_id.type_name, key) if key is not None else None


async def resolve_nodes(info: Info, ids: list[str]) -> list[relay.Node | None]:
    # graph/extensions/inputs.py refuses a longer list before execution; this keeps the field
    # safe on its own.
    limit = info.context.settings.max_page_size
    if len(ids) > limit:
        raise InvalidPage(f"`nodes` takes at most {limit} ids, like a page; ask for fewer.")
    loaders = info.context.loaders
    results: list[relay.Node | None] = [None] * len(ids)
    wanted: dict[str, list[tuple[int, Any]]] = {}
    for index, raw in enumerate(ids):
        parsed = _parse(raw)
        if parsed is not None:
            wanted.setdefault(parsed[0], []).append((index, parsed[1]))
    # Every type's keys are queued before any is awaited, so they meet the keys of sibling
    # fields (`node` beside `nodes`) in the same batches whatever the statements' timing:
    # awaiting one type before queuing the next made the statement count depend on it.
    kinds = [(NODE_KINDS[name], entries) for name, entries in wanted.items()]
    loaded = await asyncio.gather(*(
        loaders.by_id(kind.model).load_many([key for _, key in entries])
        for kind, entries in kinds
    ))
    for (kind, entries), rows in zip(kinds, loaded, strict=True):
        for (index, _), row in zip(entries, rows, strict=True):
            results[index] = kind.to_node(row) if row is not None else None
    return results


async def node_of_type(info: Info, raw: str, cls: type[N]) -> N | None:
    """One of the viewer's nodes of one type by global id (`task(id)`, `conversation(id)`...);
    refuses a request with no identity, like every list does."""
    info.context.require_identity()
    parsed = _parse(raw)
    if parsed is None or parsed[0] != cls.__name__:
        return None
    return cast(N | None, (await resolve_nodes(info, [raw]))[0])
