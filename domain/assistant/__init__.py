"""The assistant provider: one small interface, an offline default, an OpenAI-compatible option.

Every method answers an `Answer`: the value and what the call cost and said (the raw answer,
tokens, the provider's request id), which the caller keeps in its ai_logs row. Callers ask
the provider with no database transaction or connection held, so a slow model never holds
one. No part of the API exposes ai_logs rows, and nothing here logs a prompt or an answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import orjson

from domain.assistant import grounding
from domain.assistant.breakdown import Breakdown
from domain.assistant.breakdown_offline import offline_breakdown
from domain.assistant.grounding import ExerciseChoice
from domain.assistant.phrasing import ToolCall, plan

T = TypeVar("T")
TITLE_LIMIT = 200
# What an ai_logs row keeps of a raw answer: enough to debug any real reply, bounded so a
# runaway provider cannot fill the table.
RAW_MAX = 100_000


class AssistantFailure(Exception):
    """The provider could not answer usefully. The message is for logs and ai_logs, never
    for clients; `raw` keeps what the provider did say (an answer that failed to parse)."""

    def __init__(
        self, message: str, *, raw: str | None = None, tokens: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.raw = raw
        self.tokens = tokens
        self.request_id = request_id


class UnusableAnswer(AssistantFailure):
    """The provider answered, but not in a form that can be used (no JSON, no steps): worth
    asking once more, unlike a failure to answer at all (a timeout, an HTTP error)."""


@dataclass(frozen=True)
class Answer(Generic[T]):
    """A provider's answer and what the call reported about itself."""

    value: T
    raw: str | None = None
    tokens: int | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class PanicSupport:
    """A calming reply and the grounding exercises to offer, in the order to try them."""

    reply: str
    exercises: list[ExerciseChoice]


@dataclass(frozen=True)
class ToolRequest:
    """One tool call as the model made it: `arguments` is JSON text, not yet trusted."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Turn:
    """One round of the agent: the model either calls tools or answers the user."""

    text: str | None = None
    calls: tuple[ToolRequest, ...] = ()


@dataclass(frozen=True)
class Call:
    """What one provider call asked and answered, for its ai_logs row."""

    purpose: str
    prompt: str
    response: str | None
    error: str | None
    latency_ms: int
    tokens: int | None = None
    request_id: str | None = None


Message = Mapping[str, Any]  # the OpenAI chat format: role, content, tool_calls, tool_call_id
TextHook = Callable[[str], Awaitable[None]]  # a streamed reply's next piece of text


class Assistant(Protocol):
    name: str
    model: str

    async def break_down(self, text: str) -> Answer[Breakdown]: ...

    async def turn(
        self, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]], *,
        on_text: TextHook | None = None,
    ) -> Answer[Turn]:
        """The model's next move. With `on_text`, the reply's text is also handed over as
        it comes, one piece (a delta) per call, before the answer returns whole."""
        ...

    async def complete(self, purpose: str, prompt: str) -> Answer[str]: ...

    async def panic_support(
        self, note: str | None, intensity: int | None
    ) -> Answer[PanicSupport]: ...


class OfflineAssistant:
    """Deterministic rules and templates: works with no network, same answer every time.

    As the chat model it plans tool calls from the user's words (`phrasing.plan`) and then
    words the reply from the tools' results, so keyless installs and tests run the agent's
    exact code path."""

    name = "offline"
    model = "rules-v1"

    async def break_down(self, text: str) -> Answer[Breakdown]:
        try:
            breakdown = offline_breakdown(text)
        except ValueError as error:  # blank words: nothing to break down
            raise AssistantFailure(str(error)) from error
        raw = orjson.dumps({"title": breakdown.title, "steps": breakdown.steps}).decode()
        return Answer(breakdown, raw=raw)

    async def turn(
        self, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]], *,
        on_text: TextHook | None = None,
    ) -> Answer[Turn]:
        if messages and messages[-1].get("role") == "tool":
            text = "\n".join(_tool_summary(m) for m in _last_results(messages))
            return await _said(text, on_text)
        earlier = [m for m in messages[:-1] if m.get("role") == "user"]
        previous = str(earlier[-1].get("content") or "") if earlier else None
        planned = plan(str(messages[-1].get("content") or ""), previous) if messages else plan("")
        if not planned.calls:
            return await _said(planned.text or "", on_text)
        calls = tuple(_request(n, call) for n, call in enumerate(planned.calls, start=1))
        raw = orjson.dumps([{"name": c.name, "arguments": c.arguments} for c in calls]).decode()
        return Answer(Turn(calls=calls), raw=raw)

    async def complete(self, purpose: str, prompt: str) -> Answer[str]:
        text = make_title(prompt) if purpose == "title" else f"I hear you: {prompt.strip()[:200]}"
        return Answer(text, raw=text)

    async def panic_support(
        self, note: str | None, intensity: int | None
    ) -> Answer[PanicSupport]:
        reply = grounding.offline_reply(note, intensity)
        return Answer(PanicSupport(reply=reply, exercises=grounding.choose(intensity)), raw=reply)


async def _said(text: str, on_text: TextHook | None) -> Answer[Turn]:
    """A reply in words; written at once, it is streamed as one piece."""
    if on_text is not None and text:
        await on_text(text)
    return Answer(Turn(text=text), raw=text)


def _request(number: int, call: ToolCall) -> ToolRequest:
    return ToolRequest(f"call_{number}", call.name, orjson.dumps(call.arguments).decode())


def _last_results(messages: Sequence[Message]) -> list[Message]:
    """The tool results that answer the last round of calls."""
    results: list[Message] = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        results.append(message)
    return results[::-1]


def _tool_summary(message: Message) -> str:
    """The words a tool result carries for the user (tools answer JSON with `say`)."""
    try:
        result = orjson.loads(str(message.get("content") or "{}"))
    except orjson.JSONDecodeError:
        return str(message.get("content") or "")
    return str(result.get("say") or result.get("error") or "")


def make_title(text: str) -> str:
    """A one-line title of at most 200 characters, cut at a word boundary."""
    line = " ".join(text.split())
    if len(line) > TITLE_LIMIT:
        cut = line[: TITLE_LIMIT - 1].rsplit(" ", 1)[0] or line[: TITLE_LIMIT - 1]
        line = cut + "…"
    return line[:1].upper() + line[1:]


@dataclass
class Timed(Generic[T]):
    """A provider call's value (None when it failed) and its record."""

    value: T | None
    call: Call
    failure: Exception | None = None


