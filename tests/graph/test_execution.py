"""What the compiler does not answer runs through graphql-core's own executor, untouched: an
extension that hooks every resolver (tracing) turns the compiler off and sees every field."""

from __future__ import annotations

from collections import Counter
from typing import Any, ClassVar

import pytest
from graphql.execution import Executor
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.extensions import SchemaExtension

import graph.schema
from tests.conftest import GqlWith, make_settings
from tests.factories import make_task


class SeesEveryField(SchemaExtension):
    """Stands in for tracing: a `resolve` hook on every field."""

    seen: ClassVar[Counter[str]] = Counter()

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        SeesEveryField.seen[f"{info.parent_type.name}.{info.field_name}"] += 1
        return _next(root, info, *args, **kwargs)


def test_no_method_of_graphql_cores_executor_is_overridden() -> None:
    executor = graph.schema.build_schema(make_settings()).execution_context_class
    ours = [klass for klass in executor.__mro__
            if klass.__module__.split(".")[0] in {"graph", "domain", "models"}]
    assert ours == []
    assert issubclass(executor, Executor)


async def test_an_extension_that_hooks_resolvers_sees_every_field(
    db: AsyncSession, gql_with: GqlWith, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_task(db, steps=["a", "b"])
    await make_task(db, steps=["c", "d"])
    monkeypatch.setattr(graph.schema, "tracing_extension", lambda: SeesEveryField)
    gql = await gql_with(tracing=True)
    SeesEveryField.seen.clear()
    data = await gql.data("{ tasks { nodes { id title steps { id content } } } }")
    assert len(data["tasks"]["nodes"]) == 2
    assert SeesEveryField.seen == Counter({
        "Query.tasks": 1, "TaskConnection.nodes": 1, "Task.id": 2, "Task.title": 2,
        "Task.steps": 2, "TaskStep.id": 4, "TaskStep.content": 4,
    })
