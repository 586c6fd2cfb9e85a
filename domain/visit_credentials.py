"""Visit credentials: the `X-Session-Id` value, issued by the server, never made by a client.

A credential is `v1.` and 32 bytes in unpadded base64url (46 characters): a 16-byte random
secret, then the first 16 bytes of HMAC-SHA256(key, secret). Only the server holds the key,
so a credential a client invents (a UUID, a guess, a tampered one) does not verify.

The visit's id (the key of its `sessions` row, and `session:<id>`, the owner of what the
visitor makes) is derived from the secret: the first 16 bytes of its SHA-256, written as a
UUID. The id can be shown (`viewer.id`, a task's visit, an audit entry's owner) without giving
the credential away, and the database's claim function (migration 0009) derives the same id
from the secret it is handed, so a claim needs the credential itself, not a known id.

The key is derived from a secret of the settings (graph/visits.py); changing that secret
invalidates every credential issued with the old one (their visitors start new visits; what
they made stays owned by the old visit, unclaimable).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import uuid
from dataclasses import dataclass

PREFIX = "v1."
SECRET_BYTES = 16  # 128 bits from the operating system's CSPRNG
TAG_BYTES = 16  # HMAC-SHA256 cut to 128 bits (RFC 2104 allows truncation to half or more)
CREDENTIAL_LENGTH = len(PREFIX) + 43  # 32 bytes in unpadded base64url
KEY_MIN_BYTES = 32
_FORM = re.compile(r"v1\.[A-Za-z0-9_-]{43}")
# What the derived key is for, so the same secret used elsewhere never yields this key.
_KEY_PURPOSE = b"clarity-graph visit credentials v1"
_TAG_PURPOSE = b"visit:"


class InvalidVisitCredential(ValueError):
    """Not a credential this server issued."""


@dataclass(frozen=True)
class VisitCredential:
    """A verified credential: what the client sends, and what it proves."""

    text: str
    secret: bytes

    @property
    def visit_id(self) -> str:
        return visit_id_of(self.secret)


def visit_id_of(secret: bytes) -> str:
    """The visit's id: the secret's SHA-256, its first 16 bytes as a UUID (migration 0009's
    `claim_visit` computes the same in SQL)."""
    return str(uuid.UUID(bytes=hashlib.sha256(secret).digest()[:16]))


def derive_key(material: str) -> bytes:
    """The signing key from a configured secret (HMAC as a key-derivation step)."""
    return hmac.new(material.encode("utf-8", "surrogatepass"), _KEY_PURPOSE,
                    hashlib.sha256).digest()


class VisitSigner:
    """Issues credentials and verifies them, with one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_MIN_BYTES:
            raise ValueError(f"a visit key needs at least {KEY_MIN_BYTES} bytes")
        self._key = key

    def issue(self) -> VisitCredential:
        secret = secrets.token_bytes(SECRET_BYTES)
        return VisitCredential(_encode(secret + self._tag(secret)), secret)

    def verify(self, text: str) -> VisitCredential:
        """The credential `text` is, or InvalidVisitCredential. Bounded work: anything but
        the one shape is refused before decoding."""
        if len(text) != CREDENTIAL_LENGTH or not _FORM.fullmatch(text):
            raise InvalidVisitCredential("not a visit credential")
        raw = base64.urlsafe_b64decode(text[len(PREFIX):] + "=")
        secret, tag = raw[:SECRET_BYTES], raw[SECRET_BYTES:]
        if not hmac.compare_digest(tag, self._tag(secret)):
            raise InvalidVisitCredential("not issued by this server")
        # 43 characters carry 2 bits more than 32 bytes: one canonical spelling.
        return VisitCredential(_encode(raw), secret)

    def _tag(self, secret: bytes) -> bytes:
        return hmac.new(self._key, _TAG_PURPOSE + secret, hashlib.sha256).digest()[:TAG_BYTES]


def _encode(raw: bytes) -> str:
    return PREFIX + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
