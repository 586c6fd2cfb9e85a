"""graphql-sse in a real browser (Debian's Chromium, driven over the DevTools protocol as in
tests/graph/test_playground_browser.py): a page on an origin CORS_ORIGINS lists runs a
query and a subscription through the `graphql-sse` client (its browser build, from
examples/node_modules) and the browser's own EventSource; the same page on a foreign origin
is refused, by CORS for the client's fetch (its Authorization header needs a preflight) and
by the server (403) for the EventSource, which needs none."""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.graph.node_scripts import EXAMPLES
from tests.graph.test_playground_browser import Page, browser_page
from tests.servers import graphql, running_server, token

pytestmark = pytest.mark.slow

UMD = EXAMPLES / "node_modules" / "graphql-sse" / "umd" / "graphql-sse.js"
USER = "sse-browser"
PAGE = "<!doctype html><meta charset=utf-8><title>sse</title><script src=graphql-sse.js></script>"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


@contextlib.contextmanager
def static_origin(directory: Path) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(directory)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def origins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """(the API, the allowed page's origin, a foreign page's origin)."""
    if not UMD.is_file():
        pytest.skip("the examples' packages are not installed: (cd examples && npm ci)")
    site = tmp_path_factory.mktemp("sse-site")
    shutil.copy(UMD, site / "graphql-sse.js")
    (site / "index.html").write_text(PAGE)
    workdir = tmp_path_factory.mktemp("sse-browser")
    with static_origin(site) as app, static_origin(site) as foreign, \
            running_server(workdir, CORS_ORIGINS=app) as api:
        yield api, app, foreign


def client_script(api: str, bearer: str) -> str:
    """Starts a query and a subscription through graphql-sse; results land in window.seen."""
    return f"""(() => {{
      window.seen = {{ query: null, events: [], errors: [], connected: false }};
      const client = graphqlSse.createClient({{
        url: {json.dumps(api + "/graphql")}, retryAttempts: 0,
        headers: {{ authorization: {json.dumps("Bearer " + bearer)} }},
      }});
      client.subscribe({{ query: "{{ viewer {{ id }} }}" }}, {{
        next: (r) => {{ window.seen.query = r; }},
        error: (e) => window.seen.errors.push(String(e && e.message || e)),
        complete: () => {{}},
      }});
      client.subscribe({{ query: "subscription {{ taskEvents {{ task {{ title }} }} }}" }}, {{
        next: (r) => window.seen.events.push(r.data.taskEvents.task.title),
        error: (e) => window.seen.errors.push(String(e && e.message || e)),
        complete: () => {{}},
      }}, {{ connected: () => {{ window.seen.connected = true; }} }});
      return true;
    }})()"""


def event_source_script(api: str) -> str:
    """The browser's own EventSource (no headers, so no preflight): its first result, or
    "refused" when the connection fails."""
    url = api + "/graphql?query=" + "%7B%20__typename%20%7D"
    return f"""new Promise((resolve) => {{
      const source = new EventSource({json.dumps(url)});
      source.addEventListener("next", (e) => {{ source.close(); resolve(e.data); }});
      source.onerror = () => {{ source.close(); resolve("refused"); }};
    }})"""


async def load(page: Page, origin: str) -> None:
    await page.call("Page.navigate", url=f"{origin}/index.html")
    await page.wait_for("typeof graphqlSse !== 'undefined'", "the graphql-sse build to load")


async def test_a_page_on_an_allowed_origin_queries_and_subscribes(
    origins: tuple[str, str, str], tmp_path: Path
) -> None:
    api, app, _ = origins
    async with browser_page(tmp_path) as page:
        await load(page, app)
        await page.evaluate(client_script(api, token(USER)))
        query = await page.wait_for("window.seen.query", "the query's result")
        assert query == {"data": {"viewer": {"id": USER}}}
        await page.wait_for("window.seen.connected", "the subscription's stream")
        await graphql(api, USER, "mutation($t: String!) { createTask(input: {title: $t}) {"
                      " __typename } }", {"t": "from the browser test"})
        events = await page.wait_for("window.seen.events.length && window.seen.events",
                                     "the subscription's delivery")
        assert events == ["from the browser test"]
        assert await page.evaluate("window.seen.errors") == []
        assert json.loads(await page.evaluate(event_source_script(api))) == {
            "data": {"__typename": "Query"}}


async def test_a_page_on_a_foreign_origin_is_refused(
    origins: tuple[str, str, str], tmp_path: Path
) -> None:
    api, _, foreign = origins
    async with browser_page(tmp_path) as page:
        await load(page, foreign)
        await page.evaluate(client_script(api, token(USER)))
        errors = await page.wait_for("window.seen.errors.length >= 2 && window.seen.errors",
                                     "both operations to fail")
        assert all("fetch" in error.lower() for error in errors), errors
        assert await page.evaluate("window.seen.query") is None
        assert await page.evaluate(event_source_script(api)) == "refused"
    # The server's answer to it, as the browser saw it (before CORS hid it from the page).
    sources = {e["params"]["requestId"] for e in page.events
               if e.get("method") == "Network.requestWillBeSent"
               and e["params"].get("type") == "EventSource"}
    statuses = [e["params"]["statusCode"] for e in page.events
                if e.get("method") == "Network.responseReceivedExtraInfo"
                and e["params"]["requestId"] in sources]
    assert statuses == [403]
