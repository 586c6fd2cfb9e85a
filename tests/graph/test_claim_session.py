"""`claimSession`: an anonymous visitor's data moves to the signed-in user atomically; the
first claimer keeps the visit and may claim again for newer work."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import AuditLog, Conversation, PanicEvent, Task, Visit
from tests.conftest import GraphQL
from tests.factories import make_audit_log, make_task

CLAIM = """
mutation($sid: String!) {
  claimSession(input: {sessionId: $sid}) {
    __typename
    ... on ClaimSessionSuccess {
      sessionId tasksMoved conversationsMoved panicEventsMoved auditEntriesMoved
    }
    ... on UserError { code }
  }
}"""


@pytest.fixture
def sid() -> str:
    return str(uuid.uuid4())


async def as_visitor(gql: GraphQL, sid: str, query: str, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = await gql.data(query, user=None, headers={"X-Session-Id": sid}, **kw)
    return data


async def claim(gql: GraphQL, sid: str, user: str = "alice", header: str | None = None) -> Any:
    data = await gql.data(CLAIM, {"sid": sid}, user=user, headers={"X-Session-Id": header or sid})
    return data["claimSession"]


async def owners(db: AsyncSession, model: Any) -> dict[str, int]:
    rows = await db.execute(select(model.user_id, func.count()).group_by(model.user_id))
    return {user: count for user, count in rows}


async def visitor_with_data(gql: GraphQL, db: AsyncSession, sid: str) -> None:
    await as_visitor(
        gql,
        sid,
        """mutation { createTask(input: {title: "anon task"}) {
        __typename } }""",
    )
    await as_visitor(
        gql,
        sid,
        """mutation { startConversation(input: {title: "anon chat"}) {
        __typename } }""",
    )
    db.add(PanicEvent(user_id=f"session:{sid}", intensity=4))
    await db.commit()
    await make_audit_log(db, user_id=f"session:{sid}", document_type="task_breakdown",
                         source="server")


async def test_an_anonymous_visitor_acts_as_its_session(anonymous_gql: GraphQL, sid: str) -> None:
    data = await as_visitor(anonymous_gql, sid, "{ viewer { id isAnonymous } }")
    assert data["viewer"] == {"id": f"session:{sid}", "isAnonymous": True}


async def test_claim_moves_tasks_conversations_panic_events_and_audit_entries(
    anonymous_gql: GraphQL, db: AsyncSession, sid: str
) -> None:
    await visitor_with_data(anonymous_gql, db, sid)
    result = await claim(anonymous_gql, sid)
    assert result == {
        "__typename": "ClaimSessionSuccess",
        "sessionId": sid,
        "tasksMoved": 1,
        "conversationsMoved": 1,
        "panicEventsMoved": 1,
        "auditEntriesMoved": 1,
    }
    for model in (Task, Conversation, PanicEvent, AuditLog):
        assert await owners(db, model) == {"alice": 1}
    tasks = await anonymous_gql.data("{ tasks { edges { node { title } } } }", user="alice")
    assert tasks["tasks"]["edges"] == [{"node": {"title": "anon task"}}]


async def test_after_the_claim_the_visitor_sees_nothing(
    anonymous_gql: GraphQL, db: AsyncSession, sid: str
) -> None:
    await visitor_with_data(anonymous_gql, db, sid)
    await claim(anonymous_gql, sid)
    data = await as_visitor(anonymous_gql, sid, "{ tasks { totalCount } }")
    assert data["tasks"]["totalCount"] == 0


async def test_claiming_again_picks_up_what_the_visitor_did_since(
    anonymous_gql: GraphQL, db: AsyncSession, sid: str
) -> None:
    await visitor_with_data(anonymous_gql, db, sid)
    await claim(anonymous_gql, sid)
    await as_visitor(anonymous_gql, sid, """mutation { createTask(input: {title: "later"}) {
        __typename } }""")
    again = await claim(anonymous_gql, sid)
    assert again == {
        "__typename": "ClaimSessionSuccess", "sessionId": sid, "tasksMoved": 1,
        "conversationsMoved": 0, "panicEventsMoved": 0, "auditEntriesMoved": 0,
    }
    assert await owners(db, Task) == {"alice": 2}


async def test_claiming_again_with_nothing_new_moves_nothing(
    anonymous_gql: GraphQL, db: AsyncSession, sid: str
) -> None:
    await visitor_with_data(anonymous_gql, db, sid)
    await claim(anonymous_gql, sid)
    again = await claim(anonymous_gql, sid)
    assert again["__typename"] == "ClaimSessionSuccess"
    assert (again["tasksMoved"], again["auditEntriesMoved"]) == (0, 0)


async def test_a_later_claim_by_another_user_stays_not_found_and_moves_nothing(
    anonymous_gql: GraphQL, db: AsyncSession, sid: str
) -> None:
    await visitor_with_data(anonymous_gql, db, sid)
    await claim(anonymous_gql, sid, user="alice")
    await as_visitor(anonymous_gql, sid, """mutation { createTask(input: {title: "later"}) {
        __typename } }""")
    stolen = await claim(anonymous_gql, sid, user="mallory")
    assert stolen == {"__typename": "NotFoundError", "code": "NOT_FOUND"}
    assert await owners(db, Task) == {"alice": 1, f"session:{sid}": 1}


async def test_a_visit_claimed_by_one_user_looks_missing_to_another(
    anonymous_gql: GraphQL, db: AsyncSession, sid: str
) -> None:
    await visitor_with_data(anonymous_gql, db, sid)
    await claim(anonymous_gql, sid, user="alice")
    stolen = await claim(anonymous_gql, sid, user="mallory")
    assert stolen == {"__typename": "NotFoundError", "code": "NOT_FOUND"}
    assert await owners(db, Task) == {"alice": 1}


async def test_claim_never_moves_a_third_users_rows(
    anonymous_gql: GraphQL, db: AsyncSession, sid: str
) -> None:
    other = str(uuid.uuid4())
    await visitor_with_data(anonymous_gql, db, sid)
    await visitor_with_data(anonymous_gql, db, other)
    await make_task(db, user_id="carol", title="carol's")
    await claim(anonymous_gql, sid)
    assert await owners(db, Task) == {"alice": 1, f"session:{other}": 1, "carol": 1}
    assert await owners(db, PanicEvent) == {"alice": 1, f"session:{other}": 1}


async def test_claiming_another_visit_than_the_requests_own_is_not_found(
    anonymous_gql: GraphQL, db: AsyncSession, sid: str
) -> None:
    await visitor_with_data(anonymous_gql, db, sid)
    result = await claim(anonymous_gql, sid, header=str(uuid.uuid4()))
    assert result["__typename"] == "NotFoundError"
    assert await owners(db, Task) == {f"session:{sid}": 1}


async def test_claiming_an_unknown_or_malformed_visit_is_not_found(
    anonymous_gql: GraphQL, sid: str
) -> None:
    assert (await claim(anonymous_gql, "not-a-uuid", header=sid))["__typename"] == "NotFoundError"
    never_seen = await anonymous_gql.data(CLAIM, {"sid": sid}, user="alice")
    assert never_seen["claimSession"]["__typename"] == "NotFoundError"


async def test_an_anonymous_visitor_cannot_claim(anonymous_gql: GraphQL, sid: str) -> None:
    payload = await anonymous_gql(CLAIM, {"sid": sid}, user=None, headers={"X-Session-Id": sid})
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_the_claim_is_recorded_on_the_visit(
    anonymous_gql: GraphQL, db: AsyncSession, sid: str
) -> None:
    await visitor_with_data(anonymous_gql, db, sid)
    await claim(anonymous_gql, sid)
    visit = await db.scalar(
        select(Visit).where(Visit.session_id == sid).execution_options(populate_existing=True)
    )
    assert visit is not None
    assert (visit.claimed_by, visit.user_id) == ("alice", "alice")
    assert visit.claimed_at is not None
