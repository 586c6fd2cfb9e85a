"""The example frontend's operations stay valid against the committed schema."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from graphql import OperationDefinitionNode, build_schema, parse, validate
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.app import create_app
from graph.auth import mint_token
from graph.http.persisted import load_manifest
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = sorted((ROOT / "examples" / "operations").glob("*.graphql"))
# The manifest graphql-codegen writes for these operations; .ci/run checks it is current.
MANIFEST = ROOT / "examples" / "persisted-documents.json"


def test_there_are_example_operations_for_every_screen() -> None:
    assert {path.stem for path in OPERATIONS} >= {"tasks", "chat", "panic", "audit"}


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda path: path.name)
def test_example_operations_validate_against_schema_graphql(path: Path) -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    assert [error.message for error in validate(schema, parse(path.read_text()))] == []


def _operation_names(document: str) -> list[str]:
    return [
        definition.name.value
        for definition in parse(document).definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name is not None
    ]


def test_the_committed_manifest_holds_every_example_operation() -> None:
    manifest = load_manifest(MANIFEST)  # every key is the sha256 of its text
    written = sorted(name for path in OPERATIONS for name in _operation_names(path.read_text()))
    sent = sorted(name for text in manifest.values() for name in _operation_names(text))
    assert sent == written


async def test_persisted_only_mode_serves_the_example_frontend_by_hash(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    settings = make_settings(persisted_queries_only=True, persisted_queries_manifest=MANIFEST)
    [digest] = [key for key, text in load_manifest(MANIFEST).items() if "query TaskList" in text]
    app = create_app(settings, session_factory=session_factory)
    token = mint_token(settings, user_id="alice", admin=False, ttl_seconds=60)
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
            listed = await client.post(
                "/graphql",
                json={"extensions": persisted},
                headers={"Authorization": f"Bearer {token}"},
            )
            other = await client.post(
                "/graphql",
                json={"query": "{ viewer { id } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
    assert listed.json()["data"]["tasks"]["edges"] == []
    assert other.status_code == 400
