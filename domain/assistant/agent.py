"""The chat agent: the model manages the user's tasks through tools, in bounded rounds.

One turn: the model sees the recent history and the tools, and either answers or calls
tools; each call runs in its own transaction through the task services (events and live
deliveries included) and its result goes back to the model, up to `MAX_ROUNDS` rounds.
The model is never called while a transaction or connection is held (`release` first).

Before harm, a question (`confirm`): a round holding a delete, a cancel or changes to more
than one existing task is first tried in a transaction that is rolled back; what it would
do becomes a proposal stored with the conversation, and the turn ends by asking. The next
message's yes carries out exactly that (by the ids resolved then), here, without the model.

Streaming: `on_text` receives the reply's text so far as the provider streams it, once per
delta, from the start of each round (a round that ends in tool calls starts over).

What a failure costs: a tool's writes commit when the tool ends, so a provider that fails
in a later round leaves the earlier tools' changes in place (each one whole, none half
written); the reply then says plainly what was done and that the rest was not.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson

from domain.assistant import Assistant, Call, Message, Turn, timed
from domain.assistant import confirm as ask
from domain.assistant.generations import CHAT_REPLY
from domain.assistant.references import number_of
from domain.assistant.rounds import (
    CALLS_PER_ROUND_MAX,
    Planned,
    Refusal,
    carry_out,
    choose,
    dry_run,
    expanded,
    planned_call,
)
from domain.assistant.toolkit import Outcome, ToolCall, ToolContext
from domain.assistant.tools import SPECS
from domain.transactions import Transactions

MAX_ROUNDS = 5
HISTORY = 20
REPLY_MAX = 32_000  # messages.content's limit
SYSTEM_PROMPT = (
    "You are the task assistant of a focus app. You manage the user's own tasks through the "
    "tools: list, show, count, progress, suggest, create (with steps when useful), update, "
    "set status, complete, check off, reopen, add/complete/remove steps, delete, and one "
    "change to many tasks. Refer to tasks as the user does: \"it\" for the task last "
    "named, the numbers of the last list shown, or words of the title; never invent ids. "
    "Deletes, cancels and changes to several tasks are confirmed by the user before they "
    "happen; the app asks. Call several tools in one round when the user asks for several "
    "things. When done, answer briefly in plain text, saying what you did; if a tool "
    "reported an error, say so."
)
TextHook = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Done:
    """A tool call carried out, refused or proposed, for the reply, the audit and tests."""

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
    pending: ask.Pending | None = None  # what waits for the next message

    @property
    def changed_anything(self) -> bool:
        return any(item.changed for item in self.done)


@dataclass(frozen=True)
class TurnOptions:
    seconds: float | None  # each provider call's limit
    confirm_seconds: float  # how long a proposal waits for its yes
    now: datetime


async def take_turn(
    assistant: Assistant, db: Transactions, context: ToolContext, content: str,
    history: Sequence[tuple[str, str]], *, options: TurnOptions,
    waiting: ask.Pending | None = None, on_text: TextHook | None = None,
) -> TurnResult:
    """Run one user message through the model and the tools; never raises for the provider."""
    result = TurnResult()
    if waiting is not None and await _answers_waiting(db, context, content, waiting, result,
                                                      options):
        return result
    messages: list[Message] = [{"role": "system", "content": SYSTEM_PROMPT}]
    messages += [{"role": role, "content": text} for role, text in history[-HISTORY:]]
    messages.append({"role": "user", "content": content})
    asked = content
    for _ in range(MAX_ROUNDS):
        await db.release()  # no connection is held while the model thinks
        answer = await timed(CHAT_REPLY, asked, assistant.turn(
            messages, SPECS, on_text=_streamed(on_text)), seconds=options.seconds)
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
        planned = [planned_call(request, refused=n >= CALLS_PER_ROUND_MAX)
                   for n, request in enumerate(turn.calls)]
        results = await _round(db, context, planned, result, options)
        if results is None:  # the turn ended with a question to the user
            return result
        messages += results
        asked = orjson.dumps([m["content"] for m in results]).decode()
    result.reply = _out_of_rounds(result.done)
    return result


def _streamed(on_text: TextHook | None) -> TextHook | None:
    """The provider's deltas, accumulated: `on_text` gets the round's text so far."""
    if on_text is None:
        return None
    text = ""

    async def delta(piece: str) -> None:
        nonlocal text
        text += piece
        await on_text(text[:REPLY_MAX])

    return delta


async def _round(
    db: Transactions, context: ToolContext, planned: list[Planned], result: TurnResult,
    options: TurnOptions,
) -> list[Message] | None:
    """Carry out one round of calls, or propose it (returns None: the turn is over)."""
    planned = await expanded(db, context, planned)
    if await _proposed(db, context, planned, result, options):
        return None
    outcomes: list[Outcome | Refusal] = []
    named: set[int] = set()
    for call in planned:
        outcomes.append(await carry_out(db, context, call))
        named |= {context.focus} if context.focus is not None else set()
    if len(named) > 1:  # several tasks named: "it" next would be a guess, so it asks
        context.focus = None
    for call, outcome in zip(planned, outcomes, strict=True):
        if isinstance(outcome, Refusal):
            result.done.append(Done(call.tool, False, outcome.message, False))
        else:
            result.done.append(Done(call.tool, True, outcome.say, outcome.changed))
    last = outcomes[-1] if len(outcomes) == 1 else None
    if isinstance(last, Refusal) and last.candidates and planned[0].args is not None:
        stored = {k: v for k, v in planned[0].args.items() if k not in ("task", "what")}
        result.pending = ask.pending(ask.CLARIFY, [ToolCall(planned[0].tool, stored)],
                                     now=options.now, seconds=options.confirm_seconds,
                                     candidates=last.candidates)
    return [_tool_message(call, outcome) for call, outcome in zip(planned, outcomes, strict=True)]


async def _proposed(
    db: Transactions, context: ToolContext, planned: list[Planned], result: TurnResult,
    options: TurnOptions,
) -> bool:
    """Whether the round needs a yes first; if so, ask (module doc) and say True."""
    changing = [c for c in planned if c.args is not None and ask.changes_data(c.tool)]
    numbered = context.listing is None and any(_numbered(c) for c in changing)
    if (not any(ask.destructive(c.tool, c.args or {}) for c in changing) and len(changing) < 2
            and not numbered):
        return False
    context.unsure = False
    tried = await dry_run(db, context, planned)
    kept = [(c, o) for c, o in zip(planned, tried, strict=True)
            if isinstance(o, Outcome) and c.args is not None and ask.changes_data(c.tool)]
    touched = {task for _, outcome in kept for task in outcome.touched}
    if (not any(ask.destructive(c.tool, c.args or {}) for c, _ in kept) and len(touched) < 2
            and not context.unsure):
        return False
    reads = [o.say for c, o in zip(planned, tried, strict=True)
             if isinstance(o, Outcome) and not ask.changes_data(c.tool)]
    problems = [o.message for o in tried if isinstance(o, Refusal)]
    proposals = [o.proposal or c.tool for c, o in kept]
    result.reply = "\n".join([*reads, ask.question(proposals, problems)])
    result.done += [Done(c.tool, True, f"proposed: {o.proposal}", False) for c, o in kept]
    result.pending = ask.pending(
        ask.CONFIRM, [ToolCall(c.tool, {**(c.args or {}), **o.bound}) for c, o in kept],
        now=options.now, seconds=options.confirm_seconds)
    if len(touched) == 1:
        context.focus = next(iter(touched))
    return True


def _numbered(call: Planned) -> bool:
    """Whether a call names its task by a number (read in the default list when no list
    was shown: asked first, `ToolContext.unsure`)."""
    args = call.args or {}
    ref = str(args.get("task") or args.get("what") or "")
    return number_of(ref) not in (None, -1)


async def _answers_waiting(
    db: Transactions, context: ToolContext, content: str, waiting: ask.Pending,
    result: TurnResult, options: TurnOptions,
) -> bool:
    """Whether `content` answers what was waiting (and the turn is done)."""
    if waiting.kind == ask.CLARIFY:
        if waiting.expired(options.now):
            return False
        chosen = await choose(db, context, content, waiting.candidates)
        if chosen is None:
            return False
        stored = waiting.calls[0]
        call = Planned(f"call_{stored.name}", stored.name, {**stored.arguments, "task_id": chosen})
        results = await _round(db, context, [call], result, options)
        if results is not None:
            result.reply = "\n".join(item.say for item in result.done)
        return True
    answer = ask.answer_of(content)
    if answer is None:
        return False
    if answer == "no" or waiting.expired(options.now):
        result.reply = ask.DECLINED if answer == "no" else ask.EXPIRED
        return True
    for stored in waiting.calls:
        call = Planned(f"call_{stored.name}", stored.name, dict(stored.arguments))
        outcome = await carry_out(db, context, call)
        if isinstance(outcome, Outcome):
            result.done.append(Done(stored.name, True, outcome.say, outcome.changed))
        else:
            result.done.append(Done(stored.name, False, outcome.message, False))
    result.reply = "\n".join(item.say for item in result.done)
    return True


def _tool_message(call: Planned, outcome: Outcome | Refusal) -> Message:
    if isinstance(outcome, Refusal):
        body: dict[str, Any] = {"ok": False, "error": outcome.message}
    else:
        body = {"ok": True, "say": outcome.say, **outcome.data}
    return {"role": "tool", "tool_call_id": call.id, "content": orjson.dumps(body).decode()}


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
