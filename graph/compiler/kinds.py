"""The kinds of field a plan holds, one class each (graph/compiler/plan.py makes them,
graph/compiler/run.py writes them).

The runner tells them apart by their exact class (`type(field) is Attribute`), the most
common kind first. They are frozen dataclasses with slots, not NamedTuples: the plan's pass
reads thousands of them per page, and Python 3.11 reads a slot in one specialized step but
unpacks a tuple subclass through its iterator (measured on the plan's loop, against the
plain tuples tagged by integers these replace: about 55 ns more a field as NamedTuples,
20 ns as slots).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, final

from graphql import FieldNode, GraphQLField, GraphQLObjectType
from strawberry import relay
from strawberry.types.field import StrawberryField

Complete = Callable[[Any, Any], Any]  # (value, run) -> the response value


@dataclass(eq=False)
class Call:
    """A field answered by its own resolver: what calling it needs."""

    definition: StrawberryField
    field: GraphQLField
    nodes: list[FieldNode]
    parent: GraphQLObjectType
    takes_arguments: bool


@final  # told apart by `type(field) is`: no subclass may hide behind one
@dataclass(frozen=True, slots=True, eq=False)
class Typename:
    """`__typename`: the concrete type's name, known when compiling."""

    key: str  # the response key
    name: str


@final  # told apart by `type(field) is`: no subclass may hide behind one
@dataclass(frozen=True, slots=True, eq=False)
class Attribute:
    """A strawberry field with no resolver: `getattr(source, attribute)`, completed."""

    key: str
    attribute: str
    complete: Complete


@final  # told apart by `type(field) is`: no subclass may hide behind one
@dataclass(frozen=True, slots=True, eq=False)
class RelayId:
    """A Relay `id` as `relay.Node`'s own resolver makes it: `base64("Type:" + str(key))`,
    for a source of exactly `node`'s class (any other falls back)."""

    key: str
    attribute: str  # the attribute holding the source's key (`resolve_id_attr`)
    type_name: str
    node: type[relay.Node]


@final  # told apart by `type(field) is`: no subclass may hide behind one
@dataclass(frozen=True, slots=True, eq=False)
class Resolved:
    """A field answered by calling its own resolver (`call`), completed."""

    key: str
    call: Call
    complete: Complete


FieldPlan = Attribute | RelayId | Typename | Resolved
