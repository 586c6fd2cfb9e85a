"""The chat page, the audit list, the other lists and `node`/`nodes` are answered by their
plans (the compiler's counts say so), alike on both paths; an abstract type's value is
written by the sub-plan its own type resolver picks, and one it cannot tell falls back."""

from __future__ import annotations

import asyncio
import gc
import warnings
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

import graph.compiler.plan
from graph.compiler.plan import Fallback
from graph.compiler.run import Run
from tests.conftest import GqlWith
from tests.graph.test_compiled_reads import Paths, both_paths, example_operations, seed


@pytest.fixture
async def paths(gql_with: GqlWith, monkeypatch: pytest.MonkeyPatch) -> Paths:
    return await both_paths(gql_with, monkeypatch)


# Each answered by its plan, no fallback.
COMPILED_PAGES: dict[str, dict[str, Any]] = {
    "ChatHistory": {"last": 100}, "ConversationList": {}, "ChatSidebar": {"search": "été"},
    "FindInChat": {"search": "ÉTÉ"}, "AuditDashboard": {}, "AuditOutliers": {},
    "AuditUserLogs": {"userId": "alice"}, "PanicHistoryOpenFirst": {},
}
NODES = """query Nodes($id: ID!, $ids: [ID!]!) {
  node(id: $id) { __typename id ... on Message { role content conversation { id title } } }
  nodes(ids: $ids) { id __typename ...on Task { title } ... on Node { ... on AuditLog {
    documentType inputData } } ... on GroundingExercise { completed panicEvent { id } } }
}"""


async def test_the_list_pages_and_node_are_compiled(db: AsyncSession, paths: Paths) -> None:
    ids = await seed(db)
    texts = dict(example_operations())
    mixed = [ids[kind][n] for kind in ("Task", "Message", "AuditLog", "GroundingExercise",
                                       "PanicEvent", "Conversation") for n in (0, -1)]
    asked: list[tuple[str, dict[str, Any], str | None, bool]] = [
        (texts[name], {"id": ids["Conversation"][0], **values}, name, False)
        for name, values in COMPILED_PAGES.items()]
    asked.append((NODES, {"id": ids["Message"][3], "ids": [*mixed, "nonsense"]}, None, False))
    asked.append((texts["AuditUsers"], {}, "AuditUsers", True))  # byUser: an admin's
    for text, values, name, admin in asked:
        before = (paths.reads.counts.answered, paths.reads.counts.fell_back,
                  paths.reads.counts.refused)
        await paths.same(text, values, operation=name, admin=admin)
        after = (paths.reads.counts.answered, paths.reads.counts.fell_back,
                 paths.reads.counts.refused)
        assert after == (before[0] + 1, before[1], before[2]), (name, before, after)


MIXED = "query Mixed($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"
TYPENAMES = "query Mixed($ids: [ID!]!) { nodes(ids: $ids) { __typename } }"


async def _mixed_ids(db: AsyncSession) -> list[str]:
    ids = await seed(db)
    return [ids["Message"][0], ids["Task"][0], ids["AuditLog"][0], ids["Conversation"][0]]


async def test_a_node_whose_type_the_plan_cannot_tell_falls_back(
    db: AsyncSession, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A type resolver that answers with an awaitable: graphql-core awaits it, the plan
    does not, so the operation runs through graphql-core, answering alike."""
    real = graph.compiler.plan.Compiler.abstract

    def awaited(self: Any, output: Any, nodes: Any, site: Any) -> Any:
        resolve = output.resolve_type

        async def later(value: Any, info: Any, abstract: Any) -> Any:
            return resolve(value, info, abstract)

        monkeypatch.setattr(output, "resolve_type", later)
        return real(self, output, nodes, site)

    monkeypatch.setattr(graph.compiler.plan.Compiler, "abstract", awaited)
    await paths.same(MIXED, {"ids": await _mixed_ids(db)})
    assert (paths.reads.counts.answered, paths.reads.counts.fell_back) == (0, 1)


async def test_a_plan_that_picks_the_wrong_type_is_caught(
    db: AsyncSession, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = graph.compiler.plan._abstract

    def confused(output: Any, branches: dict[str, Any], info: Any) -> Any:
        # The planted bug: each type written by the next type's sub-plan.
        names = list(branches)
        shifted = {name: branches[names[(n + 1) % len(names)]] for n, name in enumerate(names)}
        return real(output, shifted, info)

    monkeypatch.setattr(graph.compiler.plan, "_abstract", confused)
    difference = await paths.differences(TYPENAMES, {"ids": await _mixed_ids(db)})
    assert difference is not None and paths.reads.counts.answered == 1


async def test_a_plan_that_starts_children_by_level_is_caught(
    db: AsyncSession, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planted bug: a value's children wait for the whole level (both panic lists)
    before they start, so one loader batch holds both lists' exercises, where graphql-core,
    starting them as each list arrives, runs two statements."""

    async def by_level(self: Run) -> dict[str, Any]:
        data = self.write(self.plan.root, self.root)
        while self.pending:
            batch, self.pending = self.pending, []
            async with asyncio.TaskGroup() as group:
                for waiting in batch:
                    group.create_task(self._later(*waiting))
        return data

    monkeypatch.setattr(Run, "_start", lambda self: None)
    monkeypatch.setattr(Run, "data", by_level)
    await seed(db)
    text = dict(example_operations())["PanicHistoryOpenFirst"]
    difference = await paths.differences(text, operation="PanicHistoryOpenFirst")
    assert difference is not None and '"statements": 6' in difference
    assert paths.reads.counts.answered == 1


async def test_a_fallback_leaves_no_resolver_unawaited(
    db: AsyncSession, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A field failing after another's resolver was called (its coroutine not yet started):
    the run closes that coroutine, so nothing is reported unawaited when it is collected."""
    real = Run.call

    def viewer_fails(self: Run, call: Any, source: Any) -> Any:
        if call.parent.name == "Query" and call.nodes[0].name.value == "viewer":
            raise Fallback("planted")
        return real(self, call, source)

    monkeypatch.setattr(Run, "call", viewer_fails)
    await seed(db)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await paths.same("{ tasks { totalCount } viewer { id } }")
        gc.collect()
    assert paths.reads.counts.fell_back == 1
    assert not [w for w in caught if "never awaited" in str(w.message)], caught

