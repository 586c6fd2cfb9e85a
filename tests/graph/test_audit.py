"""The audit log: recordGeneration and its checks, auditLogs paging and filters, node(), and
who may read whose logs. The admin's all-user view is tests/graph/test_audit_admin.py; the
server's own entries tests/domain/test_audit_server.py; migration 0003
tests/domain/test_audit_migration.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from graph.ids import encode_id
from models import AuditLog
from models.audit import JSON_MAX_BYTES
from tests.conftest import GraphQL, table_count
from tests.factories import make_audit_log

RECORD = """
mutation($input: RecordGenerationInput!) {
  recordGeneration(input: $input) {
    __typename
    ... on RecordGenerationSuccess {
      auditLog {
        id userId documentType documentVersion inputData generatedText modelUsed
        tokensUsed generationTimeMs status errorMessage createdAt source
      }
    }
    ... on ValidationError { code fields { field message } }
  }
}"""
LOGS = """
query($filter: AuditLogFilter, $first: Int, $after: String, $last: Int, $before: String) {
  auditLogs(filter: $filter, first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id documentType status userId source } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
NODE = """
query($id: ID!) { node(id: $id) { __typename ... on AuditLog { id documentType } } }"""

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def gid(log: AuditLog) -> str:
    return encode_id("AuditLog", log.id)


def generation(**fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "documentType": "treatment_summary",
        "inputData": {"treatment_type": "clear aligners"},
        "generatedText": {"title": "Your Treatment Plan"},
    }
    values.update(fields)
    return values


async def record(
    gql: GraphQL, user: str = "alice", admin: bool = False, **fields: Any
) -> dict[str, Any]:
    data = await gql.data(RECORD, {"input": generation(**fields)}, user=user, admin=admin)
    result: dict[str, Any] = data["recordGeneration"]
    return result


def invalid_fields(result: dict[str, Any]) -> dict[str, str]:
    assert result["__typename"] == "ValidationError", result
    return {error["field"]: error["message"] for error in result["fields"]}


async def seed_three(db: AsyncSession, user_id: str = "alice") -> list[AuditLog]:
    """Three logs one hour apart, oldest first."""
    return [
        await make_audit_log(db, user_id=user_id, created_at=T0 + timedelta(hours=n),
                             document_type=f"doc{n}")
        for n in range(3)
    ]


# recordGeneration ---------------------------------------------------------------------------


async def test_record_generation_stores_every_field(gql: GraphQL, db: AsyncSession) -> None:
    result = await record(
        gql, documentVersion="2.1", modelUsed="gpt-4o-mini", tokensUsed=450,
        generationTimeMs=1250,
    )

    log = result["auditLog"]
    assert result["__typename"] == "RecordGenerationSuccess"
    assert log["userId"] == "alice"
    assert log["inputData"] == {"treatment_type": "clear aligners"}
    assert log["generatedText"] == {"title": "Your Treatment Plan"}
    assert (log["documentVersion"], log["modelUsed"]) == ("2.1", "gpt-4o-mini")
    assert (log["tokensUsed"], log["generationTimeMs"]) == (450, 1250)
    row = await db.scalar(select(AuditLog))
    assert row is not None and gid(row) == log["id"]
    assert (row.user_id, row.status, row.tokens_used) == ("alice", "success", 450)
    assert row.input_data == {"treatment_type": "clear aligners"}


async def test_record_generation_applies_the_seed_defaults(gql: GraphQL) -> None:
    log = (await record(gql))["auditLog"]

    assert (log["documentVersion"], log["modelUsed"], log["status"]) == ("1.0", "gpt-4o", "SUCCESS")
    assert (log["tokensUsed"], log["generationTimeMs"], log["errorMessage"]) == (None, None, None)


async def test_record_generation_stores_an_error_with_its_message(gql: GraphQL) -> None:
    result = await record(gql, status="ERROR", errorMessage="  upstream timeout ",
                          generatedText={})

    assert result["auditLog"]["status"] == "ERROR"
    assert result["auditLog"]["errorMessage"] == "upstream timeout"
    assert result["auditLog"]["generatedText"] == {}


async def test_an_error_without_an_error_message_is_refused(
    gql: GraphQL, db: AsyncSession
) -> None:
    result = await record(gql, status="ERROR")

    assert invalid_fields(result) == {"errorMessage": "must not be null"}
    assert await table_count(db, "audit_logs") == 0


async def test_an_error_with_a_blank_error_message_is_refused(
    gql: GraphQL, db: AsyncSession
) -> None:
    result = await record(gql, status="ERROR", errorMessage="   ")

    assert invalid_fields(result) == {"errorMessage": "must not be empty"}
    assert await table_count(db, "audit_logs") == 0


async def test_record_generation_reports_every_invalid_field_at_once(
    gql: GraphQL, db: AsyncSession
) -> None:
    result = await record(
        gql, documentType=" ", documentVersion="v" * 21, modelUsed="m" * 101,
        tokensUsed=-1, generationTimeMs=-5,
    )

    assert set(invalid_fields(result)) == {
        "documentType", "documentVersion", "modelUsed", "tokensUsed", "generationTimeMs",
    }
    assert result["code"] == "VALIDATION_ERROR"
    assert await table_count(db, "audit_logs") == 0


async def test_text_fields_at_their_limits_are_accepted(gql: GraphQL) -> None:
    result = await record(
        gql, documentType="d" * 100, documentVersion="v" * 20, modelUsed="m" * 100,
        tokensUsed=0, generationTimeMs=0,
    )

    assert result["__typename"] == "RecordGenerationSuccess"


def _object_of_size(size: int) -> dict[str, str]:
    """A JSON object whose compact serialization is exactly `size` bytes."""
    overhead = len('{"k":""}')
    return {"k": "x" * (size - overhead)}


async def test_json_inputs_over_the_size_limit_are_refused_by_name(
    gql: GraphQL, db: AsyncSession
) -> None:
    too_big = _object_of_size(JSON_MAX_BYTES + 1)

    result = await record(gql, inputData=too_big, generatedText=too_big)

    errors = invalid_fields(result)
    assert set(errors) == {"inputData", "generatedText"}
    assert errors["inputData"] == (
        f"must be at most {JSON_MAX_BYTES} bytes serialized (got {JSON_MAX_BYTES + 1})"
    )
    assert await table_count(db, "audit_logs") == 0


async def test_json_inputs_at_the_size_limit_are_accepted(gql: GraphQL) -> None:
    result = await record(gql, inputData=_object_of_size(JSON_MAX_BYTES))

    assert result["__typename"] == "RecordGenerationSuccess"


async def test_json_inputs_must_be_objects(gql: GraphQL, db: AsyncSession) -> None:
    result = await record(gql, inputData=[1, 2], generatedText="text")

    assert invalid_fields(result) == {
        "inputData": "must be a JSON object", "generatedText": "must be a JSON object",
    }
    assert await table_count(db, "audit_logs") == 0


async def test_json_inputs_with_nul_text_are_refused(gql: GraphQL, db: AsyncSession) -> None:
    result = await record(gql, generatedText={"body": "a\x00b"})

    assert invalid_fields(result) == {"generatedText": "must not contain NUL characters"}
    assert await table_count(db, "audit_logs") == 0


async def test_json_inputs_may_be_written_inline(gql: GraphQL) -> None:
    query = """mutation { recordGeneration(input: {
        documentType: "letter", inputData: {a: [1, {b: null}]}, generatedText: {ok: true}
    }) { ... on RecordGenerationSuccess { auditLog { inputData generatedText } } } }"""

    log = (await gql.data(query))["recordGeneration"]["auditLog"]

    assert log == {"inputData": {"a": [1, {"b": None}]}, "generatedText": {"ok": True}}


async def test_record_generation_is_recorded_as_a_clients_claim(
    gql: GraphQL, db: AsyncSession
) -> None:
    result = await record(gql, user="root", admin=True, tokensUsed=10, generationTimeMs=5)

    assert result["auditLog"]["source"] == "CLIENT"
    assert await db.scalar(select(AuditLog.source)) == "client"


async def test_record_generation_takes_no_source(gql: GraphQL) -> None:
    payload = await gql(RECORD, {"input": generation(source="SERVER")})

    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_record_generation_needs_a_token(gql: GraphQL, db: AsyncSession) -> None:
    payload = await gql(RECORD, {"input": generation()}, user=None)

    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await table_count(db, "audit_logs") == 0


async def test_no_mutation_changes_or_removes_an_audit_log(gql: GraphQL) -> None:
    data = await gql.data("{ __type(name: \"Mutation\") { fields { name } } }")

    names = [field["name"] for field in data["__type"]["fields"]]
    audit = [name for name in names if "audit" in name.lower() or "generation" in name.lower()]
    assert audit == ["recordGeneration"]


# auditLogs ----------------------------------------------------------------------------------


async def test_audit_logs_lists_the_viewers_logs_newest_first(
    gql: GraphQL, db: AsyncSession
) -> None:
    logs = await seed_three(db)

    connection = (await gql.data(LOGS))["auditLogs"]

    assert [edge["node"]["id"] for edge in connection["edges"]] == [gid(x) for x in logs[::-1]]
    assert connection["totalCount"] == 3


async def test_audit_logs_pages_forward_with_first_and_after(
    gql: GraphQL, db: AsyncSession
) -> None:
    logs = await seed_three(db)

    first = (await gql.data(LOGS, {"first": 2}))["auditLogs"]
    rest = (await gql.data(LOGS, {"first": 2, "after": first["pageInfo"]["endCursor"]}))

    assert [e["node"]["id"] for e in first["edges"]] == [gid(logs[2]), gid(logs[1])]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["id"] for e in rest["auditLogs"]["edges"]] == [gid(logs[0])]
    assert rest["auditLogs"]["pageInfo"]["hasNextPage"] is False


