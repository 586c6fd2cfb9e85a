"""Around the compiled path: limits, masking, persisted queries and diagnostics behave as on
graphql-core's; tracing turns it off; plans are cached by bytes and judged once."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.extensions import SchemaExtension

import graph.compiler
import graph.compiler.plan
import graph.execution.loaders
from graph.compiler import CompiledReads, compiled_reads
from tests.conftest import GqlWith
from tests.factories import make_task
from tests.graph.test_compiled_reads import Paths, both_paths

PAGE = """query Page($first: Int, $steps: Boolean!) { tasks(first: $first) { totalCount
  edges { node { id title steps @include(if: $steps) { id content } } } } }"""


@pytest.fixture
async def paths(gql_with: GqlWith, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """Both paths at the default limits."""
    return await both_paths(gql_with, monkeypatch, max_page_size=5)


async def test_limits_are_refused_alike_before_anything_runs(db: AsyncSession,
                                                             paths: Paths) -> None:
    await make_task(db, steps=["a"])
    deep = "{ tasks { edges { node { steps { task { steps { task { steps { task { steps {"
    deep += " task { steps { id } } } } } } } } } } } } } }"
    cases: list[tuple[str, dict[str, Any]]] = [
        (PAGE, {"first": 6, "steps": True}),  # over MAX_PAGE_SIZE
        (deep, {}),  # over MAX_DEPTH
        ("{ " + " ".join(f"a{n}: tasks {{ totalCount }}" for n in range(31)) + " }", {}),
        (PAGE, {"first": "two", "steps": True}),  # a variable of the wrong type
    ]
    for query, variables in cases:
        await paths.same(query, variables)
    assert paths.reads.counts.answered == 0


async def test_no_identity_and_unexpected_errors_are_graphql_cores(
    db: AsyncSession, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    await make_task(db, steps=["a"])
    await paths.same(PAGE, {"first": 2, "steps": True}, user=None)  # UNAUTHENTICATED

    async def broken(self: Any, task_ids: list[int]) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(graph.execution.loaders.Loaders, "_task_steps", broken)
    difference = await paths.differences(PAGE, {"first": 2, "steps": True})
    assert difference is None, difference  # masked alike (error ids aside)
    assert "INTERNAL_SERVER_ERROR" in (await paths.compiled(PAGE, {"first": 2, "steps": True},
                                                            ))["errors"][0]["extensions"]["code"]
    assert paths.reads.counts.fell_back == 3 and paths.reads.counts.answered == 0


async def test_persisted_queries_and_diagnostics_are_the_same(db: AsyncSession,
                                                              paths: Paths) -> None:
    await make_task(db, steps=["a", "b"])
    digest = hashlib.sha256(PAGE.encode()).hexdigest()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    variables = {"first": 2, "steps": True}
    await paths.same(None, variables, extensions=persisted)  # PersistedQueryNotFound
    await paths.same(PAGE, variables, extensions=persisted)  # registered with its text
    await paths.same(None, variables, extensions=persisted)  # then served by its hash
    token = paths.compiled.token("alice")
    answer = await paths.compiled.client.post(
        "/graphql", json={"variables": variables, "extensions": persisted},
        headers={"Authorization": f"Bearer {token}"})
    assert answer.json()["extensions"]["sql"]["statements"] == 3  # page, count, steps
    assert paths.reads.counts.answered == 3


async def test_a_plan_is_compiled_once_per_document_and_skip_values(
    db: AsyncSession, paths: Paths
) -> None:
    await make_task(db, steps=["a"])
    for first, steps in [(1, True), (2, True), (1, False), (2, False)]:
        await paths.same(PAGE, {"first": first, "steps": steps})
    assert (paths.reads.counts.compiled, paths.reads.counts.answered) == (2, 4)
    assert 0 < paths.reads.plans.total_bytes <= paths.reads.plans.max_bytes


async def test_what_it_cannot_prove_runs_through_graphql_core(
    db: AsyncSession, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    task = await make_task(db, steps=["a"])
    gid = (await paths.standard.data("{ tasks { nodes { id } } }"))["tasks"]["nodes"][0]["id"]
    # As if `conversations` had not been checked to read only `info.context`.
    monkeypatch.setattr(graph.compiler.plan, "CONTEXT_RESOLVERS",
                        graph.compiler.plan.CONTEXT_RESOLVERS - {("Query", "conversations")})
    for query in [
        '{ __type(name: "Task") { name } }',  # introspection
        "{ __schema { queryType { name } } }",  # introspection
        "{ conversations { totalCount } }",  # a resolver it is not told reads only context
        f'mutation {{ updateTask(input: {{id: "{gid}", title: ""}}) {{ __typename }} }}',
    ]:
        await paths.same(query)
    assert paths.reads.counts.answered == 0 and paths.reads.counts.refused == 3
    assert task.id


class SeesEveryField(SchemaExtension):
    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        return _next(root, info, *args, **kwargs)


def test_an_extension_that_sees_every_field_turns_the_compiler_off() -> None:
    assert compiled_reads(1 << 20, [SeesEveryField]) is None
    made = compiled_reads(1 << 20, [])
    assert made is not None and isinstance(made.reads, CompiledReads)  # type: ignore[attr-defined]  # set by compiled_reads
