"""Reading a streamed chat completion (OpenAI's `stream: true`, server-sent events).

Each event is a line `data: <chunk JSON>`, and `data: [DONE]` ends the stream. A chunk's
`choices[0].delta` holds the next piece of the message: `content` text, or `tool_calls`
entries, each with its `index`, whose `id`, `function.name` and `function.arguments` come
in pieces to be joined. `usage` and `id` may come in any chunk. Lines that are not data
(comments, `event:` lines, keep-alives) are skipped; a data line that is not JSON fails the
answer (it is kept for ai_logs).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from domain.assistant import AssistantFailure

# What ai_logs keeps of the event text of a stream that failed to parse.
RAW_KEPT: Final = 10_000


@dataclass
class Streamed:
    """A streamed message, put together."""

    content: str = ""
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    usage: dict[str, Any] | None = None
    id: str | None = None

    @property
    def raw(self) -> str:
        return orjson.dumps(self.message()).decode()

    def message(self) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": self.content or None}
        if self.calls:
            message["tool_calls"] = [self.calls[index] for index in sorted(self.calls)]
        return message

    def body(self) -> dict[str, Any]:
        """The stream as the unstreamed answer would have been."""
        return {"id": self.id, "choices": [{"message": self.message()}], "usage": self.usage}

    def add(self, chunk: dict[str, Any]) -> str:
        """Take in one chunk; answers its content delta ("" when none)."""
        if isinstance(chunk.get("id"), str) and self.id is None:
            self.id = chunk["id"]
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        choices = chunk.get("choices")
        delta = choices[0].get("delta") if isinstance(choices, list) and choices and isinstance(
            choices[0], dict) else None
        if not isinstance(delta, dict):
            return ""
        for entry in delta.get("tool_calls") or []:
            if isinstance(entry, dict):
                self._add_call(entry)
        piece = delta.get("content")
        if isinstance(piece, str) and piece:
            self.content += piece
            return piece
        return ""

    def _add_call(self, entry: dict[str, Any]) -> None:
        given = entry.get("index")
        index = given if isinstance(given, int) else len(self.calls)
        call = self.calls.setdefault(index, {"id": None, "type": "function",
                                             "function": {"name": "", "arguments": ""}})
        if isinstance(entry.get("id"), str):
            call["id"] = entry["id"]
        function = entry.get("function")
        if isinstance(function, dict):
            for key in ("name", "arguments"):
                if isinstance(function.get(key), str):
                    call["function"][key] += function[key]


async def read_stream(
    lines: AsyncIterator[str], on_text: Callable[[str], Awaitable[None]]
) -> Streamed:
    """The whole message from a stream's lines; `on_text` gets each content delta."""
    streamed = Streamed()
    seen: list[str] = []
    async for line in lines:
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            break
        seen.append(data)
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError as error:
            raw = "\n".join(seen)[:RAW_KEPT]
            raise AssistantFailure("the stream sent an event that is no JSON", raw=raw) from error
        if isinstance(chunk, dict) and (piece := streamed.add(chunk)):
            await on_text(piece)
    return streamed
