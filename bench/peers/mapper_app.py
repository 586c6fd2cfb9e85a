"""The 10-step page through strawberry-sqlalchemy-mapper (0.9.0), as its README shows it:
types generated from our models, a root resolver of our own (the viewer's 50 newest tasks),
and the library's `StrawberrySQLAlchemyLoader` batching `Task.steps` (one statement for the
page's steps). `steps` is a plain list (`__use_list__`), as ours is; the two counts, which the
library does not generate, are fields declared on the type reading the same loader batch.
Ids are the models' integers (the library makes no Relay ids unless asked).

Run (in .venv-peers): python -m bench.peers.mapper_app --database-url URL --port PORT
"""

# No `from __future__ import annotations`: the mapper rewrites the classes' real annotations.

import strawberry
from sqlalchemy import inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.fastapi import BaseContext
from strawberry_sqlalchemy_mapper import StrawberrySQLAlchemyLoader, StrawberrySQLAlchemyMapper

import models
from bench.peers.app import Factory, main

mapper: StrawberrySQLAlchemyMapper[models.Base] = StrawberrySQLAlchemyMapper()
# What the page does not ask for; the timestamps' and JSON's column types (ours) are not in
# the mapper's type map either.
_TASK_UNUSED = ["user_id", "session_id", "description", "title_folded", "description_folded",
                "original_input", "kind", "metadata_", "created_at", "updated_at",
                "completed_at", "events"]

_STEPS = inspect(models.Task).relationships["steps"]


class MapperContext(BaseContext):
    def __init__(self, session: AsyncSession, factory: Factory, user: str) -> None:
        super().__init__()
        self.session = session
        self.user = user
        # The README's context: a loader per request; async sessions come from the factory.
        self.sqlalchemy_loader = StrawberrySQLAlchemyLoader(async_bind_factory=factory)


async def _steps(task: models.Task, info: strawberry.Info[MapperContext, None]) -> list[
        models.TaskStep]:
    loader = info.context.sqlalchemy_loader.loader_for(_STEPS)
    steps: list[models.TaskStep] = await loader.load((task.id,))
    return steps


@mapper.type(models.TaskStep)
class TaskStep:
    __exclude__ = ["task_id", "step_number", "created_at", "updated_at", "task"]


@mapper.type(models.Task)
class Task:
    __exclude__ = _TASK_UNUSED
    __use_list__ = ["steps"]

    @strawberry.field
    async def step_count(self, info: strawberry.Info[MapperContext, None]) -> int:
        return len(await _steps(self, info))  # type: ignore[arg-type]  # self is the model row

    @strawberry.field
    async def completed_step_count(self, info: strawberry.Info[MapperContext, None]) -> int:
        steps = await _steps(self, info)  # type: ignore[arg-type]  # self is the model row
        return sum(1 for step in steps if step.completed)


@strawberry.type
class Query:
    @strawberry.field
    async def tasks(self, info: strawberry.Info[MapperContext, None], first: int = 50) -> list[
            Task]:
        rows = await info.context.session.scalars(
            select(models.Task).where(models.Task.user_id == info.context.user)
            .order_by(models.Task.created_at.desc(), models.Task.id.desc()).limit(first)
        )
        return list(rows)  # type: ignore[arg-type]  # the mapper's types resolve model rows


mapper.finalize()
schema = strawberry.Schema(query=Query)

if __name__ == "__main__":
    main(schema, MapperContext)