async def test_audit_logs_pages_backward_with_last_and_before(
    gql: GraphQL, db: AsyncSession
) -> None:
    logs = await seed_three(db)

    oldest = (await gql.data(LOGS, {"last": 1}))["auditLogs"]
    before = oldest["pageInfo"]["startCursor"]
    newer = (await gql.data(LOGS, {"last": 2, "before": before}))["auditLogs"]

    assert [e["node"]["id"] for e in oldest["edges"]] == [gid(logs[0])]
    assert [e["node"]["id"] for e in newer["edges"]] == [gid(logs[2]), gid(logs[1])]
    assert newer["pageInfo"]["hasPreviousPage"] is False


async def test_audit_logs_filters_by_document_type_and_status(
    gql: GraphQL, db: AsyncSession
) -> None:
    await make_audit_log(db, document_type="letter", status="error")
    wanted = await make_audit_log(db, document_type="letter")
    await make_audit_log(db, document_type="summary")

    where = {"documentType": "letter", "status": "SUCCESS"}
    connection = (await gql.data(LOGS, {"filter": where}))["auditLogs"]

    assert [e["node"]["id"] for e in connection["edges"]] == [gid(wanted)]
    assert connection["totalCount"] == 1


async def test_audit_logs_filters_by_source(gql: GraphQL, db: AsyncSession) -> None:
    await make_audit_log(db, source="client")
    server = await make_audit_log(db, source="server")

    connection = (await gql.data(LOGS, {"filter": {"source": "SERVER"}}))["auditLogs"]

    assert [e["node"]["id"] for e in connection["edges"]] == [gid(server)]
    assert connection["edges"][0]["node"]["source"] == "SERVER"


