"""The GraphiQL playground: served by us, and it never puts the bearer token in a URL."""

from __future__ import annotations

import httpx
from strawberry.extensions import SchemaExtension

from graph.schema import schema_extensions
from tests.conftest import make_settings


async def _page(client: httpx.AsyncClient, url: str = "/graphql") -> str:
    response = await client.get(url, headers={"Accept": "text/html"})
    assert response.status_code == 200
    return response.text


async def test_the_playground_never_reads_headers_from_the_url(client: httpx.AsyncClient) -> None:
    page = await _page(client)
    assert "parameters.headers" not in page
    assert "updateURL({ headers" not in page


async def test_the_playground_does_not_persist_headers(client: httpx.AsyncClient) -> None:
    assert "shouldPersistHeaders: false" in await _page(client)


async def test_a_token_in_the_url_is_not_echoed_into_the_page(client: httpx.AsyncClient) -> None:
    leaked = "%7B%22Authorization%22%3A%22Bearer%20zz-secret-zz%22%7D"
    page = await _page(client, f"/graphql?headers={leaked}")
    assert "zz-secret-zz" not in page


async def test_subscriptions_from_the_playground_authenticate_in_connection_init(
    client: httpx.AsyncClient,
) -> None:
    assert "wsConnectionParams" in await _page(client)


def test_extensions_are_classes_or_factories_never_shared_instances() -> None:
    for extension in schema_extensions(make_settings(environment="production")):
        assert not isinstance(extension, SchemaExtension)
        assert isinstance(extension(), SchemaExtension)  # a fresh one per operation


async def test_the_playground_opens_as_clarity_graph_with_a_first_query_and_a_token_template(
    client: httpx.AsyncClient,
) -> None:
    page = await _page(client)
    assert "<title>Clarity Graph</title>" in page
    assert "Strawberry" not in page and "strawberry" not in page
    assert "query FirstLook {" in page and "viewer {" in page and "tasks(first: 5)" in page
    assert "clarity-graph token --user alice" in page
    assert '"Authorization": "Bearer <token>"' in page
    assert 'defaultEditorToolsVisibility: "headers"' in page
    # Offline: every script and stylesheet is our own file (no CDN).
    assert "https://" not in page.replace("http://www.w3.org/2000/svg", "")
