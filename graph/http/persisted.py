"""Persisted queries: Apollo's automatic persisted queries (APQ) and an only-known mode.

A client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}`:

- without `query`: the text cached (or in the manifest) under that hash runs; an unknown hash
  answers HTTP 200 `PersistedQueryNotFound` (code `PERSISTED_QUERY_NOT_FOUND`), and the
  client retries with the text;
- with `query`: the hash must be the sha256 of the text (else 400 `BAD_REQUEST`); the text
  runs, and is cached under the hash once it has parsed and validated
  (`RegisterPersistedQuery`): a text that is refused, or never parses, takes no memory.

The cache is a least-recently-used map held by the app, bounded by entries
(`APQ_CACHE_SIZE`), by bytes (`APQ_CACHE_BYTES`: what the texts, their hashes and the entries
take in memory) and per text (`APQ_MAX_QUERY_BYTES`, in UTF-8: a longer text runs but is not
kept). Anonymous clients fill it, so a size in entries alone let 1 MB texts add up to
gigabytes. Each process has its own: a miss costs the client one retry.
Registration happens over HTTP only (graphql-transport-ws carries no APQ extension); over the
WebSocket a hash is still served from the cache and the manifest.

With `PERSISTED_QUERIES_ONLY`, only operations in the committed manifest
(`PERSISTED_QUERIES_MANIFEST`, `{"<sha256 hex>": "<text>"}`) are served, by hash or by text,
over HTTP and the WebSocket alike; anything else is refused (400 `PERSISTED_QUERY_REQUIRED`)
before it is parsed. The manifest is loaded and checked at start-up (every key the sha256 of
its text); without only-mode it still answers hash-only requests, as a cache that never evicts.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from strawberry.extensions import SchemaExtension

from graph.extensions.cache import BoundedLRU, string_bytes
from graph.settings import Settings

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class PersistedQueryError(Exception):
    """A request the persisted-query rules refuse, answered as a GraphQL-shaped error."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code


def not_found() -> PersistedQueryError:
    # HTTP 200, the message and the code are what Apollo clients look for to retry.
    return PersistedQueryError(200, "PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND")


def required() -> PersistedQueryError:
    return PersistedQueryError(
        400, "Only persisted operations are accepted.", "PERSISTED_QUERY_REQUIRED"
    )


def bad_request(message: str) -> PersistedQueryError:
    return PersistedQueryError(400, message, "BAD_REQUEST")


def sha256_hex(text: str) -> str:
    # surrogatepass: a lone surrogate (valid in a JSON string escape) must not crash hashing.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class ManifestError(ValueError):
    """The persisted-query manifest is missing or wrong: start-up stops with this message."""


def load_manifest(path: Path) -> dict[str, str]:
    """`{"<sha256 hex>": "<query text>"}`, every key checked against its text. Keys may carry a
    `sha256:` prefix, as graphql-codegen's persisted documents do."""
    where = f"PERSISTED_QUERIES_MANIFEST ({path})"
    try:
        raw: object = json.loads(path.read_bytes())
    except OSError as error:
        raise ManifestError(f"{where} cannot be read: {error.strerror or error}") from error
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        raise ManifestError(f"{where} is not valid JSON: {error}") from error
    if not isinstance(raw, dict):
        raise ManifestError(f"{where} must be a JSON object of sha256 hex -> query text")
    manifest: dict[str, str] = {}
    for key, text in raw.items():
        # graphql-codegen's client preset writes "sha256:<hex>" keys
        # (examples/persisted-documents.json); bare hex is accepted too.
        digest = key.lower().removeprefix("sha256:")
        if not _SHA256_HEX.fullmatch(digest):
            raise ManifestError(f"{where}: key {key!r} is not a sha256 hex digest")
        if not isinstance(text, str) or not text.strip():
            raise ManifestError(f"{where}: entry {key} must be a non-empty query string")
        if sha256_hex(text) != digest:
            raise ManifestError(
                f"{where}: entry {key} is not the sha256 of its text"
                f" (the text hashes to {sha256_hex(text)})"
            )
        manifest[digest] = text
    return manifest


