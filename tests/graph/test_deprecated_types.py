"""`AlreadyClaimedError`: removed from `ClaimSessionPayload` before 0.1.0 without a
deprecation step, restored as a deprecated member. An operation written against the old
schema (`... on AlreadyClaimedError`) validates and runs again; the type is never answered:
a claim by anyone but the visit's first claimer is a NotFoundError, as before."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from domain.visit_credentials import VisitCredential
from tests.conftest import GraphQL
from tests.graph.test_claim_session import visitor_with_data

ROOT = Path(__file__).resolve().parent.parent.parent
OLD_CLAIM = """
mutation($sid: String!) {
  claimSession(input: {sessionId: $sid}) {
    __typename
    ... on ClaimSessionSuccess { tasksMoved }
    ... on NotFoundError { code message }
    ... on AlreadyClaimedError { code message }
  }
}"""


async def test_an_operation_spreading_already_claimed_error_runs_and_gets_not_found(
    anonymous_gql: GraphQL, db: AsyncSession, visit: VisitCredential
) -> None:
    await visitor_with_data(anonymous_gql, db, visit)
    headers = {"X-Session-Id": visit.text}
    first = await anonymous_gql(OLD_CLAIM, {"sid": visit.text}, user="alice", headers=headers)
    assert "errors" not in first, first
    assert first["data"]["claimSession"] == {"__typename": "ClaimSessionSuccess", "tasksMoved": 1}
    again = await anonymous_gql(OLD_CLAIM, {"sid": visit.text}, user="mallory", headers=headers)
    assert "errors" not in again, again
    assert again["data"]["claimSession"]["__typename"] == "NotFoundError"


def test_the_deprecated_member_says_so_and_nothing_constructs_it() -> None:
    schema = (ROOT / "schema.graphql").read_text()
    assert "union ClaimSessionPayload = ClaimSessionSuccess | NotFoundError | AlreadyClaimedError" \
        in schema
    described = schema.split("type AlreadyClaimedError implements UserError")[0]
    assert described.rstrip().rsplit('"""', 2)[-2].strip().startswith("Deprecated: never answered")
    built = [path for path in (ROOT / "graph").rglob("*.py") for line in path.read_text()
             .splitlines() if "AlreadyClaimedError(" in line and "class " not in line]
    assert built == [], f"the deprecated member is answered by {built}"
