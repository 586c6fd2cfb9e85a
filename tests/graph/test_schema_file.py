"""`schema.graphql` is the committed contract: it must equal the live schema."""

from __future__ import annotations

from graph.cli import DEFAULT_SCHEMA_PATH, render_schema
from graph.settings import Settings


def test_committed_schema_matches_the_live_schema() -> None:
    live = render_schema(Settings(environment="development"))
    committed = DEFAULT_SCHEMA_PATH.read_text()
    assert committed == live, (
        "schema.graphql is out of date: run `clarity-graph export-schema` and commit it"
    )


def test_internal_ai_logs_have_no_place_in_the_schema() -> None:
    assert "ailog" not in render_schema().lower().replace("_", "")
