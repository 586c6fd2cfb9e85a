"""Persisted queries: Apollo APQ over POST and GET, the bounded cache, the only-known mode."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.app import create_app
from graph.auth import ConfigurationError
from tests.conftest import GqlWith, make_settings

QUERY = "query Viewer { viewer { id } }"
KNOWN = "query Known { viewer { id } }"
MUTATION = 'mutation { deleteTask(input: {id: "x"}) { __typename } }'

Build = Callable[..., Awaitable[httpx.AsyncClient]]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def apq(digest: str, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


def code(response: httpx.Response) -> str:
    value: str = response.json()["errors"][0]["extensions"]["code"]
    return value


async def by_hash(client: httpx.AsyncClient, text: str) -> httpx.Response:
    return await client.post("/graphql", json={"extensions": apq(sha(text))})


async def register(client: httpx.AsyncClient, text: str) -> httpx.Response:
    return await client.post("/graphql", json={"query": text, "extensions": apq(sha(text))})


def get_params(text: str | None, digest: str) -> dict[str, str]:
    params = {"extensions": json.dumps(apq(digest)), "variables": "{}"}
    if text is not None:
        params["query"] = text
    return params


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "persisted-queries.json"
    path.write_text(json.dumps({sha(KNOWN): KNOWN}))
    return path


@pytest.fixture
def build(gql_with: GqlWith) -> Build:
    """A client of an app started with the given settings."""

    async def start(**overrides: Any) -> httpx.AsyncClient:
        return (await gql_with(**overrides)).client

    return start


@pytest.fixture
async def only(build: Build, manifest: Path) -> httpx.AsyncClient:
    return await build(persisted_queries_only=True, persisted_queries_manifest=manifest)


async def test_an_unknown_hash_is_persisted_query_not_found(client: httpx.AsyncClient) -> None:
    response = await by_hash(client, QUERY)
    assert response.status_code == 200
    assert response.json() == {
        "errors": [
            {
                "message": "PersistedQueryNotFound",
                "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"},
            }
        ]
    }


async def test_a_registered_hash_runs_its_query(client: httpx.AsyncClient) -> None:
    registered = await register(client, QUERY)
    assert registered.json()["data"] == {"viewer": None}
    response = await by_hash(client, QUERY)
    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": None}


async def test_a_hash_that_does_not_match_the_text_is_refused_and_not_stored(
    client: httpx.AsyncClient,
) -> None:
    claimed = sha("{ something { else } }")
    response = await client.post("/graphql", json={"query": QUERY, "extensions": apq(claimed)})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {"message": "provided sha does not match query", "extensions": {"code": "BAD_REQUEST"}}
        ]
    }
    again = await client.post("/graphql", json={"extensions": apq(claimed)})
    assert code(again) == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_version_other_than_1_is_400(client: httpx.AsyncClient) -> None:
    body = {"query": QUERY, "extensions": apq(sha(QUERY), version=2)}
    response = await client.post("/graphql", json=body)
    assert response.status_code == 400
    assert code(response) == "BAD_REQUEST"


async def test_apq_over_get_misses_registers_and_then_runs_a_query(
    client: httpx.AsyncClient,
) -> None:
    miss = await client.get("/graphql", params=get_params(None, sha(QUERY)))
    assert miss.status_code == 200
    assert code(miss) == "PERSISTED_QUERY_NOT_FOUND"
    registered = await client.get("/graphql", params=get_params(QUERY, sha(QUERY)))
    assert registered.json()["data"] == {"viewer": None}
    hit = await client.get("/graphql", params=get_params(None, sha(QUERY)))
    assert hit.status_code == 200
    assert hit.json()["data"] == {"viewer": None}


async def test_a_persisted_mutation_over_get_is_405(client: httpx.AsyncClient) -> None:
    await register(client, MUTATION)
    response = await client.get("/graphql", params=get_params(None, sha(MUTATION)))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert code(response) == "METHOD_NOT_ALLOWED"


async def test_the_cache_forgets_the_least_recently_used_beyond_its_size(build: Build) -> None:
    client = await build(apq_cache_size=2)
    texts = [f"query Q{n} {{ viewer {{ id }} }}" for n in range(3)]
    for text in texts:
        assert (await register(client, text)).status_code == 200
    assert code(await by_hash(client, texts[0])) == "PERSISTED_QUERY_NOT_FOUND"
    for text in texts[1:]:
        assert (await by_hash(client, text)).json()["data"] == {"viewer": None}


async def test_a_text_over_the_per_text_limit_runs_but_is_not_stored(build: Build) -> None:
    client = await build(apq_max_query_bytes=1024)
    text = QUERY + " #" + "x" * 1100
    registered = await register(client, text)
    assert registered.json()["data"] == {"viewer": None}
    assert code(await by_hash(client, text)) == "PERSISTED_QUERY_NOT_FOUND"


async def test_the_cache_is_bounded_by_bytes_not_only_entries(build: Build) -> None:
    # 1 MB texts used to be kept by the thousand: 200 of them took RSS from 648 to 1,043 MB.
    # Each text below weighs ~1,250 bytes (the text, its hash, the entry): two fit.
    client = await build(apq_cache_bytes=3000, apq_max_query_bytes=1024)
    texts = [f"query Q{n} {{ viewer {{ id }} }} #" + "x" * 800 for n in range(3)]
    for text in texts:
        assert (await register(client, text)).status_code == 200
    assert code(await by_hash(client, texts[0])) == "PERSISTED_QUERY_NOT_FOUND"
    for text in texts[1:]:
        assert (await by_hash(client, text)).json()["data"] == {"viewer": None}


async def test_a_text_that_does_not_parse_is_not_stored(client: httpx.AsyncClient) -> None:
    text = "{ viewer { id "
    refused = await register(client, text)
    assert refused.json()["errors"][0]["message"].startswith("Syntax Error")
    assert code(await by_hash(client, text)) == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_text_that_does_not_validate_is_not_stored(client: httpx.AsyncClient) -> None:
    text = "{ viewer { nope } }"
    assert "nope" in (await register(client, text)).json()["errors"][0]["message"]
    assert code(await by_hash(client, text)) == "PERSISTED_QUERY_NOT_FOUND"


async def test_a_text_over_a_limit_is_not_stored(build: Build) -> None:
    client = await build(max_depth=2)
    text = "{ tasks { edges { node { id } } } }"
    refused = await register(client, text)
    assert refused.json()["errors"][0]["extensions"]["code"] == "QUERY_TOO_DEEP"
    assert code(await by_hash(client, text)) == "PERSISTED_QUERY_NOT_FOUND"


async def test_manifest_hashes_are_served_without_only_mode(build: Build, manifest: Path) -> None:
    client = await build(persisted_queries_manifest=manifest)
    response = await by_hash(client, KNOWN)
    assert response.json()["data"] == {"viewer": None}


async def test_only_mode_serves_a_manifest_hash(only: httpx.AsyncClient) -> None:
    response = await by_hash(only, KNOWN)
    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": None}


async def test_only_mode_serves_a_manifest_text(only: httpx.AsyncClient) -> None:
    response = await only.post("/graphql", json={"query": KNOWN})
    assert response.status_code == 200
    assert response.json()["data"] == {"viewer": None}


async def test_only_mode_refuses_other_texts(only: httpx.AsyncClient) -> None:
    response = await only.post("/graphql", json={"query": QUERY})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "Only persisted operations are accepted.",
                "extensions": {"code": "PERSISTED_QUERY_REQUIRED"},
            }
        ]
    }


async def test_only_mode_refuses_unknown_hashes(only: httpx.AsyncClient) -> None:
    response = await by_hash(only, QUERY)
    assert response.status_code == 400
    assert code(response) == "PERSISTED_QUERY_REQUIRED"


async def test_only_mode_refuses_registering_a_query_outside_the_manifest(
    only: httpx.AsyncClient,
) -> None:
    response = await register(only, QUERY)
    assert response.status_code == 400
    assert code(response) == "PERSISTED_QUERY_REQUIRED"
    assert code(await by_hash(only, QUERY)) == "PERSISTED_QUERY_REQUIRED"


async def test_only_mode_refuses_unknown_texts_over_get(only: httpx.AsyncClient) -> None:
    response = await only.get("/graphql", params={"query": QUERY})
    assert response.status_code == 400
    assert code(response) == "PERSISTED_QUERY_REQUIRED"


async def test_a_manifest_entry_whose_hash_does_not_match_stops_start_up(
    tmp_path: Path, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({sha(KNOWN): KNOWN + " "}))
    settings = make_settings(persisted_queries_only=True, persisted_queries_manifest=path)
    with pytest.raises(ConfigurationError, match="is not the sha256 of its text"):
        create_app(settings, session_factory=session_factory)


async def test_only_mode_without_a_manifest_stops_start_up(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(ConfigurationError, match="needs PERSISTED_QUERIES_MANIFEST"):
        create_app(make_settings(persisted_queries_only=True), session_factory=session_factory)
