"""Streamed replies end to end: a uvicorn server process whose assistant is the
OpenAI-compatible provider, a fake model streaming its reply a word at a time over real
HTTP, and graphql-transport-ws subscribers. The owner's `messageDrafts` sees the reply grow
(throttled drafts, each the whole text so far), then a last draft with done; the reply is
stored once (one MESSAGE change); nobody else can watch the conversation's drafts."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from domain.assistant.conversation import ReplyText
from graph.drafts import PAYLOAD_MAX_BYTES, Draft, DraftPublisher, _event
from graph.pubsub import LocalBroker
from tests.conftest import DATABASE_URL, ON_POSTGRES
from tests.fake_openai import FakeOpenAI, model, says
from tests.graph.test_subscriptions import connect, users
from tests.servers import graphql, running_server

__all__ = ["connect", "model", "users"]  # fixtures, used by name
DRAFTS = """subscription($id: ID!) { messageDrafts(conversationId: $id) {
  conversationId draftId text done truncated } }"""
CHANGES = "subscription { conversationChanges { kind message { role content } } }"
REPLY = ("Here is your plan for the week: start with the report on Monday, then call the "
         "plumber on Tuesday, and keep Friday free for the garden.")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, model: FakeOpenAI) -> Iterator[str]:
    env = {"ASSISTANT_PROVIDER": "openai", "OPENAI_BASE_URL": model.base_url,
           "OPENAI_API_KEY": "test-key", "OPENAI_MODEL": "fake-model"}
    if ON_POSTGRES:
        env["DATABASE_URL"] = DATABASE_URL
    with running_server(tmp_path_factory.mktemp("drafts"), **env) as base:
        yield base


async def test_subscribers_see_the_reply_grow_then_the_message_stored_once(
    server: str, model: FakeOpenAI, users: tuple[str, str], connect: Any
) -> None:
    alice, bob = users
    started = await graphql(server, alice, """mutation { startConversation(input: {}) {
        ... on StartConversationSuccess { conversation { id } } } }""", {})
    conversation = started["startConversation"]["conversation"]["id"]
    drafts, changes, outsider = (await connect(server, alice), await connect(server, alice),
                                 await connect(server, bob))
    await drafts.subscribe(DRAFTS, {"id": conversation})
    await changes.subscribe(CHANGES)
    await outsider.subscribe(DRAFTS, {"id": conversation})
    refused = await outsider.next()
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    await asyncio.sleep(0.2)  # the subscriptions are registered before the first draft
    model.answer(says(REPLY, pace=0.03))  # 27 words over ~0.8 s: several 100 ms drafts
    sending = asyncio.ensure_future(graphql(server, alice, """mutation($input: SendMessageInput!) {
        sendMessage(input: $input) { ... on SendMessageSuccess { reply { content } } } }""",
        {"input": {"conversationId": conversation, "content": "plan my week"}}))
    seen: list[dict[str, Any]] = []
    while not seen or not seen[-1]["done"]:
        seen.append(await drafts.data("messageDrafts"))
    sent = await sending
    assert sent["sendMessage"]["reply"]["content"] == REPLY
    growing = [draft["text"] for draft in seen[:-1]]
    assert len(growing) >= 2, seen
    assert all(REPLY.startswith(text) for text in growing)
    assert all(len(a) < len(b) for a, b in itertools.pairwise(growing)), growing
    assert len(growing[0]) < len(REPLY) // 2  # seen while it grew, not only at the end
    assert seen[-1]["text"] == REPLY and seen[-1]["done"] is True
    assert {d["draftId"] for d in seen} == {seen[0]["draftId"]}
    assert {d["conversationId"] for d in seen} == {conversation}
    assert not any(d["truncated"] for d in seen)
    stored = [await changes.data("conversationChanges") for _ in range(2)]
    assert [c["message"] for c in stored] == [{"role": "USER", "content": "plan my week"},
                                              {"role": "ASSISTANT", "content": REPLY}]
    assert await changes.nothing_within(0.5)  # the reply is stored once, drafts never
    assert await drafts.nothing_within(0.3)
    listed = await graphql(server, alice, """query($id: ID!) { node(id: $id) {
        ... on Conversation { messages(first: 10) { edges { node { content } } } } } }""",
        {"id": conversation})
    contents = [e["node"]["content"] for e in listed["node"]["messages"]["edges"]]
    assert sorted(contents) == sorted(["plan my week", REPLY])


def test_a_long_draft_is_cut_to_fit_a_notify_payload_and_says_so() -> None:
    text = "é\"\n" * 5_000  # characters that cost the most once escaped twice
    event = _event("alice", "c1", "d1", text, done=False)
    draft = Draft.of(event.key)
    assert draft is not None and draft.truncated and text.startswith(draft.text)
    assert len(draft.text) > 1_000  # cut to fit, not emptied
    assert len(orjson.dumps([event.kind, event.user_id, event.key])) <= PAYLOAD_MAX_BYTES
    short = Draft.of(_event("alice", "c1", "d1", "hello", done=True).key)
    assert short == Draft("c1", "d1", "hello", True, False)


async def test_drafts_are_throttled_to_one_each_interval_and_end_with_done() -> None:
    broker, now = LocalBroker(), [0.0]
    reader = broker.reader("alice")
    drafts = DraftPublisher(broker, "alice", "c1", clock=lambda: now[0])
    for step, text in enumerate(["He", "Hel", "Hell", "Hello", "Hello!"]):
        now[0] = step * 0.04  # a piece each 40 ms: drafts at 0, 120 ms (and not between)
        await drafts.grown(ReplyText("c1", "d1", text))
    await drafts.finish("d1", "Hello!")
    seen = []
    while not reader.empty():
        draft = Draft.of((await reader.get()).key)
        assert draft is not None
        seen.append((draft.text, draft.done))
    assert seen == [("He", False), ("Hello", False), ("Hello!", True)]
    silent = DraftPublisher(broker, "alice", "c1")
    await silent.finish("d2", "never streamed")
    assert reader.empty()  # no draft was shown, so there is none to drop
