"""The example frontend's operations stay valid against the committed schema, and leave a
normalized cache (Apollo's, Relay's) right: whatever a mutation or a subscription writes about
an object covers what the example views render of it."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    build_schema,
    get_named_type,
    is_abstract_type,
    is_object_type,
    parse,
    print_ast,
    validate,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.app import create_app
from graph.auth import mint_token
from graph.http.persisted import load_manifest
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parent.parent
OPERATIONS = sorted((ROOT / "examples" / "operations").glob("*.graphql"))
# The manifest graphql-codegen writes for these operations; .ci/run checks it is current.
MANIFEST = ROOT / "examples" / "persisted-documents.json"
# The example web client's operations: the `graphql(`...`)` documents of its source.
WEB_SOURCES = sorted(
    path for path in (ROOT / "examples" / "web" / "src").rglob("*.ts")
    if "generated" not in path.parts
)


def test_there_are_example_operations_for_every_screen() -> None:
    assert {path.stem for path in OPERATIONS} >= {"tasks", "chat", "panic", "audit"}


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda path: path.name)
def test_example_operations_validate_against_schema_graphql(path: Path) -> None:
    schema = build_schema((ROOT / "schema.graphql").read_text())
    assert [error.message for error in validate(schema, parse(path.read_text()))] == []


def _operation_names(document: str) -> list[str]:
    return [
        definition.name.value
        for definition in parse(document).definitions
        if isinstance(definition, OperationDefinitionNode) and definition.name is not None
    ]


def test_the_committed_manifest_holds_every_example_operation() -> None:
    manifest = load_manifest(MANIFEST)  # every key is the sha256 of its text
    written = sorted(name for path in OPERATIONS for name in _operation_names(path.read_text()))
    sent = sorted(name for text in manifest.values() for name in _operation_names(text))
    assert sent == written


async def test_persisted_only_mode_serves_the_example_frontend_by_hash(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    settings = make_settings(persisted_queries_only=True, persisted_queries_manifest=MANIFEST)
    [digest] = [key for key, text in load_manifest(MANIFEST).items() if "query TaskList" in text]
    app = create_app(settings, session_factory=session_factory)
    token = mint_token(settings, user_id="alice", admin=False, ttl_seconds=60)
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
            listed = await client.post(
                "/graphql",
                json={"extensions": persisted},
                headers={"Authorization": f"Bearer {token}"},
            )
            other = await client.post(
                "/graphql",
                json={"query": "{ viewer { id } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
    assert listed.json()["data"]["tasks"]["edges"] == []
    assert other.status_code == 400


# --- cache coverage: what a change writes covers what the views render -------------------------
#
# A normalized cache merges every result into one record per object. A mutation that answers a
# subset of what a view renders leaves the rest as it was: the issue-27 card showed
# `status: COMPLETED` beside `completed: false`, and a list ordered by UPDATED_AT did not move,
# because CompleteTask answered `task { id status completedAt }` while the list's TaskCard
# renders `completed` and `updatedAt` too. So: the views (the queries: what the screens render
# from the cache) say what is rendered of each object type; every object a writer (a mutation,
# or a subscription: its deliveries are written to the cache too) answers must select at least
# that, which the examples do by spreading the view's fragment.

# A change to the key type is a change to the value type too, which the payload must then
# answer: a step's task (completedStepCount, updatedAt), a message's conversation (lastMessage,
# messageCount, updatedAt: the sidebar's order).
CHANGES_ALSO = {"TaskStep": "Task", "Message": "Conversation"}


@dataclass(frozen=True)
class Visit:
    """One object a result holds: where, of which type, and the fields selected on it."""

    operation: str
    path: str
    type_name: str
    fields: frozenset[str]


def _field_key(node: FieldNode) -> str:
    """The field as the cache stores it: its name and arguments, never its alias."""
    arguments = sorted(node.arguments or (), key=lambda argument: argument.name.value)
    if not arguments:
        return node.name.value
    printed = ", ".join(f"{a.name.value}: {print_ast(a.value)}" for a in arguments)
    return f"{node.name.value}({printed})"


def _is_connection(field: GraphQLField) -> bool:
    """A Relay connection: paged by its own query (and cache.modify), never by a payload."""
    named = get_named_type(field.type)
    return is_object_type(named) and {"edges", "pageInfo"} <= set(named.fields)


class _Walker:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def _applies(self, condition: str | None, obj: GraphQLObjectType) -> bool:
        if condition is None or condition == obj.name:
            return True
        named = self.schema.get_type(condition)
        return is_abstract_type(named) and self.schema.is_sub_type(named, obj)

    def _fields(
        self, selection_sets: Sequence[SelectionSetNode], obj: GraphQLObjectType
    ) -> dict[str, tuple[GraphQLField, list[SelectionSetNode]]]:
        found: dict[str, tuple[GraphQLField, list[SelectionSetNode]]] = {}
        pending = list(selection_sets)
        while pending:
            for selection in pending.pop().selections:
                if isinstance(selection, FieldNode):
                    if selection.name.value.startswith("__"):
                        continue
                    field = obj.fields[selection.name.value]
                    _, nested = found.setdefault(_field_key(selection), (field, []))
                    if selection.selection_set is not None:
                        nested.append(selection.selection_set)
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    if self._applies(condition.name.value if condition else None, obj):
                        pending.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    fragment = self.fragments[selection.name.value]
                    if self._applies(fragment.type_condition.name.value, obj):
                        pending.append(fragment.selection_set)
        return found

    def walk(
        self, operation: str, path: str, selection_sets: Sequence[SelectionSetNode],
        obj: GraphQLObjectType,
    ) -> Iterator[Visit]:
        fields = self._fields(selection_sets, obj)
        keys = frozenset(key for key, (field, _) in fields.items() if not _is_connection(field))
        yield Visit(operation, path, obj.name, keys)
        for key, (field, nested) in fields.items():
            named = get_named_type(field.type)
            concrete: Sequence[GraphQLObjectType] = (
                self.schema.get_possible_types(named) if is_abstract_type(named)
                else [named] if isinstance(named, GraphQLObjectType) else []
            )
            for each in concrete:
                yield from self.walk(operation, f"{path}.{key}", nested, each)


def _visits(
    schema: GraphQLSchema, document: DocumentNode, kinds: set[OperationType]
) -> list[Visit]:
    """Every object the document's operations of these kinds select, below their root fields."""
    walker = _Walker(schema, document)
    visits: list[Visit] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and definition.operation in kinds:
            name = definition.name.value if definition.name else "(anonymous)"
            root = schema.get_root_type(definition.operation)
            assert root is not None
            visits += walker.walk(name, name, [definition.selection_set], root)
    return [visit for visit in visits if visit.path != visit.operation]  # not the root itself


