"""The chat agent: the model manages the user's tasks through tools, in bounded rounds.

One turn: the model sees the recent history and the tools, and either answers or calls
tools; each call runs in its own transaction through the task services (events and live
deliveries included) and its result goes back to the model, up to `MAX_ROUNDS` rounds.
The model is never called while a transaction or connection is held (`release` first).

What a failure costs: a tool's writes commit when the tool ends, so a provider that fails
in a later round leaves the earlier tools' changes in place (each one whole, none half
written); the reply then says plainly what was done and that the rest was not.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from domain.assistant import Assistant, Call, Message, ToolRequest, Turn, timed
from domain.assistant.actions import ACTIONS, Outcome, ToolContext
from domain.assistant.generations import CHAT_REPLY, Transactions
from domain.assistant.tools import SPECS, checked_arguments
from domain.errors import DomainError, Invalid

logger = logging.getLogger(__name__)
MAX_ROUNDS = 5
CALLS_PER_ROUND_MAX = 10
HISTORY = 20
REPLY_MAX = 32_000  # messages.content's limit
SYSTEM_PROMPT = (
    "You are the task assistant of a focus app. You manage the user's own tasks through the "
    "tools: list, show, create (with steps when useful), update, set status, complete, "
    "reopen, add/complete/remove steps, delete. Refer to tasks as the user sees them: the "
    "numbers of the last list shown, or words of the title; never invent ids. Call several "
    "tools in one round when the user asks for several things. When done, answer briefly "
    "in plain text, saying what you did; if a tool reported an error, say so."
)


@dataclass(frozen=True)
class Done:
    """A tool call carried out (or refused), for the reply, the audit entry and tests."""

    tool: str
    ok: bool
    say: str
    changed: bool


@dataclass
class TurnResult:
    reply: str = ""
    calls: list[Call] = field(default_factory=list)
    done: list[Done] = field(default_factory=list)
    failure: str | None = None  # why the provider stopped answering, when it did

    @property
    def changed_anything(self) -> bool:
        return any(item.changed for item in self.done)


async def take_turn(
    assistant: Assistant, db: Transactions, context: ToolContext, content: str,
    history: Sequence[tuple[str, str]], *, seconds: float | None,
) -> TurnResult:
    """Run one user message through the model and the tools; never raises for the provider."""
    messages: list[Message] = [{"role": "system", "content": SYSTEM_PROMPT}]
    messages += [{"role": role, "content": text} for role, text in history[-HISTORY:]]
    messages.append({"role": "user", "content": content})
    result, asked = TurnResult(), content
    for _ in range(MAX_ROUNDS):
        await db.release()  # no connection is held while the model thinks
        answer = await timed(CHAT_REPLY, asked, assistant.turn(messages, SPECS), seconds=seconds)
        result.calls.append(answer.call)
        if answer.value is None:
            result.failure = answer.call.error or "the provider failed"
            result.reply = _after_failure(result.done)
            return result
        turn: Turn = answer.value
        if not turn.calls:
            result.reply = (turn.text or "").strip()[:REPLY_MAX] or "…"
            return result
        messages.append(_assistant_message(turn))
        results = [await _run(db, context, request, result, refused=n >= CALLS_PER_ROUND_MAX)
                   for n, request in enumerate(turn.calls)]
        messages += results
        asked = orjson.dumps([m["content"] for m in results]).decode()
    result.reply = _out_of_rounds(result.done)
    return result


async def _run(
    db: Transactions, context: ToolContext, request: ToolRequest, result: TurnResult, *,
    refused: bool,
) -> Message:
    """Carry out one call in its own transaction; its answer (or refusal) is the tool message."""
    outcome: Outcome | str = (
        f"At most {CALLS_PER_ROUND_MAX} tool calls per round; this one was not run."
        if refused else await _carry_out(db, context, request)
    )
    if isinstance(outcome, str):
        result.done.append(Done(request.name, False, outcome, False))
        body: dict[str, Any] = {"ok": False, "error": outcome}
    else:
        result.done.append(Done(request.name, True, outcome.say, outcome.changed))
        body = {"ok": True, "say": outcome.say, **outcome.data}
    return {"role": "tool", "tool_call_id": request.id, "content": orjson.dumps(body).decode()}


async def _carry_out(db: Transactions, context: ToolContext, request: ToolRequest) -> Outcome | str:
    try:
        arguments = checked_arguments(request.name, request.arguments)
        async with db.transaction() as session:
            return await ACTIONS[request.name](session, context, arguments)
    except Invalid as refused:
        return "Invalid arguments: " + "; ".join(f"{k}: {v}" for k, v in refused.problems.items())
    except DomainError as refused:  # not found, a rule of the domain: rolled back
        return refused.message if refused.message != "Not found." else "That task is gone."
    except Exception:  # a bug or an outage: rolled back, logged without the user's words
        logger.exception("the %s tool failed", request.name)
        return "The tool failed unexpectedly; nothing was changed."


def _assistant_message(turn: Turn) -> Message:
    return {
        "role": "assistant",
        "content": turn.text,
        "tool_calls": [
            {"id": call.id, "type": "function",
             "function": {"name": call.name, "arguments": call.arguments}}
            for call in turn.calls
        ],
    }


def _changes(done: list[Done]) -> str:
    return "\n".join(f"- {item.say}" for item in done if item.changed)


def _after_failure(done: list[Done]) -> str:
    if not any(item.changed for item in done):
        return ""
    return ("The assistant stopped answering partway. This was done:\n" + _changes(done)
            + "\nAnything else you asked for was not done; you can ask again.")


def _out_of_rounds(done: list[Done]) -> str:
    changed = _changes(done)
    said = f"I stopped after {MAX_ROUNDS} rounds of work."
    return f"{said} This was done:\n{changed}" if changed else said + " Nothing was changed."
