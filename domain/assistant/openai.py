"""An OpenAI-compatible chat-completions provider, chosen with ASSISTANT_PROVIDER=openai.

It speaks the public protocol only: `messages`, `tools` (function calling), `stream`
(server-sent events), `response_format` and `usage`, so hosted services and local servers
(llama.cpp's server, Ollama, vLLM, LM Studio) alike can answer. The provider's request id
(the `x-request-id` header, else the completion's `id`) and the answer go to ai_logs.

- Retries: `retrying` (429, 5xx and no answer; Retry-After honoured; within the time limit).
- `response_format` for the breakdown: `json_schema` first; an endpoint that refuses it
  (HTTP 400 or 422 to a request carrying it) is asked again with `json_object`, then with no
  `response_format` (the prompt asks for JSON in words either way). The first form that
  worked is remembered for the life of the provider.
- Streaming: a turn with `on_text` is asked with `stream: true`; each content delta is
  handed on as it arrives, tool-call deltas are put together, and the whole answer is
  returned at the end like an unstreamed one.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

import httpx
import orjson

from domain.assistant import (
    Answer,
    AssistantFailure,
    Message,
    PanicSupport,
    TextHook,
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
from domain.assistant.retrying import with_retries
from domain.assistant.streaming import Streamed, read_stream

PANIC_PROMPT = (
    "The user pressed the panic button of a wellbeing app. Reply with two to four short, "
    "calm, warm sentences in plain text (no lists, no markdown): acknowledge how they feel, "
    "reassure them that it will pass, and invite them to start the first grounding exercise "
    "listed. Do not diagnose or give medical advice. If they may be in danger, gently suggest "
    "contacting local emergency services or someone they trust."
)
# The forms of `response_format` tried in turn, and the refusals that move to the next.
FORMATS: Final = ("json_schema", "json_object", "none")
REFUSED_FORMAT: Final = frozenset({400, 422})
BACKOFF_BASE_SECONDS: Final = 0.5


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

    def __init__(
        self, *, base_url: str, api_key: str, model: str, timeout_seconds: float,
        retries: int = 3, backoff_seconds: float = BACKOFF_BASE_SECONDS,
    ) -> None:
        self.model = model
        self._seconds = timeout_seconds
        self._retries = retries
        self._backoff = backoff_seconds
        self._format = 0  # the index in FORMATS of the first form not refused so far
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(base_url=base_url, headers=headers,
                                         timeout=timeout_seconds)

    async def _post(self, body: dict[str, Any]) -> httpx.Response:
        deadline = time.monotonic() + self._seconds

        async def send() -> httpx.Response:
            return await self._client.post("/chat/completions", json=body)

        try:
            return await with_retries(send, retries=self._retries, deadline=deadline,
                                      base=self._backoff)
        except (httpx.TransportError, httpx.TimeoutException) as error:
            raise AssistantFailure(f"provider unreachable: {type(error).__name__}") from error

    async def _complete(self, messages: Sequence[Message], **options: Any) -> Completion:
        body = {"model": self.model, "messages": list(messages), **options}
        return _completion(await self._post(body))

    async def _ask(self, system: str, user: str, **options: Any) -> Completion:
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        return await self._complete(messages, **options)

    async def turn(
        self, messages: Sequence[Message], tools: Sequence[Mapping[str, Any]], *,
        on_text: TextHook | None = None,
    ) -> Answer[Turn]:
        functions = [{"type": "function", "function": dict(tool)} for tool in tools]
        body = {"model": self.model, "messages": list(messages), "tools": functions,
                "tool_choice": "auto"}
        if on_text is None:
            completion = _completion(await self._post(body))
        else:
            completion = await self._streamed({**body, "stream": True}, on_text)
        calls = tuple(_tool_requests(completion))
        if not calls and not completion.content.strip():
            raise completion.failure("the model answered neither text nor tool calls")
        return completion.answer(Turn(text=completion.content.strip() or None, calls=calls))

    async def _streamed(self, body: dict[str, Any], on_text: TextHook) -> Completion:
        """A streamed completion: retried like any call until its answer starts; then read
        to the end, each content delta handed to `on_text` as it comes."""
        deadline = time.monotonic() + self._seconds

        async def send() -> httpx.Response:
            request = self._client.build_request("POST", "/chat/completions", json=body)
            return await self._client.send(request, stream=True)

        try:
            response = await with_retries(send, retries=self._retries, deadline=deadline,
                                          base=self._backoff)
        except (httpx.TransportError, httpx.TimeoutException) as error:
            raise AssistantFailure(f"provider unreachable: {type(error).__name__}") from error
        request_id = response.headers.get("x-request-id")
        try:
            if response.status_code != 200:
                await response.aread()
                raise AssistantFailure(f"provider answered HTTP {response.status_code}",
                                       raw=response.text, request_id=request_id)
            if not response.headers.get("content-type", "").startswith("text/event-stream"):
                await response.aread()  # a server that ignores `stream` answers in one piece
                return _completion(response)
            streamed: Streamed = await read_stream(response.aiter_lines(), on_text)
        except httpx.HTTPError as error:
            raise AssistantFailure(f"the stream broke: {type(error).__name__}",
                                   request_id=request_id) from error
        finally:
            await response.aclose()
        return Completion(streamed.body(), streamed.raw, request_id or streamed.id)

    async def break_down(self, text: str) -> Answer[Breakdown]:
        completion = await self._formatted(BREAKDOWN_SYSTEM_PROMPT, text)
        try:
            return completion.answer(parse_model_breakdown(completion.content))
        except UnusableBreakdown as error:  # the raw answer is kept; the caller asks again
            raise completion.failure(f"unusable breakdown: {error}") from error

    async def _formatted(self, system: str, user: str) -> Completion:
        """Ask for JSON in the strongest `response_format` the endpoint accepts (module doc)."""
        messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
        while True:
            form = FORMATS[self._format]
            body: dict[str, Any] = {"model": self.model, "messages": messages}
            if form == "json_schema":
                body["response_format"] = response_format()
            elif form == "json_object":
                body["response_format"] = {"type": "json_object"}
            response = await self._post(body)
            if response.status_code in REFUSED_FORMAT and self._format < len(FORMATS) - 1:
                self._format += 1  # refused: this form will not be tried again
                continue
            return _completion(response)

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


def _completion(response: httpx.Response) -> Completion:
    """The completion an unstreamed answer holds; AssistantFailure when it holds none."""
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