def cache_gaps(schema: GraphQLSchema, document: DocumentNode) -> list[str]:
    """Each object a writer answers with less than the views render of its type, and each
    change whose whole (CHANGES_ALSO) the writer does not answer, in words."""
    rendered: dict[str, set[str]] = {}
    for visit in _visits(schema, document, {OperationType.QUERY}):
        rendered.setdefault(visit.type_name, set()).update(visit.fields)
    gaps = []
    writers = _visits(schema, document, {OperationType.MUTATION, OperationType.SUBSCRIPTION})
    for visit in writers:
        if missing := rendered.get(visit.type_name, set()) - visit.fields:
            gaps.append(f"{visit.path} ({visit.type_name}) lacks {', '.join(sorted(missing))}")
    answered: dict[str, set[str]] = {}
    for visit in writers:
        answered.setdefault(visit.operation, set()).add(visit.type_name)
    for operation, types in answered.items():
        for part, whole in CHANGES_ALSO.items():
            if part in types and rendered.get(whole) and whole not in types:
                gaps.append(f"{operation} changes a {part}, so its {whole}, and answers none")
    return gaps


def _web_client_document() -> str:
    sources = "\n".join(path.read_text() for path in WEB_SOURCES)
    return "\n".join(re.findall(r"graphql\(`(.*?)`\)", sources, flags=re.DOTALL))


@pytest.fixture(scope="module")
def schema() -> GraphQLSchema:
    return build_schema((ROOT / "schema.graphql").read_text())


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda path: path.name)
def test_example_writers_answer_what_the_views_render(schema: GraphQLSchema, path: Path) -> None:
    assert cache_gaps(schema, parse(path.read_text())) == []


def test_the_web_clients_writers_answer_what_its_views_render(schema: GraphQLSchema) -> None:
    document = parse(_web_client_document())
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    assert {d.operation for d in operations} == set(OperationType)  # the documents were found
    assert validate(schema, document) == []
    assert cache_gaps(schema, document) == []


def test_a_payload_missing_rendered_fields_is_a_gap(schema: GraphQLSchema) -> None:
    # Issue 27's CompleteTask beside the list it changes, and a step toggle without its task.
    document = parse("""
        query TaskList { tasks { edges { node { ...TaskCard } } } }
        fragment TaskCard on Task { id title status completed updatedAt steps { id completed } }
        mutation CompleteTask($id: ID!) {
          setTaskStatus(input: {id: $id, status: COMPLETED}) {
            ... on SetTaskStatusSuccess { task { id status completedAt } }
          }
        }
        mutation ToggleStep($id: ID!) {
          updateTaskStep(input: {id: $id, completed: true}) {
            ... on UpdateTaskStepSuccess { step { id completed } }
          }
        }
    """)
    assert cache_gaps(schema, document) == [
        "CompleteTask.setTaskStatus(input: { id: $id, status: COMPLETED }).task (Task) lacks"
        " completed, steps, title, updatedAt",
        "ToggleStep changes a TaskStep, so its Task, and answers none",
    ]


def test_a_field_under_an_alias_or_a_fragment_counts_once_by_name(schema: GraphQLSchema) -> None:
    document = parse("""
        query One { task(id: "1") { id title status } }
        mutation Rename($id: ID!) {
          updateTask(input: {id: $id, title: "x"}) {
            ... on UpdateTaskSuccess { task { id heading: title ...Status } }
          }
        }
        fragment Status on Task { status }
    """)
    assert cache_gaps(schema, document) == []
