"""`breakDownTask`: the assistant turns raw words into a titled task with ordered steps."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

import models
from domain import tasks as service
from domain.assistant import generations, make_title
from domain.assistant.breakdown import Breakdown
from domain.errors import AssistantUnavailable
from domain.validation import Checks
from graph.context import Info
from graph.resolvers.mutations.base import mutation, with_generation
from graph.types.task import Task
from graph.types.task_inputs import BreakDownTaskInput
from graph.types.task_payloads import BreakDownTaskPayload, BreakDownTaskSuccess
from models.task import STEP_CONTENT_MAX, STEPS_MAX, TITLE_MAX

INPUT_MAX = 10_000


@strawberry.type
class BreakdownMutations:
    @mutation(description="Let the assistant turn raw words into a task with steps.")
    async def break_down_task(
        self,
        info: Info,
        input: Annotated[
            BreakDownTaskInput,
            strawberry.argument(description="The raw words to break down."),
        ],
    ) -> BreakDownTaskPayload:
        context = info.context
        context.require_identity()  # before any work, the assistant's included
        checks = Checks()
        text = checks.text("input", input.input, max_len=INPUT_MAX)
        checks.raise_if_any()
        assistant = context.resources.assistant
        # Asked with no transaction open: a slow model must not hold a database connection.
        await context.db.release()
        result, generation = await generations.break_down(
            assistant, text or "", seconds=context.settings.assistant_timeout_seconds
        )
        breakdown = _usable(result, text or "")
        if breakdown is None and generation.error is None:
            generation.error = "the answer held no usable steps"
        session_id = context.viewer.session_id

        async def work(session: AsyncSession, user_id: str) -> models.Task:
            if breakdown is None:
                raise AssistantUnavailable("The assistant could not break this down; try again.")
            return await service.create_task(
                session, user_id=user_id, session_id=session_id,
                values={"title": breakdown.title, "original_input": text}, steps=breakdown.steps,
            )

        task = await with_generation(info, generation, work)
        return BreakDownTaskSuccess(task=Task.from_model(task))


def _clean(text: str) -> str:
    return text.replace("\x00", "").strip()


def _usable(result: object, text: str) -> Breakdown | None:
    """The provider's answer within the task's rules, or None when it is no breakdown.

    A provider may answer with an over-long or empty title, blank steps or too many: the
    title is cut to its limit at a word boundary (or made from the input when blank), each
    step to its limit, blank steps are dropped and the rest kept up to a task's most steps.
    """
    if not isinstance(result, Breakdown):
        return None
    title = make_title(_clean(str(result.title))) or make_title(_clean(text))
    steps = [_clean(str(step))[: STEP_CONTENT_MAX] for step in result.steps]
    kept = [step for step in steps if step][: STEPS_MAX]
    return Breakdown(title=title[: TITLE_MAX], steps=kept) if kept else None
