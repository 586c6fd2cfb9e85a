"""A fake OpenAI-compatible server over real HTTP: scripted chat completions, with tool
calls and usage figures as the real API sends them (streamed as server-sent events when the
request asks), refusals with Retry-After, refused `response_format` types, and every request
recorded.

It runs uvicorn in a thread of its own, so an app in the test's event loop and a server in
another process reach it alike, through the OpenAI wire protocol only.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.servers import free_port


def tool_call(name: str, **arguments: Any) -> dict[str, Any]:
    """One entry of a message's `tool_calls`, its arguments as JSON text like the API's."""
    return {"type": "function", "function": {"name": name, "arguments": json.dumps(arguments)}}


def calls(*entries: dict[str, Any], tokens: int = 50) -> dict[str, Any]:
    """A reply whose message calls tools."""
    return {"message": {"role": "assistant", "content": None, "tool_calls": list(entries)},
            "tokens": tokens}


def says(text: str, *, tokens: int = 30, pace: float = 0.0) -> dict[str, Any]:
    """A reply whose message answers in text; streamed, a word each `pace` seconds."""
    return {"message": {"role": "assistant", "content": text}, "tokens": tokens, "pace": pace}


def fails(status: int = 500, *, retry_after: str | None = "0", body: str | None = None
          ) -> dict[str, Any]:
    """A refusal with `status`: by default asking to be retried at once (Retry-After: 0), so
    retries cost no time; None sends no Retry-After (the client backs off on its own)."""
    return {"status": status, "retry_after": retry_after, "body": body}


@dataclass
class FakeOpenAI:
    base_url: str = ""
    script: list[dict[str, Any]] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # `response_format` types this endpoint refuses with HTTP 400, as some local servers do
    # ("json_schema", "json_object").
    refused_formats: set[str] = field(default_factory=set)

    def answer(self, *replies: dict[str, Any], refusing: tuple[str, ...] = ()) -> None:
        """Script the next replies, in order; requests past the script get HTTP 500. A request
        whose `response_format` is refused is answered 400 and takes no reply."""
        with self._lock:
            self.script = list(replies)
            self.requests.clear()
            self.refused_formats = set(refusing)

    def take(self, body: dict[str, Any]) -> tuple[dict[str, Any] | None, int]:
        with self._lock:
            self.requests.append(body)
            form = (body.get("response_format") or {}).get("type")
            if form in self.refused_formats:
                return {"status": 400, "retry_after": None,
                        "body": f"response_format {form} is not supported"}, next(self._ids)
            reply = self.script.pop(0) if self.script else None
            return reply, next(self._ids)

    def tool_results(self, request: int) -> list[dict[str, Any]]:
        """The tool messages the agent sent back in request number `request` (0-based)."""
        return [json.loads(m["content"]) for m in self.requests[request]["messages"]
                if m["role"] == "tool"]

    async def endpoint(self, request: Request) -> Response:
        reply, number = self.take(await request.json())
        headers = {"x-request-id": f"req_{number}"}
        if reply is None or "message" not in reply:
            status = 500 if reply is None else int(reply["status"])
            if reply is None or reply.get("retry_after") is not None:
                headers["retry-after"] = "0" if reply is None else str(reply["retry_after"])
            message = (reply or {}).get("body") or "scripted failure"
            return JSONResponse({"error": {"message": message}}, status, headers)
        message = dict(reply["message"])
        for n, entry in enumerate(message.get("tool_calls") or [], start=1):
            entry.setdefault("id", f"call_{number}_{n}")
        tokens = int(reply["tokens"])
        if self.requests[-1].get("stream"):
            return StreamingResponse(_events(number, message, tokens,
                                             float(reply.get("pace") or 0.0)),
                                     media_type="text/event-stream", headers=headers)
        return JSONResponse({
            "id": f"chatcmpl-{number}", "object": "chat.completion", "model": "fake-model",
            "choices": [{"index": 0, "message": message,
                         "finish_reason": "tool_calls" if "tool_calls" in message else "stop"}],
            "usage": {"prompt_tokens": tokens - 10, "completion_tokens": 10,
                      "total_tokens": tokens},
        }, headers=headers)


def _chunk(number: int, delta: dict[str, Any], **more: Any) -> str:
    body = {"id": f"chatcmpl-{number}", "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": None}], **more}
    return f"data: {json.dumps(body)}\n\n"


async def _events(
    number: int, message: dict[str, Any], tokens: int, pace: float = 0.0
) -> AsyncIterator[str]:
    """The message as OpenAI streams it: the text a word at a time, each tool call's name
    and then its arguments in two pieces, usage last, then [DONE]; a comment line first,
    as some servers send to keep the connection open."""
    yield ": keep-alive\n\n"
    yield _chunk(number, {"role": "assistant"})
    for word in re.findall(r"\S+\s*", message.get("content") or ""):
        yield _chunk(number, {"content": word})
        await asyncio.sleep(pace)
    for index, call in enumerate(message.get("tool_calls") or []):
        function, arguments = call["function"], call["function"]["arguments"]
        yield _chunk(number, {"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                              "function": {"name": function["name"],
                                                           "arguments": ""}}]})
        half = len(arguments) // 2
        for piece in (arguments[:half], arguments[half:]):
            yield _chunk(number, {"tool_calls": [{"index": index,
                                                  "function": {"arguments": piece}}]})
    yield _chunk(number, {}, usage={"prompt_tokens": tokens - 10, "completion_tokens": 10,
                                    "total_tokens": tokens})
    yield "data: [DONE]\n\n"


@contextlib.contextmanager
def fake_openai() -> Iterator[FakeOpenAI]:
    """Serve a FakeOpenAI at http://127.0.0.1:<port>/v1 for the block's duration."""
    fake = FakeOpenAI()
    port = free_port()
    fake.base_url = f"http://127.0.0.1:{port}/v1"
    app = Starlette(routes=[Route("/v1/chat/completions", fake.endpoint, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the fake OpenAI server did not start")
        time.sleep(0.02)
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def model() -> Iterator[FakeOpenAI]:
    """A fake endpoint for a test module: import this fixture by name to use it."""
    with fake_openai() as fake:
        yield fake
