"""The app shell: health, readiness, the playground, and `viewer`."""

from __future__ import annotations

import httpx

from tests.conftest import GraphQL


async def test_healthz_answers_ok(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_is_ok_when_migrated_to_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200, response.text


async def test_graphiql_is_served_to_browsers(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_viewer_is_the_token_subject(gql: GraphQL) -> None:
    data = await gql.data("{ viewer { id isAdmin sessionId isAnonymous } }", user="alice")
    assert data["viewer"] == {
        "id": "alice", "isAdmin": False, "sessionId": None, "isAnonymous": False,
    }


async def test_viewer_is_null_without_a_token(gql: GraphQL) -> None:
    data = await gql.data("{ viewer { id } }", user=None)
    assert data["viewer"] is None


async def test_admin_role_claim_makes_an_admin(gql: GraphQL) -> None:
    token = gql.token("root", admin=True)
    response = await gql.client.post(
        "/graphql", json={"query": "{ viewer { id isAdmin } }"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.json()["data"]["viewer"] == {"id": "root", "isAdmin": True}


async def test_a_query_needing_identity_without_one_is_a_typed_error(gql: GraphQL) -> None:
    payload = await gql("{ tasks { totalCount } }", user=None)
    assert payload["data"] is None
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
