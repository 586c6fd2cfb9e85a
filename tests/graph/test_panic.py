"""Panic and grounding: pressPanic with its assistant call, completing exercises, resolving
events, and the queries that read them back.

Isolation (another user's events and exercises) is in test_panic_isolation.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain.assistant import Answer, AssistantFailure, OfflineAssistant, PanicSupport, grounding
from domain.assistant.grounding import ExerciseChoice
from domain.assistant.openai import PANIC_PROMPT, OpenAIAssistant
from graph.ids import encode_id
from models import AiLog, GroundingExercise, PanicEvent
from tests.conftest import GraphQL, table_count, visit_whose_row_is_gone
from tests.factories import make_panic_event

PRESS = """
mutation($input: PressPanicInput!) {
  pressPanic(input: $input) {
    __typename
    ... on PressPanicSuccess { panicEvent {
      id note intensity aiResponse createdAt resolved resolvedAt
      exercises { id kind title instructions position completed completedAt }
    } }
    ... on ValidationError { fields { field message } }
    ... on UserError { code errorMessage: message }
  }
}"""
COMPLETE = """
mutation($id: ID!) {
  completeGroundingExercise(input: {id: $id}) {
    __typename
    ... on CompleteGroundingExerciseSuccess {
      exercise { id position completed completedAt }
      panicEvent { id exercises { id completed completedAt } }
    }
    ... on NotFoundError { missingId code }
  }
}"""
RESOLVE = """
mutation($id: ID!) {
  resolvePanicEvent(input: {id: $id}) {
    __typename
    ... on ResolvePanicEventSuccess { panicEvent { id resolved resolvedAt } }
    ... on NotFoundError { missingId code }
  }
}"""
PAGE = """
query($first: Int, $after: String, $last: Int, $before: String) {
  panicEvents(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    edges { cursor node { id note } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""
ONE = """
query($id: ID!) {
  panicEvent(id: $id) {
    id note resolved exercises { id kind position panicEvent { id } }
  }
}"""
PANIC_TABLES = ("panic_events", "grounding_exercises", "ai_logs")


def event_gid(event: PanicEvent | int) -> str:
    return encode_id("PanicEvent", event if isinstance(event, int) else event.id)


def exercise_gid(exercise_id: int) -> str:
    return encode_id("GroundingExercise", exercise_id)


async def press(gql: GraphQL, user: str = "alice", **fields: Any) -> dict[str, Any]:
    data = await gql.data(PRESS, {"input": fields}, user=user)
    result: dict[str, Any] = data["pressPanic"]
    return result


async def exercise_ids(db: AsyncSession, event: PanicEvent) -> list[int]:
    rows = await db.scalars(
        select(GroundingExercise.id)
        .where(GroundingExercise.panic_event_id == event.id)
        .order_by(GroundingExercise.position)
    )
    return list(rows)


async def stored_event(db: AsyncSession) -> PanicEvent:
    event = await db.scalar(select(PanicEvent).execution_options(populate_existing=True))
    assert event is not None
    return event


async def counts(db: AsyncSession) -> dict[str, int]:
    return {table: await table_count(db, table) for table in PANIC_TABLES}


class FakeAssistant(OfflineAssistant):
    """Answers panic_support with a given answer, or raises; records what it was asked."""

    name = "fake"
    model = "fake-model-1"

    def __init__(self, answer: Any = None, error: Exception | None = None) -> None:
        self.answer = answer
        self.error = error
        self.calls: list[tuple[str | None, int | None]] = []

    async def panic_support(self, note: str | None, intensity: int | None) -> Any:
        self.calls.append((note, intensity))
        if self.error is not None:
            raise self.error
        return Answer(self.answer, raw=repr(self.answer))


def use(app: FastAPI, assistant: FakeAssistant) -> FakeAssistant:
    app.state.resources.assistant = assistant
    return assistant


# --- pressPanic -----------------------------------------------------------------------------


async def test_press_panic_stores_the_note_intensity_and_calming_reply(
    gql: GraphQL, db: AsyncSession
) -> None:
    result = await press(gql, note="  my chest is tight  ", intensity=8)
    assert result["__typename"] == "PressPanicSuccess"
    event = result["panicEvent"]
    assert (event["note"], event["intensity"]) == ("my chest is tight", 8)
    assert event["aiResponse"] == grounding.offline_reply("my chest is tight", 8)
    assert (event["resolved"], event["resolvedAt"]) == (False, None)
    stored = await stored_event(db)
    assert (stored.user_id, stored.note, stored.ai_response) == (
        "alice", "my chest is tight", event["aiResponse"],
    )


async def test_press_panic_stores_the_exercises_at_positions_one_to_n(
    gql: GraphQL, db: AsyncSession
) -> None:
    exercises = (await press(gql, intensity=5))["panicEvent"]["exercises"]
    expected = grounding.choose(5)
    assert [e["position"] for e in exercises] == list(range(1, len(expected) + 1))
    assert [(e["kind"], e["title"], e["instructions"]) for e in exercises] == [
        (c.kind, c.title, c.instructions) for c in expected
    ]
    assert all(e["completed"] is False and e["completedAt"] is None for e in exercises)
    assert await table_count(db, "grounding_exercises") == len(expected)


@pytest.mark.parametrize(
    ("intensity", "kinds"),
    [
        (None, ["breathing", "five_senses", "body_scan"]),
        (0, ["five_senses", "body_scan", "muscle_release"]),
        (3, ["five_senses", "body_scan", "muscle_release"]),
        (4, ["breathing", "five_senses", "body_scan"]),
        (6, ["breathing", "five_senses", "body_scan"]),
        (7, ["paced_breathing", "cold_water", "naming_objects"]),
        (10, ["paced_breathing", "cold_water", "naming_objects"]),
    ],
)
async def test_press_panic_chooses_exercises_by_intensity(
    gql: GraphQL, intensity: int | None, kinds: list[str]
) -> None:
    result = await press(gql, intensity=intensity)
    assert [e["kind"] for e in result["panicEvent"]["exercises"]] == kinds


async def test_high_intensity_puts_breathing_first(gql: GraphQL) -> None:
    for intensity in range(grounding.HIGH_FROM, 11):
        first = (await press(gql, intensity=intensity))["panicEvent"]["exercises"][0]
        assert "breathing" in first["kind"]


async def test_press_panic_gives_the_same_answer_for_the_same_press(gql: GraphQL) -> None:
    one = (await press(gql, note="help", intensity=9))["panicEvent"]
    two = (await press(gql, note="help", intensity=9))["panicEvent"]
    assert one["aiResponse"] == two["aiResponse"]
    assert [e["kind"] for e in one["exercises"]] == [e["kind"] for e in two["exercises"]]


async def test_press_panic_with_nothing_stores_null_note_and_intensity(
    gql: GraphQL, db: AsyncSession
) -> None:
    event = (await press(gql))["panicEvent"]
    assert (event["note"], event["intensity"]) == (None, None)
    assert event["aiResponse"]
    stored = await stored_event(db)
    assert (stored.note, stored.intensity) == (None, None)


async def test_a_blank_note_is_stored_as_null(gql: GraphQL) -> None:
    assert (await press(gql, note="   \n "))["panicEvent"]["note"] is None


async def test_the_very_high_reply_mentions_getting_help(gql: GraphQL) -> None:
    reply = (await press(gql, intensity=10))["panicEvent"]["aiResponse"]
    assert grounding.SAFETY in reply


async def test_press_panic_logs_the_assistant_call(gql: GraphQL, db: AsyncSession) -> None:
    await press(gql, note="shaky", intensity=6)
    log = await db.scalar(select(AiLog))
    assert log is not None
    assert (log.purpose, log.user_id, log.provider, log.error) == (
        "panic_response", "alice", "offline", None,
    )
    assert log.prompt == grounding.describe("shaky", 6)
    assert log.response == grounding.offline_reply("shaky", 6)  # the answer as given


async def test_press_panic_records_the_visit_it_was_pressed_in(
    gql: GraphQL, db: AsyncSession
) -> None:
    visit = gql.visit()
    await gql(PRESS, {"input": {"intensity": 3}}, headers={"X-Session-Id": visit.text})
    assert (await stored_event(db)).session_id == visit.visit_id
    assert (await db.scalar(select(AiLog.session_id))) == visit.visit_id


async def test_press_panic_leaves_the_session_null_when_the_visit_row_is_gone(
    gql: GraphQL, db: AsyncSession
) -> None:
    headers = await visit_whose_row_is_gone(gql, db)
    result = await gql.data(PRESS, {"input": {"intensity": 3}}, headers=headers)
    assert result["pressPanic"]["__typename"] == "PressPanicSuccess"
    assert (await stored_event(db)).session_id is None


async def test_press_panic_without_a_session_header_has_no_session(
    gql: GraphQL, db: AsyncSession
) -> None:
    await press(gql)
    assert (await stored_event(db)).session_id is None


async def test_press_panic_needs_an_identity(gql: GraphQL, db: AsyncSession) -> None:
    payload = await gql(PRESS, {"input": {"intensity": 3}}, user=None)
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await counts(db) == dict.fromkeys(PANIC_TABLES, 0)


# --- validation -----------------------------------------------------------------------------


@pytest.mark.parametrize("intensity", [-1, 11, 2**31 - 1])
async def test_an_intensity_outside_zero_to_ten_is_refused_and_changes_nothing(
    gql: GraphQL, db: AsyncSession, app: FastAPI, intensity: int
) -> None:
    assistant = use(app, FakeAssistant(error=AssertionError("must not be asked")))
    result = await press(gql, intensity=intensity)
    assert result["__typename"] == "ValidationError"
    assert result["fields"] == [{"field": "intensity", "message": "must be between 0 and 10"}]
    assert await counts(db) == dict.fromkeys(PANIC_TABLES, 0)
    assert assistant.calls == []


async def test_a_note_over_two_thousand_characters_is_refused_and_changes_nothing(
    gql: GraphQL, db: AsyncSession
) -> None:
    result = await press(gql, note="x" * 2_001)
    assert result["__typename"] == "ValidationError"
    assert [f["field"] for f in result["fields"]] == ["note"]
    assert await counts(db) == dict.fromkeys(PANIC_TABLES, 0)


async def test_a_note_of_exactly_two_thousand_characters_is_kept(gql: GraphQL) -> None:
    result = await press(gql, note="x" * 2_000)
    assert result["panicEvent"]["note"] == "x" * 2_000


async def test_a_note_with_a_nul_character_is_refused(gql: GraphQL, db: AsyncSession) -> None:
    result = await press(gql, note="a\x00b")
    assert result["fields"] == [{"field": "note", "message": "must not contain NUL characters"}]
    assert await counts(db) == dict.fromkeys(PANIC_TABLES, 0)


async def test_every_invalid_field_is_reported_at_once(gql: GraphQL) -> None:
    result = await press(gql, note="x" * 2_001, intensity=42)
    assert [f["field"] for f in result["fields"]] == ["note", "intensity"]


# --- the provider ---------------------------------------------------------------------------


async def test_a_provider_failure_leaves_no_event_but_an_error_log(
    gql: GraphQL, db: AsyncSession, app: FastAPI
) -> None:
    use(app, FakeAssistant(error=RuntimeError("model unavailable")))
    result = await press(gql, note="help", intensity=9)
    assert (result["__typename"], result["code"]) == ("AssistantError", "ASSISTANT_ERROR")
    assert "unavailable" not in result["errorMessage"]
    assert await table_count(db, "panic_events") == 0
    assert await table_count(db, "grounding_exercises") == 0
    log = await db.scalar(select(AiLog))
    assert log is not None and log.purpose == "panic_response" and log.response is None
    assert log.error is not None and "model unavailable" in log.error


async def test_a_blank_reply_is_a_failure_logged_as_one(
    gql: GraphQL, db: AsyncSession, app: FastAPI
) -> None:
    use(app, FakeAssistant(PanicSupport(reply=" \x00 ", exercises=grounding.choose(5))))
    assert (await press(gql))["__typename"] == "AssistantError"
    assert await table_count(db, "panic_events") == 0
    assert await db.scalar(select(AiLog.error)) == "the answer held no usable reply"


async def test_an_answer_that_is_no_panic_support_is_a_failure(
    gql: GraphQL, db: AsyncSession, app: FastAPI
) -> None:
    use(app, FakeAssistant("just a string"))
    assert (await press(gql))["__typename"] == "AssistantError"
    assert await table_count(db, "panic_events") == 0


async def test_the_providers_reply_and_exercises_are_stored_in_its_order(
    gql: GraphQL, app: FastAPI
) -> None:
    chosen = [ExerciseChoice("cold_water", "Cold", "Splash."), ExerciseChoice("x", "X", "Y.")]
    assistant = use(app, FakeAssistant(PanicSupport(reply=" Breathe. ", exercises=chosen)))
    event = (await press(gql, note="n", intensity=2))["panicEvent"]
    assert assistant.calls == [("n", 2)]
    assert event["aiResponse"] == "Breathe."
    assert [(e["kind"], e["title"], e["position"]) for e in event["exercises"]] == [
        ("cold_water", "Cold", 1), ("x", "X", 2),
    ]


async def test_provider_exercises_are_cut_to_the_columns_and_blank_kinds_dropped(
    gql: GraphQL, app: FastAPI
) -> None:
    chosen = [ExerciseChoice(" ", "blank", ""), ExerciseChoice("k" * 40, "t" * 300, "i")]
    use(app, FakeAssistant(PanicSupport(reply="Calm.", exercises=chosen)))
    exercises = (await press(gql))["panicEvent"]["exercises"]
    assert [(len(e["kind"]), len(e["title"]), e["position"]) for e in exercises] == [(30, 200, 1)]


async def test_an_answer_without_exercises_gets_the_catalogues(
    gql: GraphQL, app: FastAPI
) -> None:
    use(app, FakeAssistant(PanicSupport(reply="Calm.", exercises=[])))
    exercises = (await press(gql, intensity=8))["panicEvent"]["exercises"]
    assert [e["kind"] for e in exercises] == [c.kind for c in grounding.choose(8)]


async def test_the_offline_assistant_is_deterministic_and_uses_the_catalogue() -> None:
    assistant = OfflineAssistant()
    one = (await assistant.panic_support("note", 7)).value
    two = (await assistant.panic_support("note", 7)).value
    assert one == two
    assert one.exercises == grounding.choose(7)
    assert grounding.NOTED in one.reply
    assert grounding.NOTED not in (await assistant.panic_support(None, 7)).value.reply


async def openai_answering(content: str, asked: list[dict[str, Any]]) -> OpenAIAssistant:
    """The OpenAI-compatible provider against a fake endpoint that answers `content`."""

    def reply(request: httpx.Request) -> httpx.Response:
        asked.append(orjson.loads(request.content))
        return httpx.Response(200, json={"choices": [{"message": {"content": content}}]})

    assistant = OpenAIAssistant(
        base_url="http://model.test", api_key="k", model="m", timeout_seconds=5
    )
    await assistant.aclose()
    assistant._client = httpx.AsyncClient(  # the real client would reach the network
        transport=httpx.MockTransport(reply), base_url="http://model.test"
    )
    return assistant


async def test_the_openai_provider_words_the_reply_and_picks_from_the_catalogue() -> None:
    asked: list[dict[str, Any]] = []
    assistant = await openai_answering("  You are safe. Let's breathe.  ", asked)
    support = (await assistant.panic_support("racing heart", 9)).value
    await assistant.aclose()
    assert support == PanicSupport("You are safe. Let's breathe.", grounding.choose(9))
    system, user = asked[0]["messages"]
    assert system == {"role": "system", "content": PANIC_PROMPT}
    assert user["content"].startswith(grounding.describe("racing heart", 9))
    assert grounding.choose(9)[0].title in user["content"]


async def test_the_openai_provider_refuses_a_blank_reply() -> None:
    assistant = await openai_answering("   ", [])
    with pytest.raises(AssistantFailure):
        await assistant.panic_support(None, None)
    await assistant.aclose()


def test_every_catalogue_entry_fits_its_columns() -> None:
    kinds = [choice.kind for choice in grounding.CATALOGUE]
    assert len(set(kinds)) == len(kinds)
    for choice in grounding.CATALOGUE:
        assert 0 < len(choice.kind) <= 30 and 0 < len(choice.title) <= 200
        assert choice.instructions.strip()


# --- completeGroundingExercise --------------------------------------------------------------


async def test_complete_grounding_exercise_marks_it_done_and_answers_its_event(
    gql: GraphQL, db: AsyncSession
) -> None:
    event = await make_panic_event(db, exercises=["breathing", "five_senses"])
    first, second = await exercise_ids(db, event)
    result = (await gql.data(COMPLETE, {"id": exercise_gid(first)}))["completeGroundingExercise"]
    assert result["__typename"] == "CompleteGroundingExerciseSuccess"
    assert result["exercise"]["completed"] is True and result["exercise"]["completedAt"]
    assert result["panicEvent"]["id"] == event_gid(event)
    assert [(e["id"], e["completed"]) for e in result["panicEvent"]["exercises"]] == [
        (exercise_gid(first), True), (exercise_gid(second), False),
    ]


async def test_completing_an_exercise_twice_keeps_the_first_time(
    gql: GraphQL, db: AsyncSession
) -> None:
    event = await make_panic_event(db, exercises=["breathing"])
    (exercise_id,) = await exercise_ids(db, event)
    once = await gql.data(COMPLETE, {"id": exercise_gid(exercise_id)})
    twice = await gql.data(COMPLETE, {"id": exercise_gid(exercise_id)})
    first_time = once["completeGroundingExercise"]["exercise"]["completedAt"]
    assert twice["completeGroundingExercise"]["exercise"]["completedAt"] == first_time


async def test_completing_twice_in_one_operation_keeps_the_first_time(
    gql: GraphQL, db: AsyncSession
) -> None:
    event = await make_panic_event(db, exercises=["breathing"])
    (exercise_id,) = await exercise_ids(db, event)
    both = """mutation($id: ID!) {
      a: completeGroundingExercise(input: {id: $id}) {
        ... on CompleteGroundingExerciseSuccess { exercise { completedAt } } }
      b: completeGroundingExercise(input: {id: $id}) {
        ... on CompleteGroundingExerciseSuccess { exercise { completedAt } } } }"""
    data = await gql.data(both, {"id": exercise_gid(exercise_id)})
    assert data["a"]["exercise"]["completedAt"] == data["b"]["exercise"]["completedAt"]


@pytest.mark.parametrize("raw", ["not-an-id", encode_id("GroundingExercise", "x"),
                                 encode_id("GroundingExercise", 10**12)])
async def test_completing_a_malformed_exercise_id_is_not_found(gql: GraphQL, raw: str) -> None:
    result = (await gql.data(COMPLETE, {"id": raw}))["completeGroundingExercise"]
    assert result == {"__typename": "NotFoundError", "missingId": raw, "code": "NOT_FOUND"}


async def test_completing_with_a_panic_event_id_is_not_found(
    gql: GraphQL, db: AsyncSession
) -> None:
    event = await make_panic_event(db, exercises=["breathing"])
    (exercise_id,) = await exercise_ids(db, event)
    wrong_type = encode_id("PanicEvent", exercise_id)
    result = (await gql.data(COMPLETE, {"id": wrong_type}))["completeGroundingExercise"]
    assert result["__typename"] == "NotFoundError"


# --- resolvePanicEvent ----------------------------------------------------------------------


async def test_resolve_panic_event_marks_it_resolved(gql: GraphQL, db: AsyncSession) -> None:
    event = await make_panic_event(db)
    result = (await gql.data(RESOLVE, {"id": event_gid(event)}))["resolvePanicEvent"]
    assert result["__typename"] == "ResolvePanicEventSuccess"
    assert result["panicEvent"]["resolved"] is True and result["panicEvent"]["resolvedAt"]
    assert (await stored_event(db)).resolved_at is not None


async def test_resolving_twice_keeps_the_first_time(gql: GraphQL, db: AsyncSession) -> None:
    event = await make_panic_event(db)
    once = await gql.data(RESOLVE, {"id": event_gid(event)})
    twice = await gql.data(RESOLVE, {"id": event_gid(event)})
    first_time = once["resolvePanicEvent"]["panicEvent"]["resolvedAt"]
    assert twice["resolvePanicEvent"]["panicEvent"]["resolvedAt"] == first_time


async def test_resolving_a_missing_event_is_not_found(gql: GraphQL, db: AsyncSession) -> None:
    event = await make_panic_event(db)
    missing = event_gid(event.id + 10_000)
    result = (await gql.data(RESOLVE, {"id": missing}))["resolvePanicEvent"]
    assert result == {"__typename": "NotFoundError", "missingId": missing, "code": "NOT_FOUND"}


async def test_a_pressed_event_can_be_worked_through_and_resolved(gql: GraphQL) -> None:
    event = (await press(gql, intensity=7))["panicEvent"]
    for exercise in event["exercises"]:
        await gql.data(COMPLETE, {"id": exercise["id"]})
    await gql.data(RESOLVE, {"id": event["id"]})
    query = "query($id: ID!) { panicEvent(id: $id) { resolved exercises { completed } } }"
    read = (await gql.data(query, {"id": event["id"]}))["panicEvent"]
    assert read["resolved"] is True
    assert all(e["completed"] for e in read["exercises"])


# --- queries --------------------------------------------------------------------------------


async def test_panic_events_are_newest_first_with_a_total(gql: GraphQL, db: AsyncSession) -> None:
    for note in ("first", "second", "third"):
        await make_panic_event(db, note=note)
    data = (await gql.data(PAGE))["panicEvents"]
    assert [edge["node"]["note"] for edge in data["edges"]] == ["third", "second", "first"]
    assert data["totalCount"] == 3


async def test_panic_events_page_forward_with_cursors(gql: GraphQL, db: AsyncSession) -> None:
    for n in range(5):
        await make_panic_event(db, note=f"e{n}")
    seen: list[str] = []
    after = None
    while True:
        page = (await gql.data(PAGE, {"first": 2, "after": after}))["panicEvents"]
        seen += [edge["node"]["note"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["e4", "e3", "e2", "e1", "e0"]


async def test_panic_events_last_is_the_oldest_in_newest_first_order(
    gql: GraphQL, db: AsyncSession
) -> None:
    for n in range(4):
        await make_panic_event(db, note=f"e{n}")
    page = (await gql.data(PAGE, {"last": 2}))["panicEvents"]
    assert [edge["node"]["note"] for edge in page["edges"]] == ["e1", "e0"]
    assert page["pageInfo"]["hasPreviousPage"] is True


async def test_a_panic_events_page_over_the_maximum_is_an_error(gql: GraphQL) -> None:
    payload = await gql(PAGE, {"first": 101})
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_panic_event_answers_its_exercises_in_position_order(
    gql: GraphQL, db: AsyncSession
) -> None:
    event = await make_panic_event(db)
    # Inserted out of order: the answer must follow position, not insertion or id.
    for position, kind in ((3, "body_scan"), (1, "breathing"), (2, "five_senses")):
        db.add(GroundingExercise(panic_event_id=event.id, kind=kind, position=position))
    await db.commit()
    data = (await gql.data(ONE, {"id": event_gid(event)}))["panicEvent"]
    assert [(e["position"], e["kind"]) for e in data["exercises"]] == [
        (1, "breathing"), (2, "five_senses"), (3, "body_scan"),
    ]
    assert {e["panicEvent"]["id"] for e in data["exercises"]} == {event_gid(event)}


async def test_panic_event_of_a_malformed_id_is_null(gql: GraphQL) -> None:
    for raw in ("nope", encode_id("PanicEvent", "abc"), encode_id("Task", 1)):
        assert (await gql.data(ONE, {"id": raw}))["panicEvent"] is None


async def test_node_answers_a_panic_event_and_an_exercise(gql: GraphQL, db: AsyncSession) -> None:
    event = await make_panic_event(db, note="mine", exercises=["breathing"])
    (exercise_id,) = await exercise_ids(db, event)
    query = """query($ids: [ID!]!) { nodes(ids: $ids) { id
        ... on PanicEvent { note }
        ... on GroundingExercise { kind panicEvent { note } } } }"""
    ids = [event_gid(event), exercise_gid(exercise_id)]
    data = await gql.data(query, {"ids": ids})
    assert data["nodes"] == [
        {"id": ids[0], "note": "mine"},
        {"id": ids[1], "kind": "breathing", "panicEvent": {"note": "mine"}},
    ]


async def test_exercises_are_in_position_order_for_every_event_of_a_page(
    gql: GraphQL, db: AsyncSession
) -> None:
    await make_panic_event(db, note="a", exercises=["k1", "k2", "k3"])
    await make_panic_event(db, note="b")
    await make_panic_event(db, note="c", exercises=["k1", "k2"])
    query = "{ panicEvents { edges { node { note exercises { kind position } } } } }"
    edges = (await gql.data(query))["panicEvents"]["edges"]
    got = {e["node"]["note"]: [x["position"] for x in e["node"]["exercises"]] for e in edges}
    assert got == {"c": [1, 2], "b": [], "a": [1, 2, 3]}


# --- statements -----------------------------------------------------------------------------

STATEMENTS_QUERY = """query($n: Int!) { panicEvents(first: $n) { totalCount edges { node {
    id note intensity aiResponse resolved
    exercises { id kind title position completed } } } } }"""
# The page, its count, and one batch of exercises for every event of the page.
PAGE_STATEMENTS = 3


async def test_a_page_of_twenty_events_costs_the_same_statements_as_a_page_of_one(
    gql: GraphQL, db: AsyncSession
) -> None:
    for _ in range(20):
        await make_panic_event(db, exercises=["breathing", "five_senses", "body_scan"])
    one = await gql(STATEMENTS_QUERY, {"n": 1})
    twenty = await gql(STATEMENTS_QUERY, {"n": 20})
    assert "errors" not in twenty
    assert len(twenty["data"]["panicEvents"]["edges"]) == 20
    assert all(
        len(edge["node"]["exercises"]) == 3 for edge in twenty["data"]["panicEvents"]["edges"]
    )
    assert one["extensions"]["sql"]["statements"] == PAGE_STATEMENTS
    assert twenty["extensions"]["sql"]["statements"] == PAGE_STATEMENTS


async def test_the_exercises_of_many_events_load_their_event_in_one_batch(
    gql: GraphQL, db: AsyncSession
) -> None:
    for _ in range(10):
        await make_panic_event(db, exercises=["breathing", "body_scan"])
    query = """{ panicEvents(first: 10) { edges { node {
        exercises { panicEvent { id intensity } } } } } }"""
    payload = await gql(query)
    assert "errors" not in payload
    # The page (which primes the event loader), then the exercises.
    assert payload["extensions"]["sql"]["statements"] == 2
