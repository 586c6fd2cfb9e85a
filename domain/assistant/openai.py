"""An OpenAI-compatible chat-completions provider, chosen with ASSISTANT_PROVIDER=openai.

It speaks the public protocol only: `messages`, `tools` (function calling), `response_format`
(a JSON schema for the breakdown) and `usage`. The provider's request id (the
`x-request-id` header, else the completion's `id`) and the raw body go to ai_logs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import orjson

from domain.assistant import (
    Answer,
    AssistantFailure,
    Message,
    PanicSupport,
    ToolRequest,
    Turn,
    UnusableAnswer,
    grounding,
)
from domain.assistant.breakdown import (
    BREAKDOWN_SYSTEM_PROMPT,
    Breakdown,
    UnusableBreakdown,
    parse_model_breakdown,
    response_format,
)

PANIC_PROMPT = (
    "The user pressed the panic button of a wellbeing app. Reply with two to four short, "
    "calm, warm sentences in plain text (no lists, no markdown): acknowledge how they feel, "
    "reassure them that it will pass, and invite them to start the first grounding exercise "
    "listed. Do not diagnose or give medical advice. If they may be in danger, gently suggest "
    "contacting local emergency services or someone they trust."
)


class Completion:
    """One parsed chat completion: its first choice's message and what the call reported."""

    def __init__(self, body: dict[str, Any], raw: str, request_id: str | None) -> None:
        self.raw = raw
        self.request_id = request_id
        usage = body.get("usage")
        total = usage.get("total_tokens") if isinstance(usage, dict) else None
        self.tokens = total if isinstance(total, int) and total >= 0 else None
        try:
            message = body["choices"][0]["message"]
        except (KeyError, IndexError, TypeError) as error:
            raise self.failure("the answer has no message") from error
        self.message: dict[str, Any] = message if isinstance(message, dict) else {}
        # What ai_logs keeps: the answer as the model wrote it (text, or the message with its
        # tool calls); the rest of the body is kept in the row's own columns.
        content = self.message.get("content")
        if isinstance(content, str) and not self.message.get("tool_calls"):
            self.raw = content
        else:
            self.raw = orjson.dumps(message).decode()

    @property
    def content(self) -> str:
        content = self.message.get("content")
        return content if isinstance(content, str) else ""

    def failure(self, reason: str) -> AssistantFailure:
        return UnusableAnswer(
            reason, raw=self.raw, tokens=self.tokens, request_id=self.request_id
        )

    def answer(self, value: Any) -> Answer[Any]:
        return Answer(value, raw=self.raw, tokens=self.tokens, request_id=self.request_id)


class OpenAIAssistant:
    name = "openai"

    def __init__(self, *, base_url: str, api_key: str, model: str, timeout_seconds: float) -> None:
        self.model = model
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_seconds,
        )

    async def _complete(self, messages: Sequence[Message], **options: Any) -> Completion:
        body = {"model": self.model, "messages": list(messages), **options}
        response = await self._client.post("/chat/completions", json=body)
        request_id = response.headers.get("x-request-id")
        if response.status_code != 200:
            raise AssistantFailure(
                f"provider answered HTTP {response.status_code}", raw=response.text,
                request_id=request_id,
            )
        try:
            parsed = orjson.loads(response.content)
        except orjson.JSONDecodeError as error:
            raise AssistantFailure("provider answered no JSON", raw=response.text,
                                   request_id=request_id) from error
        if not isinstance(parsed, dict):
            raise AssistantFailure("provider answered no object", raw=response.text)
        completion_id = parsed.get("id")
        return Completion(parsed, response.text, request_id or _text_or_none(completion_id))

    async def _ask(self, system: str, user: str, **options: Any) -> Completion:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return await self._complete(messages, **options)

    async def turn(
        self, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]]
    ) -> Answer[Turn]:
        functions = [{"type": "function", "function": dict(tool)} for tool in tools]
        completion = await self._complete(messages, tools=functions, tool_choice="auto")
        calls = tuple(_tool_requests(completion))
        if not calls and not completion.content.strip():
            raise completion.failure("the model answered neither text nor tool calls")
        return completion.answer(Turn(text=completion.content.strip() or None, calls=calls))

    async def break_down(self, text: str) -> Answer[Breakdown]:
        completion = await self._ask(
            BREAKDOWN_SYSTEM_PROMPT, text, response_format=response_format()
        )
        try:
            return completion.answer(parse_model_breakdown(completion.content))
        except UnusableBreakdown as error:  # the raw answer is kept; the caller asks again
            raise completion.failure(f"unusable breakdown: {error}") from error

    async def complete(self, purpose: str, prompt: str) -> Answer[str]:
        system = f"You are a calm, helpful assistant. Task: {purpose}."
        completion = await self._ask(system, prompt)
        return completion.answer(completion.content)

    async def panic_support(
        self, note: str | None, intensity: int | None
    ) -> Answer[PanicSupport]:
        # The exercises come from the same catalogue as offline (vetted wording, stable
        # kinds); the model only words the reply, knowing which exercises it introduces.
        exercises = grounding.choose(intensity)
        offered = "; ".join(f"{n}. {e.title}" for n, e in enumerate(exercises, start=1))
        prompt = f"{grounding.describe(note, intensity)}\nExercises offered: {offered}"
        completion = await self._ask(PANIC_PROMPT, prompt)
        reply = completion.content.strip()
        if not reply:
            raise completion.failure("provider answered with an empty reply")
        return completion.answer(PanicSupport(reply=reply, exercises=exercises))

    async def aclose(self) -> None:
        await self._client.aclose()


def _tool_requests(completion: Completion) -> list[ToolRequest]:
    """The message's function calls; a malformed entry fails the call (it is kept raw)."""
    requests = []
    for number, entry in enumerate(completion.message.get("tool_calls") or [], start=1):
        function = entry.get("function") if isinstance(entry, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise completion.failure("a tool call has no function name")
        arguments = function.get("arguments")
        if not isinstance(arguments, str):  # some servers send an object, not JSON text
            arguments = orjson.dumps(arguments or {}).decode()
        call_id = str(entry.get("id") or f"call_{number}")  # results are matched by id
        requests.append(ToolRequest(call_id, function["name"], arguments))
    return requests


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
