"""The example web client (examples/web) in a real browser, served from its own origin.

The built app (`examples/web/dist`, Apollo Client 4 and graphql-ws) is served by a tiny static
server on one port, a real `clarity-graph serve` on another with that origin in
`CORS_ORIGINS`, and headless Chromium (Debian's `chromium`) is driven over the DevTools
protocol, as in tests/graph/test_playground_browser.py. Through the page's own controls it
signs in with a development token, pages tasks with fetchMore, creates and completes a task,
sees the taskChanges deliveries and a chat reply arrive over the WebSocket, reads a
NotFoundError's code through possibleTypes and the X-Request-Id response header. The same
build served from a third port, not in `CORS_ORIGINS`, is refused over HTTP and WebSocket.

The cache tests read the task list as shown (the DOM, never logs) while tasks are created,
completed and deleted in the tab, in a second tab of the same browser, and over HTTP by the
test: each change is inserted, moved (the list is ordered by UPDATED_AT) or removed, with the
right totalCount, without the list being fetched again; without the socket the tab's own
changes still show, and after a dropped socket comes back the list catches up.

Skipped when `chromium` is not on PATH or the app is not built (CI builds it first:
`(cd examples/web && npm ci && npm run check && npm run build)`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import http.server
import json
import os
import shutil
import signal
import subprocess
import threading
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
from tests.servers import free_port, running_server

DIST = Path(__file__).resolve().parent.parent / "examples" / "web" / "dist"
CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip(
        "the web client test needs Debian's `chromium` on PATH (apt-get install -y chromium)",
        allow_module_level=True,
    )
if not (DIST / "index.html").is_file():
    pytest.skip(
        f"the web client is not built ({DIST / 'index.html'} is missing): run "
        "`(cd examples/web && npm ci && npm run build)`",
        allow_module_level=True,
    )

pytestmark = pytest.mark.slow

USER = "web-alice"
SEEDED = [f"Seeded task {n}" for n in range(1, 6)]  # created in this order: newest is last
PAGE_SIZE = 2
NEW_TITLE = "Water the web-grown basil"
MISSING_TASK_ID = base64.b64encode(b"Task:999999").decode()
STEP_TIMEOUT = 10.0  # seconds for any one wait
TEST_TIMEOUT = 45.0  # seconds for a whole test, browser start to browser stop

# As in test_playground_browser: headless, no sandbox (root in CI), no background traffic.
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
    # Two tabs at once: the one in the background must run its timers and sockets as usual.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
)


# --- the app's origin: dist/ from a static server on its own port ----------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return None


class _StaticServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None  # a browser closing its connections early is not our failure


@contextlib.contextmanager
def static_origin(directory: Path) -> Iterator[str]:
    """Serve `directory` on a free port of 127.0.0.1; yield the origin."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = _StaticServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="web-client-static", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@dataclass
class Stack:
    api: str  # the API's base URL
    app: str  # the app's origin, in CORS_ORIGINS
    foreign: str  # the same app from an origin that is not
    token: str


