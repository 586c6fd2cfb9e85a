"""Parsing and validation for every transport: cached by bytes, bounded in work, and the
operation's limits applied before anything runs.

One extension takes the place of strawberry's ParserCache, ValidationCache, depth and alias
limiters and our old cost extension, so that every step is bounded and their order fixed:

1. **Parse** with graphql-core's limits (`MAX_TOKENS`, comments included, and its nesting
   limit); cached per text, without its comments, weighed by what it holds (the text, the
   tokens and their values, the AST, the validation errors: `DOCUMENT_CACHE_BYTES`).
2. **Integer literals** longer than Python converts (4,300 digits) are refused: graphql-core's
   validation converted them and raised, an internal error.
3. **Validate** with graphql-core's rules and ours; cached per text. The rules are linear in
   the document but for the overlapping-fields one, quadratic in the same-named fields of
   one selection: 390 `tasks { totalCount }` fit under the token limit and held the event
   loop for ~1 s. graphql-core meters that rule's work and aborts past a budget (its
   `MAX_COMPLEXITY_BUDGET`, 500,000 units by default, ~1 s here); ours is
   VALIDATION_COMPLEXITY_BUDGET, ~25 ms here, and an aborted validation is refused as
   `QUERY_TOO_COMPLEX`. The example operations, GraphiQL's introspection query and the
   benchmark's pages spend 0 to 3 units. The budget counts work, not time: a busy machine
   never refuses a document that a quiet one accepts. (A first version validated in a
   worker thread under a time budget; under load, documents of 3 units were refused.)
4. **Inputs** (`graph/extensions/inputs.py`), then the operation's **depth, aliases, page
   sizes and cost** (`graph/extensions/analysis.py`): linear walks, per request, since they
   read the variables.

Refusals are pre-execution errors, so HTTP and the WebSocket, queries, mutations and
subscriptions are refused alike, before any SQL. (A refusal made in `on_execute`, as the
cost limit's was, does not stop a subscription: strawberry subscribes regardless.)
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    Lexer,
    Source,
    Token,
    TokenKind,
    parse,
)
from graphql.validation.rules import overlapping_fields_can_be_merged
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import SchemaExtension

# strawberry's own `validate_document` (what its ValidationCache calls): graphql-core's
# `validate` plus strawberry's rules for its `Maybe` and `@oneOf` inputs.
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from graph.extensions.analysis import (
    Limits,
    analyse,
    effective_variables,
    refusals,
    select_operation,
)
from graph.extensions.cache import BoundedLRU, string_bytes
from graph.extensions.inputs import input_refusal
from graph.metrics import DOCUMENT_HIT, DOCUMENT_MISS
from graph.settings import Settings

# Python's own limit on converting digits to an int (`sys.get_int_max_str_digits()`'s
# default), which its JSON decoder applies to request bodies too.
INTEGER_DIGITS_MAX = 4_300
# graphql-core's units of overlapping-fields work per document (~2.5 us each here).
VALIDATION_COMPLEXITY_BUDGET = 10_000
# What a cached document holds besides its text and its tokens' values, measured with
# tracemalloc (tests/graph/test_cache_memory.py holds the cache to it), each an upper
# bound over the shapes a document can take:
# - a name token with its nodes: the token, its position ints (each its own object past
#   256), a field, argument or directive node, its name node and both locations (~570 for
#   `{ a a a ... }`, the most expensive shape: one field per token);
# - any other token with its node (a value, a list, a selection set, a variable; ~390 for
#   `[1, 1, 1, ...]`); a comment token alone, should one be left;
# - a validation error besides its message (~900 to 1,400 measured, locations included);
# - the cached entry (`_Known` and its errors list; the map's own is BoundedLRU's).
NAME_TOKEN_BYTES = 600
TOKEN_BYTES = 400
COMMENT_TOKEN_BYTES = 200
ERROR_BYTES = 1_000
ERROR_LOCATION_BYTES = 400
KNOWN_BYTES = 200
DOCUMENTS_CACHED = 10_000
MAX_VALIDATION_ERRORS = 100  # graphql-core's `validate(max_errors=...)` default


@dataclass
class _Known:
    document: DocumentNode
    refusal: GraphQLError | None  # an integer literal too long to validate
    weight: int  # its bytes once parsed; validated, its errors' are added
    rules: tuple[type[ASTValidationRule], ...] | None = None
    errors: list[GraphQLError] | None = None


def _scan(document: DocumentNode) -> GraphQLError | None:
    """Takes the comments out of the document's tokens, and returns the refusal of its first
    overlong integer, if any.

    graphql-core keeps every comment in the token list, its text copied: a 1 MB comment was
    held twice (the text and the token's value), and each comment is a token of ~190 bytes
    (up to MAX_TOKENS of them). No one reads them (errors locate by offsets in the text, the
    AST skips them), so they are unlinked: the list is public (`Token.prev`, `Token.next`),
    and a comment is never a node's first or last token (`Location` holds those)."""
    refusal = None
    token = document.loc.start_token if document.loc is not None else None
    while token is not None:
        following = token.next
        if token.kind is TokenKind.COMMENT and token.prev is not None and following is not None:
            token.prev.next, following.prev = following, token.prev
        elif token.kind is TokenKind.INT and len(token.value or "") > INTEGER_DIGITS_MAX:
            refusal = refusal or GraphQLError(
                f"Integer literal too long: at most {INTEGER_DIGITS_MAX} digits.",
                extensions={"code": "BAD_USER_INPUT"},
            )
        token = following
    return refusal


def document_bytes(document: DocumentNode) -> int:
    """What a parsed document keeps alive: its text, its tokens with their values (a name,
    a string: each a copy of its part of the text) and its AST. The plan cache counts it
    too: a plan keeps its document's nodes, and through them every token and the text."""
    if document.loc is None:
        return NAME_TOKEN_BYTES
    held = sys.getsizeof(document.loc.source.body)
    token: Token | None = document.loc.start_token
    while token is not None:
        held += string_bytes(token.value) + (
            NAME_TOKEN_BYTES if token.kind is TokenKind.NAME
            else COMMENT_TOKEN_BYTES if token.kind is TokenKind.COMMENT
            else TOKEN_BYTES
        )
        token = token.next
    return held


def errors_bytes(errors: list[GraphQLError]) -> int:
    return sum(
        ERROR_BYTES + ERROR_LOCATION_BYTES * len(error.locations or ())
        + string_bytes(error.message)
        for error in errors
    )


def over_token_limit(text: str, error: GraphQLError, limit: int) -> bool:
    """Whether a syntax error is graphql-core's token limit: more than `limit` tokens came
    before the place it stopped (told by counting, not by its wording). Comments count, as
    graphql-core counts them (a comment-padded document was answered GRAPHQL_PARSE_FAILED);
    only the text before that place is read again, so at most `limit` + 1 tokens."""
    stopped = next(iter(error.positions or ()), len(text))
    lexer = Lexer(Source(text[: stopped + 1]))
    first = lexer.token
    with contextlib.suppress(GraphQLError):  # the text is cut: its last token may be too
        while lexer.advance().kind is not TokenKind.EOF:
            pass
    tokens, token = 0, first.next
    while token is not None and token.kind is not TokenKind.EOF and token.start <= stopped:
        tokens += 1
        if tokens > limit:
            return True
        token = token.next
    return False


def _validated(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[type[ASTValidationRule], ...]
) -> list[GraphQLError]:
    errors = validate_document(schema, document, rules)
    for error in errors:  # Apollo Server's code for them
        if "code" not in (error.extensions or {}):
            error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
    aborted = any(isinstance(error, ValidationAbortedError) for error in errors)
    # graphql-core also aborts after 100 errors: those stand, the document is merely wrong.
    if aborted and len(errors) <= MAX_VALIDATION_ERRORS:
        # graphql-core gave up: its work budget ran out, or it found too many errors.
        return [GraphQLError(
            "The document is too complex to validate (too many fields of one name in a"
            " selection, or too many errors); send a simpler one.",
            extensions={"code": "QUERY_TOO_COMPLEX"},
        )]
    return errors


class Documents:
    """The parsed and validated documents of one schema, bounded by what they hold."""

    def __init__(self, max_bytes: int) -> None:
        self.known: BoundedLRU[str, _Known] = BoundedLRU(
            max_entries=DOCUMENTS_CACHED, max_bytes=max_bytes
        )

    def parsed(self, text: str, parse_options: Any) -> _Known:
        known = self.known.get(text)
        (DOCUMENT_MISS if known is None else DOCUMENT_HIT).inc()
        if known is None:
            document = parse(text, **parse_options)
            refusal = _scan(document)
            known = _Known(document, refusal, KNOWN_BYTES + document_bytes(document))
            self.known.put(text, known, known.weight)
        return known

    def errors(
        self, known: _Known, schema: GraphQLSchema, rules: tuple[type[ASTValidationRule], ...]
    ) -> list[GraphQLError]:
        if known.refusal is not None:
            return [known.refusal]
        if known.errors is None or known.rules != rules:
            errors = _validated(schema, known.document, rules)
            before = errors_bytes(known.errors or [])
            known.rules, known.errors = rules, errors
            known.weight += errors_bytes(errors) - before
            text = known.document.loc.source.body if known.document.loc else None
            if text is not None and text in self.known:
                self.known.put(text, known, known.weight)  # weighed again, errors included
        return known.errors


class DocumentChecks(SchemaExtension):
    def __init__(self, documents: Documents, limits: Limits) -> None:
        self.documents = documents
        self.limits = limits
        self.known: _Known | None = None
        self.syntax_code: str | None = None

    def on_operation(self) -> Iterator[None]:
        yield
        if self.syntax_code is None:
            return
        for error in getattr(self.execution_context.result, "errors", None) or ():
            if isinstance(error, GraphQLSyntaxError):
                error.extensions = {**(error.extensions or {}), "code": self.syntax_code}

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query:
            # A syntax error is left to strawberry, which parses again and reports it its way
            # (as an error over HTTP, as the socket's close reason); its code is added above.
            try:
                self.known = self.documents.parsed(context.query, context.parse_options)
                context.graphql_document = self.known.document
            except GraphQLError as error:
                limit = context.parse_options.get("max_tokens")
                too_many = limit is not None and over_token_limit(context.query, error, limit)
                self.syntax_code = "TOO_MANY_TOKENS" if too_many else "GRAPHQL_PARSE_FAILED"
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.known is not None and context.graphql_document is self.known.document:
            schema = context.schema._schema
            errors = self.documents.errors(self.known, schema, context.validation_rules)
            context.pre_execution_errors = errors or self._limit_refusals(context)
        yield

    def _limit_refusals(self, context: ExecutionContext) -> list[GraphQLError]:
        assert context.graphql_document is not None
        operation = select_operation(context.graphql_document, context.operation_name)
        if operation is None:
            return []  # strawberry refuses an unknown operation name itself
        schema = context.schema._schema
        variables = effective_variables(operation, context.variables or {})
        refused = input_refusal(
            schema, context.graphql_document, operation, variables, self.limits.max_page_size
        )
        if refused is not None:
            return [refused]
        analysis = analyse(
            schema, context.graphql_document, operation, variables, self.limits.max_page_size
        )
        return refusals(analysis, self.limits)


def document_checks(settings: Settings) -> Callable[[], SchemaExtension]:
    """The extension's factory: one document cache per schema, a fresh extension per
    operation."""
    # Process-wide, and the same for every schema: a module attribute graphql-core documents
    # for this ("it can be raised or lowered by assigning to this module attribute").
    overlapping_fields_can_be_merged.MAX_COMPLEXITY_BUDGET = VALIDATION_COMPLEXITY_BUDGET
    documents = Documents(settings.document_cache_bytes)
    limits = Limits(
        max_depth=settings.max_depth,
        max_aliases=settings.max_aliases,
        max_cost=settings.max_cost,
        max_page_size=settings.max_page_size,
    )
    return lambda: DocumentChecks(documents, limits)