async def test_audit_logs_filters_by_exclusive_created_bounds(
    gql: GraphQL, db: AsyncSession
) -> None:
    logs = await seed_three(db)

    where = {"createdAfter": "2024-05-01T12:00:00Z", "createdBefore": "2024-05-01T16:00:00+02:00"}
    connection = (await gql.data(LOGS, {"filter": where}))["auditLogs"]

    # 16:00+02:00 is 14:00Z: only the 13:00Z log lies strictly between.
    assert [e["node"]["id"] for e in connection["edges"]] == [gid(logs[1])]


async def test_audit_logs_refuses_a_filter_time_without_offset(gql: GraphQL) -> None:
    payload = await gql(LOGS, {"filter": {"createdAfter": "2024-05-01T12:00:00"}})

    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "createdAfter" in payload["errors"][0]["message"]


async def test_audit_logs_needs_a_token(gql: GraphQL) -> None:
    payload = await gql(LOGS, user=None)

    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# Isolation and admins -----------------------------------------------------------------------


async def test_a_user_sees_none_of_another_users_logs(gql: GraphQL, db: AsyncSession) -> None:
    await seed_three(db, user_id="alice")

    connection = (await gql.data(LOGS, user="bob"))["auditLogs"]

    assert connection == {
        "totalCount": 0, "edges": [],
        "pageInfo": {"hasNextPage": False, "hasPreviousPage": False,
                     "startCursor": None, "endCursor": None},
    }


