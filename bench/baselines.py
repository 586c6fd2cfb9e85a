"""The two reference points the benchmark compares the real server with, served together:

- `/naive/graphql`: the same task page through a GraphQL schema written the naive way: the
  page query, then one query per task for its steps (N+1), in the request's one session;
  `stepCount` and `completedStepCount` are counted from those steps in Python;
- `/ceiling/tasks`: no GraphQL at all, the minimal SQL for the same data (two statements)
  serialized with orjson: the most a Python server can hope for here;
- `/ceiling/page`: no GraphQL either, but exactly the two statements the server runs for the
  page (the viewer's scope, the keyset page, the steps loader's statement) and exactly its
  JSON (global ids, enum names, the counts), serialized with orjson: the ceiling of the
  10-step page.

Neither authenticates (the user is a query parameter): that flatters both a little.
Run: python -m bench.baselines --database-url URL --port PORT
"""

# No `from __future__ import annotations`: strawberry resolves the naive types, which live
# inside a function, from real annotations.

import argparse
import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

import orjson
import strawberry
import uvicorn
from fastapi import Depends, FastAPI, Response
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.fastapi import BaseContext, GraphQLRouter
from strawberry.relay.utils import to_base64

from bench.counting import count_statements
from domain import scope
from graph.execution.keyset import paginate
from graph.execution.loaders import task_steps_statement
from graph.execution.pagination import window
from graph.resolvers.queries.tasks import task_sort
from models import Task, TaskStep
from models.database import EngineOptions, create_engine


def build(database_url: str) -> FastAPI:
    engine = create_engine(EngineOptions(url=database_url))
    factory = async_sessionmaker(engine, expire_on_commit=False)
    app = FastAPI()
    app.include_router(_naive_router(factory), prefix="/naive/graphql")

    count_statements(app)

    @app.get("/ceiling/tasks")
    async def ceiling(user: str, first: int = 50) -> Response:
        async with factory() as session:
            tasks = (await session.execute(
                select(Task.id, Task.title, Task.status)
                .where(Task.user_id == user)
                .order_by(Task.created_at.desc(), Task.id.desc()).limit(first)
            )).all()
            ids = [row.id for row in tasks]
            steps = (await session.execute(
                select(TaskStep.task_id, TaskStep.id, TaskStep.content, TaskStep.completed)
                .where(TaskStep.task_id.in_(ids)).order_by(TaskStep.task_id, TaskStep.step_number)
            )).all()
        by_task: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for step in steps:
            by_task[step.task_id].append(
                {"id": step.id, "content": step.content, "completed": step.completed}
            )
        nodes = [{
            "id": row.id, "title": row.title, "status": row.status,
            "stepCount": len(by_task[row.id]),
            "completedStepCount": sum(1 for s in by_task[row.id] if s["completed"]),
            "steps": by_task[row.id],
        } for row in tasks]
        body = {"data": {"tasks": {"edges": [{"node": node} for node in nodes]}}}
        return Response(orjson.dumps(body), media_type="application/json")

    @app.get("/ceiling/page")
    async def ceiling_page(user: str, first: int = 50) -> Response:
        sort = task_sort(None)
        page = window(sort, first=first, after=None, last=None, before=None, max_size=100)
        async with factory() as session:
            statement = scope.owned_columns(Task, user, *Task.__table__.columns)
            tasks = (await session.execute(paginate(statement, sort, page))).all()[:first]
            steps = (await session.execute(
                task_steps_statement(user, [row.id for row in tasks]))).all()
        return Response(orjson.dumps(_page(tasks, steps)), media_type="application/json")

    return app


def _page(tasks: Any, steps: Any) -> dict[str, Any]:
    """The task page's response, as the server writes it, from the two statements' rows."""
    by_task: dict[int, list[Any]] = defaultdict(list)
    for step in steps:
        by_task[step.task_id].append(step)
    nodes = []
    for row in tasks:
        mine = by_task[row.id]
        nodes.append({
            "id": to_base64("Task", str(row.id)), "title": row.title,
            "status": row.status.upper(), "stepCount": len(mine),
            "completedStepCount": sum(1 for step in mine if step.completed),
            "steps": [{"id": to_base64("TaskStep", str(step.id)), "content": step.content,
                       "completed": step.completed} for step in mine],
        })
    return {"data": {"tasks": {"edges": [{"node": node} for node in nodes]}}}


class _NaiveContext(BaseContext):
    """What a naive resolver keeps for one request: one session, and each task's steps."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__()
        self.session = session
        # Strawberry resolves the 50 tasks' fields concurrently, and an AsyncSession takes one
        # statement at a time: the same rule the real server follows (graph/execution/database.py).
        self.lock = asyncio.Lock()
        self.steps: dict[int, asyncio.Future[list[TaskStep]]] = {}

    async def scalars(self, statement: Select[Any]) -> list[Any]:
        async with self.lock:
            return list(await self.session.scalars(statement))

    def steps_of(self, task_id: int) -> asyncio.Future[list[TaskStep]]:
        # One steps query per task (the N+1), shared by `steps`, `stepCount` and
        # `completedStepCount`, which strawberry asks for concurrently.
        if task_id not in self.steps:
            self.steps[task_id] = asyncio.ensure_future(self.scalars(
                select(TaskStep).where(TaskStep.task_id == task_id)
                .order_by(TaskStep.step_number)
            ))
        return self.steps[task_id]


def _naive_router(factory: async_sessionmaker[AsyncSession]) -> GraphQLRouter[Any, None]:
    async def session() -> AsyncIterator[AsyncSession]:
        async with factory() as opened:
            yield opened

    # scope="function": the session closes before the response is sent, inside the timing.
    async def context(
        opened: AsyncSession = Depends(session, scope="function"),
    ) -> _NaiveContext:
        return _NaiveContext(opened)

    @strawberry.type
    class NaiveStep:
        id: int
        content: str
        completed: bool

    @strawberry.type
    class NaiveTask:
        id: int
        title: str
        status: str

        @strawberry.field
        async def steps(self, info: strawberry.Info[_NaiveContext, None]) -> list[NaiveStep]:
            rows = await info.context.steps_of(self.id)
            return [NaiveStep(id=r.id, content=r.content, completed=r.completed) for r in rows]

        @strawberry.field
        async def step_count(self, info: strawberry.Info[_NaiveContext, None]) -> int:
            return len(await info.context.steps_of(self.id))

        @strawberry.field
        async def completed_step_count(self, info: strawberry.Info[_NaiveContext, None]) -> int:
            return sum(1 for r in await info.context.steps_of(self.id) if r.completed)

    @strawberry.type
    class NaiveEdge:
        node: NaiveTask

    @strawberry.type
    class NaiveConnection:
        edges: list[NaiveEdge]

    @strawberry.type
    class NaiveQuery:
        @strawberry.field
        async def tasks(
            self, info: strawberry.Info[_NaiveContext, None], user: str, first: int = 50
        ) -> NaiveConnection:
            rows = await info.context.scalars(
                select(Task).where(Task.user_id == user)
                .order_by(Task.created_at.desc(), Task.id.desc()).limit(first)
            )
            return NaiveConnection(edges=[
                NaiveEdge(node=NaiveTask(id=r.id, title=r.title, status=r.status))
                for r in rows
            ])

    return GraphQLRouter(
        strawberry.Schema(query=NaiveQuery), context_getter=context, graphql_ide=None
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(build(args.database_url), host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
