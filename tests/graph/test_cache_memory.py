"""The caches a client fills hold what their byte budgets say, measured with tracemalloc.

Each case offers a cache far more than its budget, of one kind of document, then measures
with tracemalloc what is still allocated once everything else is let go: it must stay under
the budget plus SLACK, and the cache's own accounting must not fall short of it (nor count
more than twice what it holds). Before, the document cache missed comment tokens: 32 cached
1 MB documents held ~66 MB against a 32 MiB budget.

SLACK covers what tracemalloc sees besides the cache: small free lists and a dict resized on
the way (a few KiB). CPython's type attribute cache also keeps the attribute names
graphql-core's visitors build for each validation (~30 KiB, at most 4,096 names): it is
cleared before each measure, as `sys._clear_type_cache` is meant for.
"""

from __future__ import annotations

import gc
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
import strawberry
from graphql import Token, specified_rules
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from graph.compiler.extension import CompiledReads
from graph.extensions.cache import BoundedLRU
from graph.extensions.documents import Documents
from graph.http.persisted import PersistedQueries, sha256_hex
from graph.schema import build_schema, limit_rules
from tests.conftest import make_settings

SLACK = 32 * 1024
BUDGET = 512 * 1024
PARSE_OPTIONS = {"max_tokens": 2_000}  # the default MAX_TOKENS
TASK = """id title status description kind createdAt updatedAt stepCount completedStepCount
  steps { id content completed } events(first: 5) { totalCount edges { node { id eventType } } }"""


@pytest.fixture(scope="module")
def schema() -> strawberry.Schema:
    return build_schema(make_settings())


@contextmanager
def traced() -> Iterator[Callable[[], int]]:
    """Traces allocations from here; yields what is still allocated of them, when asked."""
    gc.collect()
    sys._clear_type_cache()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]

        def held() -> int:
            gc.collect()
            sys._clear_type_cache()
            return tracemalloc.get_traced_memory()[0] - start

        yield held
    finally:
        tracemalloc.stop()


def holds_what_it_counts(held: int, counted: int, budget: int) -> None:
    assert held <= budget + SLACK, (held, budget)
    assert counted <= budget
    assert counted >= held - SLACK, (counted, held)  # never less than it holds
    assert counted <= 2 * held + SLACK, (counted, held)  # nor a wild guess


# --- the document cache --------------------------------------------------------------------

# Each makes the i-th document of its kind; the kinds a client may send to fill the cache.
DOCUMENTS: dict[str, tuple[int, Callable[[int], str]]] = {
    # the case, at a sixteenth of the size
    "one large comment": (16, lambda i: f"# {i} {'x' * 64 * 1024}\n{{ viewer {{ id }} }}"),
    # (graphql-core counts comments against MAX_TOKENS)
    "many small comments": (40, lambda i: f"# {i}\n" + "# commented\n" * 1_000
                            + "{ viewer { id } }"),
    "ordinary operations": (50, lambda i: f"""query Page{i}($after: String) {{
        tasks(first: {i % 100 + 1}, after: $after) {{ totalCount
          pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {TASK} }} }} }}
        viewer {{ id isAdmin }} }}"""),
    "the most expensive tokens": (8, lambda i: "{ " + f"v{i} " + "a " * 250 + "}"),
    "a large string": (16, lambda i: f'{{ viewer(x: "{i}{"y" * 32 * 1024}") {{ id }} }}'),
    "a hundred errors each": (8, lambda i: "{ " + " ".join(
        f"u{i}x{j}{'z' * 250}" for j in range(120)) + " }"),
    "non-Latin text": (16, lambda i: f'{{ viewer(x: "{i}{"😀" * 8 * 1024}") {{ id }} }}'),
}


@pytest.mark.parametrize("kind", DOCUMENTS)
def test_the_document_cache_holds_no_more_than_its_budget(
    schema: strawberry.Schema, kind: str
) -> None:
    count, make = DOCUMENTS[kind]
    rules = (*specified_rules, *limit_rules(make_settings()))
    graphql_schema = schema._schema
    warm = Documents(BUDGET)  # graphql-core's lazily built schema maps, made once
    warm.errors(warm.parsed(make(count), PARSE_OPTIONS), graphql_schema, rules)
    del warm
    with traced() as held:
        documents = Documents(BUDGET)
        for i in range(count):
            known = documents.parsed(make(i), PARSE_OPTIONS)
            documents.errors(known, graphql_schema, rules)
        del known
        holds_what_it_counts(held(), documents.known.total_bytes, BUDGET)
    assert len(documents.known) < count  # the budget was reached: it evicted


