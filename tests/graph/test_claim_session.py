"""`claimSession`: an anonymous visitor's data moves to the signed-in user atomically; the
first claimer keeps the visit and may claim again for newer work. Only the visit's
credential claims it: its id, a guess or a tampered credential claims nothing.

`sid` is the visit's credential (what the client sends); `vid` its id (`session:<vid>`)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.visit_credentials import PREFIX, VisitCredential
from models import AuditLog, Conversation, PanicEvent, Task, Visit
from tests.conftest import GraphQL, mint_visit
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


async def as_visitor(gql: GraphQL, sid: str, query: str, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = await gql.data(query, user=None, headers={"X-Session-Id": sid}, **kw)
    return data


async def claim(gql: GraphQL, sid: str, user: str = "alice", header: str | None = None) -> Any:
    data = await gql.data(CLAIM, {"sid": sid}, user=user, headers={"X-Session-Id": header or sid})
    return data["claimSession"]


async def owners(db: AsyncSession, model: Any) -> dict[str, int]:
    rows = await db.execute(select(model.user_id, func.count()).group_by(model.user_id))
    return {user: count for user, count in rows}


async def visitor_with_data(gql: GraphQL, db: AsyncSession, visit: VisitCredential) -> None:
    """The visitor makes a task and a conversation through the API; a panic event and an
    audit entry of theirs are arranged directly."""
    await as_visitor(
        gql,
        visit.text,
        """mutation { createTask(input: {title: "anon task"}) {
        __typename } }""",
    )
    await as_visitor(
        gql,
        visit.text,
        """mutation { startConversation(input: {title: "anon chat"}) {
        __typename } }""",
    )
    db.add(PanicEvent(user_id=f"session:{visit.visit_id}", intensity=4))
    await db.commit()
    await make_audit_log(db, user_id=f"session:{visit.visit_id}", document_type="task_breakdown",
                         source="server")


def forged(kind: str) -> str:
    """A credential the server never issued: random (a guess), or a real one tampered."""
    if kind == "guessed":
        return PREFIX + secrets.token_urlsafe(32)[:43]
    genuine = mint_visit().text
    return genuine[:10] + ("A" if genuine[10] != "A" else "B") + genuine[11:]


async def test_an_anonymous_visitor_acts_as_its_session(
    anonymous_gql: GraphQL, sid: str, vid: str
) -> None:
    data = await as_visitor(anonymous_gql, sid, "{ viewer { id isAnonymous } }")
    assert data["viewer"] == {"id": f"session:{vid}", "isAnonymous": True}


async def test_claim_moves_tasks_conversations_panic_events_and_audit_entries(
    anonymous_gql: GraphQL, db: AsyncSession, visit: VisitCredential
) -> None:
    await visitor_with_data(anonymous_gql, db, visit)
    result = await claim(anonymous_gql, visit.text)
    assert result == {
        "__typename": "ClaimSessionSuccess",
        "sessionId": visit.visit_id,  # the visit's id, not the credential
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
    anonymous_gql: GraphQL, db: AsyncSession, visit: VisitCredential
) -> None:
    await visitor_with_data(anonymous_gql, db, visit)
    await claim(anonymous_gql, visit.text)
    data = await as_visitor(anonymous_gql, visit.text, "{ tasks { totalCount } }")
    assert data["tasks"]["totalCount"] == 0


async def test_claiming_again_picks_up_what_the_visitor_did_since(
    anonymous_gql: GraphQL, db: AsyncSession, visit: VisitCredential
) -> None:
    await visitor_with_data(anonymous_gql, db, visit)
    await claim(anonymous_gql, visit.text)
    await as_visitor(anonymous_gql, visit.text, """mutation {
        createTask(input: {title: "later"}) { __typename } }""")
    again = await claim(anonymous_gql, visit.text)
    assert again == {
        "__typename": "ClaimSessionSuccess", "sessionId": visit.visit_id, "tasksMoved": 1,
        "conversationsMoved": 0, "panicEventsMoved": 0, "auditEntriesMoved": 0,
    }
    assert await owners(db, Task) == {"alice": 2}


async def test_claiming_again_with_nothing_new_moves_nothing(
    anonymous_gql: GraphQL, db: AsyncSession, visit: VisitCredential
) -> None:
    await visitor_with_data(anonymous_gql, db, visit)
    await claim(anonymous_gql, visit.text)
    again = await claim(anonymous_gql, visit.text)
    assert again["__typename"] == "ClaimSessionSuccess"
    assert (again["tasksMoved"], again["auditEntriesMoved"]) == (0, 0)


async def test_a_later_claim_by_another_user_stays_not_found_and_moves_nothing(
    anonymous_gql: GraphQL, db: AsyncSession, visit: VisitCredential
) -> None:
    await visitor_with_data(anonymous_gql, db, visit)
    await claim(anonymous_gql, visit.text, user="alice")
    await as_visitor(anonymous_gql, visit.text, """mutation {
        createTask(input: {title: "later"}) { __typename } }""")
    stolen = await claim(anonymous_gql, visit.text, user="mallory")
    assert stolen == {"__typename": "NotFoundError", "code": "NOT_FOUND"}
    assert await owners(db, Task) == {"alice": 1, f"session:{visit.visit_id}": 1}


async def test_a_visit_claimed_by_one_user_looks_missing_to_another(
    anonymous_gql: GraphQL, db: AsyncSession, visit: VisitCredential
) -> None:
    await visitor_with_data(anonymous_gql, db, visit)
    await claim(anonymous_gql, visit.text, user="alice")
    stolen = await claim(anonymous_gql, visit.text, user="mallory")
    assert stolen == {"__typename": "NotFoundError", "code": "NOT_FOUND"}
    assert await owners(db, Task) == {"alice": 1}


async def test_claim_never_moves_a_third_users_rows(
    anonymous_gql: GraphQL, db: AsyncSession, visit: VisitCredential
) -> None:
    other = mint_visit()
    await visitor_with_data(anonymous_gql, db, visit)
    await visitor_with_data(anonymous_gql, db, other)
    await make_task(db, user_id="carol", title="carol's")
    await claim(anonymous_gql, visit.text)
    assert await owners(db, Task) == {"alice": 1, f"session:{other.visit_id}": 1, "carol": 1}
    assert await owners(db, PanicEvent) == {"alice": 1, f"session:{other.visit_id}": 1}


async def test_claiming_another_visit_than_the_requests_own_is_not_found(
    anonymous_gql: GraphQL, db: AsyncSession, visit: VisitCredential
) -> None:
    await visitor_with_data(anonymous_gql, db, visit)
    result = await claim(anonymous_gql, visit.text, header=mint_visit().text)
    assert result["__typename"] == "NotFoundError"
    assert await owners(db, Task) == {f"session:{visit.visit_id}": 1}


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
    anonymous_gql: GraphQL, db: AsyncSession, visit: VisitCredential
) -> None:
    await visitor_with_data(anonymous_gql, db, visit)
    await claim(anonymous_gql, visit.text)
    row = await db.scalar(
        select(Visit).where(Visit.session_id == visit.visit_id)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    assert (row.claimed_by, row.user_id) == ("alice", "alice")
    assert row.claimed_at is not None


# --- issue 22: claiming needs the credential, not the visit's id ----------------------------


async def test_knowing_a_visits_id_is_not_enough_to_claim_it(
    anonymous_gql: GraphQL, db: AsyncSession, visit: VisitCredential
) -> None:
    """The id shows (`viewer.id` is `session:<id>`, a task's visit, an audit entry's owner);
    it was all a claim needed: sent as X-Session-Id and as `sessionId`."""
    await visitor_with_data(anonymous_gql, db, visit)
    as_header = await anonymous_gql.post(
        CLAIM, {"sid": visit.visit_id}, user="mallory", headers={"X-Session-Id": visit.visit_id}
    )
    assert as_header.status_code == 400
    assert as_header.json()["errors"][0]["extensions"]["code"] == "INVALID_SESSION_ID"
    own_visit = mint_visit().text
    as_input = await claim(anonymous_gql, visit.visit_id, user="mallory", header=own_visit)
    assert as_input == {"__typename": "NotFoundError", "code": "NOT_FOUND"}
    for model in (Task, Conversation, PanicEvent, AuditLog):
        assert await owners(db, model) == {f"session:{visit.visit_id}": 1}


@pytest.mark.parametrize("kind", ["guessed", "tampered"])
async def test_a_guessed_or_tampered_credential_claims_nothing(
    anonymous_gql: GraphQL, db: AsyncSession, visit: VisitCredential, kind: str
) -> None:
    await visitor_with_data(anonymous_gql, db, visit)
    fake = forged(kind)
    response = await anonymous_gql.post(CLAIM, {"sid": fake}, user="mallory",
                                        headers={"X-Session-Id": fake})
    assert response.status_code == 400
    as_input = await claim(anonymous_gql, fake, user="mallory", header=mint_visit().text)
    assert as_input["__typename"] == "NotFoundError"
    assert await owners(db, Task) == {f"session:{visit.visit_id}": 1}
