"""Cursors are opaque keyset positions: an ordering token and the sort values, never a model,
attribute, column or table name; a cursor works only on the kind of list and the ordering it
was made under, and paging by it visits every item once, in order, under every ordering.

(Per-ordering paging with ties, inserts and deletes is in test_task_queries.py.)
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import uuid4

import orjson
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from graph.execution.keyset import SortColumn, decode_cursor, encode_cursor, ordering_of
from graph.extensions.inputs import CURSOR_MAX
from graph.ids import MAX_INT_KEY, encode_id
from graph.resolvers.queries.tasks import task_sort
from graph.types.chat import ConversationOrder, ConversationOrderField, conversation_sort
from graph.types.ordering import OrderDirection
from graph.types.task_inputs import TaskOrder, TaskOrderField
from models import Base, Conversation, Message
from models.folding import folded_key
from models.task import TITLE_MAX
from tests.conftest import GraphQL
from tests.factories import make_audit_log, make_panic_event, make_task, task_gid, tick

PAGE_VARIABLES = "$first: Int, $after: String, $last: Int, $before: String"
PAGE_ARGUMENTS = "first: $first, after: $after, last: $last, before: $before"
CONNECTION = (
    "edges { cursor node { id } } "
    "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"
)


@dataclass(frozen=True)
class Listing:
    """One list under one ordering, as a client asks for it."""

    name: str
    field: str  # the connection field, `ARGS` standing for the page arguments
    parent: str | None = None  # `task` or `conversation`: the list hangs below that lookup

    def query(self) -> str:
        connection = f"list: {self.field.replace('ARGS', PAGE_ARGUMENTS)} {{ {CONNECTION} }}"
        if self.parent is None:
            return f"query({PAGE_VARIABLES}) {{ {connection} }}"
        lookup = f"{self.parent}(id: $parent) {{ {connection} }}"
        return f"query({PAGE_VARIABLES}, $parent: ID!) {{ {lookup} }}"


def _task_listing(field: str, direction: str) -> Listing:
    return Listing(
        f"tasks by {field} {direction}",
        f"tasks(orderBy: {{field: {field}, direction: {direction}}}, ARGS)",
    )


def _ordered(field: str, order: str, direction: str) -> Listing:
    return Listing(
        f"{field} by {order} {direction}",
        f"{field}(orderBy: {{field: {order}, direction: {direction}}}, ARGS)",
    )


LISTINGS = [
    *(_task_listing(field.name, direction.name) for field in TaskOrderField
      for direction in OrderDirection),
    Listing("conversations", "conversations(ARGS)"),
    _ordered("conversations", "CREATED_AT", "ASC"),
    _ordered("conversations", "TITLE", "ASC"),
    _ordered("conversations", "TITLE", "DESC"),
    Listing("panicEvents", "panicEvents(ARGS)"),
    _ordered("panicEvents", "INTENSITY", "ASC"),
    _ordered("panicEvents", "INTENSITY", "DESC"),
    Listing("auditLogs", "auditLogs(ARGS)"),
    _ordered("auditLogs", "TOKENS_USED", "DESC"),
    _ordered("auditLogs", "GENERATION_TIME_MS", "ASC"),
    Listing("Task.events", "events(ARGS)", parent="task"),
    Listing("Conversation.messages", "messages(ARGS)", parent="conversation"),
    Listing("Conversation.messages newest first",
            "messages(orderBy: {direction: DESC}, ARGS)", parent="conversation"),
]


def _internal_names() -> set[str]:
    """Every model class, mapped attribute, table and column name."""
    names: set[str] = set()
    for table in Base.metadata.tables.values():
        names.add(table.name)
        names.update(column.name for column in table.columns)
    for mapper in Base.registry.mappers:
        names.add(mapper.class_.__name__)
        names.update(attribute.key for attribute in mapper.attrs)
    return names


INTERNAL_NAMES = _internal_names()


@pytest.fixture
async def parents(db: AsyncSession) -> dict[str, str]:
    """Three or four items in every list, for alice; the ids of the lists' parents."""
    for title, status, shift in (("alpha", "failed", 9), ("bravo", "pending", 1),
                                 ("charlie", "cancelled", 5)):
        task = await make_task(db, title=title, status=status)
        task.updated_at = task.created_at + timedelta(seconds=shift)
    with_events = await make_task(db, title="delta", status="pending", events=3)
    # Titles, intensities and figures that sort apart, tie, and are missing (NULL).
    conversations = [
        Conversation(user_id="alice", title=title, created_at=tick(), updated_at=tick())
        for title in ("chat", None, "Été")
    ]
    db.add_all(conversations)
    await db.flush()
    db.add_all(
        Message(conversation_id=conversations[0].id, role="user", content=f"m{n}",
                created_at=tick())
        for n in range(3)
    )
    await db.commit()
    for intensity, tokens in ((5, None), (None, 10), (2, 3)):
        await make_panic_event(db, intensity=intensity)
        await make_audit_log(db, tokens_used=tokens, generation_time_ms=tokens and 100)
    return {
        "task": task_gid(with_events),
        "conversation": encode_id("Conversation", conversations[0].id),
    }


async def page(
    gql: GraphQL, listing: Listing, parents: dict[str, str], **arguments: Any
) -> dict[str, Any]:
    variables = dict(arguments)
    if listing.parent is not None:
        variables["parent"] = parents[listing.parent]
    data = await gql.data(listing.query(), variables)
    connection: dict[str, Any] = data[listing.parent]["list"] if listing.parent else data["list"]
    return connection


