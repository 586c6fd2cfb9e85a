"""Persisted queries: Apollo's automatic persisted queries (APQ) and an only-known mode.

A client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}`:

- without `query`: the text cached (or in the manifest) under that hash runs; an unknown hash
  answers HTTP 200 `PersistedQueryNotFound` (code `PERSISTED_QUERY_NOT_FOUND`), and the
  client retries with the text;
- with `query`: the hash must be the sha256 of the text (else 400 `BAD_REQUEST`); the text
  is cached under it and runs.

The cache is a bounded LRU held by the app (`APQ_CACHE_SIZE` entries, each text at most
`MAX_BODY_BYTES`). Each process has its own: a miss costs the client one retry, nothing more.

With `PERSISTED_QUERIES_ONLY`, only operations in the committed manifest
(`PERSISTED_QUERIES_MANIFEST`, `{"<sha256 hex>": "<text>"}`) are served, by hash or by text;
anything else is refused (400 `PERSISTED_QUERY_REQUIRED`) before it is parsed. The manifest
is loaded and checked at start-up (every key the sha256 of its text); without only-mode it
still answers hash-only requests, as a cache that never evicts.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import OrderedDict
from pathlib import Path
from typing import Any

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
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


class QueryCache:
    """A least-recently-used map of hash -> text, bounded in entries and in text size."""

    def __init__(self, max_entries: int, max_text_bytes: int) -> None:
        self.max_entries = max_entries
        self.max_text_bytes = max_text_bytes
        self._entries: OrderedDict[str, str] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, digest: str) -> str | None:
        text = self._entries.get(digest)
        if text is not None:
            self._entries.move_to_end(digest)
        return text

    def put(self, digest: str, text: str) -> bool:
        """Store the text; False (and nothing stored) when it is over the size limit."""
        if self.max_entries < 1 or len(text.encode("utf-8")) > self.max_text_bytes:
            return False
        self._entries[digest] = text
        self._entries.move_to_end(digest)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return True


class PersistedQueries:
    """The app's persisted-query state: the APQ cache, the manifest and the mode."""

    def __init__(
        self, cache: QueryCache, manifest: dict[str, str] | None = None, *, only: bool = False
    ) -> None:
        if only and manifest is None:
            raise ManifestError("PERSISTED_QUERIES_ONLY needs PERSISTED_QUERIES_MANIFEST")
        self.cache = cache
        self.manifest = manifest or {}
        self.only = only

    @classmethod
    def from_settings(cls, settings: Settings) -> PersistedQueries:
        path = settings.persisted_queries_manifest
        return cls(
            QueryCache(settings.apq_cache_size, settings.max_body_bytes),
            load_manifest(path) if path is not None else None,
            only=settings.persisted_queries_only,
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
        if digest not in self.manifest:
            self.cache.put(digest, query)
        return query

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
