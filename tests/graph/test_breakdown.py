"""`breakDownTask`: the assistant turns raw words into a titled task with ordered steps.

Every provider call, success or failure, writes an ai_logs row; a failure is a typed
AssistantError and leaves no task behind.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from domain import tasks as task_service
from domain.assistant import Answer, AssistantFailure, OfflineAssistant
from domain.assistant.breakdown import Breakdown
from models import AiLog, Task, TaskStep
from tests.conftest import GraphQL, table_count
from tests.factories import task_gid

BREAK_DOWN = """
mutation($input: BreakDownTaskInput!) {
  breakDownTask(input: $input) {
    __typename
    ... on BreakDownTaskSuccess {
      task { id title originalInput status stepCount steps { stepNumber content }
             events { edges { node { eventType toStatus payload } } } }
    }
    ... on UserError { message code }
    ... on ValidationError { fields { field message } }
  }
}
"""


class FakeAssistant:
    """Answers with a fixed breakdown, or raises; records what it was asked."""

    name = "fake"
    model = "fake-model-1"

    def __init__(self, answer: Any = None, error: Exception | None = None) -> None:
        self.answer = answer
        self.error = error
        self.calls: list[str] = []

    async def break_down(self, text: str) -> Any:
        self.calls.append(text)
        if self.error is not None:
            raise self.error
        return Answer(self.answer, raw=repr(self.answer))

    async def complete(self, purpose: str, prompt: str) -> str:
        raise AssertionError("not used by breakDownTask")


def use(app: FastAPI, assistant: FakeAssistant) -> FakeAssistant:
    app.state.resources.assistant = assistant
    return assistant


async def break_down(gql: GraphQL, words: str, **kwargs: Any) -> dict[str, Any]:
    data = await gql.data(BREAK_DOWN, {"input": {"input": words}}, **kwargs)
    result: dict[str, Any] = data["breakDownTask"]
    return result


async def ai_logs(db: AsyncSession) -> list[AiLog]:
    return list(await db.scalars(select(AiLog).order_by(AiLog.id)))


# --- success --------------------------------------------------------------------------------


async def test_break_down_creates_a_task_with_ordered_steps(
    db: AsyncSession, gql: GraphQL
) -> None:
    words = "plan the party; buy snacks; invite friends; clean up"
    expected = (await OfflineAssistant().break_down(words)).value
    result = await break_down(gql, words)
    task = result["task"]
    assert result["__typename"] == "BreakDownTaskSuccess"
    assert task["title"] == expected.title
    assert [(s["stepNumber"], s["content"]) for s in task["steps"]] == [
        (n, content) for n, content in enumerate(expected.steps, 1)
    ]
    assert task["stepCount"] == len(expected.steps) > 0
    row = await db.scalar(select(Task).where(Task.title == expected.title))
    assert row is not None and task_gid(row) == task["id"] and row.user_id == "alice"


async def test_break_down_keeps_the_raw_words_as_original_input(gql: GraphQL) -> None:
    words = "Sort out taxes, then file them"
    result = await break_down(gql, words)
    assert result["task"]["originalInput"] == words


async def test_break_down_writes_a_created_event(gql: GraphQL) -> None:
    task = (await break_down(gql, "wash the car; vacuum inside"))["task"]
    [event] = [edge["node"] for edge in task["events"]["edges"]]
    assert (event["eventType"], event["toStatus"]) == ("CREATED", "PENDING")
    assert event["payload"] == {"steps": task["stepCount"]}


async def test_break_down_writes_an_ai_log_row_for_a_successful_call(
    db: AsyncSession, gql: GraphQL
) -> None:
    words = "write the essay; proofread it"
    await break_down(gql, words)
    [log] = await ai_logs(db)
    assert (log.purpose, log.provider, log.user_id) == ("task_breakdown", "offline", "alice")
    assert log.prompt == words
    assert log.response is not None and log.error is None
    assert log.latency_ms is not None and log.latency_ms >= 0


async def test_break_down_title_of_a_long_input_fits_two_hundred_characters(
    db: AsyncSession, gql: GraphQL
) -> None:
    words = " ".join(["wordy"] * 150)  # 899 characters, no clause breaks
    task = (await break_down(gql, words))["task"]
    assert 0 < len(task["title"]) <= 200
    assert task["originalInput"] == words


async def test_break_down_cuts_a_providers_overlong_title(app: FastAPI, gql: GraphQL) -> None:
    use(app, FakeAssistant(Breakdown(title="long " * 100, steps=["one"])))
    task = (await break_down(gql, "something"))["task"]
    assert 0 < len(task["title"]) <= 200
    assert {word.lower() for word in task["title"].rstrip("…").split()} == {"long"}  # whole words


async def test_break_down_titles_a_blank_provider_title_from_the_input(
    app: FastAPI, gql: GraphQL
) -> None:
    use(app, FakeAssistant(Breakdown(title="   ", steps=["one"])))
    task = (await break_down(gql, "fix the bike"))["task"]
    assert task["title"] == "Fix the bike"


async def test_break_down_drops_blank_steps_and_cuts_long_ones(
    app: FastAPI, gql: GraphQL
) -> None:
    use(app, FakeAssistant(Breakdown(title="T", steps=["  first ", "", "   ", "s" * 2_500])))
    task = (await break_down(gql, "anything"))["task"]
    assert [s["content"] for s in task["steps"]] == ["first", "s" * 2_000]
    assert [s["stepNumber"] for s in task["steps"]] == [1, 2]


async def test_break_down_strips_nul_characters_from_the_providers_answer(
    app: FastAPI, gql: GraphQL
) -> None:
    use(app, FakeAssistant(Breakdown(title="Ti\x00tle", steps=["st\x00ep"])))
    task = (await break_down(gql, "anything"))["task"]
    assert (task["title"], task["steps"][0]["content"]) == ("Title", "step")


async def test_break_down_asks_the_provider_with_the_trimmed_words(
    app: FastAPI, gql: GraphQL
) -> None:
    fake = use(app, FakeAssistant(Breakdown(title="T", steps=["s"])))
    await break_down(gql, "   tidy the desk  ")
    assert fake.calls == ["tidy the desk"]


# --- provider failure -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "error", [AssistantFailure("provider answered HTTP 500"), RuntimeError("boom"),
              TimeoutError()],
)
async def test_provider_failure_is_an_assistant_error_and_leaves_no_task(
    app: FastAPI, db: AsyncSession, gql: GraphQL, error: Exception
) -> None:
    use(app, FakeAssistant(error=error))
    result = await break_down(gql, "plan a trip")
    assert result["__typename"] == "AssistantError"
    assert result["code"] == "ASSISTANT_ERROR"
    assert result["message"]
    assert (await table_count(db, "tasks"), await table_count(db, "task_steps")) == (0, 0)
    assert await table_count(db, "task_events") == 0


async def test_provider_failure_writes_an_ai_log_row_with_the_error(
    app: FastAPI, db: AsyncSession, gql: GraphQL
) -> None:
    use(app, FakeAssistant(error=AssistantFailure("provider answered HTTP 503")))
    await break_down(gql, "plan a trip")
    [log] = await ai_logs(db)
    assert (log.purpose, log.provider, log.model) == ("task_breakdown", "fake", "fake-model-1")
    assert log.response is None
    assert log.error is not None and "503" in log.error
    assert log.user_id == "alice"


async def test_provider_failure_details_are_not_shown_to_the_client(
    app: FastAPI, gql: GraphQL
) -> None:
    use(app, FakeAssistant(error=RuntimeError("api key sk-secret-123 rejected")))
    payload = await gql(BREAK_DOWN, {"input": {"input": "plan a trip"}})
    assert "sk-secret-123" not in str(payload)
    assert "RuntimeError" not in str(payload)


async def test_provider_answer_that_is_no_breakdown_is_an_assistant_error(
    app: FastAPI, db: AsyncSession, gql: GraphQL
) -> None:
    use(app, FakeAssistant({"title": "not a Breakdown"}))
    result = await break_down(gql, "plan a trip")
    assert result["__typename"] == "AssistantError"
    assert await table_count(db, "tasks") == 0
    assert len(await ai_logs(db)) == 2  # an unusable answer is asked for once more


async def test_each_call_writes_its_own_ai_log_row(
    app: FastAPI, db: AsyncSession, gql: GraphQL
) -> None:
    await break_down(gql, "first thing")
    use(app, FakeAssistant(error=AssistantFailure("down")))
    await break_down(gql, "second thing")
    logs = await ai_logs(db)
    assert [(log.prompt, log.error is None) for log in logs] == [
        ("first thing", True), ("second thing", False),
    ]


async def test_a_failed_task_write_keeps_the_calls_ai_log_row(
    app: FastAPI, db: AsyncSession, gql: GraphQL, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Task:
        raise RuntimeError("database trouble")

    monkeypatch.setattr(task_service, "create_task", broken)
    payload = await gql(BREAK_DOWN, {"input": {"input": "plan a trip"}})
    assert payload["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert await table_count(db, "tasks") == 0
    [log] = await ai_logs(db)
    assert log.error is None and log.response is not None


# --- invalid input --------------------------------------------------------------------------


@pytest.mark.parametrize("words", ["", "    ", "x" * 10_001, "nul\x00here"])
async def test_invalid_input_is_a_validation_error_without_a_provider_call(
    app: FastAPI, db: AsyncSession, gql: GraphQL, words: str
) -> None:
    fake = use(app, FakeAssistant(Breakdown(title="T", steps=["s"])))
    result = await break_down(gql, words)
    assert result["__typename"] == "ValidationError"
    assert [f["field"] for f in result["fields"]] == ["input"]
    assert fake.calls == []
    assert (await table_count(db, "tasks"), await table_count(db, "ai_logs")) == (0, 0)


async def test_break_down_without_a_token_is_unauthenticated(
    app: FastAPI, db: AsyncSession, gql: GraphQL
) -> None:
    fake = use(app, FakeAssistant(Breakdown(title="T", steps=["s"])))
    payload = await gql(BREAK_DOWN, {"input": {"input": "plan"}}, user=None)
    assert payload["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert fake.calls == []
    assert await table_count(db, "ai_logs") == 0


# --- ownership ------------------------------------------------------------------------------


async def test_a_broken_down_task_belongs_to_the_viewer_only(
    db: AsyncSession, gql: GraphQL
) -> None:
    task = (await break_down(gql, "bob's plan; step two", user="bob"))["task"]
    query = "query($id: ID!) { task(id: $id) { id } }"
    assert (await gql.data(query, {"id": task["id"]}, user="bob"))["task"] == {"id": task["id"]}
    assert (await gql.data(query, {"id": task["id"]}, user="alice"))["task"] is None
    [log] = await ai_logs(db)
    assert log.user_id == "bob"
    steps = await db.scalars(select(TaskStep.content).order_by(TaskStep.step_number))
    assert list(steps) == [s["content"] for s in task["steps"]]


async def test_checked_items_become_steps_already_done(gql: GraphQL, db: AsyncSession) -> None:
    result = await break_down(gql, "Trip:\n- [x] book flights\n- [ ] pack\n- [X] renew passport")
    assert result["task"]["title"] == "Trip"
    task_id = await db.scalar(select(Task.id).where(Task.title == "Trip"))
    done = await db.scalars(select(TaskStep.completed).where(
        TaskStep.task_id == task_id).order_by(TaskStep.step_number))
    assert list(done) == [True, False, True]
