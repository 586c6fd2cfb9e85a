"""An event-stream reader for graphql-sse tests (graph/http/sse.py), over httpx."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

EVENT_STREAM = "text/event-stream"
WAIT = 10.0  # seconds for any one read


class Stream:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()
        self.comments = 0  # heartbeats seen

    async def event(self) -> tuple[str, Any] | None:
        """The next event as (kind, decoded data); None when the stream ended."""
        kind, data = "", ""
        async for line in self.lines:
            if line.startswith(":"):
                self.comments += 1
            elif line.startswith("event:"):
                kind = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                data += line.partition(":")[2].strip()
            elif line == "" and kind:
                return kind, json.loads(data) if data else None
        return None

    async def all(self) -> list[tuple[str, Any]]:
        events = []
        while (received := await self.event()) is not None:
            events.append(received)
            if received[0] == "complete":
                break
        return events


@contextlib.asynccontextmanager
async def stream(base: str, bearer: str | None = None, *, body: Any = None,
                 params: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> AsyncIterator[Stream]:
    """An event stream of /graphql: POST `body` (JSON), or GET with `params`."""
    sent = {"Accept": EVENT_STREAM, **(headers or {})}
    if bearer is not None:
        sent["Authorization"] = f"Bearer {bearer}"
    async with httpx.AsyncClient(timeout=WAIT) as client:
        request = client.build_request(
            "POST" if body is not None else "GET", f"{base}/graphql",
            json=body, params=params, headers=sent,
        )
        response = await client.send(request, stream=True)
        try:
            yield Stream(response)
        finally:
            await response.aclose()


async def first_errors(base: str, bearer: str | None, body: Any) -> list[dict[str, Any]]:
    """The errors of a stream's first `next` (a refusal), which must then complete."""
    async with stream(base, bearer, body=body) as opened:
        assert opened.response.status_code == 200, await opened.response.aread()
        events = await opened.all()
    assert [kind for kind, _ in events] == ["next", "complete"], events
    errors: list[dict[str, Any]] = events[0][1]["errors"]
    return errors
