"""The compiled path answers exactly what graphql-core answers: the whole response (data,
errors with paths and locations, extensions with diagnostics' statement count, key order),
for the example operations, every query field, and operations hypothesis-graphql generates
over data with nulls, empty lists, unicode, equal timestamps and more than a maximum page.

Two apps run on the test's one database: the compiled one and one with COMPILED_READS off.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from graphql import OperationDefinitionNode, is_required_argument, parse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes
from hypothesis_graphql import strategies as gql_st
from sqlalchemy.ext.asyncio import AsyncSession

import graph.compiler
import graph.compiler.kinds
import graph.compiler.plan
import graph.compiler.run
from graph.cli import render_schema
from graph.compiler import CompiledReads
from graph.ids import encode_id
from models import Task, TaskEvent, TaskStep
from tests.conftest import ON_POSTGRES, GqlWith, GraphQL
from tests.factories import tick
from tests.graph.compiled_lists import seed_lists
from tests.graph.schema_walk import introspect, selection

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = render_schema()
TASKS = 103  # more than a maximum page (100), so `hasNextPage` is true at the limit
# The generated operations: 2,000 on SQLite; PostgreSQL's round trips cost more, and the
# same plans run there (COMPILED_EXAMPLES overrides both).
EXAMPLES = int(os.environ.get("COMPILED_EXAMPLES") or (400 if ON_POSTGRES else 2_000))


@dataclass
class Paths:
    compiled: GraphQL
    standard: GraphQL
    reads: CompiledReads

    async def differences(self, query: str | None, variables: dict[str, Any] | None = None, *,
                          operation: str | None = None, user: str | None = "alice",
                          admin: bool = False,
                          extensions: dict[str, Any] | None = None) -> str | None:
        """None when both paths answer alike (HTTP status and body); else both answers."""
        answers = []
        for gql in (self.compiled, self.standard):
            body: dict[str, Any] = {"variables": variables or {}}
            if query is not None:  # None: a persisted query's hash alone
                body["query"] = query
            if operation is not None:
                body["operationName"] = operation
            if extensions is not None:
                body["extensions"] = extensions
            headers = {"Authorization": f"Bearer {gql.token(user, admin=admin)}"} if user else {}
            response = await gql.client.post("/graphql", json=body, headers=headers)
            answers.append(f"{response.status_code} {_comparable(response.text)}")
        return None if answers[0] == answers[1] else "\n".join(answers)

    async def same(self, query: str | None, variables: dict[str, Any] | None = None,
                   **kwargs: Any) -> None:
        difference = await self.differences(query, variables, **kwargs)
        assert difference is None, f"{query}\n{variables}\n{difference}"

    async def alike_or_fewer_statements(self, query: str) -> None:
        """`same`, but the compiled path may run fewer statements (`_fewer_statements_alike`):
        for generated operations only; the planted-bug tests keep strict equality."""
        difference = await self.differences(query)
        assert difference is None or _fewer_statements_alike(*difference.split("\n")[-2:]), (
            f"{query}\n{difference}")


def _fewer_statements_alike(compiled: str, standard: str) -> bool:
    """The same status and body, the compiled path with fewer statements. graphql-core's
    loaders batch what is asked in one turn of the event loop: in whole-suite runs (seen on
    both engines since 2026-12-07, never alone) one of its by-id loads sometimes lands a turn
    later and costs one more statement than the plan, which reads them together. The plan
    may never cost more; that it costs as much as graphql-core at its best is asserted by
    the statement-count tests (test_compiled_pages.py, test_loaders.py), not here. Why the
    batch splits is not yet known."""
    status_a, _, body_a = compiled.partition(" ")
    status_b, _, body_b = standard.partition(" ")
    a, b = json.loads(body_a), json.loads(body_b)
    count_a = a.get("extensions", {}).get("sql", {}).pop("statements", None)
    count_b = b.get("extensions", {}).get("sql", {}).pop("statements", None)
    return (status_a == status_b and a == b and count_a is not None and count_b is not None
            and count_a < count_b)


def _comparable(text: str) -> str:
    """The response as sent, but the SQL time (the statement count stays) and error ids
    (random per error)."""
    body = json.loads(text)
    body.get("extensions", {}).get("sql", {}).pop("ms", None)
    for error in body.get("errors") or ():
        error.get("extensions", {}).pop("errorId", None)
    return json.dumps(body, ensure_ascii=False)  # key order kept: dicts keep it


@pytest.fixture
async def paths(gql_with: GqlWith, monkeypatch: pytest.MonkeyPatch) -> Paths:
    # Far above the default cost limit: the tests compare answers, not limits (limits get
    # their own tests, at the defaults: test_compiled_policies.py).
    return await both_paths(gql_with, monkeypatch, max_cost=10**9, max_depth=20)


async def both_paths(gql_with: GqlWith, monkeypatch: pytest.MonkeyPatch,
                     **settings: Any) -> Paths:
    """A compiled app and one with COMPILED_READS=false, with the same `settings`."""
    made: list[Any] = []
    real = graph.compiler.compiled_reads

    def keep(*args: Any, **kwargs: Any) -> Any:
        made.append(real(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr("graph.schema.compiled_reads", keep)
    compiled = await gql_with(**settings)
    reads = made[-1].reads
    standard = await gql_with(**settings, compiled_reads=False)
    return Paths(compiled, standard, reads)


UNICODE = ["Ünïcødé ✓", "中文任务", "emoji 🎉🚀", "RTL \u202eabc", "quote \" and \\ back", ""]


async def seed(db: AsyncSession) -> dict[str, list[str]]:
    """Alice's 103 tasks (nulls, empty and full step lists, every status, unicode, pairs with
    the same timestamp so only the id orders them) and a few of bob's; the global ids."""
    statuses = ["pending", "in_progress", "completed", "failed", "cancelled"]
    stamp = tick()
    tasks: list[Task] = []
    for n in range(TASKS):
        if n % 7:
            stamp = tick()
        task = Task(
            user_id="alice", title=f"{UNICODE[n % 5]} {n}", kind="todo" if n % 3 else "ünï",
            description=None if n % 2 else UNICODE[n % 6], status=statuses[n % 5],
            metadata_=None if n % 4 else {"k": [n, None, UNICODE[n % 6]], "nested": {}},
            original_input=None if n % 5 else "raw words", created_at=stamp, updated_at=stamp,
            completed_at=stamp if n % 5 == 2 else None,
        )
        tasks.append(task)
    tasks += [Task(user_id="bob", title=f"bob's {n}", created_at=tick(), updated_at=tick())
              for n in range(3)]
    db.add_all(tasks)
    await db.flush()
    for n, task in enumerate(tasks):
        count = 0 if n % 4 == 1 else (10 if n % 4 == 2 else n % 4 + 1)
        db.add_all(TaskStep(task_id=task.id, step_number=k + 1, content=f"{UNICODE[k % 6]}{k}",
                            completed=bool((n + k) % 2)) for k in range(count))
        db.add_all(TaskEvent(task_id=task.id, event_type="updated", created_at=tick(),
                             payload=None if k else {"fields": ["title"]})
                   for k in range(n % 3))
    await db.commit()
    steps = (await db.execute(TaskStep.__table__.select())).all()
    events = (await db.execute(TaskEvent.__table__.select())).all()
    return {
        "Task": [encode_id("Task", task.id) for task in tasks],
        "TaskStep": [encode_id("TaskStep", row.id) for row in steps],
        "TaskEvent": [encode_id("TaskEvent", row.id) for row in events],
        **await seed_lists(db),
    }