class PersistedQueries:
    """The app's persisted-query state: the APQ cache, the manifest and the mode."""

    def __init__(
        self,
        cache: BoundedLRU[str, str],
        manifest: dict[str, str] | None = None,
        *,
        only: bool = False,
        max_query_bytes: int,
    ) -> None:
        if only and manifest is None:
            raise ManifestError("PERSISTED_QUERIES_ONLY needs PERSISTED_QUERIES_MANIFEST")
        self.cache = cache
        self.manifest = manifest or {}
        self.only = only
        self.max_query_bytes = max_query_bytes

    @classmethod
    def from_settings(cls, settings: Settings) -> PersistedQueries:
        path = settings.persisted_queries_manifest
        return cls(
            BoundedLRU(max_entries=settings.apq_cache_size, max_bytes=settings.apq_cache_bytes),
            load_manifest(path) if path is not None else None,
            only=settings.persisted_queries_only,
            max_query_bytes=settings.apq_max_query_bytes,
        )

    def resolve(self, query: str | None, extensions: dict[str, Any] | None) -> str | None:
        """The text to run for a request's `query` and `extensions`, or a refusal."""
        digest = _requested_hash(extensions)
        if self.only:
            return self._resolve_known(query, digest)
        if digest is None:
            return query
        if query is None:
            text = self.manifest.get(digest) or self.cache.get(digest)
            if text is None:
                raise not_found()
            return text
        _check_hash(query, digest)
        return query

    def register(self, digest: str, text: str) -> bool:
        """Cache a text that has parsed and validated under its (checked) hash; False when
        it is not kept: in the manifest already, or over the per-text limit (its UTF-8
        bytes). It weighs what it holds in memory, the hash included: up to 4 bytes a
        character (one emoji makes CPython store the whole text at 4), not its UTF-8 size."""
        size = len(text.encode("utf-8", "surrogatepass"))
        if digest in self.manifest or size > self.max_query_bytes:
            return False
        return self.cache.put(digest, text, string_bytes(text) + string_bytes(digest))

    def _resolve_known(self, query: str | None, digest: str | None) -> str | None:
        if query is None:
            if digest is None:
                return None  # no operation at all: strawberry's own 400
            if digest not in self.manifest:
                raise required()
            return self.manifest[digest]
        if digest is not None:
            _check_hash(query, digest)
        if sha256_hex(query) not in self.manifest:
            raise required()
        return query


def _requested_hash(extensions: dict[str, Any] | None) -> str | None:
    if not extensions or "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict):
        raise bad_request("extensions.persistedQuery must be an object.")
    version = persisted.get("version")
    if type(version) is not int or version != 1:  # `true == 1` in Python; not here
        raise bad_request("Unsupported persisted query version: only version 1 is supported.")
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256_HEX.fullmatch(digest.lower()):
        raise bad_request("extensions.persistedQuery.sha256Hash must be a sha256 hex digest.")
    return digest.lower()


def _check_hash(query: str, digest: str) -> None:
    if sha256_hex(query) != digest:
        raise bad_request("provided sha does not match query")


class RegisterPersistedQuery(SchemaExtension):
    """Caches an APQ registration (a text sent with its hash) once the text has parsed,
    validated and passed the limits; a refused text is never kept."""

    def on_validate(self) -> Iterator[None]:
        yield
        context = self.execution_context
        if context.pre_execution_errors or not context.query:
            return
        persisted: PersistedQueries = context.context.resources.persisted_queries
        try:
            digest = _requested_hash(context.operation_extensions)
        except PersistedQueryError:
            return  # refused before parsing already; nothing to keep
        if digest is not None and sha256_hex(context.query) == digest:
            persisted.register(digest, context.query)
