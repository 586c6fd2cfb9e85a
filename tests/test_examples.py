"""The example frontend's operations stay valid against the committed schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = sorted((ROOT / "examples" / "operations").glob("*.graphql"))


def test_there_are_example_operations_for_every_screen() -> None:
    assert {path.stem for path in OPERATIONS} >= {"tasks", "chat", "panic", "audit"}


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda path: path.name)
def test_example_operations_validate_against_schema_graphql(path: Path) -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    assert [error.message for error in validate(schema, parse(path.read_text()))] == []
