"""`breakDownTask`: the assistant turns raw words into a titled task with ordered steps
(`domain.assistant.breakdowns`, the use case)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.assistant.breakdowns import INPUT_MAX, break_down_task
from graph.context import Info
from graph.resolvers.mutations.base import mutation
from graph.types.task import Task
from graph.types.task_inputs import BreakDownTaskInput
from graph.types.task_payloads import BreakDownTaskPayload, BreakDownTaskSuccess

__all__ = ["INPUT_MAX", "BreakdownMutations"]


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
        task = await break_down_task(
            context.db, context.resources.assistant, context.viewer, input.input,
            seconds=context.settings.assistant_timeout_seconds)
        return BreakDownTaskSuccess(task=Task.from_model(task))