def example_operations() -> Iterator[tuple[str, str]]:
    for path in sorted((ROOT / "examples" / "operations").glob("*.graphql")):
        document = parse(path.read_text())
        for definition in document.definitions:
            if (isinstance(definition, OperationDefinitionNode) and definition.name
                    and definition.operation.value == "query"):
                yield definition.name.value, path.read_text()


def example_variables(ids: dict[str, list[str]]) -> dict[str, list[dict[str, Any]]]:
    return {
        "TaskList": [{}, {"first": 100}, {"first": 0},
                     {"first": 3, "filter": {"status": ["COMPLETED"]}},
                     {"filter": {"search": "ünï", "completed": False}}, {"first": -1}],
        "TaskHistory": [{"id": ids["Task"][2]}, {"id": ids["Task"][-1]}, {"id": "nonsense"}],
        "ChatHistory": [{"id": ids["Conversation"][0]}, {"id": ids["Conversation"][0], "last": 100},
                        {"id": ids["Conversation"][2]}, {"id": ids["Conversation"][-1]},
                        {"id": "missing"}],
        "FindInChat": [{"id": ids["Conversation"][0], "search": "ÉTÉ"},
                       {"id": ids["Conversation"][1], "search": "", "first": 1}],
        "ConversationList": [{}, {"first": 2}],
        "ChatSidebar": [{}, {"search": "été"}],
        "PanicHistory": [{}, {"first": 2}],
        "PanicHistoryOpenFirst": [{}, {"from": "2020-01-01T00:00:00Z"}],
        "AuditDashboard": [{}, {"source": "SERVER", "documentType": "plan"}],
        "AuditOutliers": [{}, {"first": 3}],
        "AuditUserLogs": [{"userId": "alice"}, {"userId": "bob"}],
    }