def _graphql(api: str, token: str, query: str, variables: dict[str, Any]) -> Any:
    answer = httpx.post(
        f"{api}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return answer.json()


def token_for(user: str) -> str:
    return mint_token(make_settings(), user_id=user, admin=False, ttl_seconds=600)


CREATE_TASK = (
    "mutation($title: String!) { createTask(input: {title: $title}) {"
    " ... on CreateTaskSuccess { task { id title } } } }"
)
COMPLETE_TASK = (
    "mutation($id: ID!) { setTaskStatus(input: {id: $id, status: COMPLETED}) {"
    " ... on SetTaskStatusSuccess { task { id status } } } }"
)
DELETE_TASK = (
    "mutation($id: ID!) { deleteTask(input: {id: $id}) {"
    " ... on DeleteTaskSuccess { deletedId } } }"
)


def seed_tasks(api: str, token: str, titles: list[str]) -> dict[str, str]:
    """Create the tasks in this order (the last is the newest); their ids by title."""
    ids = {}
    for title in titles:
        created = _graphql(api, token, CREATE_TASK, {"title": title})
        ids[title] = created["data"]["createTask"]["task"]["id"]
    return ids


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    workdir = tmp_path_factory.mktemp("web-client")
    database_url = f"sqlite+aiosqlite:///{workdir / 'web.db'}"
    with (
        static_origin(DIST) as app,
        static_origin(DIST) as foreign,
        running_server(workdir, CORS_ORIGINS=app, DATABASE_URL=database_url) as api,
    ):
        token = token_for(USER)
        assert list(seed_tasks(api, token, SEEDED)) == SEEDED
        yield Stack(api=api, app=app, foreign=foreign, token=token)


# --- a minimal Chrome DevTools Protocol client (as in test_playground_browser) ----------------


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
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out after {STEP_TIMEOUT} s waiting for {what}")

    async def wait_for_event(self, seen: Callable[[], bool], what: str) -> None:
        """Poll until `seen()` holds over the events recorded so far."""
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            await self.evaluate("0")  # a round trip: takes in the events sent before it
            if seen():
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out after {STEP_TIMEOUT} s waiting for {what}")

    async def text(self, selector: str) -> str:
        value = await self.evaluate(
            f"document.querySelector({json.dumps(selector)})?.textContent ?? ''"
        )
        return str(value)

    async def texts(self, selector: str) -> list[str]:
        value = await self.evaluate(
            f"[...document.querySelectorAll({json.dumps(selector)})].map(e => e.textContent)"
        )
        return [str(item) for item in value]

    async def wait_for_text(self, selector: str, check: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + STEP_TIMEOUT
        shown = ""
        while time.monotonic() < deadline:
            shown = await self.text(selector)
            if check(shown):
                return shown
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; {selector} shows {shown!r}")

    async def fill(self, selector: str, value: str) -> None:
        """Set a field's value as typing would (the page reads it when a button is pressed)."""
        found = await self.evaluate(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                if (!el) return false;
                el.focus();
                el.value = {json.dumps(value)};
                el.dispatchEvent(new Event('input', {{bubbles: true}}));
                return true;
            }})()"""
        )
        assert found, f"no {selector} on the page"

    async def click(self, selector: str) -> None:
        """A real mouse click at the centre of the element, once it is enabled."""
        box = await self.wait_for(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                if (!el || el.disabled) return null;
                el.scrollIntoView({{block: 'center'}});
                const r = el.getBoundingClientRect();
                return r.width > 0 ? {{x: r.x + r.width / 2, y: r.y + r.height / 2}} : null;
            }})()""",
            f"an enabled, visible {selector}",
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

    def graphql_posts(self, api: str) -> list[dict[str, Any]]:
        """requestWillBeSent of each POST to the API, with its body parsed."""
        posts = []
        for params in self.of("Network.requestWillBeSent"):
            request = params["request"]
            if request["method"] == "POST" and request["url"] == f"{api}/graphql":
                posts.append({**params, "body": json.loads(request.get("postData") or "{}")})
        return posts

    def response_to(self, request_id: str) -> dict[str, Any] | None:
        for params in self.of("Network.responseReceived"):
            if params["requestId"] == request_id:
                response: dict[str, Any] = params["response"]
                return response
        return None

    def frames(self, direction: str) -> list[Any]:
        """The WebSocket text frames the page sent or received, parsed."""
        method = "Network.webSocketFrameSent" if direction == "sent" else (
            "Network.webSocketFrameReceived"
        )
        parsed = []
        for params in self.of(method):
            with contextlib.suppress(ValueError):
                parsed.append(json.loads(params["response"]["payloadData"]))
        return parsed

    def page_errors(self) -> list[str]:
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
        return errors

    def network_log(self) -> list[str]:
        """Every request with its answer or failure, and every WebSocket event, in order."""
        lines = []
        for event in self.events:
            method, params = event["method"], event["params"]
            if method == "Network.requestWillBeSent":
                request = params["request"]
                lines.append(
                    f"-> {request['method']} {request['url'][:100]}"
                    f" {str(request.get('postData') or '')[:100]}"
                )
            elif method == "Network.responseReceived":
                response = params["response"]
                lines.append(f"<- {response['status']} {response['url'][:100]}")
            elif method == "Network.loadingFailed":
                lines.append(
                    f"xx {params.get('errorText')} {params.get('corsErrorStatus') or ''}"
                    f" {params.get('blockedReason') or ''}"
                )
            elif method.startswith("Network.webSocket"):
                detail = params.get("url") or params.get("errorMessage") or ""
                response = params.get("response") or {}
                detail = detail or response.get("payloadData") or response.get("status") or ""
                lines.append(f"ws {method.removeprefix('Network.webSocket')} {str(detail)[:160]}")
        return lines


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
            "--remote-debugging-port=0",  # the OS picks a free one
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
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        log.close()


