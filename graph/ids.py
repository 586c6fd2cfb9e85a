"""Opaque global ids (Relay): base64 of `Type:key`."""

from __future__ import annotations

from strawberry import relay

from domain.errors import Ref


def encode_id(type_name: str, key: object) -> str:
    return str(relay.GlobalID(type_name, str(key)))


def decode_key(raw: str, type_name: str) -> str | None:
    """The key of a global id of the given type, or None for anything else."""
    try:
        global_id = relay.GlobalID.from_id(raw)
    except (relay.GlobalIDValueError, ValueError, TypeError):
        return None
    if global_id.type_name != type_name or not key_can_name_a_row(global_id.node_id):
        return None
    return global_id.node_id


def key_can_name_a_row(key: str) -> bool:
    """False for a key with NUL: no stored key holds one (PostgreSQL text refuses it), and
    passing it to the driver would fail the statement instead of finding nothing."""
    return "\x00" not in key


# Integer primary keys are 32-bit on PostgreSQL: a larger number names no row, and passing
# it to the driver would fail the statement instead of finding nothing.
MAX_INT_KEY = 2**31 - 1


def int_key(key: object) -> int | None:
    """A node id's key as a positive 32-bit integer, or None when it cannot name a row."""
    text = str(key)
    # str.isdigit() accepts non-ASCII digits (superscripts, other scripts) that int() rejects.
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    value = int(text)
    return value if 0 < value <= MAX_INT_KEY else None


def decode_int(raw: str, type_name: str) -> int | None:
    key = decode_key(raw, type_name)
    return None if key is None else int_key(key)


def int_ref(raw: str, type_name: str) -> Ref[int]:
    """A global id as a use case takes it: its integer key (None when it names no row of
    `type_name`) and the id as sent."""
    return Ref(decode_int(raw, type_name), raw)


def key_ref(raw: str, type_name: str) -> Ref[str]:
    """`int_ref` for a type whose keys are text."""
    return Ref(decode_key(raw, type_name), raw)
