"""Admin audit analytics: an admin without `filter.userId` sees every user's entries and
figures, `byUser` pages the same figures per user, and every number below is worked out by
hand from the ten rows of ROWS. A non-admin still sees only their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from graph.ids import encode_id
from tests.conftest import GraphQL
from tests.factories import make_audit_log

FIGURES = "total successCount errorCount errorRate avgGenerationTimeMs totalTokens"
# A group's figures: the same as the totals, `count` for `total`.
GROUP = "count successCount errorCount errorRate avgGenerationTimeMs totalTokens"
STATS = f"""
query($filter: AuditStatsFilter) {{
  auditStats(filter: $filter) {{
    {FIGURES}
    byDocumentType {{ documentType {GROUP} }}
    byDay {{ day {GROUP} }}
  }}
}}"""
BY_USER = f"""
query($filter: AuditStatsFilter, $first: Int, $after: String, $last: Int, $before: String) {{
  auditStats(filter: $filter) {{
    byUser(first: $first, after: $after, last: $last, before: $before) {{
      totalCount
      edges {{ cursor node {{ userId {GROUP} }} }}
      pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    }}
  }}
}}"""
LOGS = """
query($filter: AuditLogFilter, $first: Int, $after: String) {
  auditLogs(filter: $filter, first: $first, after: $after) {
    totalCount
    edges { node { id userId source } }
    pageInfo { hasNextPage endCursor }
  }
}"""

# (key, user, document type, status, source, ms, tokens, created_at in UTC)
ROWS: list[tuple[str, str, str, str, str, int | None, int | None, str]] = [
    ("a1", "alice", "breakdown", "success", "server", 100, 50, "2024-06-01T09:00:00Z"),
    ("a2", "alice", "chat", "success", "server", 300, 70, "2024-06-01T10:00:00Z"),
    ("a3", "alice", "chat", "error", "server", None, None, "2024-06-01T11:00:00Z"),
    ("a4", "alice", "summary", "success", "client", None, 40, "2024-06-02T08:00:00Z"),
    ("b1", "bob", "chat", "success", "server", 500, 20, "2024-06-01T12:00:00Z"),
    ("b2", "bob", "summary", "error", "client", 900, 10, "2024-06-02T09:00:00Z"),
    ("b3", "bob", "panic_support", "success", "server", 200, None, "2024-06-02T10:00:00Z"),
    ("c1", "carol", "summary", "success", "client", 250, 5, "2024-06-01T13:00:00Z"),
    ("c2", "carol", "breakdown", "error", "server", 50, 15, "2024-06-02T11:00:00Z"),
    ("c3", "carol", "chat", "error", "client", None, None, "2024-06-02T12:00:00Z"),
]

# Per user. alice: 3 of 4 succeed, the successes with a time are 100 and 300, tokens
# 50 + 70 + 40. bob: 1 error of 3; 500 and 200 (900 was an error); 20 + 10. carol: 2 errors
# of 3; only 250; 5 + 15.
ALICE = {"userId": "alice", "count": 4, "successCount": 3, "errorCount": 1, "errorRate": 0.25,
         "avgGenerationTimeMs": 200.0, "totalTokens": 160}
BOB = {"userId": "bob", "count": 3, "successCount": 2, "errorCount": 1, "errorRate": 1 / 3,
       "avgGenerationTimeMs": 350.0, "totalTokens": 30}
CAROL = {"userId": "carol", "count": 3, "successCount": 1, "errorCount": 2, "errorRate": 2 / 3,
         "avgGenerationTimeMs": 250.0, "totalTokens": 20}


@pytest.fixture
async def ids(db: AsyncSession) -> dict[str, str]:
    """The seeded rows' global ids by key."""
    seeded = {}
    for key, user, kind, status, source, ms, tokens, stamp in ROWS:
        log = await make_audit_log(
            db, user_id=user, document_type=kind, status=status, source=source,
            generation_time_ms=ms, tokens_used=tokens, created_at=datetime.fromisoformat(stamp),
        )
        seeded[key] = encode_id("AuditLog", log.id)
    return seeded


async def admin(gql: GraphQL, query: str, variables: dict[str, Any] | None = None) -> Any:
    return await gql.data(query, variables, user="root", admin=True)