async def test_the_example_operations_answer_alike(db: AsyncSession, paths: Paths) -> None:
    ids = await seed(db)
    variables = example_variables(ids)
    for name, text in example_operations():
        for values in variables.get(name, [{}]):
            await paths.same(text, values, operation=name)
        await paths.same(text, variables.get(name, [{}])[0], operation=name, user="root",
                         admin=True)
    # Each answered by its plan but three errors graphql-core words: `first: -1`, bob's logs
    # and `byUser` for alice, who is no admin.
    assert (paths.reads.counts.answered, paths.reads.counts.fell_back) == (42, 3)


async def test_every_query_field_answers_alike(db: AsyncSession, paths: Paths) -> None:
    ids = await seed(db)
    schema = await introspect(paths.compiled)
    assert schema.query_type is not None
    await paths.same("query Everything " + selection(schema, schema.query_type, depth=6))
    for name, field in schema.query_type.fields.items():
        arguments = {"task": f'(id: "{ids["Task"][0]}")', "node": f'(id: "{ids["TaskStep"][0]}")',
                     "nodes": f'(ids: ["{ids["Task"][1]}", "{ids["TaskEvent"][0]}", "x", '
                              f'"{ids["Message"][0]}", "{ids["AuditLog"][-1]}"])',
                     "conversation": f'(id: "{ids["Conversation"][0]}")',
                     "panicEvent": f'(id: "{ids["PanicEvent"][3]}")',
                     "tasks": "(first: 100)"}.get(name, "")
        if not arguments and any(is_required_argument(arg) for arg in field.args.values()):
            arguments = '(id: "missing")'  # a lookup by id of another kind: answered null
        await paths.same(f"{{ {name}{arguments} {selection(schema, field.type, depth=5)} }}")
    # Every field but auditStats (its byUser is FORBIDDEN for alice): answered by a plan.
    assert paths.reads.counts.answered >= len(schema.query_type.fields) - 1, paths.reads.counts


# --- generated operations ------------------------------------------------------------------

# Filled by the `pool` fixture before the first example is drawn: real ids and cursors, so
# generated lookups and pages find rows as often as they miss.
POOL: dict[str, list[str]] = {"ID": [], "cursor": [], "list cursor": []}


def _pooled(kind: str, other: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    real = st.integers(0, 10**6).map(lambda n: POOL[kind][n % len(POOL[kind])])
    return st.one_of(real, real, other).map(nodes.String)


CUSTOM_SCALARS = {
    # Page sizes around the interesting edges (0, 1, the default, the maximum and past it).
    "Int": st.sampled_from([0, 1, 2, 3, 20, 99, 100, 101, -1]).map(nodes.Int),
    "ID": _pooled("ID", st.text(max_size=12)),
    "String": _pooled("cursor", st.text(max_size=8)),
    "DateTime": st.sampled_from(["2020-01-01T00:00:00Z", "2100-01-01T00:00:00+05:00",
                                 "2024-05-01T09:00:00"]).map(nodes.String),
}
# Two generators sharing the one budget: the task page's fields, and the other lists and
# lookups, `node` and `nodes` (interfaces) among them.
GENERATED_TASKS = gql_st.queries(SCHEMA, fields=["tasks", "task", "viewer"],
                                 custom_scalars=CUSTOM_SCALARS, allow_x00=False)
GENERATED_LISTS = gql_st.queries(
    SCHEMA, fields=["conversations", "conversation", "panicEvents", "panicEvent", "auditLogs",
                    "node", "nodes"],
    custom_scalars={**CUSTOM_SCALARS, "String": _pooled("list cursor", st.text(max_size=8))},
    allow_x00=False)
GENERATED = st.one_of(GENERATED_TASKS, GENERATED_LISTS)


@pytest.fixture
async def pool(db: AsyncSession, paths: Paths) -> Paths:
    ids = await seed(db)
    POOL["ID"] = [*ids["Task"][:: 7], *ids["TaskStep"][:3], *ids["Task"][-1:],
                  *(ids[kind][n] for kind in ("Conversation", "Message", "PanicEvent",
                                              "GroundingExercise", "AuditLog") for n in (0, -1))]
    cursors: list[str] = []
    for order in ("", ", orderBy: {field: TITLE, direction: ASC}"):
        data = await paths.standard.data(f"{{ tasks(first: 100{order}) {{ edges {{ cursor "
                                         "node { events { edges { cursor } } } } } }")
        for edge in data["tasks"]["edges"][::9]:
            cursors.append(edge["cursor"])
            cursors += [inner["cursor"] for inner in edge["node"]["events"]["edges"]]
    lists = await paths.standard.data(
        "{ conversations { edges { cursor node { messages(first: 100) { edges { cursor } } } } }"
        " panicEvents { edges { cursor } } auditLogs { edges { cursor } } }")
    POOL["cursor"] = cursors
    cursors = []
    for edge in lists["conversations"]["edges"]:
        cursors += [edge["cursor"], *(m["cursor"] for m in edge["node"]["messages"]["edges"][::25])]
    cursors += [edge["cursor"] for name in ("panicEvents", "auditLogs")
                for edge in lists[name]["edges"][::3]]
    POOL["list cursor"] = cursors
    return paths


# graphql-core's own path, when a field fails, leaves sibling coroutines it had started
# unawaited now and then (the standard app alone shows it on these operations, a few per
# thousand); Python reports each when it is collected. That is the fallback's behaviour, not
# a difference between the paths, which this test compares.
def compared(examples: int) -> Callable[[Any], Any]:
    """A generated comparison: a fixed budget of derandomized examples, and graphql-core's
    unawaited siblings (above) not counted as a difference."""
    def decorate(test: Any) -> Any:
        test = settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                        suppress_health_check=[HealthCheck.function_scoped_fixture,
                                               HealthCheck.too_slow, HealthCheck.data_too_large,
                                               HealthCheck.filter_too_much])(test)
        return pytest.mark.filterwarnings(
            "ignore:Exception ignored in. <coroutine object:"
            "pytest.PytestUnraisableExceptionWarning")(test)

    return decorate


