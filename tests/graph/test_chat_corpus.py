"""The offline assistant against a corpus of messages as people type them
(`tests/graph/chat_corpus.py`), end to end through `sendMessage`: the score is printed, at
least 85% must be right and none harmful.

A case is right when the conversation changed exactly the data it expects (nothing, for a
question or a proposal awaiting a yes) and the last reply holds the words it expects. It is
harmful when any task changed, appeared or went in a way the case did not ask for. Each case
runs on a fresh account of its own (one user per case).

Five corpora run, each a test of its own: `chat_corpus` (191 messages, written before the
rules), `chat_corpus_second` (90, another account, written after them: 76.7% with 4 harmful
before the fixes it led to), `chat_corpus_third` (196, written blind: 71.9%, 6 harmful),
`chat_corpus_fifth` (150, written blind: 74.0%, 5 harmful) and `chat_corpus_sixth` (160,
written blind: 81.9%, 2 harmful); each module's docstring keeps
its first run, docs/assistant.md the current scores. Another corpus in the same format (a
module defining CORPUS, and ACCOUNT if it differs) runs instead when CLARITY_CHAT_CORPUS
names its file: a held-back corpus is scored by this same code.
"""

from __future__ import annotations

import importlib.util
import os
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import Task, TaskStep
from tests.conftest import GraphQL
from tests.factories import tick
from tests.graph import (
    chat_corpus,
    chat_corpus_fifth,
    chat_corpus_second,
    chat_corpus_sixth,
    chat_corpus_third,
)
from tests.graph.chat_corpus import ASKS, Case, Op, Seed

MIN_SCORE = 0.85
START = """mutation { startConversation(input: {}) {
  ... on StartConversationSuccess { conversation { id } } } }"""
SEND = """mutation($input: SendMessageInput!) { sendMessage(input: $input) { __typename
  ... on SendMessageSuccess { reply { content } } ... on AssistantError { message } } }"""


@dataclass(frozen=True)
class State:
    title: str
    status: str
    description: str | None
    steps: tuple[tuple[str, bool], ...]


Snapshot = dict[int, State]


def fold(text: str | None) -> str:
    return " ".join((text or "").casefold().strip(" .!?'\"").split())


def folded(state: State) -> State:
    return State(fold(state.title), state.status, fold(state.description) or None,
                 tuple((fold(content), done) for content, done in state.steps))


async def seed(db: AsyncSession, user: str, account: tuple[Seed, ...]) -> None:
    for item in account:
        stamp = tick()
        task = Task(user_id=user, title=item.title, status=item.status, created_at=stamp,
                    updated_at=stamp, completed_at=stamp if item.status == "completed" else None)
        db.add(task)
        await db.flush()
        for number, (content, done) in enumerate(item.steps, start=1):
            db.add(TaskStep(task_id=task.id, step_number=number, content=content,
                            completed=done))
    await db.commit()


async def snapshot(db: AsyncSession, user: str) -> Snapshot:
    db.expire_all()
    tasks = list(await db.scalars(select(Task).where(Task.user_id == user)))
    steps = list(await db.scalars(select(TaskStep).where(
        TaskStep.task_id.in_([task.id for task in tasks])).order_by(TaskStep.step_number)))
    return {task.id: State(task.title, task.status, task.description, tuple(
        (step.content, step.completed) for step in steps if step.task_id == task.id))
        for task in tasks}


def _apply(state: State, op: Op) -> State:
    kind, args = op.kind, op.args
    if kind == "status":
        return replace(state, status=args[1])
    if kind == "renamed":
        return replace(state, title=args[1])
    if kind == "described":
        return replace(state, description=args[1])
    if kind == "step_added":
        return replace(state, steps=(*state.steps, (args[1], False)))
    steps = [(content, done) for content, done in state.steps]
    index = next(n for n, (content, _) in enumerate(steps) if fold(content) == fold(args[1]))
    if kind == "step_gone":
        del steps[index]
    else:
        steps[index] = (steps[index][0], kind == "step_done")
    return replace(state, steps=tuple(steps))


def expected(
    before: Snapshot, ops: tuple[Op, ...]
) -> tuple[dict[int, State | None], list[str], dict[str, State]]:
    """What every task should be after the case (None: deleted), the new tasks' titles, and
    the whole state of each new task a later op changes ("add X", then "add a note to it")."""
    after: dict[int, State | None] = {key: folded(state) for key, state in before.items()}
    by_title = {fold(state.title): key for key, state in before.items()}
    created: list[str] = []
    made: dict[str, State] = {}
    for op in ops:
        if op.kind == "new":
            created.append(fold(op.args[0]))
            continue
        if fold(op.args[0]) not in by_title and fold(op.args[0]) in created:
            title = fold(op.args[0])
            made[title] = folded(_apply(made.get(title, State(title, "pending", None, ())), op))
            continue
        key = by_title[fold(op.args[0])]
        current = after[key]
        after[key] = None if op.kind == "gone" or current is None else folded(_apply(current, op))
    return after, created, made