def ids_of(connection: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in connection["edges"]]


def decoded(cursor: str) -> str:
    return base64.urlsafe_b64decode(cursor.encode()).decode()


# --- what a cursor shows -----------------------------------------------------------------------


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda listing: listing.name)
async def test_a_decoded_cursor_names_no_model_attribute_column_or_table(
    gql: GraphQL, parents: dict[str, str], listing: Listing
) -> None:
    connection = await page(gql, listing, parents, first=10)
    assert len(connection["edges"]) >= 3
    shown = [
        (decoded(edge["cursor"]), name)
        for edge in connection["edges"]
        for name in INTERNAL_NAMES
        if name in decoded(edge["cursor"])
    ]
    assert shown == []


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda listing: listing.name)
async def test_a_decoded_cursor_is_an_ordering_token_and_the_sort_values(
    gql: GraphQL, parents: dict[str, str], listing: Listing
) -> None:
    connection = await page(gql, listing, parents, first=1)
    token, *values = orjson.loads(decoded(connection["edges"][0]["cursor"]))
    assert len(token) == 8 and token.replace("-", "").replace("_", "").isalnum()
    assert len(values) == 2  # the sort value, then the id that breaks ties


# --- where a cursor is valid ------------------------------------------------------------------


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda listing: listing.name)
async def test_a_cursor_from_any_other_list_or_ordering_is_refused(
    gql: GraphQL, parents: dict[str, str], listing: Listing
) -> None:
    accepted = []
    for other in LISTINGS:
        if other == listing:
            continue
        cursor = (await page(gql, other, parents, first=1))["pageInfo"]["endCursor"]
        variables: dict[str, Any] = {"first": 1, "after": cursor}
        if listing.parent is not None:
            variables["parent"] = parents[listing.parent]
        payload = await gql(listing.query(), variables)
        codes = [error["extensions"]["code"] for error in payload.get("errors") or []]
        if codes != ["BAD_USER_INPUT"]:
            accepted.append(other.name)
    assert accepted == []


# --- paging by cursor -------------------------------------------------------------------------


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda listing: listing.name)
async def test_paging_forward_one_at_a_time_visits_every_item_once_in_order(
    gql: GraphQL, parents: dict[str, str], listing: Listing
) -> None:
    everything = ids_of(await page(gql, listing, parents, first=100))
    seen: list[str] = []
    after = None
    while True:
        connection = await page(gql, listing, parents, first=1, after=after)
        seen += ids_of(connection)
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
    assert seen == everything


@pytest.mark.parametrize("listing", LISTINGS, ids=lambda listing: listing.name)
async def test_paging_backward_one_at_a_time_visits_every_item_once_in_order(
    gql: GraphQL, parents: dict[str, str], listing: Listing
) -> None:
    everything = ids_of(await page(gql, listing, parents, first=100))
    seen: list[str] = []
    before = None
    while True:
        connection = await page(gql, listing, parents, last=1, before=before)
        seen = ids_of(connection) + seen
        if not connection["pageInfo"]["hasPreviousPage"]:
            break
        before = connection["pageInfo"]["startCursor"]
    assert seen == everything


# --- the cursor limit -------------------------------------------------------------------------

BY_TITLE = TaskOrder(field=TaskOrderField.TITLE, direction=OrderDirection.ASC)


@pytest.mark.parametrize(
    "character",
    # 4 bytes of UTF-8; three 4-byte code points folded (the key is cut to its 1,200
    # bytes); escaped as \u0001; escaped as \"
    ["\U0001d11e", "\U0001d160", "\x01", '"'],
    ids=["4-byte", "12-byte fold", "control", "quote"],
)
@pytest.mark.parametrize(
    ("sort", "widest_id"),
    [(task_sort(BY_TITLE), MAX_INT_KEY),
     (conversation_sort(ConversationOrder(field=ConversationOrderField.TITLE)), str(uuid4()))],
    ids=["task", "conversation"],
)
def test_the_longest_possible_cursor_fits_the_cursor_limit(
    character: str, sort: tuple[SortColumn, ...], widest_id: object
) -> None:
    # The longest sort value any list has is a title's folded key (TITLE_MAX characters,
    # at most KEY_MAX_BYTES); the widest ids are the largest 32-bit key and a UUID.
    key = folded_key(character * TITLE_MAX)
    cursor = encode_cursor(ordering_of(sort), [key, widest_id])
    assert len(cursor) <= CURSOR_MAX
    assert decode_cursor(cursor, sort) == (key, widest_id)


@pytest.mark.parametrize("character", ["\U0001d11e", "\U0001d160"], ids=["4-byte", "12-byte"])
async def test_a_cursor_after_the_longest_title_pages_on(
    db: AsyncSession, gql: GraphQL, character: str
) -> None:
    longest = await make_task(db, title=character * TITLE_MAX)
    after_it = await make_task(db, title=chr(ord(character) + 1))
    listing = _task_listing("TITLE", "ASC")
    first = await page(gql, listing, {}, first=1)
    cursor = first["pageInfo"]["endCursor"]
    assert ids_of(first) == [task_gid(longest)] and len(cursor) <= CURSOR_MAX
    assert ids_of(await page(gql, listing, {}, first=1, after=cursor)) == [task_gid(after_it)]
