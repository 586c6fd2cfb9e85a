"""The OpenAI-compatible provider against a fake endpoint over real HTTP: streamed replies,
retries on 429 (with Retry-After) and 5xx within the time limit, and `response_format`
falling back when an endpoint refuses it, as some local servers do."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from domain.assistant import AssistantFailure
from domain.assistant.openai import OpenAIAssistant
from domain.assistant.retrying import BACKOFF_MAX, backoff, retry_after, with_retries
from tests.fake_openai import FakeOpenAI, calls, fails, model, says, tool_call

__all__ = ["model"]  # a fixture, used by name

BREAKDOWN = '{"title": "Party", "steps": ["Book", "Invite"]}'



@pytest.fixture
async def provider(model: FakeOpenAI) -> AsyncIterator[OpenAIAssistant]:
    assistant = OpenAIAssistant(base_url=model.base_url, api_key="k", model="fake-model",
                                timeout_seconds=10, retries=3, backoff_seconds=0.01)
    yield assistant
    await assistant.aclose()


USER = [{"role": "user", "content": "hello"}]


async def test_a_streamed_reply_is_handed_on_piece_by_piece_and_returned_whole(
    provider: OpenAIAssistant, model: FakeOpenAI
) -> None:
    model.answer(says("You have three tasks left today."))
    pieces: list[str] = []

    async def grow(piece: str) -> None:
        pieces.append(piece)

    answer = await provider.turn(USER, [], on_text=grow)
    assert model.requests[0]["stream"] is True
    assert pieces == ["You ", "have ", "three ", "tasks ", "left ", "today."]
    assert answer.value.text == "You have three tasks left today."
    assert (answer.tokens, answer.request_id) == (30, "req_1")


async def test_streamed_tool_calls_are_put_together_from_their_pieces(
    provider: OpenAIAssistant, model: FakeOpenAI
) -> None:
    model.answer(calls(tool_call("complete_task", task="the report"),
                       tool_call("list_tasks", status="open")))
    pieces: list[str] = []

    async def grow(piece: str) -> None:
        pieces.append(piece)

    answer = await provider.turn(USER, [], on_text=grow)
    assert pieces == []
    assert [(c.name, c.arguments) for c in answer.value.calls] == [
        ("complete_task", '{"task": "the report"}'), ("list_tasks", '{"status": "open"}')]


async def test_an_unstreamed_turn_asks_without_stream(
    provider: OpenAIAssistant, model: FakeOpenAI
) -> None:
    model.answer(says("Hi"))
    answer = await provider.turn(USER, [])
    assert "stream" not in model.requests[0] and answer.value.text == "Hi"


async def test_a_429_is_retried_after_the_wait_it_asks_for(
    provider: OpenAIAssistant, model: FakeOpenAI
) -> None:
    model.answer(fails(429, retry_after="1"), says("Done."))
    started = time.monotonic()
    answer = await provider.turn(USER, [])
    assert time.monotonic() - started >= 0.95
    assert answer.value.text == "Done." and len(model.requests) == 2


async def test_a_retry_after_past_the_time_limit_fails_at_once(model: FakeOpenAI) -> None:
    quick = OpenAIAssistant(base_url=model.base_url, api_key="k", model="m",
                            timeout_seconds=2, retries=3)
    model.answer(fails(429, retry_after="30"), says("too late"))
    started = time.monotonic()
    with pytest.raises(AssistantFailure, match="HTTP 429"):
        await quick.turn(USER, [])
    assert time.monotonic() - started < 1 and len(model.requests) == 1
    await quick.aclose()


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_5xx_is_retried_with_backoff_and_then_answered(
    provider: OpenAIAssistant, model: FakeOpenAI, status: int
) -> None:
    model.answer(fails(status, retry_after=None), fails(status, retry_after=None), says("ok"))
    answer = await provider.turn(USER, [])
    assert answer.value.text == "ok" and len(model.requests) == 3


async def test_a_5xx_that_lasts_fails_after_the_retries(
    provider: OpenAIAssistant, model: FakeOpenAI
) -> None:
    model.answer(*[fails(500, retry_after=None)] * 5)
    with pytest.raises(AssistantFailure, match="HTTP 500"):
        await provider.turn(USER, [])
    assert len(model.requests) == 4  # the call and 3 retries


async def test_a_4xx_other_than_429_is_not_retried(
    provider: OpenAIAssistant, model: FakeOpenAI
) -> None:
    model.answer(fails(401), says("never asked"))
    with pytest.raises(AssistantFailure, match="HTTP 401"):
        await provider.turn(USER, [])
    assert len(model.requests) == 1


async def test_a_streamed_turn_is_retried_until_its_answer_starts(
    provider: OpenAIAssistant, model: FakeOpenAI
) -> None:
    model.answer(fails(503), says("streamed after all"))
    pieces: list[str] = []

    async def grow(piece: str) -> None:
        pieces.append(piece)

    answer = await provider.turn(USER, [], on_text=grow)
    assert "".join(pieces) == answer.value.text == "streamed after all"


async def test_the_breakdown_asks_for_a_json_schema_first(
    provider: OpenAIAssistant, model: FakeOpenAI
) -> None:
    model.answer(says(BREAKDOWN))
    answer = await provider.break_down("plan the party")
    assert model.requests[0]["response_format"]["type"] == "json_schema"
    assert answer.value.steps == ["Book", "Invite"]


async def test_a_refused_json_schema_falls_back_to_json_object_and_stays_there(
    provider: OpenAIAssistant, model: FakeOpenAI
) -> None:
    model.answer(says(BREAKDOWN), says(BREAKDOWN), refusing=("json_schema",))
    assert (await provider.break_down("plan the party")).value.title == "Party"
    assert (await provider.break_down("plan it again")).value.title == "Party"
    forms = [request["response_format"]["type"] for request in model.requests]
    assert forms == ["json_schema", "json_object", "json_object"]


async def test_refused_json_schema_and_json_object_fall_back_to_plain_instructions(
    provider: OpenAIAssistant, model: FakeOpenAI
) -> None:
    model.answer(says(f"Sure! {BREAKDOWN}"), refusing=("json_schema", "json_object"))
    answer = await provider.break_down("plan the party")
    forms = [(request.get("response_format") or {}).get("type") for request in model.requests]
    assert forms == ["json_schema", "json_object", None]
    assert "JSON" in model.requests[-1]["messages"][0]["content"]  # asked for in words
    assert answer.value.steps == ["Book", "Invite"]


async def test_an_unreachable_provider_is_an_assistant_failure() -> None:
    closed = OpenAIAssistant(base_url="http://127.0.0.1:9/v1", api_key="k", model="m",
                             timeout_seconds=1, retries=1, backoff_seconds=0.01)
    with pytest.raises(AssistantFailure, match="unreachable"):
        await closed.turn(USER, [])
    await closed.aclose()


def test_retry_after_reads_seconds_and_an_http_date() -> None:
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    at = format_datetime(now + timedelta(seconds=7), usegmt=True)
    response = httpx.Response(429, headers={"retry-after": "3"})
    assert retry_after(response) == 3
    assert retry_after(httpx.Response(503, headers={"retry-after": at}), now=now) == 7
    assert retry_after(httpx.Response(503, headers={"retry-after": "soon"})) is None
    assert retry_after(httpx.Response(503)) is None


def test_backoff_is_jittered_and_bounded() -> None:
    waits = [backoff(attempt, 0.5) for attempt in range(10) for _ in range(20)]
    assert all(0 <= wait <= BACKOFF_MAX for wait in waits)
    assert max(backoff(0, 0.5) for _ in range(50)) <= 0.5


async def test_waits_follow_the_backoff_when_no_retry_after_is_given() -> None:
    slept: list[float] = []
    answers = iter([httpx.Response(500), httpx.Response(500), httpx.Response(200)])

    async def send() -> httpx.Response:
        return next(answers)

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    response = await with_retries(send, retries=3, deadline=time.monotonic() + 60, base=1.0,
                                  sleep=sleep)
    assert response.status_code == 200
    assert len(slept) == 2 and slept[0] <= 1.0 and slept[1] <= 2.0