async def stats(gql: GraphQL, where: dict[str, Any] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = (await admin(gql, STATS, {"filter": where}))["auditStats"]
    return result


async def by_user(gql: GraphQL, **variables: Any) -> dict[str, Any]:
    result: dict[str, Any] = (await admin(gql, BY_USER, variables))["auditStats"]["byUser"]
    return result


def totals_of(user: dict[str, Any]) -> dict[str, Any]:
    """A user's byUser figures as AuditStats names them, for a view of that user alone."""
    figures = {key: value for key, value in user.items() if key != "userId"}
    figures["total"] = figures.pop("count")
    return figures


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


async def listed(gql: GraphQL, where: dict[str, Any] | None = None, **kw: Any) -> list[str]:
    """The keys of the rows `auditLogs` lists, in its order."""
    data = await gql.data(LOGS, {"filter": where, "first": 100}, **kw)
    return [edge["node"]["id"] for edge in data["auditLogs"]["edges"]]


def keys(ids: dict[str, str], *names: str) -> list[str]:
    return [ids[name] for name in names]


# Figures across all users ------------------------------------------------------------------


@pytest.mark.usefixtures("ids")
async def test_an_admins_totals_cover_every_user(gql: GraphQL) -> None:
    # 10 rows, 4 errors; successes with a time: 100, 300, 500, 200, 250 -> 1350 / 5;
    # tokens 160 + 30 + 20.
    result = await stats(gql)

    assert {key: result[key] for key in FIGURES.split()} == {
        "total": 10, "successCount": 6, "errorCount": 4, "errorRate": 0.4,
        "avgGenerationTimeMs": 270.0, "totalTokens": 210,
    }


@pytest.mark.usefixtures("ids")
async def test_an_admins_figures_by_document_type_cover_every_user(gql: GraphQL) -> None:
    # chat: a2, a3, b1, c3 (300 and 500 succeeded; tokens 70 + 20); summary: a4 (no time),
    # b2 (error), c1 (250; tokens 40 + 10 + 5); breakdown: a1 (100), c2 (error; 50 + 15);
    # panic_support: b3 (200, no tokens).
    assert (await stats(gql))["byDocumentType"] == [
        {"documentType": "chat", "count": 4, "successCount": 2, "errorCount": 2,
         "errorRate": 0.5, "avgGenerationTimeMs": 400.0, "totalTokens": 90},
        {"documentType": "summary", "count": 3, "successCount": 2, "errorCount": 1,
         "errorRate": 1 / 3, "avgGenerationTimeMs": 250.0, "totalTokens": 55},
        {"documentType": "breakdown", "count": 2, "successCount": 1, "errorCount": 1,
         "errorRate": 0.5, "avgGenerationTimeMs": 100.0, "totalTokens": 65},
        {"documentType": "panic_support", "count": 1, "successCount": 1, "errorCount": 0,
         "errorRate": 0.0, "avgGenerationTimeMs": 200.0, "totalTokens": 0},
    ]


@pytest.mark.usefixtures("ids")
async def test_an_admins_figures_by_day_cover_every_user(gql: GraphQL) -> None:
    # 06-01: a1, a2, a3 (error), b1, c1: successes' times 100 + 300 + 500 + 250 over 4,
    # tokens 50 + 70 + 20 + 5. 06-02: a4, b2 (error), b3, c2 (error), c3 (error): only b3's
    # 200 (a4 has no time), tokens 40 + 10 + 15.
    assert (await stats(gql))["byDay"] == [
        {"day": "2024-06-01", "count": 5, "successCount": 4, "errorCount": 1,
         "errorRate": 0.2, "avgGenerationTimeMs": 287.5, "totalTokens": 145},
        {"day": "2024-06-02", "count": 5, "successCount": 2, "errorCount": 3,
         "errorRate": 0.6, "avgGenerationTimeMs": 200.0, "totalTokens": 65},
    ]


@pytest.mark.usefixtures("ids")
async def test_an_admins_totals_follow_the_source_filter(gql: GraphQL) -> None:
    # Server rows: a1, a2, a3 (error), b1, b3, c2 (error); successes' times 100, 300, 500,
    # 200 -> 275; tokens 50 + 70 + 20 + 15.
    result = await stats(gql, {"source": "SERVER"})

    assert {key: result[key] for key in FIGURES.split()} == {
        "total": 6, "successCount": 4, "errorCount": 2, "errorRate": 1 / 3,
        "avgGenerationTimeMs": 275.0, "totalTokens": 155,
    }


@pytest.mark.usefixtures("ids")
async def test_an_admin_naming_a_user_gets_only_that_users_figures(gql: GraphQL) -> None:
    result = await stats(gql, {"userId": "carol"})

    assert {key: result[key] for key in FIGURES.split()} == totals_of(CAROL)
    # c1 on 06-01 (250 ms, 5 tokens); c2 (an error, 15 tokens) and c3 on 06-02.
    assert result["byDay"] == [
        {"day": "2024-06-01", "count": 1, "successCount": 1, "errorCount": 0,
         "errorRate": 0.0, "avgGenerationTimeMs": 250.0, "totalTokens": 5},
        {"day": "2024-06-02", "count": 2, "successCount": 0, "errorCount": 2,
         "errorRate": 1.0, "avgGenerationTimeMs": None, "totalTokens": 15},
    ]


# byUser ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("ids")
async def test_by_user_has_every_figure_per_user_most_rows_first_then_by_id(
    gql: GraphQL,
) -> None:
    connection = await by_user(gql)

    # bob and carol both have 3 rows: the user id breaks the tie.
    assert nodes(connection) == [ALICE, BOB, CAROL]
    assert connection["totalCount"] == 3


@pytest.mark.usefixtures("ids")
async def test_by_user_pages_forward_across_a_page_boundary(gql: GraphQL) -> None:
    first = await by_user(gql, first=2)
    rest = await by_user(gql, first=2, after=first["pageInfo"]["endCursor"])

    assert nodes(first) == [ALICE, BOB]
    assert first["pageInfo"]["hasNextPage"] is True
    assert nodes(rest) == [CAROL]
    assert rest["pageInfo"]["hasNextPage"] is False


@pytest.mark.usefixtures("ids")
async def test_by_user_pages_backward_across_a_page_boundary(gql: GraphQL) -> None:
    last = await by_user(gql, last=2)
    before = await by_user(gql, last=2, before=last["pageInfo"]["startCursor"])

    assert nodes(last) == [BOB, CAROL]
    assert last["pageInfo"]["hasPreviousPage"] is True
    assert nodes(before) == [ALICE]
    assert before["pageInfo"]["hasPreviousPage"] is False


@pytest.mark.usefixtures("ids")
async def test_by_user_follows_the_filter(gql: GraphQL) -> None:
    # Server rows per user: alice a1, a2, a3 (error); bob b1, b3; carol c2 (error, 50 ms).
    connection = await by_user(gql, filter={"source": "SERVER"})

    assert nodes(connection) == [
        {"userId": "alice", "count": 3, "successCount": 2, "errorCount": 1,
         "errorRate": 1 / 3, "avgGenerationTimeMs": 200.0, "totalTokens": 120},
        {"userId": "bob", "count": 2, "successCount": 2, "errorCount": 0, "errorRate": 0.0,
         "avgGenerationTimeMs": 350.0, "totalTokens": 20},
        {"userId": "carol", "count": 1, "successCount": 0, "errorCount": 1,
         "errorRate": 1.0, "avgGenerationTimeMs": None, "totalTokens": 15},
    ]


@pytest.mark.usefixtures("ids")
async def test_by_user_with_ties_over_a_filtered_range(gql: GraphQL) -> None:
    # Summaries from 06-02 on: a4 (a success with no time) and b2 (a 900 ms error).
    where = {"documentType": "summary", "createdAfter": "2024-06-02T00:00:00Z"}

    assert nodes(await by_user(gql, filter=where)) == [
        {"userId": "alice", "count": 1, "successCount": 1, "errorCount": 0, "errorRate": 0.0,
         "avgGenerationTimeMs": None, "totalTokens": 40},
        {"userId": "bob", "count": 1, "successCount": 0, "errorCount": 1, "errorRate": 1.0,
         "avgGenerationTimeMs": None, "totalTokens": 10},
    ]


@pytest.mark.usefixtures("ids")
async def test_by_user_with_a_named_user_has_only_that_user(gql: GraphQL) -> None:
    connection = await by_user(gql, filter={"userId": "bob"})

    assert nodes(connection) == [BOB]
    assert connection["totalCount"] == 1


async def test_by_user_over_no_rows_is_an_empty_page(gql: GraphQL) -> None:
    connection = await by_user(gql)

    assert (nodes(connection), connection["totalCount"]) == ([], 0)
    assert connection["pageInfo"]["hasNextPage"] is False


@pytest.mark.usefixtures("ids")
async def test_a_by_user_cursor_is_refused_by_the_log_list(gql: GraphQL) -> None:
    cursor = (await by_user(gql, first=1))["pageInfo"]["endCursor"]

    payload = await gql(LOGS, {"after": cursor}, user="root", admin=True)

    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.usefixtures("ids")
async def test_by_user_reads_one_statement_per_page(gql: GraphQL) -> None:
    query = "{ auditStats { total byUser(first: 2) { edges { node { userId count } } } } }"

    payload = await gql(query, user="root", admin=True)

    # The totals, then the page of users; totalCount (not asked) would be one more.
    assert payload["extensions"]["sql"]["statements"] == 2


# The all-user log list ---------------------------------------------------------------------


async def test_an_admin_lists_every_users_entries_newest_first(
    gql: GraphQL, ids: dict[str, str]
) -> None:
    assert await listed(gql, user="root", admin=True) == keys(
        ids, "c3", "c2", "b3", "b2", "a4", "c1", "b1", "a3", "a2", "a1"
    )


async def test_an_admin_pages_the_all_user_list(gql: GraphQL, ids: dict[str, str]) -> None:
    first = (await admin(gql, LOGS, {"first": 4}))["auditLogs"]
    after = first["pageInfo"]["endCursor"]
    rest = (await admin(gql, LOGS, {"first": 4, "after": after}))["auditLogs"]

    assert [e["node"]["id"] for e in first["edges"]] == keys(ids, "c3", "c2", "b3", "b2")
    assert [e["node"]["id"] for e in rest["edges"]] == keys(ids, "a4", "c1", "b1", "a3")
    assert (first["totalCount"], rest["pageInfo"]["hasNextPage"]) == (10, True)


async def test_the_all_user_list_filters_by_source(gql: GraphQL, ids: dict[str, str]) -> None:
    where = {"source": "CLIENT"}

    assert await listed(gql, where, user="root", admin=True) == keys(ids, "c3", "b2", "a4", "c1")


async def test_the_all_user_list_filters_by_status_and_source(
    gql: GraphQL, ids: dict[str, str]
) -> None:
    where = {"source": "SERVER", "status": "ERROR"}

    assert await listed(gql, where, user="root", admin=True) == keys(ids, "c2", "a3")


async def test_the_all_user_list_filters_by_document_type(
    gql: GraphQL, ids: dict[str, str]
) -> None:
    where = {"documentType": "chat"}

    assert await listed(gql, where, user="root", admin=True) == keys(ids, "c3", "b1", "a3", "a2")


async def test_the_all_user_list_filters_by_user(gql: GraphQL, ids: dict[str, str]) -> None:
    where = {"userId": "bob"}

    assert await listed(gql, where, user="root", admin=True) == keys(ids, "b3", "b2", "b1")


async def test_the_all_user_list_filters_by_exclusive_time_bounds(
    gql: GraphQL, ids: dict[str, str]
) -> None:
    # b1 at exactly 12:00 and b2 at exactly 09:00 the next day are out.
    where = {"createdAfter": "2024-06-01T12:00:00Z", "createdBefore": "2024-06-02T09:00:00Z"}

    assert await listed(gql, where, user="root", admin=True) == keys(ids, "a4", "c1")


async def test_the_all_user_list_shows_each_entrys_user_and_source(
    gql: GraphQL, ids: dict[str, str]
) -> None:
    data = await admin(gql, LOGS, {"filter": {"documentType": "chat"}})

    assert nodes(data["auditLogs"]) == [
        {"id": ids["c3"], "userId": "carol", "source": "CLIENT"},
        {"id": ids["b1"], "userId": "bob", "source": "SERVER"},
        {"id": ids["a3"], "userId": "alice", "source": "SERVER"},
        {"id": ids["a2"], "userId": "alice", "source": "SERVER"},
    ]


async def test_node_stays_owner_only_after_an_admin_lists_every_entry(
    gql: GraphQL, ids: dict[str, str]
) -> None:
    query = """query($id: ID!) {
      auditLogs(first: 100) { totalCount }
      node(id: $id) { id }
    }"""

    data = await admin(gql, query, {"id": ids["a1"]})

    assert (data["auditLogs"]["totalCount"], data["node"]) == (10, None)


# A non-admin: their own only ---------------------------------------------------------------


async def test_a_non_admin_lists_only_their_own_entries(
    gql: GraphQL, ids: dict[str, str]
) -> None:
    assert await listed(gql, user="bob") == keys(ids, "b3", "b2", "b1")


@pytest.mark.usefixtures("ids")
async def test_a_non_admins_figures_are_their_own(gql: GraphQL) -> None:
    data = await gql.data(f"{{ auditStats {{ {FIGURES} }} }}", user="carol")

    assert data["auditStats"] == totals_of(CAROL)


async def test_a_non_admin_naming_themselves_lists_their_own_entries(
    gql: GraphQL, ids: dict[str, str]
) -> None:
    assert await listed(gql, {"userId": "bob"}, user="bob") == keys(ids, "b3", "b2", "b1")


@pytest.mark.usefixtures("ids")
@pytest.mark.parametrize("query", [LOGS, STATS])
async def test_a_non_admin_naming_another_user_is_forbidden(gql: GraphQL, query: str) -> None:
    payload = await gql(query, {"filter": {"userId": "alice"}}, user="bob")

    assert payload["data"] is None
    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.usefixtures("ids")
async def test_a_non_admin_gets_no_by_user_but_the_other_figures(gql: GraphQL) -> None:
    query = "{ auditStats { total byUser { totalCount } } }"

    payload = await gql(query, user="bob")

    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert payload["errors"][0]["path"] == ["auditStats", "byUser"]
    assert payload["data"] == {"auditStats": {"total": 3, "byUser": None}}
