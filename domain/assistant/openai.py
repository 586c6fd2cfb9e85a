"""An OpenAI-compatible chat-completions provider, chosen with ASSISTANT_PROVIDER=openai."""

from __future__ import annotations

import httpx
import orjson

from domain.assistant import (
    MAX_STEPS,
    AssistantFailure,
    Breakdown,
    PanicSupport,
    grounding,
    make_title,
)
from domain.assistant.chatbot import ChatAnswer, understand

BREAKDOWN_PROMPT = (
    "Turn the user's words into a task. Answer with JSON only: "
    '{"title": "<at most 200 characters>", "steps": ["<step>", ...]}'
)
PANIC_PROMPT = (
    "The user pressed the panic button of a wellbeing app. Reply with two to four short, "
    "calm, warm sentences in plain text (no lists, no markdown): acknowledge how they feel, "
    "reassure them that it will pass, and invite them to start the first grounding exercise "
    "listed. Do not diagnose or give medical advice. If they may be in danger, gently suggest "
    "contacting local emergency services or someone they trust."
)


class OpenAIAssistant:
    name = "openai"

    def __init__(self, *, base_url: str, api_key: str, model: str, timeout_seconds: float) -> None:
        self.model = model
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}"},
            timeout=timeout_seconds,
        )

    async def _chat(self, system: str, user: str) -> str:
        response = await self._client.post(
            "/chat/completions",
            json={"model": self.model, "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ]},
        )
        if response.status_code != 200:
            raise AssistantFailure(f"provider answered HTTP {response.status_code}")
        return str(response.json()["choices"][0]["message"]["content"])

    async def break_down(self, text: str) -> Breakdown:
        answer = orjson.loads(await self._chat(BREAKDOWN_PROMPT, text))
        steps = [str(step).strip() for step in answer.get("steps", []) if str(step).strip()]
        return Breakdown(title=make_title(str(answer["title"])), steps=steps[:MAX_STEPS])

    async def chat(self, text: str, history: list[tuple[str, str]]) -> ChatAnswer:
        # Task commands are understood the same way whatever the provider, so they act on
        # the viewer's tasks through the same code; everything else goes to the model.
        understood = understand(text)
        if understood.command is not None:
            return understood
        transcript = "\n".join(f"{role}: {content}" for role, content in history[-20:])
        prompt = f"{transcript}\nuser: {text}"
        reply = await self._chat("You are a calm, helpful assistant.", prompt)
        return ChatAnswer(text=reply.strip())

    async def complete(self, purpose: str, prompt: str) -> str:
        return await self._chat(f"You are a calm, helpful assistant. Task: {purpose}.", prompt)

    async def panic_support(self, note: str | None, intensity: int | None) -> PanicSupport:
        # The exercises come from the same catalogue as offline (vetted wording, stable
        # kinds); the model only words the reply, knowing which exercises it introduces.
        exercises = grounding.choose(intensity)
        offered = "; ".join(f"{n}. {e.title}" for n, e in enumerate(exercises, start=1))
        prompt = f"{grounding.describe(note, intensity)}\nExercises offered: {offered}"
        reply = (await self._chat(PANIC_PROMPT, prompt)).strip()
        if not reply:
            raise AssistantFailure("provider answered with an empty reply")
        return PanicSupport(reply=reply, exercises=exercises)

    async def aclose(self) -> None:
        await self._client.aclose()
