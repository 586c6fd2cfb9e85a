"""auditStats for a non-admin: figures checked against numbers worked out by hand from the
seeded rows below, UTC day buckets, empty ranges, and what a non-admin may not ask (another
user, byUser). The admin's all-user figures are tests/graph/test_audit_admin.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import ON_POSTGRES, GraphQL
from tests.factories import make_audit_log

STATS = """
query($filter: AuditStatsFilter) {
  auditStats(filter: $filter) {
    total successCount errorCount errorRate avgGenerationTimeMs totalTokens
    byDocumentType { documentType count errorCount errorRate avgGenerationTimeMs }
    byDay { day count errorCount }
  }
}"""
TOTALS = """
query($filter: AuditStatsFilter) {
  auditStats(filter: $filter) {
    total successCount errorCount errorRate avgGenerationTimeMs totalTokens
  }
}"""
BY_USER = """
query($filter: AuditStatsFilter) {
  auditStats(filter: $filter) { total byUser { edges { node { userId count } } } }
}"""

# (user, document type, status, ms, tokens, created_at as the writer's clock showed it)
ROWS: list[tuple[str, str, str, int | None, int | None, str]] = [
    ("alice", "summary", "success", 100, 10, "2024-05-01T08:00:00+00:00"),  # UTC day 05-01
    ("alice", "summary", "success", 200, 20, "2024-05-01T23:30:00-01:00"),  # 05-02 00:30Z
    ("alice", "summary", "success", 600, 30, "2024-05-02T00:30:00+02:00"),  # 05-01 22:30Z
    ("alice", "summary", "error", 900, 5, "2024-05-03T12:00:00+00:00"),     # 05-03
    ("alice", "letter", "success", None, None, "2024-05-03T13:00:00+00:00"),  # 05-03
    ("alice", "letter", "error", None, 7, "2024-05-04T01:00:00+05:00"),     # 05-03 20:00Z
    ("alice", "report", "success", 500, 0, "2024-05-03T23:59:59+00:00"),    # 05-03
    ("alice", "report", "success", 300, 8, "2024-05-04T00:00:00+00:00"),    # 05-04
    ("bob", "summary", "success", 1000, 100, "2024-05-01T10:00:00+00:00"),
    ("bob", "invoice", "error", None, None, "2024-05-02T10:00:00+00:00"),
    ("carol", "letter", "success", 300, 1, "2024-05-01T11:00:00+00:00"),
]


@pytest.fixture
async def seeded(db: AsyncSession) -> None:
    for user, kind, status, ms, tokens, stamp in ROWS:
        await make_audit_log(
            db, user_id=user, document_type=kind, status=status, generation_time_ms=ms,
            tokens_used=tokens, created_at=datetime.fromisoformat(stamp),
        )


async def stats(
    gql: GraphQL, query: str = STATS, where: dict[str, Any] | None = None, **kw: Any
) -> dict[str, Any]:
    data = await gql.data(query, {"filter": where}, **kw)
    result: dict[str, Any] = data["auditStats"]
    return result


EMPTY = {
    "total": 0, "successCount": 0, "errorCount": 0, "errorRate": 0.0,
    "avgGenerationTimeMs": None, "totalTokens": 0,
}


@pytest.mark.usefixtures("seeded")
async def test_totals_cover_only_the_viewers_rows(gql: GraphQL) -> None:
    # alice: 8 rows, 2 errors; successes with a time: 100, 200, 600, 500, 300 -> 1700 / 5;
    # tokens 10 + 20 + 30 + 5 + 7 + 0 + 8 (one row has none).
    assert await stats(gql, TOTALS) == {
        "total": 8, "successCount": 6, "errorCount": 2, "errorRate": 0.25,
        "avgGenerationTimeMs": 340.0, "totalTokens": 80,
    }


@pytest.mark.usefixtures("seeded")
async def test_another_user_gets_only_their_own_figures(gql: GraphQL) -> None:
    assert await stats(gql, TOTALS, user="bob") == {
        "total": 2, "successCount": 1, "errorCount": 1, "errorRate": 0.5,
        "avgGenerationTimeMs": 1000.0, "totalTokens": 100,
    }


@pytest.mark.usefixtures("seeded")
async def test_by_document_type_is_most_used_first_then_by_name(gql: GraphQL) -> None:
    # summary: 100, 200, 600 succeeded (900 was an error) -> 300; letter: no success has a
    # time; report: 500, 300 -> 400.
    assert (await stats(gql))["byDocumentType"] == [
        {"documentType": "summary", "count": 4, "errorCount": 1, "errorRate": 0.25,
         "avgGenerationTimeMs": 300.0},
        {"documentType": "letter", "count": 2, "errorCount": 1, "errorRate": 0.5,
         "avgGenerationTimeMs": None},
        {"documentType": "report", "count": 2, "errorCount": 0, "errorRate": 0.0,
         "avgGenerationTimeMs": 400.0},
    ]


@pytest.mark.usefixtures("seeded")
async def test_by_day_buckets_by_the_utc_date_oldest_first(gql: GraphQL) -> None:
    # 23:30-01:00 on 05-01 is 05-02 in UTC; 00:30+02:00 on 05-02 is 05-01; 01:00+05:00 on
    # 05-04 is 05-03; 23:59:59Z stays on 05-03 and 00:00:00Z starts 05-04.
    assert (await stats(gql))["byDay"] == [
        {"day": "2024-05-01", "count": 2, "errorCount": 0},
        {"day": "2024-05-02", "count": 1, "errorCount": 0},
        {"day": "2024-05-03", "count": 4, "errorCount": 2},
        {"day": "2024-05-04", "count": 1, "errorCount": 0},
    ]


@pytest.mark.postgres_only
@pytest.mark.skipif(not ON_POSTGRES, reason="the session time zone is PostgreSQL's")
@pytest.mark.usefixtures("seeded")
async def test_by_day_ignores_the_database_sessions_time_zone(
    gql: GraphQL, db: AsyncSession
) -> None:
    # The app shares the test's connection; the test's rollback undoes this SET.
    await db.execute(text("SET TIME ZONE 'Pacific/Kiritimati'"))  # UTC+14

    days = [(day["day"], day["count"]) for day in (await stats(gql))["byDay"]]

    assert days == [("2024-05-01", 2), ("2024-05-02", 1), ("2024-05-03", 4), ("2024-05-04", 1)]


@pytest.mark.usefixtures("seeded")
async def test_filters_by_exclusive_created_bounds(gql: GraphQL) -> None:
    # Strictly between 05-01 23:00Z and 05-03 13:00Z: the 200 ms success (05-02 00:30Z) and
    # the 900 ms error (05-03 12:00Z); the letter at exactly 13:00Z is out.
    where = {"createdAfter": "2024-05-01T23:00:00Z", "createdBefore": "2024-05-03T13:00:00Z"}

    assert await stats(gql, TOTALS, where) == {
        "total": 2, "successCount": 1, "errorCount": 1, "errorRate": 0.5,
        "avgGenerationTimeMs": 200.0, "totalTokens": 25,
    }


@pytest.mark.usefixtures("seeded")
async def test_filters_by_status(gql: GraphQL) -> None:
    assert await stats(gql, TOTALS, {"status": "ERROR"}) == {
        "total": 2, "successCount": 0, "errorCount": 2, "errorRate": 1.0,
        "avgGenerationTimeMs": None, "totalTokens": 12,
    }


@pytest.mark.usefixtures("seeded")
async def test_filters_by_source(gql: GraphQL, db: AsyncSession) -> None:
    # alice's server entry: one 50 ms success of 4 tokens, on top of her 8 client claims.
    await make_audit_log(
        db, user_id="alice", source="server", generation_time_ms=50, tokens_used=4,
    )

    assert await stats(gql, TOTALS, {"source": "SERVER"}) == {
        "total": 1, "successCount": 1, "errorCount": 0, "errorRate": 0.0,
        "avgGenerationTimeMs": 50.0, "totalTokens": 4,
    }
    assert (await stats(gql, TOTALS, {"source": "CLIENT"}))["total"] == 8


@pytest.mark.usefixtures("seeded")
async def test_filters_by_document_type(gql: GraphQL) -> None:
    result = await stats(gql, where={"documentType": "report"})

    assert (result["total"], result["avgGenerationTimeMs"], result["totalTokens"]) == (2, 400, 8)
    assert [d["day"] for d in result["byDay"]] == ["2024-05-03", "2024-05-04"]


@pytest.mark.usefixtures("seeded")
async def test_an_empty_range_gives_zeros_and_no_averages(gql: GraphQL) -> None:
    result = await stats(gql, where={"createdAfter": "2030-01-01T00:00:00Z"})

    assert result == {**EMPTY, "byDocumentType": [], "byDay": []}


async def test_a_viewer_with_no_logs_gets_zeros(gql: GraphQL) -> None:
    assert await stats(gql, user="nobody") == {**EMPTY, "byDocumentType": [], "byDay": []}


async def test_recorded_generations_count_at_once(gql: GraphQL) -> None:
    record = """mutation($input: RecordGenerationInput!) {
      recordGeneration(input: $input) { __typename } }"""
    for status, ms in (("SUCCESS", 120), ("ERROR", None)):
        await gql.data(record, {"input": {
            "documentType": "letter", "inputData": {}, "generatedText": {}, "status": status,
            "generationTimeMs": ms, "tokensUsed": 3, "errorMessage": "boom",
        }})

    assert await stats(gql, TOTALS) == {
        "total": 2, "successCount": 1, "errorCount": 1, "errorRate": 0.5,
        "avgGenerationTimeMs": 120.0, "totalTokens": 6,
    }


@pytest.mark.usefixtures("seeded")
async def test_stats_run_one_statement_per_figure_group(gql: GraphQL) -> None:
    payload = await gql(STATS)

    # Totals, byDocumentType and byDay: three GROUP BY statements, no rows loaded.
    assert payload["extensions"]["sql"]["statements"] == 3


# Admins and who may ask what ---------------------------------------------------------------


@pytest.mark.usefixtures("seeded")
async def test_an_admin_naming_a_user_gets_that_users_figures(gql: GraphQL) -> None:
    result = await stats(gql, TOTALS, {"userId": "bob"}, user="root", admin=True)

    assert result == {
        "total": 2, "successCount": 1, "errorCount": 1, "errorRate": 0.5,
        "avgGenerationTimeMs": 1000.0, "totalTokens": 100,
    }


@pytest.mark.usefixtures("seeded")
async def test_a_non_admin_asking_for_by_user_is_forbidden(gql: GraphQL) -> None:
    payload = await gql(BY_USER, user="bob")

    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert payload["errors"][0]["path"] == ["auditStats", "byUser"]
    assert payload["data"]["auditStats"] == {"total": 2, "byUser": None}


@pytest.mark.usefixtures("seeded")
async def test_a_non_admin_naming_a_user_is_forbidden(gql: GraphQL) -> None:
    payload = await gql(TOTALS, {"filter": {"userId": "alice"}}, user="bob")

    assert payload["data"] is None
    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.usefixtures("seeded")
async def test_a_non_admin_naming_themselves_gets_their_own_figures(gql: GraphQL) -> None:
    assert await stats(gql, TOTALS, {"userId": "bob"}, user="bob") == {
        "total": 2, "successCount": 1, "errorCount": 1, "errorRate": 0.5,
        "avgGenerationTimeMs": 1000.0, "totalTokens": 100,
    }


@pytest.mark.usefixtures("seeded")
async def test_a_non_admin_naming_themselves_still_gets_no_by_user(gql: GraphQL) -> None:
    payload = await gql(BY_USER, {"filter": {"userId": "bob"}}, user="bob")

    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert payload["data"]["auditStats"] == {"total": 2, "byUser": None}


async def test_audit_stats_needs_a_token(gql: GraphQL) -> None:
    payload = await gql(TOTALS, user=None)

    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


ZONED = """
query($zone: String!) {
  auditStats(timeZone: $zone) { count total byDay { day count } }
}"""
# Around Europe/Paris's spring change (2024-03-31 01:00Z: +01:00 -> +02:00) and New York's
# autumn one (2024-11-03 06:00Z: -04:00 -> -05:00).
DST_ROWS = [
    "2024-03-30T22:59:00+00:00",  # Paris 23:59 on 03-30 (+01:00)
    "2024-03-30T23:00:00+00:00",  # Paris 00:00 on 03-31 (+01:00)
    "2024-03-31T00:59:59+00:00",  # Paris 01:59:59 on 03-31, the last second of +01:00
    "2024-03-31T21:59:00+00:00",  # Paris 23:59 on 03-31 (+02:00)
    "2024-03-31T22:00:00+00:00",  # Paris 00:00 on 04-01 (+02:00); still 03-31 in UTC
    "2024-11-03T03:59:00+00:00",  # New York 23:59 on 11-02 (-04:00)
    "2024-11-03T04:00:00+00:00",  # New York 00:00 on 11-03 (-04:00)
    "2024-11-04T04:59:00+00:00",  # New York 23:59 on 11-03 (-05:00)
    "2024-11-04T05:00:00+00:00",  # New York 00:00 on 11-04 (-05:00)
]


@pytest.fixture
async def around_dst(db: AsyncSession) -> None:
    for stamp in DST_ROWS:
        await make_audit_log(db, user_id="dana", created_at=datetime.fromisoformat(stamp))


async def days_in(gql: GraphQL, zone: str) -> list[tuple[str, int]]:
    data = await gql.data(ZONED, {"zone": zone}, user="dana")
    return [(day["day"], day["count"]) for day in data["auditStats"]["byDay"]]


@pytest.mark.usefixtures("around_dst")
async def test_by_day_takes_its_days_in_the_time_zone_asked_across_a_spring_change(
    gql: GraphQL,
) -> None:
    assert await days_in(gql, "Europe/Paris") == [
        ("2024-03-30", 1), ("2024-03-31", 3), ("2024-04-01", 1),
        ("2024-11-03", 2), ("2024-11-04", 2),
    ]


@pytest.mark.usefixtures("around_dst")
async def test_by_day_takes_its_days_in_the_time_zone_asked_across_an_autumn_change(
    gql: GraphQL,
) -> None:
    assert await days_in(gql, "America/New_York") == [
        ("2024-03-30", 3), ("2024-03-31", 2), ("2024-11-02", 1), ("2024-11-03", 2),
        ("2024-11-04", 1),
    ]


@pytest.mark.usefixtures("around_dst")
async def test_by_day_is_in_utc_unless_a_time_zone_is_asked(gql: GraphQL) -> None:
    data = await gql.data("{ auditStats { byDay { day count } } }", user="dana")

    assert [(day["day"], day["count"]) for day in data["auditStats"]["byDay"]] == [
        ("2024-03-30", 2), ("2024-03-31", 3), ("2024-11-03", 2), ("2024-11-04", 2),
    ]


async def test_by_day_in_a_time_zone_of_no_rows_is_empty(gql: GraphQL) -> None:
    assert await days_in(gql, "Asia/Kolkata") == []


@pytest.mark.usefixtures("around_dst")
async def test_count_and_the_deprecated_total_agree(gql: GraphQL) -> None:
    data = await gql.data(ZONED, {"zone": "UTC"}, user="dana")

    assert data["auditStats"]["count"] == data["auditStats"]["total"] == len(DST_ROWS)


@pytest.mark.parametrize("zone", ["Mars/Olympus", "", "../../etc/passwd", "Europe/Paris\x00"])
async def test_an_unknown_time_zone_is_refused(gql: GraphQL, zone: str) -> None:
    payload = await gql(ZONED, {"zone": zone}, user="dana")

    assert payload["data"] is None
    [error] = payload["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "timeZone" in error["message"] and "IANA time zone" in error["message"]


async def test_a_time_zone_name_over_its_maximum_is_refused_before_any_sql(
    gql: GraphQL,
) -> None:
    payload = await gql(ZONED, {"zone": "A" * 65}, user="dana")

    [error] = payload["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert payload["extensions"]["sql"]["statements"] == 0