async def timed(
    purpose: str, prompt: str, work: Awaitable[Answer[T]], *, seconds: float | None = None
) -> Timed[T]:
    """Run a provider call under its timeout; any failure (the timeout included) becomes a
    None value with the error kept in the call's record, never an exception."""
    started = time.perf_counter()
    try:
        answer = await asyncio.wait_for(work, seconds)
    except Exception as error:  # any provider failure becomes a logged, typed failure
        elapsed = _elapsed_ms(started)
        reason = f"{type(error).__name__}: {error}"
        if isinstance(error, AssistantFailure):
            call = Call(purpose, prompt, _cut(error.raw), reason, elapsed, error.tokens,
                        error.request_id)
        else:
            call = Call(purpose, prompt, None, reason, elapsed)
        return Timed(None, call, error)
    call = Call(purpose, prompt, _cut(answer.raw), None, _elapsed_ms(started), answer.tokens,
                answer.request_id)
    return Timed(answer.value, call)


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _cut(raw: str | None) -> str | None:
    return raw if raw is None or len(raw) <= RAW_MAX else raw[:RAW_MAX]


def ai_log_row(
    assistant: Assistant, call: Call, *, user_id: str | None, session_id: str | None
) -> dict[str, Any]:
    """An ai_logs row's values, for a plain INSERT: the server writes ai_logs but may not
    read them (PostgreSQL grants it INSERT only), and an ORM insert would read the id back."""
    return {
        "user_id": user_id,
        "session_id": session_id,
        "purpose": call.purpose,
        "provider": assistant.name,
        "model": assistant.model,
        "prompt": call.prompt,
        "response": call.response,
        "error": call.error,
        "latency_ms": call.latency_ms,
        "tokens": call.tokens,
        "request_id": call.request_id,
    }
