"""A row as the caller named it (`domain.errors.Ref`): the key, or NotFound naming what was
sent when the name held none, the answer a missing row gets."""

from __future__ import annotations

import pytest

from domain.errors import NotFound, Ref
from models import Task


def test_a_reference_with_a_key_answers_it() -> None:
    assert Ref(7, "VGFzazo3").key_of(Task) == 7


def test_a_reference_without_a_key_is_not_found_named_as_sent() -> None:
    with pytest.raises(NotFound) as raised:
        Ref[int](None, "not-an-id").key_of(Task)
    assert (raised.value.entity, raised.value.key, raised.value.named) == (
        Task, None, "not-an-id")
