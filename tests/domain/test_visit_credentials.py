"""Visit credentials: issued by the server, verified by it, never made by a client."""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest

from domain.visit_credentials import (
    CREDENTIAL_LENGTH,
    PREFIX,
    InvalidVisitCredential,
    VisitSigner,
    derive_key,
    visit_id_of,
)

KEY = derive_key("a server secret of the tests, long enough to sign with")


@pytest.fixture
def signer() -> VisitSigner:
    return VisitSigner(KEY)


def test_an_issued_credential_verifies_as_itself(signer: VisitSigner) -> None:
    issued = signer.issue()
    verified = signer.verify(issued.text)
    assert verified == issued
    assert verified.visit_id == issued.visit_id


def test_a_credential_is_46_characters_of_base64url_after_its_version(
    signer: VisitSigner,
) -> None:
    text = signer.issue().text
    assert len(text) == CREDENTIAL_LENGTH == 46
    assert text.startswith(PREFIX)
    raw = base64.urlsafe_b64decode(text[len(PREFIX):] + "=")
    assert len(raw) == 32  # a 16-byte secret and a 16-byte tag


def test_every_credential_has_its_own_128_bit_secret(signer: VisitSigner) -> None:
    issued = [signer.issue() for _ in range(1000)]
    assert {len(credential.secret) for credential in issued} == {16}
    assert len({credential.secret for credential in issued}) == 1000
    assert len({credential.visit_id for credential in issued}) == 1000


def test_the_visit_id_is_the_secrets_sha256_as_a_uuid() -> None:
    secret = bytes(range(16))
    expected = uuid.UUID(bytes=hashlib.sha256(secret).digest()[:16])
    assert visit_id_of(secret) == str(expected)


def test_the_visit_id_does_not_verify_as_a_credential(signer: VisitSigner) -> None:
    with pytest.raises(InvalidVisitCredential):
        signer.verify(signer.issue().visit_id)


def test_another_keys_credential_does_not_verify(signer: VisitSigner) -> None:
    other = VisitSigner(derive_key("another server's secret, just as long as ours")).issue()
    with pytest.raises(InvalidVisitCredential, match="not issued by this server"):
        signer.verify(other.text)


def test_a_credential_with_any_character_changed_does_not_verify(signer: VisitSigner) -> None:
    text = signer.issue().text
    for position in range(len(PREFIX), len(text) - 1):  # the last one also carries spare bits
        changed = "A" if text[position] != "A" else "B"
        with pytest.raises(InvalidVisitCredential):
            signer.verify(text[:position] + changed + text[position + 1:])


def test_a_credential_made_by_a_client_from_a_secret_it_chose_does_not_verify(
    signer: VisitSigner,
) -> None:
    secret = bytes(16)
    made = PREFIX + base64.urlsafe_b64encode(secret + bytes(16)).decode().rstrip("=")
    with pytest.raises(InvalidVisitCredential):
        signer.verify(made)


@pytest.mark.parametrize("text", [
    "", "v1.", "v2." + "A" * 43, "v1." + "A" * 42, "v1." + "A" * 44, "v1." + "+" * 43,
    "v1." + "A" * 42 + "=", " v1." + "A" * 42, "0b8a5f5e-3c1e-4d59-9a53-5c2f7d3f4a10",
    "v1." + "A" * 100_000,
])
def test_anything_but_the_one_shape_is_refused_before_decoding(
    signer: VisitSigner, text: str
) -> None:
    with pytest.raises(InvalidVisitCredential, match="not a visit credential"):
        signer.verify(text)


def test_a_non_canonical_spelling_verifies_as_the_canonical_credential(
    signer: VisitSigner,
) -> None:
    """43 base64 characters carry 258 bits for 256: the spare bits of the last one are
    ignored by decoding, so two spellings name one credential, which is answered canonical."""
    issued = signer.issue()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(issued.text[-1])
    spelled = issued.text[:-1] + alphabet[last | 1 if last % 4 == 0 else last - last % 4]
    assert spelled != issued.text
    assert signer.verify(spelled) == issued


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        VisitSigner(b"short")


def test_the_derived_key_is_not_the_secret_itself() -> None:
    secret = "a" * 64
    assert derive_key(secret) != secret.encode()
    assert len(derive_key(secret)) == 32
    assert derive_key(secret) != derive_key(secret + "b")
