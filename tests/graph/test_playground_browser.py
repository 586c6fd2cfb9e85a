"""The GraphiQL playground in a real browser: served from our own files, it works offline.

Headless Chromium (Debian's `chromium` package) is driven over the Chrome DevTools Protocol
with `websockets`: no Playwright or Selenium, nothing downloaded. The page loads from a real
`clarity-graph serve`, a query runs through GraphiQL's editors and execute button with the
token in the headers editor, and every request the page makes is recorded: none may leave
this machine, none may fail, and the token never reaches the page's URL.

Skipped when `chromium` is not on PATH (CI installs it: `apt-get install -y chromium`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from graph.auth import mint_token
from tests.conftest import make_settings
from tests.servers import running_server

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip(
        "headless browser test needs Debian's `chromium` on PATH "
        "(apt-get install -y chromium); skipped",
        allow_module_level=True,
    )

pytestmark = pytest.mark.slow

TITLE = "Water the browser-grown basil"
QUERY = "{ tasks { edges { node { title } } } }"
STEP_TIMEOUT = 10.0  # seconds for any one wait inside a test
TEST_TIMEOUT = 15.0  # seconds for a whole test, browser start to browser stop

# Flags: headless, no sandbox (root in CI), and none of Chromium's own background traffic
# (component updates, sync, field trials): on a closed network those connections are refused.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--window-size=1280,900",
)


@dataclass
class Served:
    base: str
    token: str


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    workdir = tmp_path_factory.mktemp("playground-browser")
    database_url = f"sqlite+aiosqlite:///{workdir / 'browser.db'}"
    with running_server(workdir, DATABASE_URL=database_url) as base:
        token = mint_token(make_settings(), user_id="alice", admin=False, ttl_seconds=600)
        created = httpx.post(
            f"{base}/graphql",
            json={
                "query": "mutation($input: CreateTaskInput!) { createTask(input: $input) {"
                " ... on CreateTaskSuccess { task { title } } } }",
                "variables": {"input": {"title": TITLE}},
            },
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert created.json() == {"data": {"createTask": {"task": {"title": TITLE}}}}
        yield Served(base=base, token=token)


# --- a minimal Chrome DevTools Protocol client -------------------------------------------------


@dataclass
class Page:
    """One page target: commands by id; events are recorded as they arrive."""

    socket: ClientConnection
    events: list[dict[str, Any]] = field(default_factory=list)
    _next_id: int = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        command_id = self._next_id
        await self.socket.send(json.dumps({"id": command_id, "method": method, "params": params}))
        async with asyncio.timeout(STEP_TIMEOUT):
            while True:
                message: dict[str, Any] = json.loads(await self.socket.recv())
                if message.get("id") == command_id:
                    if "error" in message:
                        raise RuntimeError(f"{method} failed: {message['error']}")
                    result: dict[str, Any] = message.get("result", {})
                    return result
                if "method" in message:
                    self.events.append(message)

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"evaluate({expression!r}) threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, what: str) -> Any:
        """Poll `expression` until it is truthy; its value."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            value = await self.evaluate(expression)
            if value:
                return value
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; errors: {self.page_errors()}")

    async def wait_for_event(self, seen: Callable[[], bool], what: str) -> None:
        """Poll until `seen()` holds over the events recorded so far."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            await self.evaluate("0")  # a round trip: takes in the events sent before it
            if seen():
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}; errors: {self.page_errors()}")

    async def click(self, selector: str) -> None:
        """A real mouse click at the centre of the element, as a person would."""
        box = await self.wait_for(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                if (!el) return null;
                const r = el.getBoundingClientRect();
                return r.width > 0 ? {{x: r.x + r.width / 2, y: r.y + r.height / 2}} : null;
            }})()""",
            f"a visible {selector}",
        )
        for kind in ("mousePressed", "mouseReleased"):
            await self.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box["x"],
                y=box["y"],
                button="left",
                clickCount=1,
            )

    def of(self, method: str) -> list[dict[str, Any]]:
        return [event["params"] for event in self.events if event["method"] == method]

    def requested_urls(self) -> list[str]:
        return [params["request"]["url"] for params in self.of("Network.requestWillBeSent")]

    def failed_requests(self) -> list[str]:
        urls = {
            params["requestId"]: params["request"]["url"]
            for params in self.of("Network.requestWillBeSent")
        }
        return [
            f"{urls.get(params['requestId'], '?')}: {params.get('errorText')}"
            for params in self.of("Network.loadingFailed")
        ]

    def page_errors(self) -> list[str]:
        """Uncaught exceptions, console.error calls and error log entries (failed loads)."""
        errors = [
            str(
                params["exceptionDetails"].get("exception", {}).get("description")
                or params["exceptionDetails"].get("text")
            )
            for params in self.of("Runtime.exceptionThrown")
        ]
        errors += [
            " ".join(str(arg.get("value", arg.get("description"))) for arg in params["args"])
            for params in self.of("Runtime.consoleAPICalled")
            if params["type"] in ("error", "assert")
        ]
        errors += [
            f"{params['entry'].get('url', '')}: {params['entry']['text']}"
            for params in self.of("Log.entryAdded")
            if params["entry"]["level"] == "error"
        ]
        return errors