def test_a_cached_document_keeps_no_comment() -> None:
    documents = Documents(BUDGET)
    document = documents.parsed("# one\n{ viewer # two\n { id } }", PARSE_OPTIONS).document
    assert document.loc is not None
    token: Token | None = document.loc.start_token
    kinds = []
    while token is not None:
        kinds.append(token.kind.name)
        token = token.next
    assert "COMMENT" not in kinds
    assert kinds[0] == "SOF" and kinds[-1] == "EOF" and len(kinds) == 8


def test_an_error_in_a_document_with_comments_still_points_at_its_line(
    schema: strawberry.Schema,
) -> None:
    documents = Documents(BUDGET)
    known = documents.parsed("# one\n# two\n{ viewer { nope } }", PARSE_OPTIONS)
    errors = documents.errors(known, schema._schema, tuple(specified_rules))
    assert [(error.message, error.locations) for error in errors] == [
        ("Cannot query field 'nope' on type 'Viewer'.", [(3, 12)])
    ]


# --- the APQ cache -------------------------------------------------------------------------

TEXTS: dict[str, tuple[int, int, Callable[[int], str]]] = {
    # (count offered, entries allowed, the i-th text)
    "ASCII texts": (250, 1_000, lambda i: f"query Q{i} {{ viewer {{ id }} }} #" + "x" * 16_000),
    # one emoji and CPython keeps the whole text at 4 bytes a character: 4x its UTF-8 size
    "a text with one emoji": (250, 1_000,
                              lambda i: f"query Q{i} {{ viewer {{ id }} }} #😀" + "x" * 8_000),
    "small texts": (10_000, 5_000, lambda i: f"query Q{i} {{ viewer {{ id }} }}"),
}
APQ_BUDGET = BUDGET


@pytest.mark.parametrize("kind", TEXTS)
def test_the_apq_cache_holds_no_more_than_its_budget(kind: str) -> None:
    count, entries, make = TEXTS[kind]
    with traced() as held:
        persisted = PersistedQueries(
            BoundedLRU(max_entries=entries, max_bytes=APQ_BUDGET), max_query_bytes=32 * 1024
        )
        for i in range(count):
            text = make(i)
            persisted.register(sha256_hex(text), text)
        del text
        holds_what_it_counts(held(), persisted.cache.total_bytes, APQ_BUDGET)
    assert len(persisted.cache) < count


# --- the plan cache ------------------------------------------------------------------------

OPERATIONS: dict[str, tuple[int, Callable[[int], str]]] = {
    "task pages": (50, lambda i: f"""{{ tasks(first: {i % 100 + 1}) {{ nodes {{ {TASK} }} }}
        v{i}: viewer {{ id }} }}"""),
    "nodes of every type": (50, lambda i: f"""{{ nodes(ids: ["{i}"]) {{ id
        ... on Task {{ {TASK} }} ... on Conversation {{ title messages {{ nodes {{ content }} }} }}
        ... on PanicEvent {{ id }} }} }}"""),
    "long aliases": (20, lambda i: f"{{ a{i}{'q' * 25_000}: viewer {{ id }} }}"),
    "fragments": (50, lambda i: f"""query Q{i} {{ tasks {{ nodes {{ ...T }} }}
        task(id: "x") {{ ...T }} }} fragment T on Task {{ {TASK} }}"""),
}
PLAN_BUDGET = BUDGET


@pytest.mark.parametrize("kind", OPERATIONS)
async def test_the_plan_cache_holds_no_more_than_its_budget(
    schema: strawberry.Schema, kind: str
) -> None:
    count, make = OPERATIONS[kind]

    async def plan(reads: CompiledReads, text: str) -> None:
        # The document as the app hands it over: from the document cache, which then lets it
        # go (the plan keeps it alone). No database: a plan that needs one falls back, and is
        # kept all the same.
        document = Documents(BUDGET).parsed(text, PARSE_OPTIONS).document
        context = ExecutionContext(
            query=text, schema=schema, allowed_operations=[OperationType.QUERY],
            context=SimpleNamespace(), graphql_document=document,
        )
        await reads.answer(context)

    await plan(CompiledReads(PLAN_BUDGET), make(count))  # the compiler's first-use state
    with traced() as held:
        reads = CompiledReads(PLAN_BUDGET)
        for i in range(count):
            await plan(reads, make(i))
        counted = reads.plans.total_bytes + reads.shapes.total_bytes
        holds_what_it_counts(held(), counted, PLAN_BUDGET + PLAN_BUDGET // 8)
    assert reads.counts.compiled == count
    assert len(reads.plans) < count