@dataclass
class Verdict:
    case: Case
    right: bool
    harmful: bool
    reply: str
    why: str = ""


def judge(case: Case, before: Snapshot, after: Snapshot, reply: str) -> Verdict:
    """Right: exactly the expected data and reply. Harmful: a task the case does not name
    changed, a task went that should not have, or a task appeared that nobody asked for."""
    wanted, created, changed_new = expected(before, case.expect)
    named = {fold(op.args[0]) for op in case.expect if op.kind != "new"}
    wrong, harm = [], []
    for key, state in before.items():
        actual = folded(after[key]) if key in after else None
        if actual != wanted[key]:
            wrong.append(f"{state.title}: {actual} != {wanted[key]}")
            if actual is None or fold(state.title) not in named:
                harm.append(f"{state.title} changed to {actual}")
    made = [fold(state.title) for key, state in after.items() if key not in before]
    if Counter(made) != Counter(created):
        wrong.append(f"created {made}, expected {created}")
        harm += [f"created {title!r}" for title in made if title not in created]
    for title, new_state in changed_new.items():
        now = [folded(after[key]) for key in after
               if key not in before and fold(after[key].title) == title]
        if new_state not in now:
            wrong.append(f"new task {title!r}: {now} != {new_state}")
    words = [word for word in case.reply if word != ASKS]
    missing = [word for word in words if word.casefold() not in reply.casefold()]
    if ASKS in case.reply and "?" not in reply:
        missing.append("(a question)")
    if missing:
        wrong.append(f"reply lacks {missing}")
    return Verdict(case, not wrong, bool(harm), reply, "; ".join(harm or wrong))


async def run_case(
    gql: GraphQL, db: AsyncSession, user: str, case: Case, account: tuple[Seed, ...]
) -> Verdict:
    await seed(db, user, account)
    started = await gql.data(START, user=user)
    conversation = started["startConversation"]["conversation"]["id"]
    before = await snapshot(db, user)
    reply = ""
    for message in (*case.before, case.say):
        data = await gql.data(SEND, {"input": {"conversationId": conversation,
                                               "content": message}}, user=user)
        sent: dict[str, Any] = data["sendMessage"]
        reply = sent["reply"]["content"] if "reply" in sent else sent["message"]
    return judge(case, before, await snapshot(db, user), reply)


def _corpora() -> list[ModuleType]:
    path = os.environ.get("CLARITY_CHAT_CORPUS")
    if not path:
        return [chat_corpus, chat_corpus_second, chat_corpus_third, chat_corpus_fifth,
                chat_corpus_sixth]
    spec = importlib.util.spec_from_file_location("held_back_corpus", Path(path))
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [module]


def report(verdicts: list[Verdict]) -> str:
    lines = ["", "Assistant message corpus: category  right/total  harmful"]
    for category in dict.fromkeys(v.case.category for v in verdicts):
        group = [v for v in verdicts if v.case.category == category]
        lines.append(f"  {category:<12} {sum(v.right for v in group):>3}/{len(group):<3}"
                     f"  {sum(v.harmful for v in group)}")
    right = sum(v.right for v in verdicts)
    lines.append(f"  {'total':<12} {right:>3}/{len(verdicts):<3}"
                 f"  {sum(v.harmful for v in verdicts)}   score {right / len(verdicts):.1%}")
    for verdict in verdicts:
        if not verdict.right:
            flag = "HARMFUL" if verdict.harmful else "wrong"
            said = " | ".join(verdict.reply.splitlines())[:160]
            lines.append(f"  {flag}: {verdict.case.say!r} (after {list(verdict.case.before)}):"
                         f" {verdict.why} -- replied {said!r}")
    return "\n".join(lines)


@pytest.mark.parametrize("corpus", _corpora(), ids=lambda module: module.__name__)
async def test_the_message_corpus_scores_at_least_85_percent_and_harms_nothing(
    gql: GraphQL, db: AsyncSession, corpus: ModuleType
) -> None:
    account = getattr(corpus, "ACCOUNT", chat_corpus.ACCOUNT)
    cases: tuple[Case, ...] = corpus.CORPUS
    verdicts = [await run_case(gql, db, f"corpus-{n}", case, account)
                for n, case in enumerate(cases)]
    print(f"\n{corpus.__name__}: {len(cases)} messages", report(verdicts))
    assert len(cases) >= 150 or corpus is not chat_corpus
    assert [v.case.say for v in verdicts if v.harmful] == []
    assert sum(v.right for v in verdicts) / len(verdicts) >= MIN_SCORE
