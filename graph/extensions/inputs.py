"""Every list and text input has a maximum, and the request is refused before any SQL past it.

The maxima are declared here, one entry per place in the schema (`Type.field` for an input
field, `Type.field(arg)` for an argument); `tests/graph/test_inputs.py` fails when the schema
gains a list or text input that is not declared. Two kinds of text:

- `GUARDED`: refused by this module, as a `BAD_USER_INPUT` request error before execution
  (ids, cursors, filters, search, the claimed session id): nothing validates them later, and
  an overlong one reached SQL (a 50,000-character `search` broke SQLite's LIKE).
- `VALIDATED_BY_MUTATION`: a mutation's own text (titles, contents, notes), answered by the
  mutation as a `ValidationError` naming the field, the convention for expected failures;
  checked before any row is written.

Lists are refused here, whatever they hold: `createTask` accepted 40,000 steps in one request.
The walk reads each argument of each field once (each fragment once), and stops at the first
list or text over its maximum; variables are read as execution will see them.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_input_object_type,
    is_list_type,
    value_from_ast_untyped,
)

from domain.days import ZONE_NAME_MAX
from graph.auth import SUBJECT_MAX
from models.audit import (
    DOCUMENT_TYPE_MAX,
    DOCUMENT_VERSION_MAX,
    ERROR_MESSAGE_MAX,
    MODEL_USED_MAX,
)
from models.chat import CONVERSATION_TITLE_MAX, MESSAGE_CONTENT_MAX
from models.panic import NOTE_MAX
from models.task import (
    DESCRIPTION_MAX,
    KIND_MAX,
    STEP_CONTENT_MAX,
    STEPS_MAX,
    TITLE_MAX,
)

# Global ids are base64 of `Type:key` (under 80 characters for a UUID key).
ID_MAX = 256
# A cursor holds its ordering and sort values, the longest a title's folded key (at most
# 1,200 bytes of UTF-8, models/folding.py): under 1.7 KB.
CURSOR_MAX = 2_048
SEARCH_MAX = 200
SESSION_ID_MAX = 64
BREAKDOWN_INPUT_MAX = 10_000

_CURSORS = ("Query.tasks", "Query.conversations", "Query.panicEvents", "Query.auditLogs",
            "Conversation.messages", "Task.events", "AuditStats.byUser")

GUARDED: dict[str, int] = {
    **{f"{field}({arg})": CURSOR_MAX for field in _CURSORS for arg in ("after", "before")},
    # A change stream's resume cursor (`change:<outbox id>`, base64url): far under this.
    **{f"Subscription.{field}(after)": CURSOR_MAX
       for field in ("taskChanges", "conversationChanges", "panicEventChanges")},
    "TaskFilter.search": SEARCH_MAX,
    "ConversationFilter.search": SEARCH_MAX,
    "MessageFilter.search": SEARCH_MAX,
    "TaskFilter.kind": KIND_MAX,
    "AuditLogFilter.documentType": DOCUMENT_TYPE_MAX,
    "AuditStatsFilter.documentType": DOCUMENT_TYPE_MAX,
    "ClaimSessionInput.sessionId": SESSION_ID_MAX,
    "Query.auditStats(timeZone)": ZONE_NAME_MAX,
}

VALIDATED_BY_MUTATION: dict[str, int] = {
    "CreateTaskInput.title": TITLE_MAX,
    "CreateTaskInput.description": DESCRIPTION_MAX,
    "CreateTaskInput.kind": KIND_MAX,
    "CreateTaskInput.steps": STEP_CONTENT_MAX,
    "UpdateTaskInput.title": TITLE_MAX,
    "UpdateTaskInput.description": DESCRIPTION_MAX,
    "UpdateTaskInput.kind": KIND_MAX,
    "AddTaskStepInput.content": STEP_CONTENT_MAX,
    "UpdateTaskStepInput.content": STEP_CONTENT_MAX,
    "BreakDownTaskInput.input": BREAKDOWN_INPUT_MAX,
    "StartConversationInput.title": CONVERSATION_TITLE_MAX,
    "StartConversationInput.message": MESSAGE_CONTENT_MAX,
    "RenameConversationInput.title": CONVERSATION_TITLE_MAX,
    "SendMessageInput.content": MESSAGE_CONTENT_MAX,
    "PressPanicInput.note": NOTE_MAX,
    "RecordGenerationInput.documentType": DOCUMENT_TYPE_MAX,
    "RecordGenerationInput.documentVersion": DOCUMENT_VERSION_MAX,
    "RecordGenerationInput.modelUsed": MODEL_USED_MAX,
    "RecordGenerationInput.errorMessage": ERROR_MESSAGE_MAX,
}

# Items per list; None is the page size (`MAX_PAGE_SIZE`), as for ids in `nodes`.
LISTS: dict[str, int | None] = {
    "Query.nodes(ids)": None,
    "CreateTaskInput.steps": STEPS_MAX,
    "ReorderTaskStepsInput.stepIds": STEPS_MAX,
    "TaskFilter.status": None,
    "SetTasksStatusInput.ids": None,
    "DeleteTasksInput.ids": None,
}

# Every ID anywhere is guarded by ID_MAX; these filters name a user, not an object.
_ID_POSITIONS: dict[str, int] = {
    "AuditLogFilter.userId": SUBJECT_MAX,
    "AuditStatsFilter.userId": SUBJECT_MAX,
}


def text_maximum(position: str, type_name: str) -> int | None:
    """The maximum this module enforces at `position`, or None when it enforces none."""
    if type_name == "ID":
        return _ID_POSITIONS.get(position, ID_MAX)
    return GUARDED.get(position)


def too_long(position: str, limit: int, length: int, unit: str) -> GraphQLError:
    return GraphQLError(
        f"`{position}` takes at most {limit} {unit} (got {length}).",
        extensions={"code": "BAD_USER_INPUT"},
    )


def input_refusal(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    page_size: int,
) -> GraphQLError | None:
    """The first list or text input over its maximum in the operation that will run."""
    walk = _InputWalk(schema, document, variables, page_size)
    root = schema.get_root_type(operation.operation)
    try:
        walk.selection_set(operation.selection_set, root)
    except _Refused as refused:
        return refused.error
    return None


class _Refused(Exception):
    def __init__(self, error: GraphQLError) -> None:
        self.error = error


class _InputWalk:
    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any],
        page_size: int,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.page_size = page_size
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.walked: set[str] = set()

    def selection_set(self, node: SelectionSetNode | None, parent: Any) -> None:
        for selection in node.selections if node is not None else ():
            if isinstance(selection, FieldNode):
                self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                self.selection_set(selection.selection_set, target or parent)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in self.walked:
                    self.walked.add(name)  # its arguments do not depend on where it is spread
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    self.selection_set(fragment.selection_set, target)

    def field(self, node: FieldNode, parent: Any) -> None:
        definition = (getattr(parent, "fields", None) or {}).get(node.name.value)
        if definition is None:  # introspection, or a field validation has refused
            return
        where = f"{parent.name}.{node.name.value}"
        for argument in node.arguments or ():
            declared = definition.args.get(argument.name.value)
            if declared is not None:
                value = value_from_ast_untyped(argument.value, self.variables)
                self.check(value, declared.type, f"{where}({argument.name.value})")
        if node.selection_set is not None:
            self.selection_set(node.selection_set, get_named_type(definition.type))

    def check(self, value: Any, type_: GraphQLInputType, position: str) -> None:
        nullable = get_nullable_type(type_)
        if value is None or not isinstance(value, str | list | dict):
            return
        if is_list_type(nullable):
            items = value if isinstance(value, list) else [value]
            most = LISTS.get(position) or self.page_size
            if len(items) > most:
                raise _Refused(too_long(position, most, len(items), "items"))
            for item in items:
                self.check(item, nullable.of_type, position)
        elif is_input_object_type(nullable):
            if isinstance(value, dict):
                for name, field in nullable.fields.items():
                    if name in value:
                        self.check(value[name], field.type, f"{nullable.name}.{name}")
        elif isinstance(value, str):
            limit = text_maximum(position, get_named_type(nullable).name)
            if limit is not None and len(value) > limit:
                raise _Refused(too_long(position, limit, len(value), "characters"))