@contextlib.contextmanager
def chromium(profile: Path) -> Iterator[str]:
    """Start headless Chromium; yield its DevTools HTTP endpoint. Always killed on exit."""
    assert CHROMIUM is not None
    log = (profile.parent / "chromium.log").open("wb")
    process = subprocess.Popen(
        [
            CHROMIUM,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",  # the OS picks a free one: no race with other tests
            "about:blank",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: renderers and helpers die with it
    )
    try:
        yield _devtools_endpoint(profile, process)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        with contextlib.suppress(ProcessLookupError):  # whatever of the group is still there
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        log.close()


def _devtools_endpoint(profile: Path, process: subprocess.Popen[bytes]) -> str:
    """Chromium writes the port it bound to `DevToolsActivePort` in its profile."""
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (profile.parent / "chromium.log").read_text(errors="replace")
            raise RuntimeError(f"chromium exited {process.returncode}: {log[-2000:]}")
        lines = port_file.read_text().splitlines() if port_file.exists() else []
        if lines and lines[0].isdigit():
            return f"http://127.0.0.1:{lines[0]}"
        time.sleep(0.05)
    raise RuntimeError("chromium did not open its DevTools port")


async def _page_target(endpoint: str) -> str:
    """The WebSocket URL of Chromium's about:blank page, once it is listed."""
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            targets = (await client.get(f"{endpoint}/json/list")).json()
            pages = [t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page"]
            if pages:
                return str(pages[0])
            await asyncio.sleep(0.05)
    raise RuntimeError("chromium listed no page target")


@contextlib.asynccontextmanager
async def browser_page(tmp_path: Path) -> AsyncIterator[Page]:
    """A fresh Chromium with its one page target, Network, Runtime and Log domains on."""
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    with chromium(profile) as endpoint:
        async with connect(
            await _page_target(endpoint), max_size=None, open_timeout=STEP_TIMEOUT
        ) as socket:
            page = Page(socket)
            for domain in ("Network", "Runtime", "Log", "Page"):
                await page.call(f"{domain}.enable")
            yield page


QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_TAB = ".graphiql-editor-tools button[data-name='headers']"
HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
RESULT = ".result-window .CodeMirror"


async def open_graphiql(page: Page, base: str) -> None:
    """Load the playground and wait until it is settled: GraphiQL's execute button silently
    does nothing until both the query and the result editors exist (they are created
    asynchronously), and the schema's introspection answer re-renders the editors."""
    await page.call("Page.navigate", url=f"{base}/graphql")
    await page.wait_for(
        "!!document.querySelector('.graphiql-execute-button')"
        f" && !!document.querySelector({json.dumps(QUERY_EDITOR)})"
        f" && !!document.querySelector({json.dumps(RESULT)})",
        "GraphiQL to render its editors",
    )
    await page.wait_for_event(
        lambda: any(
            params["response"]["url"] == f"{base}/graphql" and params["type"] == "Fetch"
            for params in page.of("Network.responseReceived")
        ),
        "GraphiQL's introspection response",
    )


def _editor(selector: str) -> str:
    return f"document.querySelector({json.dumps(selector)}).CodeMirror"


# --- the tests -------------------------------------------------------------------------------


def _offsite(urls: list[str], base: str) -> list[str]:
    """Requests that did not go to our server (data:, blob: and about: stay in the browser)."""
    return [
        url[:120] for url in urls if not url.startswith((base + "/", "data:", "blob:", "about:"))
    ]


async def run_query_through_the_ui(page: Page, served: Served) -> str:
    """Type the query and the token header into GraphiQL, press execute; the result shown."""
    await open_graphiql(page, served.base)
    await page.evaluate(f"{_editor(QUERY_EDITOR)}.setValue({json.dumps(QUERY)})")
    await page.click(HEADERS_TAB)
    await page.wait_for(
        f"!!document.querySelector({json.dumps(HEADERS_TAB + '.active')})"
        f" && !!document.querySelector({json.dumps(HEADERS_EDITOR)})",
        "the headers editor",
    )
    headers = json.dumps({"Authorization": f"Bearer {served.token}"})
    await page.evaluate(f"{_editor(HEADERS_EDITOR)}.setValue({json.dumps(headers)})")
    await page.click(".graphiql-execute-button")
    try:
        shown: str = await page.wait_for(
            f"""(() => {{
                const el = document.querySelector({json.dumps(RESULT)});
                const text = el ? el.CodeMirror.getValue() : '';
                return text.includes({json.dumps(TITLE)}) ? text : null;
            }})()""",
            "the task's title in the result pane",
        )
    except AssertionError as missing:
        raise AssertionError(f"{missing}\n{await what_graphiql_did(page, served)}") from None
    return shown


async def what_graphiql_did(page: Page, served: Served) -> str:
    """For a failure message: the editors, the result pane, and each POST with its answer."""
    shown = await page.evaluate(
        f"""JSON.stringify({{
            query: {_editor(QUERY_EDITOR)}?.getValue(),
            headers: document.querySelector({json.dumps(HEADERS_EDITOR)})?.CodeMirror.getValue(),
            result: document.querySelector({json.dumps(RESULT)})?.CodeMirror.getValue(),
        }})"""
    )
    lines = [f"editors: {str(shown).replace(served.token, '<token>')}"]
    answers = {
        params["requestId"]: params["response"]["status"]
        for params in page.of("Network.responseReceived")
    }
    for params in page.of("Network.requestWillBeSent"):
        request = params["request"]
        if request["method"] != "POST":
            continue
        sent = {name.lower() for name in request["headers"]}
        body = ""
        with contextlib.suppress(RuntimeError, TimeoutError):
            body = (await page.call("Network.getResponseBody", requestId=params["requestId"]))[
                "body"
            ]
        lines.append(
            f"POST {str(request.get('postData'))[:80]!r} auth={'authorization' in sent}"
            f" -> {answers.get(params['requestId'])} {body[:200]!r}"
        )
    return "\n".join(lines)


async def test_a_query_runs_through_the_ui_with_a_token_header(
    served: Served, tmp_path: Path
) -> None:
    async with asyncio.timeout(TEST_TIMEOUT), browser_page(tmp_path) as page:
        shown = await run_query_through_the_ui(page, served)
        assert json.loads(shown) == {"data": {"tasks": {"edges": [{"node": {"title": TITLE}}]}}}

        href = await page.evaluate("location.href")
        assert served.token not in href
        assert "Authorization" not in href and "Bearer" not in href
        assert served.token not in await page.evaluate("JSON.stringify(history.state)")

        urls = page.requested_urls()
        assert f"{served.base}/graphql" in urls
        assert _offsite(urls, served.base) == [], "requests left the machine"
        assert not any(served.token in url for url in urls)
        [query_request] = [
            params["request"]
            for params in page.of("Network.requestWillBeSent")
            if params["request"]["method"] == "POST"
            and json.loads(params["request"].get("postData") or "{}").get("query") == QUERY
        ]
        sent = {name.lower(): value for name, value in query_request["headers"].items()}
        assert sent.get("authorization") == f"Bearer {served.token}", (
            "the query was not sent with the headers editor's token"
        )
        assert page.failed_requests() == []
        assert page.page_errors() == []


async def test_graphiql_loads_from_our_own_files_with_no_failed_request(
    served: Served, tmp_path: Path
) -> None:
    async with asyncio.timeout(TEST_TIMEOUT), browser_page(tmp_path) as page:
        await open_graphiql(page, served.base)  # loaded means the schema's answer too

        assert page.failed_requests() == []
        assert page.page_errors() == []
        bad = [
            f"{params['response']['status']} {params['response']['url'][:120]}"
            for params in page.of("Network.responseReceived")
            if params["response"]["status"] >= 400
        ]
        assert bad == []
        urls = page.requested_urls()
        assert _offsite(urls, served.base) == [], "requests left the machine"
        playground = f"{served.base}/playground/"
        vendor = {url.removeprefix(playground) for url in urls if url.startswith(playground)}
        assert {
            "react.production.min.js",
            "react-dom.production.min.js",
            "graphiql.min.js",
            "graphiql.min.css",
            "graphiql-plugin-explorer.umd.js",
            "graphiql-plugin-explorer.css",
        } <= vendor, f"not every asset came from {playground}"


class TokenSavedInStorage(AssertionError):
    """The bearer token found in browser storage (GraphiQL history keeps headers unless the
    page strips them)."""


async def test_the_token_is_not_saved_in_browser_storage(served: Served, tmp_path: Path) -> None:
    async with asyncio.timeout(TEST_TIMEOUT), browser_page(tmp_path) as page:
        await run_query_through_the_ui(page, served)
        stored: dict[str, dict[str, str]] = await page.evaluate(
            "({local: {...localStorage}, session: {...sessionStorage}})"
        )
        assert stored["local"], "GraphiQL saved nothing: the check would prove nothing"
        leaked = sorted(
            f"{area}Storage[{key!r}]"
            for area, items in stored.items()
            for key, value in items.items()
            if served.token in value
        )
        if leaked:
            raise TokenSavedInStorage(f"the bearer token is saved in {', '.join(leaked)}")


SUBSCRIPTION = "subscription { taskEvents { eventType task { title } } }"


async def test_a_subscription_run_as_soon_as_it_is_typed_goes_over_the_websocket(
    served: Served, tmp_path: Path
) -> None:
    # GraphiQL routes by the document it parsed from the editor, a moment after each edit:
    # run at once, a subscription went over HTTP and was refused (BAD_REQUEST).
    async with asyncio.timeout(TEST_TIMEOUT), browser_page(tmp_path) as page:
        await open_graphiql(page, served.base)
        # Typed and run in one step of the page's event loop: GraphiQL has parsed neither the
        # new document nor its operation name (the first query's, `FirstLook`) when it runs.
        await page.evaluate(
            f"{_editor(QUERY_EDITOR)}.setValue({json.dumps(SUBSCRIPTION)}); "
            "document.querySelector('.graphiql-execute-button').click()"
        )
        socket = served.base.replace("http://", "ws://") + "/graphql"
        await page.wait_for_event(
            lambda: any(p["url"] == socket for p in page.of("Network.webSocketCreated")),
            "GraphiQL's WebSocket",
        )
        posted = [
            json.loads(params["request"].get("postData") or "{}").get("query")
            for params in page.of("Network.requestWillBeSent")
            if params["request"]["method"] == "POST"
        ]
        assert SUBSCRIPTION not in posted, "the subscription went over HTTP"
        await page.wait_for_event(
            lambda: any(
                '"subscribe"' in p["response"]["payloadData"] and "taskEvents" in
                p["response"]["payloadData"] for p in page.of("Network.webSocketFrameSent")
            ),
            "the subscription sent over the socket",
        )


async def test_graphiql_opens_with_a_first_query_and_a_headers_template_that_runs(
    served: Served, tmp_path: Path
) -> None:
    """Titled Clarity Graph; the first query and the token template are there; run as they
    are the answer says to sign in (the placeholder is not sent: no 401), and with <token>
    replaced the same query answers the viewer's tasks."""
    async with asyncio.timeout(TEST_TIMEOUT), browser_page(tmp_path) as page:
        await open_graphiql(page, served.base)
        assert await page.evaluate("document.title") == "Clarity Graph"
        query = await page.evaluate(f"{_editor(QUERY_EDITOR)}.getValue()")
        assert "query FirstLook" in query and "tasks(first: 5)" in query
        template = await page.wait_for(
            f"document.querySelector({json.dumps(HEADERS_EDITOR)})?.CodeMirror.getValue()",
            "the headers editor, open with its template",
        )
        assert json.loads(template) == {"Authorization": "Bearer <token>"}
        result = f"document.querySelector({json.dumps(RESULT)}).CodeMirror.getValue()"
        await page.click(".graphiql-execute-button")
        unsigned = await page.wait_for(
            f"(() => {{ const t = {result}; return t.includes('UNAUTHENTICATED') ? t : null }})()",
            "UNAUTHENTICATED for the query run without a token",
        )
        assert "Sign in" in unsigned
        filled = template.replace("<token>", served.token)
        await page.evaluate(f"{_editor(HEADERS_EDITOR)}.setValue({json.dumps(filled)})")
        await page.click(".graphiql-execute-button")
        shown = await page.wait_for(
            f"(() => {{ const t = {result};"
            f" return t.includes({json.dumps(TITLE)}) ? t : null }})()",
            "the first query's answer with the token",
        )
        assert json.loads(shown)["data"]["viewer"]["id"] == "alice"
        statuses = [p["response"]["status"] for p in page.of("Network.responseReceived")]
        assert 401 not in statuses
        assert page.failed_requests() == []
        assert page.page_errors() == []
