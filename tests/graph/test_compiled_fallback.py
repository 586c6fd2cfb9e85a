"""Per-subtree fallback at the root, and the fallback's wait for what a plan began.

A query whose root fields are partly refused runs the compiled ones from the plan and only
the refused ones through graphql-core (graph/compiler/split.py): the response, errors and
statement count are those of the uncompiled app. Before graphql-core re-runs an operation
whose plan failed, `RequestDatabase.quiet` waits for every read and every queued loader key,
counted, not timed.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import pytest
from aiodataloader import DataLoader
from hypothesis import given
from hypothesis_graphql import strategies as gql_st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

import graph.compiler.plan
import graph.execution.loaders
from domain.viewers import Viewer
from graph.execution.database import RequestDatabase
from graph.execution.loaders import Loader, Loaders
from graph.pubsub import LocalBroker
from models import Conversation, Task
from tests.conftest import ON_POSTGRES
from tests.factories import tick
from tests.graph import test_compiled_reads
from tests.graph.test_compiled_reads import Paths, compared, seed

# The same fixtures: a compiled app and one with COMPILED_READS off on the test's database,
# and that database seeded with real ids and cursors for generated operations.
paths = test_compiled_reads.paths
pool = test_compiled_reads.pool


@pytest.fixture(autouse=True)
def refused_roots(monkeypatch: pytest.MonkeyPatch) -> None:
    """A split needs root fields the compiler refuses beside ones it compiles. `node`,
    `nodes`, `conversations` and `panicEvents` compile now; here they stand for resolvers
    not yet named (test_compiled_pages.py covers them compiled)."""
    unnamed = {("Query", "node"), ("Query", "nodes"), ("Query", "conversations"),
               ("Query", "panicEvents")}
    monkeypatch.setattr(graph.compiler.plan, "CONTEXT_RESOLVERS",
                        graph.compiler.plan.CONTEXT_RESOLVERS - unnamed)

MIXED = [
    # introspection beside the task page
    """{ viewer { id } tasks(first: 5) { totalCount nodes { id title stepCount
         steps { content } } } __schema { queryType { name } } }""",
    # a resolver the compiler does not call, through a fragment and an alias
    """query { __typename ...Root chats: conversations(first: 2) { totalCount } }
       fragment Root on Query { viewer { id } conversations { edges { node { id } } } }""",
    # a refused root field under @include, and nodes (steps and a malformed id)
    """query($with: Boolean!, $ids: [ID!]!) { tasks(first: 2) { nodes { id } }
         nodes(ids: $ids) @include(if: $with) { id __typename } viewer { id } }""",
]


async def _conversation(db: AsyncSession) -> None:
    db.add(Conversation(user_id="alice", title="hi", created_at=tick(), updated_at=tick()))
    await db.commit()


async def test_a_mixed_root_answers_as_graphql_core_alone(db: AsyncSession,
                                                          paths: Paths) -> None:
    ids = await seed(db)
    await _conversation(db)
    # Steps' ids: the task page primes the tasks' loader, which `nodes` would read a task's
    # id from (a loader in common: see the next test).
    variables: dict[str, Any] = {"with": True,
                                 "ids": [ids["TaskStep"][0], ids["TaskStep"][1], "x"]}
    for query in MIXED:
        await paths.same(query, variables)  # data, key order, errors, statement count
    await paths.same(MIXED[2], {**variables, "with": False})
    counts = paths.reads.counts
    # Each compiled once, with root fields left to graphql-core (the last one twice: with
    # and without `nodes`, which leaves nothing to graphql-core), and answered by the plan.
    assert (counts.compiled, counts.split, counts.refused) == (4, 3, 0)
    assert (counts.answered, counts.fell_back) == (4, 0)


async def test_parts_that_share_a_loader_run_whole_and_are_not_split_again(
    db: AsyncSession, paths: Paths
) -> None:
    ids = await seed(db)
    # `node` (graphql-core) and `task` (the plan) read the same task, its steps and its
    # counts through the same loaders: whether their keys meet in one batch is a matter of
    # event-loop turns, so the count could differ from graphql-core's alone.
    query = """query($id: ID!) { task(id: $id) { title stepCount steps { task { id } } }
                 node(id: $id) { id ... on Task { stepCount steps { task { id } } } } }"""
    for _ in range(2):
        await paths.same(query, {"id": ids["Task"][2]})
    counts = paths.reads.counts
    assert (counts.compiled, counts.split, counts.shared, counts.fell_back) == (1, 1, 1, 1)
    assert counts.answered == 0  # the second time, graphql-core alone, without a plan


async def test_the_split_is_judged_once_per_document(db: AsyncSession, paths: Paths) -> None:
    await seed(db)
    for _ in range(3):
        await paths.same(MIXED[0])
    assert (paths.reads.counts.compiled, paths.reads.counts.split) == (1, 1)
    assert paths.reads.counts.answered == 3


async def test_an_error_in_the_refused_part_is_graphql_cores_whole(
    db: AsyncSession, paths: Paths, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(db)
    await _conversation(db)
    broken_messages = """{ viewer { id } tasks(first: 2) { nodes { id } }
                           conversations { nodes { messages { totalCount } } } }"""
    query = "{ viewer { id } conversations { totalCount } }"

    async def broken(self: Any, keys: list[Any]) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(graph.execution.loaders.Loaders, "_message_counts", broken)
    await paths.same(broken_messages)  # masked alike (error ids aside)
    await paths.same(query, user=None)  # UNAUTHENTICATED, in conversations only
    assert paths.reads.counts.fell_back == 2 and paths.reads.counts.answered == 0
    answer = await paths.compiled(broken_messages)
    assert answer["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert answer["errors"][0]["path"] == ["conversations", "nodes", 0, "messages", "totalCount"]


async def test_an_error_in_the_compiled_part_waits_for_the_refused_part(
    db: AsyncSession, paths: Paths
) -> None:
    await seed(db)
    await _conversation(db)
    # `first: -1` is refused by the tasks resolver (the plan falls back) while graphql-core
    # reads the conversations page and its messages' counts.
    await paths.same("""{ conversations { nodes { messages { totalCount } } }
                          tasks(first: -1) { nodes { id } } }""")
    assert paths.reads.counts.fell_back == 1 and paths.reads.counts.answered == 0


# --- quiet: counted, not timed ---------------------------------------------------------------

@pytest.fixture
def request_db(session_factory: async_sessionmaker[AsyncSession]) -> RequestDatabase:
    return RequestDatabase(session_factory, LocalBroker(), Viewer("alice"))


def _two_statement_loader(request_db: RequestDatabase, done: list[str]) -> Loader[int, int]:
    """A loader whose batch runs two statements, one after the other, like `_counts` with
    two filters: between them no read is in flight."""

    async def batch(keys: list[int]) -> list[int]:
        for step in ("first", "second"):
            await request_db.scalar(select(1))
            done.append(step)
        return keys

    return Loader(request_db, batch)


def test_every_loader_is_one_quiet_counts(request_db: RequestDatabase) -> None:
    loaders = Loaders(request_db, Viewer("alice"))
    found = [value for value in vars(loaders).values() if isinstance(value, DataLoader)]
    found.append(loaders.by_id(Task))
    assert len(found) > 5
    assert [loader for loader in found if not isinstance(loader, Loader)] == []


async def test_quiet_waits_for_a_queued_batch_to_begin_and_end(
    request_db: RequestDatabase
) -> None:
    done: list[str] = []
    loader = _two_statement_loader(request_db, done)
    queued = loader.load(1)
    await request_db.quiet()  # the batch starts two loop turns after the key was queued
    assert done == ["first", "second"] and queued.done()
    assert request_db.stats.statements == 2
    await request_db.close()


async def test_quiet_waits_for_a_batch_whose_awaiting_field_was_cancelled(
    request_db: RequestDatabase
) -> None:
    done: list[str] = []
    loader = _two_statement_loader(request_db, done)

    async def field() -> int:
        return await loader.load(7)

    waiting = asyncio.ensure_future(field())
    await asyncio.sleep(0)  # the field has queued its key
    waiting.cancel()
    await asyncio.wait([waiting])
    await request_db.quiet()
    assert done == ["first", "second"]
    await request_db.quiet()  # nothing left: returns at once
    await request_db.close()


# --- generated mixed roots ------------------------------------------------------------------

MIXED_EXAMPLES = int(os.environ.get("COMPILED_EXAMPLES") or (80 if ON_POSTGRES else 200))
GENERATED_MIXED = gql_st.queries(
    test_compiled_reads.SCHEMA,
    fields=["tasks", "task", "viewer", "node", "nodes", "conversations", "panicEvents"],
    custom_scalars=test_compiled_reads.CUSTOM_SCALARS,
    allow_x00=False,
)


@compared(MIXED_EXAMPLES)
@given(document=GENERATED_MIXED)
async def test_generated_mixed_roots_answer_alike(pool: Paths, document: str) -> None:
    await pool.same(document)