@compared(EXAMPLES)
@given(document=GENERATED)
async def test_generated_operations_answer_alike(pool: Paths, document: str) -> None:
    await pool.alike_or_fewer_statements(document)


async def test_the_generated_operations_are_mostly_compiled(
    pool: Paths, caplog: pytest.LogCaptureFixture
) -> None:
    """The generator reaches the compiled path, or the test above would prove little."""
    caplog.set_level(logging.DEBUG, logger="graph.compiler.extension")  # why each fell back
    for name, strategy in (("tasks", GENERATED_TASKS), ("lists", GENERATED_LISTS)):
        compiled = 0
        for document in _drawn(strategy, 60):
            before = pool.reads.counts.answered
            await pool.same(document)
            compiled += pool.reads.counts.answered > before
        # Usually 37 (tasks) and 46 (lists) of 60; twice, in whole-file runs on a loaded
        # machine, 22 and 27: why is not yet known, so the message says why each fell back.
        assert compiled >= 20, (name, compiled, [r.getMessage()[:160] for r in caplog.records])


def _drawn(strategy: st.SearchStrategy[str], count: int) -> list[str]:
    drawn: list[str] = []

    @settings(max_examples=count, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def draw(document: str) -> None:
        drawn.append(document)

    draw()
    return drawn


# --- the comparison catches what it must ----------------------------------------------------

TASK_PAGE = """{ tasks(first: 50) { totalCount edges { cursor node {
  id title status stepCount completedStepCount steps { id content completed } } } } }"""


async def test_a_plan_that_swaps_two_fields_is_caught(
    db: AsyncSession, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(db)
    real = graph.compiler.plan.Compiler.field

    def swapped(self: Any, parent: Any, key: str, nodes_: Any) -> Any:
        planned = real(self, parent, key, nodes_)
        if key == "title":  # the planted bug: `title` answered from `kind`
            assert isinstance(planned, graph.compiler.kinds.Attribute)
            return replace(planned, attribute="kind")
        return planned

    monkeypatch.setattr(graph.compiler.plan.Compiler, "field", swapped)
    difference = await paths.differences(TASK_PAGE)
    assert difference is not None and '"title": "todo"' in difference


async def test_a_plan_that_runs_more_statements_is_caught(
    db: AsyncSession, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(db)
    real = graph.compiler.run.Run.call

    def forgetful(self: Any, call: Any, source: Any) -> Any:
        self.context.loaders.clear()  # the planted bug: every call loads afresh (N+1)
        return real(self, call, source)

    monkeypatch.setattr(graph.compiler.run.Run, "call", forgetful)
    difference = await paths.differences(TASK_PAGE)
    assert difference is not None and '"statements": 3' in difference  # the standard count
