"""CORS_ORIGINS: an entry that can never match stops start-up everywhere; `*` stops
production and is only warned about in development.

Browsers send exact origins (`https://app.example.com`), so `https://*.example.com` started
and matched nothing, and `*` let every origin, `null` included, use HTTP and the WebSocket.
"""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.app import create_app
from graph.auth import ConfigurationError
from graph.http.cors import allowed_origins
from tests.conftest import make_settings

ENVIRONMENTS = ["development", "production"]
PREFLIGHT = {"Access-Control-Request-Method": "POST"}


def refusal(
    session_factory: async_sessionmaker[AsyncSession], environment: str, *origins: str
) -> str:
    """The one-line message `create_app` refuses these origins with."""
    settings = make_settings(environment=environment, cors_origins=list(origins))
    with pytest.raises(ConfigurationError) as refused:
        create_app(settings, session_factory=session_factory)
    message = str(refused.value)
    assert message.startswith("CORS_ORIGINS") and "\n" not in message
    return message


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize(
    "pattern", ["https://*.example.com", "*.example.com", "https://example.*", "https://*"]
)
def test_a_wildcard_pattern_is_refused_with_what_to_write_instead(
    session_factory: async_sessionmaker[AsyncSession], environment: str, pattern: str
) -> None:
    message = refusal(session_factory, environment, "https://app.example.com", pattern)
    assert f"CORS_ORIGINS entry {pattern!r} is a pattern" in message
    assert "list each origin, e.g. CORS_ORIGINS=https://app.example.com," in message


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("null", ["null", "NULL"])
def test_the_null_origin_is_refused(
    session_factory: async_sessionmaker[AsyncSession], environment: str, null: str
) -> None:
    message = refusal(session_factory, environment, null)
    assert "'null' is the origin of sandboxed frames and file: pages" in message


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize(
    "entry",
    [
        "example.com",
        "localhost:3000",
        "https://example.com/app",
        "https://example.com?x=1",
        "https://example.com#top",
        "https://user@example.com",
        "https://example.com:99999",
        "https://exa mple.com",
        "http://[::1",
        "file:///srv/index.html",
    ],
)
def test_what_is_not_an_origin_is_refused(
    session_factory: async_sessionmaker[AsyncSession], environment: str, entry: str
) -> None:
    message = refusal(session_factory, environment, entry)
    assert f"CORS_ORIGINS entry {entry!r} is not an origin: write scheme://host[:port]" in message


def test_an_internationalised_host_is_refused_with_its_punycode(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    message = refusal(session_factory, "development", "https://bücher.example:8443")
    assert message.endswith("write https://xn--bcher-kva.example:8443")


def test_production_refuses_every_origin(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    message = refusal(session_factory, "production", "*")
    assert message.startswith("CORS_ORIGINS='*' lets every origin use HTTP and the WebSocket")
    assert "production lists each origin" in message


async def test_development_allows_every_origin_null_included_and_warns(
    session_factory: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(make_settings(cors_origins=["*"]), session_factory=session_factory)
    assert "CORS_ORIGINS='*' lets every origin" in caplog.text
    assert "(production refuses it)" in caplog.text
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            for origin in ("https://anything.example", "null"):
                answer = await client.options(
                    "/graphql", headers={"Origin": origin, **PREFLIGHT}
                )
                assert answer.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize(
    ("entry", "origin"),
    [
        ("https://App.Example.com:443/", "https://app.example.com"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://[::1]:5173", "http://[::1]:5173"),
        ("capacitor://localhost", "capacitor://localhost"),
        ("https://my_app.example.com", "https://my_app.example.com"),
    ],
)
def test_origins_are_kept_as_browsers_send_them(entry: str, origin: str) -> None:
    settings = make_settings(environment="production", cors_origins=[entry])
    assert allowed_origins(settings) == [origin]


async def test_a_listed_origin_is_allowed_in_production_and_others_are_not(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    settings = make_settings(environment="production", cors_origins=["https://App.example.com"])
    app = create_app(settings, session_factory=session_factory)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            allowed, foreign, null = [
                await client.options("/graphql", headers={"Origin": origin, **PREFLIGHT})
                for origin in ("https://app.example.com", "https://evil.example", "null")
            ]
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in foreign.headers
    assert "access-control-allow-origin" not in null.headers
