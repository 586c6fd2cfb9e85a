"""The assistant provider: one small interface, an offline default, an OpenAI-compatible option.

Callers ask the provider before opening a write transaction, so a slow model never holds a
database connection, and write the call's ai_logs row afterwards (`ai_log_row`). No part of
the API exposes those rows.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

from domain.assistant import grounding
from domain.assistant.chatbot import ChatAnswer, understand
from domain.assistant.grounding import ExerciseChoice
from models.ai_log import AiLog

TITLE_LIMIT = 200
MAX_STEPS = 12


class AssistantFailure(Exception):
    """The provider could not answer. The message is for logs, never for clients."""


@dataclass(frozen=True)
class Breakdown:
    title: str
    steps: list[str]


@dataclass(frozen=True)
class PanicSupport:
    """A calming reply and the grounding exercises to offer, in the order to try them."""

    reply: str
    exercises: list[ExerciseChoice]


@dataclass(frozen=True)
class Call:
    """What one provider call asked and answered, for its ai_logs row."""

    purpose: str
    prompt: str
    response: str | None
    error: str | None
    latency_ms: int
    tokens: int | None = None


class Assistant(Protocol):
    name: str
    model: str

    async def break_down(self, text: str) -> Breakdown: ...

    async def complete(self, purpose: str, prompt: str) -> str: ...

    async def chat(self, text: str, history: list[tuple[str, str]]) -> ChatAnswer: ...

    async def panic_support(self, note: str | None, intensity: int | None) -> PanicSupport: ...


class OfflineAssistant:
    """Deterministic rules and templates: works with no network, same answer every time."""

    name = "offline"
    model = "rules-v1"

    async def break_down(self, text: str) -> Breakdown:
        clauses = split_clauses(text)
        title = make_title(clauses[0] if clauses else text)
        steps = [_sentence(c) for c in clauses[1:]] if len(clauses) > 1 else []
        if not steps:
            steps = [
                f"Decide what done looks like for: {title}",
                "Do the first small, concrete piece",
                "Check the result and wrap up",
            ]
        return Breakdown(title=title, steps=steps[:MAX_STEPS])

    async def chat(self, text: str, history: list[tuple[str, str]]) -> ChatAnswer:
        return understand(text)

    async def complete(self, purpose: str, prompt: str) -> str:
        if purpose == "title":
            return make_title(prompt)
        return f"I hear you: {prompt.strip()[:200]}"

    async def panic_support(self, note: str | None, intensity: int | None) -> PanicSupport:
        return PanicSupport(
            reply=grounding.offline_reply(note, intensity),
            exercises=grounding.choose(intensity),
        )


_SPLIT = re.compile(r"(?:\n+|;|\.\s+|,\s*(?:and\s+)?then\s+|\s+then\s+|\s+and then\s+|,\s+)", re.I)


def split_clauses(text: str) -> list[str]:
    parts = [part.strip(" .-*\t") for part in _SPLIT.split(text)]
    return [part for part in parts if part]


def make_title(text: str) -> str:
    """A one-line title of at most 200 characters, cut at a word boundary."""
    line = " ".join(text.split())
    if len(line) > TITLE_LIMIT:
        cut = line[: TITLE_LIMIT - 1].rsplit(" ", 1)[0] or line[: TITLE_LIMIT - 1]
        line = cut + "…"
    return line[:1].upper() + line[1:]


def _sentence(clause: str) -> str:
    return clause[:1].upper() + clause[1:]


async def timed(
    purpose: str, prompt: str, work: Any, *, seconds: float | None = None
) -> tuple[Any, Call]:
    """Run a provider coroutine under its timeout; return its result (or None on any failure,
    the timeout included) and the record of the call."""
    started = time.perf_counter()
    try:
        result = await asyncio.wait_for(work, seconds)
    except Exception as error:  # any provider failure becomes a logged, typed failure
        elapsed = int((time.perf_counter() - started) * 1000)
        return None, Call(purpose, prompt, None, f"{type(error).__name__}: {error}", elapsed)
    elapsed = int((time.perf_counter() - started) * 1000)
    return result, Call(purpose, prompt, repr(result), None, elapsed)


def ai_log_row(
    assistant: Assistant, call: Call, *, user_id: str | None, session_id: str | None
) -> AiLog:
    return AiLog(
        user_id=user_id,
        session_id=session_id,
        purpose=call.purpose,
        provider=assistant.name,
        model=assistant.model,
        prompt=call.prompt,
        response=call.response,
        error=call.error,
        latency_ms=call.latency_ms,
        tokens=call.tokens,
    )



