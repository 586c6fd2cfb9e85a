"""The 10-step page through strawchemy (0.24.0), as its documentation shows it: types mapped
from our models, a root `tasks` field strawchemy resolves itself (async repository) with the
viewer's rows chosen by `filter_statement`, the newest first (`default_order_by`) and
`limit` pagination. Strawchemy compiles the whole selection, steps included, into one SQL
statement. Steps come in step order by a type query hook; the two counts are custom fields
that declare what they read (the steps' `completed`), as its custom-field guide shows.
Ids are the models' integers.

Run (in .venv-peers): python -m bench.peers.strawchemy_app --database-url URL --port PORT
"""

# No `from __future__ import annotations`: strawberry and strawchemy read real annotations.

from typing import Any

import strawberry
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import AliasedClass
from strawberry.fastapi import BaseContext
from strawchemy import (
    ModelInstance,
    QueryHook,
    Strawchemy,
    StrawchemyAsyncRepository,
    StrawchemyConfig,
)

import models
from bench.peers.app import Factory, main

strawchemy = Strawchemy(StrawchemyConfig("sqlite", repository_type=StrawchemyAsyncRepository))


class StrawchemyContext(BaseContext):
    def __init__(self, session: AsyncSession, factory: Factory, user: str) -> None:
        super().__init__()
        self.session = session  # where strawchemy's default session getter looks
        self.user = user


# Untyped (Any) in the server's venv, where mypy runs in CI; typed in .venv-peers.
class StepOrder(QueryHook[models.TaskStep]):  # type: ignore[misc, unused-ignore]
    load = [models.TaskStep.step_number]

    def apply_hook(
        self, statement: Select[Any], alias: AliasedClass[models.TaskStep]
    ) -> Select[Any]:
        return statement.order_by(alias.step_number.asc())


@strawchemy.type(models.TaskStep, include=["id", "content", "completed"], query_hook=StepOrder())
class TaskStep:
    pass


_COMPLETED: QueryHook[models.Task] = QueryHook(
    load=[(models.Task.steps, [models.TaskStep.completed])]
)


@strawchemy.type(models.Task, include=["id", "title", "status", "steps"])
class Task:
    instance: ModelInstance[models.Task]
    steps: list[TaskStep]

    @strawchemy.field(query_hook=_COMPLETED)
    def step_count(self) -> int:
        return len(self.instance.steps)

    @strawchemy.field(query_hook=_COMPLETED)
    def completed_step_count(self) -> int:
        return sum(1 for step in self.instance.steps if step.completed)


def _viewers_tasks(info: strawberry.Info[StrawchemyContext, None]) -> Select[Any]:
    return select(models.Task).where(models.Task.user_id == info.context.user)


@strawberry.type
class Query:
    tasks: list[Task] = strawchemy.field(
        filter_statement=_viewers_tasks,
        default_order_by=[models.Task.created_at.desc(), models.Task.id.desc()],
        pagination=True,
    )


schema = strawberry.Schema(query=Query)

if __name__ == "__main__":
    main(schema, StrawchemyContext)
