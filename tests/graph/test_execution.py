"""The plain-field shortcut answers exactly what graphql-core's own path answers."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest
import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

import graph.schema
from graph.execution.shortcut import PlainFieldsExecutionContext
from models import Conversation, Message
from tests.conftest import GqlWith
from tests.factories import make_audit_log, make_panic_event, make_task, tick
from tests.graph.schema_walk import introspect, selection


class Mood(Enum):
    CALM = "calm"


@strawberry.type
class Thing(relay.Node):
    id: relay.NodeID[int]
    name: str
    label: str | None
    count: int
    mood: Mood


class Meter:
    """A source whose attributes are properties that count their reads."""

    reads = 0

    @property
    def reading(self) -> int:
        Meter.reads += 1
        raise RuntimeError("sensor offline")

    @property
    def label(self) -> str | None:
        Meter.reads += 1
        return None


@strawberry.type
class Gauge:
    reading: int | None
    label: str | None


@strawberry.type
class Query:
    @strawberry.field
    def gauges(self) -> list[Gauge]:
        return [Meter()]  # type: ignore[list-item]  # any object with the attributes will do

    @strawberry.field
    def things(self) -> list[Thing | None]:
        return [
            Thing(id=1, name="one", label=None, count=1, mood=Mood.CALM),
            Thing(id=2, name=None, label="x", count=2, mood=Mood.CALM),  # type: ignore[arg-type]  # a null in a non-null field, on purpose
            Thing(id=3, name="three", label="y", count="many", mood="sad"),  # type: ignore[arg-type]  # values the scalars refuse, on purpose
        ]


class SeesEveryField(SchemaExtension):
    """An extension with a `resolve` hook (like tracing) must see every field."""

    seen: list[str] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        self.seen.append(info.field_name)
        return _next(root, info, *args, **kwargs)


THINGS = """{ things { id __typename name alias: name label count mood
  ... on Thing { again: id } } }"""


def run(
    context: type[StrawberryGraphQLCoreExecutionContext], *extensions: Any, query: str = THINGS
) -> Any:
    schema = strawberry.Schema(
        query=Query, types=[Thing], execution_context_class=context, extensions=extensions,
    )
    result = schema.execute_sync(query)
    errors = sorted((e.message, tuple(e.path or ())) for e in result.errors or [])
    return result.data, errors


def test_nulls_bad_values_enums_ids_and_aliases_match_graphql_core() -> None:
    ours = run(PlainFieldsExecutionContext)
    assert ours == run(StrawberryGraphQLCoreExecutionContext)
    data, errors = ours
    thing_id = str(relay.GlobalID("Thing", "1"))
    assert data["things"][0] == {
        "id": thing_id, "__typename": "Thing", "name": "one", "alias": "one", "label": None,
        "count": 1, "mood": "CALM", "again": thing_id,
    }
    assert data["things"][1:] == [None, None]  # each non-null error nulls its item
    assert {path[-1] for _, path in errors} == {"name", "count"}


def test_an_attribute_that_raises_is_a_field_error_read_once() -> None:
    query = "{ gauges { reading label } }"
    Meter.reads = 0
    stock = run(StrawberryGraphQLCoreExecutionContext, query=query)
    stock_reads, Meter.reads = Meter.reads, 0
    ours = run(PlainFieldsExecutionContext, query=query)
    assert ours == stock
    assert ours == ({"gauges": [{"reading": None, "label": None}]},
                    [("sensor offline", ("gauges", 0, "reading"))])
    assert Meter.reads == stock_reads == 2


def test_an_extension_that_hooks_resolvers_still_sees_every_field() -> None:
    SeesEveryField.seen = []
    run(StrawberryGraphQLCoreExecutionContext, SeesEveryField)
    stock, SeesEveryField.seen = SeesEveryField.seen, []
    run(PlainFieldsExecutionContext, SeesEveryField)
    assert SeesEveryField.seen == stock
    assert {"id", "name", "label", "count", "mood"} <= set(stock)


async def seed_everything(db: AsyncSession) -> None:
    await make_task(db, steps=["a", "b"], events=2, description="d", metadata_={"k": [1]})
    await make_task(db, title="Done", status="completed")
    await make_panic_event(db, exercises=["breathing", "five_senses"])
    await make_audit_log(db, tokens_used=12, generation_time_ms=340)
    await make_audit_log(db, status="error")
    conversation = Conversation(user_id="alice", title=None, created_at=tick(),
                                updated_at=tick())
    db.add(conversation)
    await db.flush()
    for role in ("user", "assistant"):
        db.add(Message(conversation_id=conversation.id, role=role, content=role,
                       created_at=tick()))
    await db.commit()


async def test_every_query_field_answers_the_same_through_the_shortcut(
    db: AsyncSession, gql_with: GqlWith, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_everything(db)
    # Every field to depth 6 costs far more than the default limit allows; the test compares
    # answers, not limits.
    ours = await gql_with(max_cost=10**9)
    schema = await introspect(ours)
    query = "query Everything " + selection(schema, schema.query_type, depth=6)
    expected_shortcut = await ours(query)
    monkeypatch.setattr(graph.schema, "PlainFieldsExecutionContext",
                        StrawberryGraphQLCoreExecutionContext)
    stock = await (await gql_with(max_cost=10**9))(query)
    assert expected_shortcut["data"] == stock["data"]
    # The only error is the admin-only field, refused alike on both paths.
    assert expected_shortcut["errors"] == stock["errors"]
    assert [e["path"] for e in stock["errors"]] == [["auditStats", "byUser"]]
    assert len(str(stock["data"])) > 2000  # it did read the seeded rows