def _devtools_endpoint(profile: Path, process: subprocess.Popen[bytes]) -> str:
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
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            targets = (await client.get(f"{endpoint}/json/list")).json()
            pages = [t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page"]
            if pages:
                return str(pages[0])
            await asyncio.sleep(0.05)
    raise RuntimeError("chromium listed no page target")


async def _new_tab(endpoint: str) -> str:
    async with httpx.AsyncClient(timeout=5, trust_env=False) as client:
        opened = await client.put(f"{endpoint}/json/new?about:blank")
        opened.raise_for_status()
        return str(opened.json()["webSocketDebuggerUrl"])


@contextlib.asynccontextmanager
async def _attached(target: str) -> AsyncIterator[Page]:
    async with connect(target, max_size=None, open_timeout=STEP_TIMEOUT) as socket:
        page = Page(socket)
        for domain in ("Network", "Runtime", "Page"):
            await page.call(f"{domain}.enable")
        yield page


@contextlib.asynccontextmanager
async def browser_tabs(tmp_path: Path, count: int) -> AsyncIterator[list[Page]]:
    """`count` tabs of one browser (one profile: as a person's two tabs)."""
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    with chromium(profile) as endpoint:
        targets = [await _page_target(endpoint)]
        targets += [await _new_tab(endpoint) for _ in range(count - 1)]
        async with contextlib.AsyncExitStack() as tabs:
            yield [await tabs.enter_async_context(_attached(target)) for target in targets]


@contextlib.asynccontextmanager
async def browser_page(tmp_path: Path) -> AsyncIterator[Page]:
    async with browser_tabs(tmp_path, 1) as [page]:
        yield page


# --- driving the app -------------------------------------------------------------------------

SHOWN = (
    "status", "socket", "request-id", "tasks", "task-count", "created", "task-result", "events",
    "not-found-code", "not-found-id", "conversation", "messages", "reply", "errors",
)


async def what_the_page_showed(page: Page, token: str) -> str:
    """For a failure message: each output element's text, page errors and the network log."""
    try:
        shown = await page.evaluate(
            "JSON.stringify(Object.fromEntries("
            f"{json.dumps(SHOWN)}.map(id => [id, document.getElementById(id)?.innerText])))"
        )
    except (RuntimeError, TimeoutError) as failed:
        shown = f"(could not read the page: {failed})"
    lines = [f"page: {shown}", f"page errors: {page.page_errors()}", "network:"]
    lines += [f"  {line}" for line in page.network_log()]
    return "\n".join(lines).replace(token, "<token>")


@contextlib.asynccontextmanager
async def explained(page: Page, token: str) -> AsyncIterator[None]:
    """An assertion failing inside is re-raised with what the page showed and its traffic."""
    try:
        yield
    except (AssertionError, TimeoutError) as failure:
        detail = await what_the_page_showed(page, token)
        raise AssertionError(f"{failure or type(failure).__name__}\n{detail}") from None


def equals(expected: str) -> Callable[[str], bool]:
    return lambda shown: shown == expected


async def sign_in(
    page: Page, origin: str, stack: Stack, *, token: str | None = None,
    page_size: int = PAGE_SIZE, open_only: bool = False,
) -> None:
    """Open the app, type the API endpoint, the page size and the token, press Sign in."""
    await page.call("Page.navigate", url=f"{origin}/")
    await page.wait_for(
        "document.readyState === 'complete' && !!document.querySelector('#sign-in')",
        "the app to load",
    )
    await page.fill("#api-url", f"{stack.api}/graphql")
    await page.fill("#page-size", str(page_size))
    if open_only:
        await page.click("#open-only")
    await page.fill("#token", token or stack.token)
    await page.click("#sign-in")


def pending(*titles: str) -> list[str]:
    return [f"{title} (PENDING)" for title in titles]


def completed(title: str) -> str:
    return f"{title} (COMPLETED)"


async def shown_list(page: Page) -> dict[str, Any]:
    """The task list as shown: each row's text and checkbox, and the count line."""
    shown: dict[str, Any] = await page.evaluate(
        """({
            rows: [...document.querySelectorAll('#tasks li')].map(li => ({
                text: li.querySelector('.task').textContent,
                checked: li.querySelector('input[type=checkbox]').checked,
            })),
            count: document.querySelector('#task-count').textContent,
        })"""
    )
    return shown


async def wait_for_list(page: Page, rows: list[str], count: str, what: str) -> None:
    """Until the list shows exactly these rows, ticked when completed, and this count."""
    expected = {
        "rows": [{"text": row, "checked": row.endswith("(COMPLETED)")} for row in rows],
        "count": count,
    }
    deadline = time.monotonic() + STEP_TIMEOUT
    shown = await shown_list(page)
    while shown != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        shown = await shown_list(page)
    assert shown == expected, f"{what}: the list shows {shown}, not {expected}"


async def wait_for_delivery(page: Page, kind: str, task_id: str) -> None:
    """Until the page has taken in this taskChanges delivery (it lists each one in #events,
    after applying it to the cache)."""
    await page.wait_for(
        f"!!document.querySelector('#events li[data-kind=\"{kind}\"]"
        f"[data-task-id=\"{task_id}\"]')",
        f"the {kind} delivery for {task_id}",
    )


async def click_row(page: Page, task_id: str, action: str) -> None:
    await page.click(f'#tasks li[data-id="{task_id}"] button[data-action="{action}"]')


def operations_posted(page: Page, api: str) -> list[str]:
    return [post["body"].get("operationName") for post in page.graphql_posts(api)]


async def over_http(api: str, token: str, query: str, variables: dict[str, Any]) -> Any:
    """A change made by the test as the same user, as another device would."""
    return await asyncio.to_thread(_graphql, api, token, query, variables)


FIRST_PAGE = SEEDED[:1:-1]  # Seeded task 5, 4, 3: the most recently changed first
# The list once NEW_TITLE is created and Seeded task 3 (the last shown) completed.
MOVED = [completed("Seeded task 3"), *pending(NEW_TITLE, "Seeded task 5", "Seeded task 4")]


@contextlib.asynccontextmanager
async def seeded_tabs(
    stack: Stack, tmp_path: Path, user: str, *, tabs: int = 1, open_only: bool = False,
    script: str = "",
) -> AsyncIterator[tuple[list[Page], dict[str, str]]]:
    """`user` with the SEEDED tasks (their ids by title), signed in on `tabs` tabs of one
    browser, each showing the first 3 tasks, its socket connected unless `script` (run in each
    tab before the app) says otherwise. A failure inside tells what each tab showed."""
    token = token_for(user)
    ids = await asyncio.to_thread(seed_tasks, stack.api, token, SEEDED)
    async with (
        asyncio.timeout(TEST_TIMEOUT),
        browser_tabs(tmp_path, tabs) as pages,
        contextlib.AsyncExitStack() as explaining,
    ):
        for page in pages:
            await explaining.enter_async_context(explained(page, token))
            if script:
                await page.call("Page.addScriptToEvaluateOnNewDocument", source=script)
            await sign_in(page, stack.app, stack, token=token, page_size=3, open_only=open_only)
            await wait_for_list(page, pending(*FIRST_PAGE), "3 of 5", "the first page")
            if not script:
                await page.wait_for_text("#socket", equals("connected"), "the socket")
        yield pages, ids


async def nothing_failed(page: Page) -> None:
    assert await page.texts("#errors li") == []
    assert page.page_errors() == []


# --- the tests -------------------------------------------------------------------------------


async def test_the_app_on_its_own_origin_uses_http_and_the_socket(
    stack: Stack, tmp_path: Path
) -> None:
    async with (
        asyncio.timeout(TEST_TIMEOUT),
        browser_page(tmp_path) as page,
        explained(page, stack.token),
    ):
        await sign_in(page, stack.app, stack)
        await page.wait_for_text("#status", equals(f"signed in as {USER}"), "the sign-in")
        await page.wait_for_text("#socket", equals("connected"), "the socket to connect")

        # The X-Request-Id of the sign-in query, read by the page, is what the server sent.
        shown_id = await page.wait_for_text("#request-id", bool, "the request id")
        [viewer_post] = [
            post for post in page.graphql_posts(stack.api)
            if post["body"].get("operationName") == "Viewer"
        ]
        response = page.response_to(viewer_post["requestId"])
        assert response is not None
        sent = {name.lower(): value for name, value in response["headers"].items()}
        assert shown_id == sent["x-request-id"]
        assert len(shown_id) >= 16

        # The preflight allowed this origin and the Authorization header.
        preflights = [
            params for params in page.of("Network.requestWillBeSent")
            if params["request"]["method"] == "OPTIONS"
        ]
        assert preflights, "no CORS preflight: is the app on its own origin?"
        allowed = page.response_to(preflights[0]["requestId"])
        assert allowed is not None and allowed["status"] == 200
        allowed_headers = {name.lower(): v for name, v in allowed["headers"].items()}
        assert allowed_headers["access-control-allow-origin"] == stack.app
        assert "authorization" in allowed_headers["access-control-allow-headers"].lower()

        # The token went as the Authorization header over HTTP.
        headers = {name.lower(): value for name, value in viewer_post["request"]["headers"].items()}
        assert headers.get("authorization") == f"Bearer {stack.token}"

        # Pages of tasks with fetchMore, newest first, merged into one list.
        newest_first = SEEDED[::-1]
        for shown_count in (2, 4, 5):
            if shown_count > PAGE_SIZE:
                await page.click("#more")
            expected = f"{shown_count} of {len(SEEDED)}"
            await page.wait_for_text("#task-count", equals(expected), expected)
            titles = await page.texts("#tasks li .task")
            assert titles == [f"{title} (PENDING)" for title in newest_first[:shown_count]]
        assert await page.evaluate("document.querySelector('#more').disabled") is True
        pages = [
            post["body"]["variables"] for post in page.graphql_posts(stack.api)
            if post["body"].get("operationName") == "TaskPage"
        ]
        assert [variables.get("first") for variables in pages] == [PAGE_SIZE] * 3
        assert pages[0].get("after") is None
        assert all(variables.get("after") for variables in pages[1:]), "fetchMore sent no cursor"

        # A conversation, its messageAdded subscription started early (see the chat below).
        await page.click("#chat-start")
        await page.wait_for("document.querySelector('#conversation').dataset.id", "a conversation")

        # A NotFoundError's code, read through `... on UserError` (possibleTypes).
        await page.click("#not-found")
        await page.wait_for_text("#not-found-code", bool, "the NotFoundError's code")
        assert await page.text("#not-found-code") == "NOT_FOUND"
        assert await page.text("#not-found-id") == MISSING_TASK_ID

        # A payload error: an empty title is a ValidationError, shown by its code.
        await page.fill("#new-title", "")
        await page.click("#create")
        await page.wait_for_text(
            "#task-result", lambda s: s.startswith("VALIDATION_ERROR: "), "the ValidationError"
        )

        # Create a task and complete it.
        await page.fill("#new-title", NEW_TITLE)
        await page.click("#create")
        await page.wait_for_text("#created", equals(f"{NEW_TITLE} (PENDING)"), "creation")
        await page.click("#complete")
        await page.wait_for_text("#created", equals(f"{NEW_TITLE} (COMPLETED)"), "completion")

        # Both changes arrived live as taskChanges deliveries.
        events = await page.wait_for(
            """(() => {
                const items = [...document.querySelectorAll('#events li')];
                return items.length >= 2 ? items.map(li => li.textContent) : null;
            })()""",
            "two taskChanges deliveries",
        )
        assert events == [f"CREATED PENDING {NEW_TITLE}", f"STATUS_CHANGED COMPLETED {NEW_TITLE}"]

        # A chat message; the assistant's reply is shown as it arrives over the socket.
        await page.fill("#chat-input", "help")
        await page.click("#chat-send")
        reply = await page.wait_for_text("#reply", bool, "the assistant's reply")
        delivered = [
            frame["payload"]["data"]["messageAdded"]
            for frame in page.frames("received")
            if frame.get("type") == "next" and "messageAdded" in frame["payload"].get("data", {})
        ]
        assert [(m["role"], m["content"]) for m in delivered] == [
            ("USER", "help"),
            ("ASSISTANT", reply),
        ], "the reply shown did not come over the WebSocket"
        [send_post] = [
            post for post in page.graphql_posts(stack.api)
            if post["body"].get("operationName") == "SendMessage"
        ]
        assert "reply" not in send_post["body"]["query"]

        # The socket: one, opened from this origin, with the token in connection_init only.
        [created_socket] = page.of("Network.webSocketCreated")
        assert created_socket["url"] == stack.api.replace("http://", "ws://") + "/graphql"
        [handshake] = page.of("Network.webSocketHandshakeResponseReceived")
        assert handshake["response"]["status"] == 101
        [init] = [frame for frame in page.frames("sent") if frame.get("type") == "connection_init"]
        assert init["payload"] == {"authorization": f"Bearer {stack.token}"}

        # Nothing failed, and the token is in no URL and no storage.
        assert await page.texts("#errors li") == []
        assert page.page_errors() == []
        assert page.of("Network.loadingFailed") == []
        urls = [params["request"]["url"] for params in page.of("Network.requestWillBeSent")]
        assert not any(stack.token in url for url in [*urls, created_socket["url"]])
        assert stack.token not in await page.evaluate("location.href")
        stored = await page.evaluate("JSON.stringify([{...localStorage}, {...sessionStorage}])")
        assert stack.token not in stored


async def test_a_foreign_origin_is_refused_over_http_and_the_socket(
    stack: Stack, tmp_path: Path
) -> None:
    async with (
        asyncio.timeout(TEST_TIMEOUT),
        browser_page(tmp_path) as page,
        explained(page, stack.token),
    ):
        await sign_in(page, stack.foreign, stack)
        await page.wait_for_text("#status", equals("sign-in failed"), "the refusal")
        await page.wait_for(
            "!!document.querySelector('#errors li[data-where=\"WebSocket\"]')",
            "the socket's refusal in #errors",
        )
        errors = await page.texts("#errors li")
        assert "HTTP Viewer: TypeError: Failed to fetch" in errors
        assert any(error.startswith("WebSocket: Error: the socket closed 1006") for error in errors)

        # HTTP: the preflight got no Access-Control-Allow-Origin, so the POST never went out.
        [viewer_post] = [
            post for post in page.graphql_posts(stack.api)
            if post["body"].get("operationName") == "Viewer"
        ]
        assert page.response_to(viewer_post["requestId"]) is None
        [refused] = [
            params for params in page.of("Network.loadingFailed")
            if params["requestId"] == viewer_post["requestId"]
        ]
        assert (refused.get("corsErrorStatus") or {}).get("corsError"), refused
        for preflight in page.of("Network.responseReceived"):
            if preflight["response"]["url"] == f"{stack.api}/graphql":
                answered = {name.lower() for name in preflight["response"]["headers"]}
                assert "access-control-allow-origin" not in answered

        # WebSocket: the server refused the handshake from this origin (403, never 101).
        assert page.of("Network.webSocketCreated"), "the page opened no WebSocket"
        statuses = [
            params["response"]["status"]
            for params in page.of("Network.webSocketHandshakeResponseReceived")
        ]
        assert 101 not in statuses
        handshake_errors = [params["errorMessage"] for params in page.of(
            "Network.webSocketFrameError"
        )]
        assert any("403" in error for error in handshake_errors), handshake_errors
        assert page.frames("received") == []
        assert await page.text("#tasks") == ""


async def test_the_list_follows_this_tabs_create_complete_and_delete(
    stack: Stack, tmp_path: Path
) -> None:
    async with seeded_tabs(stack, tmp_path, "web-bob") as ([page], ids):
        # Created: at the top (the most recently changed), counted once although it arrives
        # twice (the mutation's answer and the taskChanges delivery).
        await page.fill("#new-title", NEW_TITLE)
        await page.click("#create")
        created = pending(NEW_TITLE, *FIRST_PAGE)
        await wait_for_list(page, created, "4 of 6", "the created task")
        new_id = await page.evaluate("document.querySelector('#created').dataset.id")
        await wait_for_delivery(page, "CREATED", new_id)
        await wait_for_list(page, created, "4 of 6", "the created task, delivered")

        # Completed: the last task shown moves to the top, ticked.
        await click_row(page, ids["Seeded task 3"], "complete")
        await wait_for_list(page, MOVED, "4 of 6", "the completed task")
        await wait_for_delivery(page, "UPDATED", ids["Seeded task 3"])
        await wait_for_list(page, MOVED, "4 of 6", "the completed task, delivered")

        # Deleted: gone, counted once.
        await click_row(page, ids["Seeded task 4"], "delete")
        await wait_for_list(page, MOVED[:3], "3 of 5", "the deleted task")
        await wait_for_delivery(page, "DELETED", ids["Seeded task 4"])
        await wait_for_list(page, MOVED[:3], "3 of 5", "the deleted task, delivered")

        # The next page follows the server's cursor, not the moved task's old place.
        await page.click("#more")
        await wait_for_list(
            page, [*MOVED[:3], *pending("Seeded task 2", "Seeded task 1")], "5 of 5", "page two"
        )
        assert await page.evaluate("document.querySelector('#more').disabled") is True
        # The cache was kept right, never refetched: one TaskPage and fetchMore's.
        assert operations_posted(page, stack.api) == [
            "Viewer", "TaskPage", "CreateTask", "SetTaskStatus", "DeleteTask", "TaskPage",
        ]
        await nothing_failed(page)


async def test_another_tabs_changes_arrive_through_task_changes(
    stack: Stack, tmp_path: Path
) -> None:
    async with seeded_tabs(stack, tmp_path, "web-carol", tabs=2) as ([watching, other], ids):
        await other.fill("#new-title", NEW_TITLE)
        await other.click("#create")
        await wait_for_list(
            watching, pending(NEW_TITLE, *FIRST_PAGE), "4 of 6", "the other tab's creation"
        )
        await click_row(other, ids["Seeded task 3"], "complete")
        await wait_for_list(watching, MOVED, "4 of 6", "the other tab's completion")
        await click_row(other, ids["Seeded task 4"], "delete")
        await wait_for_list(watching, MOVED[:3], "3 of 5", "the other tab's deletion")

        # Over HTTP, as the same user: tasks neither tab has loaded.
        token = token_for("web-carol")
        await over_http(stack.api, token, DELETE_TASK, {"id": ids["Seeded task 1"]})
        await wait_for_list(watching, MOVED[:3], "3 of 4", "a deletion of a task not shown")
        await over_http(stack.api, token, COMPLETE_TASK, {"id": ids["Seeded task 2"]})
        everything = [completed("Seeded task 2"), *MOVED[:3]]
        await wait_for_list(watching, everything, "4 of 4", "a completion of a task not shown")
        await wait_for_list(other, everything, "4 of 4", "the other tab, after its own changes")

        await watching.click("#more")  # nothing is left past the loaded pages
        await watching.wait_for("document.querySelector('#more').disabled", "More disabled")
        await wait_for_list(watching, everything, "4 of 4", "after More")
        # Every change reached the watching tab over the socket: it sent no mutation and never
        # fetched the list again (one TaskPage, and More's).
        assert operations_posted(watching, stack.api) == ["Viewer", "TaskPage", "TaskPage"]
        for tab in (watching, other):
            await nothing_failed(tab)


async def test_an_open_tasks_list_drops_a_completed_task_and_asks_when_it_cannot_tell(
    stack: Stack, tmp_path: Path
) -> None:
    async with seeded_tabs(stack, tmp_path, "web-dave", open_only=True) as ([page], ids):
        await click_row(page, ids["Seeded task 4"], "complete")
        await wait_for_list(page, pending("Seeded task 5", "Seeded task 3"), "2 of 4", "completed")
        await wait_for_delivery(page, "UPDATED", ids["Seeded task 4"])
        await wait_for_list(page, pending("Seeded task 5", "Seeded task 3"), "2 of 4", "delivered")

        await page.fill("#new-title", NEW_TITLE)
        await page.click("#create")
        shown = pending(NEW_TITLE, "Seeded task 5", "Seeded task 3")
        await wait_for_list(page, shown, "3 of 5", "the created task")
        assert operations_posted(page, stack.api).count("TaskPage") == 1

        # A task past the loaded pages completed elsewhere: was it open? Only the server
        # knows, so the list is fetched again (its first page).
        token = token_for("web-dave")
        await over_http(stack.api, token, COMPLETE_TASK, {"id": ids["Seeded task 1"]})
        await wait_for_list(page, shown, "3 of 4", "the list fetched again")
        assert operations_posted(page, stack.api).count("TaskPage") == 2

        # A task shown, deleted elsewhere: known without asking.
        await over_http(stack.api, token, DELETE_TASK, {"id": ids["Seeded task 5"]})
        await wait_for_list(page, pending(NEW_TITLE, "Seeded task 3"), "2 of 3", "the deletion")
        assert operations_posted(page, stack.api).count("TaskPage") == 2
        await nothing_failed(page)


async def test_without_the_socket_the_tabs_own_changes_still_show(
    stack: Stack, tmp_path: Path
) -> None:
    # A proxy that breaks WebSockets: no taskChanges, so each mutation's own answer must do.
    # The page's sockets are sent to a port nobody listens on (refused, as such a proxy does).
    nowhere = json.dumps(f"ws://127.0.0.1:{free_port()}/")
    refused = (
        "window.WebSocket = class extends WebSocket {"
        f" constructor(url, protocols) {{ super({nowhere}, protocols); }} }};"
    )
    async with seeded_tabs(stack, tmp_path, "web-erin", script=refused) as ([page], ids):
        await page.fill("#new-title", NEW_TITLE)
        await page.click("#create")
        await wait_for_list(page, pending(NEW_TITLE, *FIRST_PAGE), "4 of 6", "the creation")
        await click_row(page, ids["Seeded task 3"], "complete")
        await wait_for_list(page, MOVED, "4 of 6", "the completion")
        await click_row(page, ids["Seeded task 4"], "delete")
        await wait_for_list(page, MOVED[:3], "3 of 5", "the deletion")

        assert page.frames("received") == []
        assert await page.texts("#events li") == []
        assert operations_posted(page, stack.api).count("TaskPage") == 1
        assert await page.text("#socket") != "connected"
        errors = await page.texts("#errors li")
        assert errors and all(error.startswith("WebSocket") for error in errors), errors


@dataclass
class Relay:
    """A TCP relay to the API: the page talks to the API through it, and `cut()` drops every
    connection it carries, as a network blip or a proxy's restart does."""

    url: str
    carried: set[asyncio.StreamWriter] = field(default_factory=set)

    def cut(self) -> None:
        for writer in list(self.carried):
            writer.transport.abort()


@contextlib.asynccontextmanager
async def relay_to(api: str) -> AsyncIterator[Relay]:
    target = httpx.URL(api)

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.transport.abort()

    async def carry(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection(target.host, target.port)
        relay.carried.update({writer, upstream_writer})
        try:
            await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))
        finally:
            relay.carried.difference_update({writer, upstream_writer})

    server = await asyncio.start_server(carry, "127.0.0.1", 0)
    relay = Relay(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}")
    async with server:
        yield relay
        relay.cut()


async def test_after_the_socket_comes_back_the_list_catches_up(
    stack: Stack, tmp_path: Path
) -> None:
    # Changes made while the socket was down are never delivered: once graphql-ws has
    # reconnected, the list is fetched again.
    token = token_for("web-frank")
    async with relay_to(stack.api) as relay:
        through_relay = Stack(relay.url, stack.app, stack.foreign, stack.token)
        async with seeded_tabs(through_relay, tmp_path, "web-frank") as ([page], ids):
            relay.cut()
            await page.wait_for_text("#socket", lambda s: s.startswith("closed"), "the drop")
            await over_http(stack.api, token, DELETE_TASK, {"id": ids["Seeded task 5"]})
            await over_http(stack.api, token, CREATE_TASK, {"title": NEW_TITLE})

            await page.wait_for_text("#socket", equals("connected"), "the socket back")
            await wait_for_list(
                page, pending(NEW_TITLE, "Seeded task 4", "Seeded task 3"), "3 of 5", "caught up"
            )
            assert operations_posted(page, relay.url).count("TaskPage") == 2
            assert await page.texts("#events li") == []
            assert await page.texts("#errors li") == [
                "WebSocket: Error: the socket closed 1006"
            ]