async def test_node_answers_the_owner_of_a_log(gql: GraphQL, db: AsyncSession) -> None:
    log = await make_audit_log(db, user_id="alice", document_type="letter")

    node = (await gql.data(NODE, {"id": gid(log)}))["node"]

    assert node == {"__typename": "AuditLog", "id": gid(log), "documentType": "letter"}


async def test_node_of_another_users_log_is_null(gql: GraphQL, db: AsyncSession) -> None:
    log = await make_audit_log(db, user_id="alice")

    assert (await gql.data(NODE, {"id": gid(log)}, user="bob"))["node"] is None


async def test_node_of_another_users_log_is_null_even_for_an_admin(
    gql: GraphQL, db: AsyncSession
) -> None:
    log = await make_audit_log(db, user_id="alice")

    data = await gql.data(NODE, {"id": gid(log)}, user="root", admin=True)

    assert data["node"] is None


async def test_node_with_a_key_that_is_no_uuid_is_null(gql: GraphQL) -> None:
    ids = [encode_id("AuditLog", key) for key in ("42", "not-a-uuid", "a\x00b")]

    data = await gql.data("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})

    assert data["nodes"] == [None, None, None]


async def test_an_admin_lists_another_users_logs_with_user_id(
    gql: GraphQL, db: AsyncSession
) -> None:
    logs = await seed_three(db, user_id="alice")
    await make_audit_log(db, user_id="bob")

    data = await gql.data(LOGS, {"filter": {"userId": "alice"}}, user="root", admin=True)

    edges = data["auditLogs"]["edges"]
    assert [e["node"]["id"] for e in edges] == [gid(x) for x in logs[::-1]]
    assert {e["node"]["userId"] for e in edges} == {"alice"}


async def test_a_non_admin_passing_user_id_is_forbidden(gql: GraphQL, db: AsyncSession) -> None:
    await seed_three(db, user_id="alice")

    payload = await gql(LOGS, {"filter": {"userId": "alice"}}, user="bob")

    assert payload["data"] is None
    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "alice" not in str(payload["errors"])


async def test_a_non_admin_naming_themselves_gets_their_own_logs(
    gql: GraphQL, db: AsyncSession
) -> None:
    logs = await seed_three(db, user_id="alice")
    await make_audit_log(db, user_id="bob")

    data = await gql.data(LOGS, {"filter": {"userId": "alice"}}, user="alice")

    assert [e["node"]["id"] for e in data["auditLogs"]["edges"]] == [gid(x) for x in logs[::-1]]
