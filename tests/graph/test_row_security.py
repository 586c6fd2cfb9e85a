"""Row-level security is a second line that holds alone.

The isolation probe (tests/graph/test_isolation_probe.py) runs again with the resolver-level
owner predicate removed (`domain.scope.OWNER_PREDICATES`, switched off here only), on
PostgreSQL as the application role: every answer must still be the intruder's own, so the
policies alone kept alice's rows out. The captured SQL proves the predicate was really gone,
and a control shows the same unscoped statements do leak without the policies (as the
tables' owner, whom RLS does not bind). Needs TEST_OWNER_DATABASE_URL (tests/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from domain import scope
from models import Task
from tests.conftest import APP_ROLE, GraphQL
from tests.domain.test_scope import statements, unscoped
from tests.factories import make_task
from tests.graph.schema_walk import introspect
from tests.graph.test_isolation_probe import Actor, Probe, table_rows

pytestmark = pytest.mark.skipif(
    APP_ROLE is None,
    reason="needs PostgreSQL with an application role: TEST_DATABASE_URL for it and "
    "TEST_OWNER_DATABASE_URL for the tables' owner (tests/conftest.py)",
)

TITLES = "{ tasks(first: 50) { totalCount edges { node { title } } } }"


@pytest.fixture
def without_owner_predicates(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(scope, "OWNER_PREDICATES", False)
    yield


@pytest.fixture(params=["bob", "anonymous"])
async def probe(
    request: pytest.FixtureRequest, gql: GraphQL, anonymous_gql: GraphQL
) -> Probe:
    intruder = (
        Actor("anonymous visitor", anonymous_gql, None)
        if request.param == "anonymous" else Actor("bob", gql, "bob")
    )
    return Probe(await introspect(gql), Actor("alice", gql, "alice"), intruder)


@pytest.mark.usefixtures("without_owner_predicates")
async def test_with_no_owner_predicate_the_policies_alone_keep_every_answer_the_viewers(
    probe: Probe, db: AsyncSession, connection: AsyncConnection
) -> None:
    victim, intruder = probe.victim, probe.intruder
    with statements(connection) as seen:
        await probe.arrange(intruder)
        intruder_view = await probe.view(intruder)
        await probe.arrange(victim)
        before = await probe.victim_snapshot()
        rows_before = await table_rows(db)
        assert await probe.view(intruder) == intruder_view, "the intruder's view changed"
        await probe.probe_lookups()
        await probe.probe_cursors()
        await probe.probe_mutations()

    assert not probe.problems, "\n".join(probe.problems[:40])
    assert await probe.view(intruder) == intruder_view, "the intruder's own data changed"
    assert await probe.victim_snapshot() == before, "alice's data changed (API)"
    assert await table_rows(db) == rows_before, "the tables changed"
    viewers = {"alice", "bob", f"session:{intruder.visit.visit_id}"}
    bare = [sql for sql, parameters in seen if unscoped(sql, parameters, viewers)]
    assert len(bare) > 100, "the owner predicate was not removed: this proved nothing"


@pytest.mark.usefixtures("without_owner_predicates")
async def test_the_same_unscoped_statements_leak_where_no_policy_applies(
    db: AsyncSession, gql: GraphQL
) -> None:
    """The control: without the predicate, only the policies stand between bob and alice's
    tasks. The owner, whom they do not bind, sees them."""
    await make_task(db, user_id="alice", title="alice's secret")
    await make_task(db, user_id="bob", title="bob's own")

    as_app_role = await gql.data(TITLES, user="bob")

    assert [e["node"]["title"] for e in as_app_role["tasks"]["edges"]] == ["bob's own"]
    assert as_app_role["tasks"]["totalCount"] == 1
    as_owner = await db.execute(scope.owned(Task, "bob"))
    assert {task.title for task in as_owner.scalars()} == {"alice's secret", "bob's own"}
