"""Identity: bearer JWTs (HS, RS, EdDSA), the algorithm allowlist, claims, and the settings.

A token that cannot be trusted is answered with HTTP 401 and one GraphQL-shaped error whose
code is UNAUTHENTICATED; a good token makes `viewer` answer its `sub`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import stat
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.app import create_app
from graph.auth import (
    AuthenticationFailed,
    ConfigurationError,
    TokenVerifier,
    load_dev_secret,
    mint_token,
)
from graph.settings import Settings
from tests.conftest import TEST_SECRET, make_settings

VIEWER = "{ viewer { id isAdmin isAnonymous sessionId } }"
# Long enough for HS512 (64 bytes), so PyJWT never warns about the key length.
LONG_SECRET = "a-secret-long-enough-for-hs512-" + "0123456789abcdef" * 3

Serve = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def serve(session_factory: async_sessionmaker[AsyncSession]) -> Serve:
    """Starts an app with `make_settings(**overrides)` and yields a client for it."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(make_settings(**overrides), session_factory=session_factory)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://testserver"
            ) as client:
                yield client

    return start


def claims(sub: str = "alice", *, ttl: int = 600, **extra: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {"sub": sub, "iat": now, "exp": now + ttl}
    values.update(extra)
    return values


def hs256(payload: dict[str, Any], secret: str = TEST_SECRET) -> str:
    return jwt.encode(payload, secret, algorithm="HS256")


def b64url(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


async def ask(
    client: httpx.AsyncClient,
    token: str | None,
    query: str = VIEWER,
    *,
    authorization: str | None = None,
) -> httpx.Response:
    headers: dict[str, str] = {}
    if authorization is not None:
        headers["Authorization"] = authorization
    elif token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await client.post("/graphql", json={"query": query}, headers=headers)


def viewer_of(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload["errors"]
    return payload["data"]["viewer"]


def refusal(response: httpx.Response) -> str:
    """Checks the 401 shape and returns the message, lower-cased."""
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    body = response.json()
    assert list(body) == ["errors"]
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}
    message = error["message"]
    assert isinstance(message, str)
    assert message
    return message.lower()


def write_pem(path: Path, key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> Path:
    path.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return path


def write_jwks(path: Path, *jwks: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"keys": list(jwks)}))
    return path


def okp_jwk(key: ed25519.Ed25519PrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": kid, "alg": "EdDSA", "use": "sig"})
    return jwk


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# --- HS256: the default --------------------------------------------------------------------


async def test_a_valid_hs256_token_makes_the_viewer_its_subject(
    client: httpx.AsyncClient,
) -> None:
    viewer = viewer_of(await ask(client, hs256(claims("carol"))))
    assert viewer == {"id": "carol", "isAdmin": False, "isAnonymous": False, "sessionId": None}


async def test_an_expired_token_is_refused_with_a_message_about_expiry(
    client: httpx.AsyncClient,
) -> None:
    message = refusal(await ask(client, hs256(claims(ttl=-3600))))
    assert "expired" in message


async def test_a_token_expired_within_the_leeway_is_still_accepted(serve: Serve) -> None:
    async with serve(jwt_leeway_seconds=60) as client:
        viewer = viewer_of(await ask(client, hs256(claims("dave", ttl=-20))))
    assert viewer["id"] == "dave"


async def test_a_token_expired_beyond_the_leeway_is_refused(serve: Serve) -> None:
    async with serve(jwt_leeway_seconds=5) as client:
        message = refusal(await ask(client, hs256(claims("dave", ttl=-20))))
    assert "expired" in message


async def test_a_token_not_yet_valid_is_refused(client: httpx.AsyncClient) -> None:
    refusal(await ask(client, hs256(claims(nbf=int(time.time()) + 3600))))


async def test_a_token_with_a_wrong_signature_is_refused(client: httpx.AsyncClient) -> None:
    message = refusal(await ask(client, hs256(claims(), secret=TEST_SECRET[::-1])))
    assert "signature" in message


async def test_a_token_with_a_tampered_payload_is_refused(client: httpx.AsyncClient) -> None:
    header, _payload, signature = hs256(claims("alice")).split(".")
    forged = f"{header}.{b64url(claims('mallory'))}.{signature}"
    refusal(await ask(client, forged))


async def test_an_unsigned_alg_none_token_is_refused(client: httpx.AsyncClient) -> None:
    token = f"{b64url({'alg': 'none', 'typ': 'JWT'})}.{b64url(claims('mallory'))}."
    message = refusal(await ask(client, token))
    assert "none" in message


async def test_an_unsigned_token_is_refused_even_with_a_capitalised_none(
    client: httpx.AsyncClient,
) -> None:
    token = f"{b64url({'alg': 'None', 'typ': 'JWT'})}.{b64url(claims('mallory'))}."
    refusal(await ask(client, token))


async def test_an_algorithm_outside_the_allowlist_is_refused_even_when_correctly_signed(
    serve: Serve,
) -> None:
    token = jwt.encode(claims("mallory"), LONG_SECRET, algorithm="HS512")
    async with serve(jwt_secret=LONG_SECRET, jwt_algorithms=["HS256"]) as client:
        message = refusal(await ask(client, token))
        accepted = viewer_of(await ask(client, hs256(claims("alice"), secret=LONG_SECRET)))
    assert "hs512" in message
    assert accepted["id"] == "alice"


async def test_an_allowlisted_hs512_token_is_accepted(serve: Serve) -> None:
    token = jwt.encode(claims("erin"), LONG_SECRET, algorithm="HS512")
    async with serve(jwt_secret=LONG_SECRET, jwt_algorithms=["HS256", "HS512"]) as client:
        viewer = viewer_of(await ask(client, token))
    assert viewer["id"] == "erin"


async def test_a_token_without_exp_is_refused(client: httpx.AsyncClient) -> None:
    payload = claims()
    del payload["exp"]
    message = refusal(await ask(client, hs256(payload)))
    assert "exp" in message


async def test_a_token_without_sub_is_refused(client: httpx.AsyncClient) -> None:
    payload = claims()
    del payload["sub"]
    message = refusal(await ask(client, hs256(payload)))
    assert "sub" in message


async def test_a_token_with_a_non_string_sub_is_refused(client: httpx.AsyncClient) -> None:
    refusal(await ask(client, hs256({**claims(), "sub": 42})))


@pytest.mark.parametrize("subject", ["", "   "])
async def test_a_token_with_a_blank_sub_is_refused(
    client: httpx.AsyncClient, subject: str
) -> None:
    message = refusal(await ask(client, hs256(claims(subject))))
    assert "subject" in message


async def test_a_token_with_an_overlong_sub_is_refused(client: httpx.AsyncClient) -> None:
    message = refusal(await ask(client, hs256(claims("u" * 256))))
    assert "subject" in message


async def test_a_token_with_a_sub_of_the_maximum_length_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    response = await ask(client, hs256(claims("u" * 255)))
    assert response.json()["data"]["viewer"]["id"] == "u" * 255


@pytest.mark.parametrize("subject", ["a\x00b", "a\ud800b", "line\nbreak", "tab\there"])
async def test_a_token_whose_sub_holds_unprintable_characters_is_refused(
    client: httpx.AsyncClient, subject: str
) -> None:
    # A NUL or a lone surrogate became every owned row's user_id: each query of the request
    # then failed on PostgreSQL, and SQLite stored the NUL owner.
    message = refusal(await ask(client, hs256(claims(subject))))
    assert "subject" in message


async def test_a_token_whose_exp_is_past_any_float_is_answered_not_a_500(
    client: httpx.AsyncClient,
) -> None:
    # float(10**400) overflows; the viewer's expiry is clamped instead.
    response = await ask(client, hs256({**claims(), "exp": 10**400}))
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["id"] == "alice"


async def test_a_token_whose_sub_is_an_email_with_accents_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    response = await ask(client, hs256(claims("zoë.müller@example.org")))
    assert response.json()["data"]["viewer"]["id"] == "zoë.müller@example.org"


async def test_a_token_claiming_an_anonymous_session_identity_is_refused(
    client: httpx.AsyncClient,
) -> None:
    sub = "session:0b8a5f5e-3c1e-4d59-9a53-5c2f7d3f4a10"
    message = refusal(await ask(client, hs256(claims(sub))))
    assert "subject" in message


async def test_a_garbage_token_is_refused(client: httpx.AsyncClient) -> None:
    message = refusal(await ask(client, "not-a-jwt"))
    assert "malformed" in message


@pytest.mark.parametrize(
    "authorization", ["Basic YWxpY2U6c2VjcmV0", "Bearer", "Token abc.def.ghi", "bearer"]
)
async def test_a_malformed_authorization_header_is_refused(
    client: httpx.AsyncClient, authorization: str
) -> None:
    message = refusal(await ask(client, None, authorization=authorization))
    assert "bearer" in message


async def test_the_bearer_scheme_is_case_insensitive(client: httpx.AsyncClient) -> None:
    response = await ask(client, None, authorization=f"bearer {hs256(claims('frank'))}")
    assert viewer_of(response)["id"] == "frank"


async def test_a_bad_token_is_refused_even_where_no_identity_is_needed(
    client: httpx.AsyncClient,
) -> None:
    refusal(await ask(client, hs256(claims(ttl=-3600)), "{ __typename }"))


async def test_the_refusal_never_echoes_the_token(client: httpx.AsyncClient) -> None:
    token = hs256(claims(ttl=-3600))
    response = await ask(client, token)
    refusal(response)
    assert token not in response.text
    assert token.split(".")[1] not in response.text


# --- issuer and audience -------------------------------------------------------------------


async def test_the_right_issuer_and_audience_are_accepted(serve: Serve) -> None:
    async with serve(jwt_issuer="https://auth.example", jwt_audience="clarity") as client:
        token = hs256(claims("gina", iss="https://auth.example", aud="clarity"))
        viewer = viewer_of(await ask(client, token))
    assert viewer["id"] == "gina"


async def test_an_audience_list_containing_ours_is_accepted(serve: Serve) -> None:
    async with serve(jwt_audience="clarity") as client:
        viewer = viewer_of(await ask(client, hs256(claims("gina", aud=["other", "clarity"]))))
    assert viewer["id"] == "gina"


async def test_a_wrong_audience_is_refused(serve: Serve) -> None:
    async with serve(jwt_audience="clarity") as client:
        message = refusal(await ask(client, hs256(claims(aud="someone-else"))))
    assert "audience" in message


async def test_a_missing_audience_is_refused_when_one_is_configured(serve: Serve) -> None:
    async with serve(jwt_audience="clarity") as client:
        message = refusal(await ask(client, hs256(claims())))
    assert "aud" in message


async def test_a_wrong_issuer_is_refused(serve: Serve) -> None:
    async with serve(jwt_issuer="https://auth.example") as client:
        message = refusal(await ask(client, hs256(claims(iss="https://evil.example"))))
    assert "issuer" in message


async def test_a_missing_issuer_is_refused_when_one_is_configured(serve: Serve) -> None:
    async with serve(jwt_issuer="https://auth.example") as client:
        message = refusal(await ask(client, hs256(claims())))
    assert "iss" in message


async def test_minted_tokens_carry_the_configured_issuer_and_audience(serve: Serve) -> None:
    settings = make_settings(jwt_issuer="https://auth.example", jwt_audience="clarity")
    token = mint_token(settings, user_id="hank", admin=False, ttl_seconds=60)
    decoded = jwt.decode(token, options={"verify_signature": False})
    async with serve(jwt_issuer="https://auth.example", jwt_audience="clarity") as client:
        viewer = viewer_of(await ask(client, token))
    assert (decoded["iss"], decoded["aud"]) == ("https://auth.example", "clarity")
    assert viewer["id"] == "hank"


# --- asymmetric keys -----------------------------------------------------------------------


async def test_rs256_is_verified_with_a_pem_public_key_file(
    serve: Serve, tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    pem = write_pem(tmp_path / "public.pem", rsa_key)
    token = jwt.encode(claims("ivan"), rsa_key, algorithm="RS256")
    async with serve(jwt_secret=None, jwt_public_key_file=pem, jwt_algorithms=["RS256"]) as c:
        viewer = viewer_of(await ask(c, token))
    assert viewer["id"] == "ivan"


async def test_rs256_signed_by_another_key_is_refused(
    serve: Serve, tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    pem = write_pem(tmp_path / "public.pem", rsa_key)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = jwt.encode(claims("mallory"), stranger, algorithm="RS256")
    async with serve(jwt_secret=None, jwt_public_key_file=pem, jwt_algorithms=["RS256"]) as c:
        message = refusal(await ask(c, token))
    assert "signature" in message


async def test_an_hs256_token_signed_with_the_public_key_is_refused(
    serve: Serve, tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    """The classic algorithm confusion: the public key used as an HMAC secret."""
    pem = write_pem(tmp_path / "public.pem", rsa_key)
    header = b64url({"alg": "HS256", "typ": "JWT"})
    body = b64url(claims("mallory"))
    mac = hmac.new(pem.read_bytes(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    token = f"{header}.{body}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"
    settings = {"jwt_secret": None, "jwt_public_key_file": pem}
    async with serve(**settings, jwt_algorithms=["RS256", "HS256"]) as client:
        refusal(await ask(client, token))
        accepted = viewer_of(await ask(client, jwt.encode(claims(), rsa_key, algorithm="RS256")))
    assert accepted["id"] == "alice"


async def test_es256_is_verified_with_a_pem_public_key_file(
    serve: Serve, tmp_path: Path
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = write_pem(tmp_path / "ec.pem", key)
    token = jwt.encode(claims("judy"), key, algorithm="ES256")
    async with serve(jwt_secret=None, jwt_public_key_file=pem, jwt_algorithms=["ES256"]) as c:
        viewer = viewer_of(await ask(c, token))
    assert viewer["id"] == "judy"


async def test_a_token_for_another_key_type_than_the_pem_is_refused(
    serve: Serve, tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    pem = write_pem(tmp_path / "public.pem", rsa_key)
    token = jwt.encode(claims("mallory"), ec.generate_private_key(ec.SECP256R1()), "ES256")
    settings = {"jwt_secret": None, "jwt_public_key_file": pem}
    async with serve(**settings, jwt_algorithms=["RS256", "ES256"]) as client:
        refusal(await ask(client, token))


async def test_eddsa_is_verified_from_a_jwks_file(serve: Serve, tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    jwks = write_jwks(tmp_path / "jwks.json", okp_jwk(key, "key-1"))
    token = jwt.encode(claims("kim"), key, algorithm="EdDSA", headers={"kid": "key-1"})
    async with serve(jwt_secret=None, jwks_file=jwks, jwt_algorithms=["EdDSA"]) as client:
        viewer = viewer_of(await ask(client, token))
    assert viewer["id"] == "kim"


async def test_the_jwks_key_is_chosen_by_kid(serve: Serve, tmp_path: Path) -> None:
    old, new = ed25519.Ed25519PrivateKey.generate(), ed25519.Ed25519PrivateKey.generate()
    jwks = write_jwks(tmp_path / "jwks.json", okp_jwk(old, "old"), okp_jwk(new, "new"))
    async with serve(jwt_secret=None, jwks_file=jwks, jwt_algorithms=["EdDSA"]) as client:
        by_new = await ask(client, jwt.encode(claims("a"), new, "EdDSA", headers={"kid": "new"}))
        by_old = await ask(client, jwt.encode(claims("b"), old, "EdDSA", headers={"kid": "old"}))
        swapped = await ask(client, jwt.encode(claims("c"), old, "EdDSA", headers={"kid": "new"}))
    assert viewer_of(by_new)["id"] == "a"
    assert viewer_of(by_old)["id"] == "b"
    refusal(swapped)


async def test_an_unknown_kid_is_refused(serve: Serve, tmp_path: Path) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    jwks = write_jwks(tmp_path / "jwks.json", okp_jwk(key, "key-1"))
    token = jwt.encode(claims(), key, algorithm="EdDSA", headers={"kid": "key-2"})
    async with serve(jwt_secret=None, jwks_file=jwks, jwt_algorithms=["EdDSA"]) as client:
        message = refusal(await ask(client, token))
    assert "key" in message


async def test_a_token_without_kid_finds_the_jwks_key_of_its_type(
    serve: Serve, tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    rsa_jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key()))
    key = ed25519.Ed25519PrivateKey.generate()
    okp = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
    jwks = write_jwks(tmp_path / "jwks.json", {**rsa_jwk, "kid": "r"}, okp)
    algorithms = ["RS256", "EdDSA"]
    async with serve(jwt_secret=None, jwks_file=jwks, jwt_algorithms=algorithms) as client:
        eddsa = await ask(client, jwt.encode(claims("lee"), key, algorithm="EdDSA"))
        rs256 = await ask(client, jwt.encode(claims("max"), rsa_key, algorithm="RS256"))
    assert viewer_of(eddsa)["id"] == "lee"
    assert viewer_of(rs256)["id"] == "max"


async def test_a_jwks_key_of_another_type_than_the_token_is_refused(
    serve: Serve, tmp_path: Path
) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(ec_key.public_key()))
    jwks = write_jwks(tmp_path / "jwks.json", {**ec_jwk, "kid": "k"})
    key = ed25519.Ed25519PrivateKey.generate()
    token = jwt.encode(claims(), key, algorithm="EdDSA", headers={"kid": "k"})
    async with serve(jwt_secret=None, jwks_file=jwks, jwt_algorithms=["EdDSA", "ES256"]) as c:
        refusal(await ask(c, token))


async def test_hs256_is_refused_when_only_asymmetric_keys_are_configured(
    serve: Serve, tmp_path: Path
) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    jwks = write_jwks(tmp_path / "jwks.json", okp_jwk(key, "key-1"))
    settings = {"jwt_secret": None, "jwks_file": jwks}
    async with serve(**settings, jwt_algorithms=["EdDSA", "HS256"]) as client:
        message = refusal(await ask(client, hs256(claims())))
    assert "no key" in message


def test_an_unreadable_key_file_is_a_configuration_error(tmp_path: Path) -> None:
    settings = make_settings(jwt_public_key_file=tmp_path / "missing.pem")
    with pytest.raises(ConfigurationError, match=r"missing\.pem"):
        TokenVerifier(settings)


def test_a_broken_jwks_file_is_a_configuration_error(tmp_path: Path) -> None:
    broken = tmp_path / "jwks.json"
    broken.write_text('{"keys": [')
    with pytest.raises(ConfigurationError, match=r"jwks\.json"):
        TokenVerifier(make_settings(jwt_secret=None, jwks_file=broken))


def test_a_jwks_file_without_usable_keys_is_a_configuration_error(tmp_path: Path) -> None:
    empty = write_jwks(tmp_path / "jwks.json")
    with pytest.raises(ConfigurationError, match=r"jwks\.json"):
        TokenVerifier(make_settings(jwt_secret=None, jwks_file=empty))


def test_a_public_key_file_that_is_not_a_key_is_a_configuration_error(tmp_path: Path) -> None:
    junk = tmp_path / "public.pem"
    junk.write_text("-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----\n")
    with pytest.raises(ConfigurationError, match=r"public\.pem"):
        TokenVerifier(make_settings(jwt_secret=None, jwt_public_key_file=junk))


async def test_a_private_pem_in_the_public_key_file_verifies_with_its_public_half(
    serve: Serve, tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    pem = tmp_path / "key.pem"
    pem.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    token = jwt.encode(claims("sam"), rsa_key, algorithm="RS256")
    async with serve(jwt_secret=None, jwt_public_key_file=pem, jwt_algorithms=["RS256"]) as c:
        viewer = viewer_of(await ask(c, token))
    assert viewer["id"] == "sam"


def test_a_public_key_with_only_hs256_allowed_is_a_configuration_error(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    pem = write_pem(tmp_path / "public.pem", rsa_key)
    settings = make_settings(jwt_secret=None, jwt_public_key_file=pem, jwt_algorithms=["HS256"])
    with pytest.raises(ConfigurationError, match="JWT_ALGORITHMS"):
        TokenVerifier(settings)


def test_an_asymmetric_allowlist_without_keys_is_a_configuration_error(tmp_path: Path) -> None:
    secret_file = tmp_path / "dev-secret"
    settings = make_settings(
        jwt_secret=None, jwt_algorithms=["RS256"], jwt_dev_secret_file=secret_file
    )
    with pytest.raises(ConfigurationError, match="JWT_PUBLIC_KEY_FILE"):
        TokenVerifier(settings)
    assert not secret_file.exists()


# --- roles ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "is_admin"),
    [
        ({"role": "admin"}, True),
        ({"roles": ["admin"]}, True),
        ({"roles": ["reader", "admin"]}, True),
        ({"role": "user"}, False),
        ({"roles": ["user"]}, False),
        ({"roles": "superadmin"}, False),
        ({}, False),
    ],
)
async def test_admin_comes_from_the_role_or_roles_claim(
    client: httpx.AsyncClient, extra: dict[str, Any], is_admin: bool
) -> None:
    viewer = viewer_of(await ask(client, hs256(claims("nina", **extra))))
    assert (viewer["id"], viewer["isAdmin"]) == ("nina", is_admin)


# --- settings ------------------------------------------------------------------------------


def test_jwt_algorithms_from_the_environment_become_a_list(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JWT_ALGORITHMS", "RS256, EdDSA")
    assert Settings().jwt_algorithms == ["RS256", "EdDSA"]


@pytest.mark.parametrize("value", ["none", "HS256,none", "NONE", " , "])
def test_jwt_algorithms_refuses_none_and_empty(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("JWT_ALGORITHMS", value)
    with pytest.raises(ValidationError, match="JWT_ALGORITHMS"):
        Settings()


def test_async_database_uri_is_an_alias_for_database_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("ASYNC_DATABASE_URI", "postgresql+asyncpg://u@db.example/clarity")
    assert Settings().database_url == "postgresql+asyncpg://u@db.example/clarity"


def test_database_url_wins_over_its_alias(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "sqlite+aiosqlite:///./first.db")
    monkeypatch.setenv("ASYNC_DATABASE_URI", "sqlite+aiosqlite:///./second.db")
    assert Settings().database_url == "sqlite+aiosqlite:///./first.db"


def test_production_without_any_key_cannot_build_a_verifier(tmp_path: Path) -> None:
    secret_file = tmp_path / "dev-secret"
    settings = make_settings(
        environment="production", jwt_secret=None, jwt_dev_secret_file=secret_file
    )
    with pytest.raises(ConfigurationError, match="JWT_SECRET"):
        TokenVerifier(settings)
    assert not secret_file.exists()


def test_production_without_any_key_does_not_start(
    session_factory: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    settings = make_settings(
        environment="production", jwt_secret=None, jwt_dev_secret_file=tmp_path / "s"
    )
    with pytest.raises(ConfigurationError, match="JWT_SECRET"):
        create_app(settings, session_factory=session_factory)


@pytest.mark.parametrize("secret", ["a", "x" * 31, "é" * 15])
def test_production_refuses_to_start_with_an_hs_secret_under_32_bytes(
    session_factory: async_sessionmaker[AsyncSession], secret: str
) -> None:
    # With JWT_SECRET=a a forged admin token was found in under 100 guesses.
    with pytest.raises(ConfigurationError, match="at least 32"):
        create_app(make_settings(environment="production", jwt_secret=secret),
                   session_factory=session_factory)


# 32 bytes and more, each a few guesses away (the three first; the estimate:
# graph/secret_strength.py).
GUESSABLE = [
    "a" * 32,
    "changeme" * 4,
    "a" + " " * 31,
    "your-256-bit-secret-your-256-bit",  # jwt.io's example secret, repeated to 32 bytes
    "supersecretkeysupersecretkey1234",
    "abcdefghijklmnopqrstuvwxyz012345",
    "qwertyuiopasdfghjklzxcvbnm123456",
    "deadbeef" * 4,
    "0123456789" * 4,
]


@pytest.mark.parametrize("secret", GUESSABLE)
def test_production_refuses_to_start_with_a_guessable_hs_secret_of_32_bytes(
    session_factory: async_sessionmaker[AsyncSession], secret: str
) -> None:
    settings = make_settings(environment="production", jwt_secret=secret)
    with pytest.raises(ConfigurationError, match=r"^JWT_SECRET is guessable: an estimated \d+"
                       r" bits .* at least 128; generate one with `openssl rand -base64 48`$"):
        create_app(settings, session_factory=session_factory)


@pytest.mark.parametrize("environment", ["production", "development"])
def test_an_empty_hs_secret_is_refused_everywhere(environment: str) -> None:
    for secret in ("", "   "):
        with pytest.raises(ConfigurationError, match="JWT_SECRET is empty"):
            TokenVerifier(make_settings(environment=environment, jwt_secret=secret))


@pytest.mark.parametrize(
    "generate",
    [
        lambda: secrets.token_urlsafe(32),
        lambda: secrets.token_urlsafe(48),
        lambda: base64.b64encode(secrets.token_bytes(48)).decode(),  # openssl rand -base64 48
        lambda: secrets.token_hex(32),  # openssl rand -hex 32
    ],
    ids=["token_urlsafe(32)", "token_urlsafe(48)", "base64 of 48 bytes", "hex of 32 bytes"],
)
async def test_production_starts_with_a_generated_hs_secret(
    serve: Serve, generate: Callable[[], str]
) -> None:
    secret = generate()
    async with serve(environment="production", jwt_secret=secret) as client:
        viewer = viewer_of(await ask(client, hs256(claims("una"), secret=secret)))
    assert viewer["id"] == "una"


def test_development_only_warns_about_a_short_hs_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    TokenVerifier(make_settings(environment="development", jwt_secret="short"))
    assert "JWT_SECRET has 5 bytes" in caplog.text


def test_development_only_warns_about_a_guessable_hs_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    verifier = TokenVerifier(make_settings(environment="development", jwt_secret="changeme" * 4))
    assert verifier.verify(hs256(claims("vic"), secret="changeme" * 4))["sub"] == "vic"
    assert "JWT_SECRET is guessable" in caplog.text
    assert "production needs at least 128 (development only warns)" in caplog.text


def test_production_never_reads_a_development_secret_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "dev-secret"
    secret_file.write_text(LONG_SECRET)
    settings = make_settings(
        environment="production", jwt_secret=None, jwt_dev_secret_file=secret_file
    )
    with pytest.raises(ConfigurationError):
        TokenVerifier(settings)


def test_development_without_a_secret_generates_one_that_minting_and_verifying_share(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret_file = tmp_path / "dev-secret"
    settings = make_settings(jwt_secret=None, jwt_dev_secret_file=secret_file)
    verifier = TokenVerifier(settings)
    token = mint_token(settings, user_id="olga", admin=True, ttl_seconds=60)
    verified = verifier.verify(token)
    assert (verified["sub"], verified["role"]) == ("olga", "admin")
    assert len(secret_file.read_text().strip()) >= 32
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert "development secret" in caplog.text


def test_the_development_secret_is_generated_once(tmp_path: Path) -> None:
    secret_file = tmp_path / "dev-secret"
    settings = make_settings(jwt_secret=None, jwt_dev_secret_file=secret_file)
    first = TokenVerifier(settings)
    written = secret_file.read_text()
    token = mint_token(settings, user_id="pat", admin=False, ttl_seconds=60)
    second = TokenVerifier(settings)
    assert secret_file.read_text() == written
    assert first.verify(token)["sub"] == second.verify(token)["sub"] == "pat"


def test_an_empty_development_secret_file_is_replaced_by_a_real_secret(tmp_path: Path) -> None:
    secret_file = tmp_path / "dev-secret"
    secret_file.write_text("\n")  # what an interrupted first run can leave behind
    settings = make_settings(jwt_secret=None, jwt_dev_secret_file=secret_file)
    verifier = TokenVerifier(settings)
    secret = secret_file.read_text().strip()
    token = mint_token(settings, user_id="rita", admin=False, ttl_seconds=60)
    assert len(secret) >= 32
    assert jwt.decode(token, secret, algorithms=["HS256"])["sub"] == "rita"
    assert verifier.verify(token)["sub"] == "rita"


def test_reading_an_empty_development_secret_without_creating_is_an_error(
    tmp_path: Path,
) -> None:
    secret_file = tmp_path / "dev-secret"
    secret_file.write_text("")
    settings = make_settings(jwt_secret=None, jwt_dev_secret_file=secret_file)
    with pytest.raises(ConfigurationError, match="development secret"):
        load_dev_secret(settings, create=False)


def test_a_missing_development_secret_is_created_with_owner_only_permissions(
    tmp_path: Path,
) -> None:
    secret_file = tmp_path / "dev-secret"
    settings = make_settings(jwt_secret=None, jwt_dev_secret_file=secret_file)
    secret = load_dev_secret(settings, create=True)
    assert secret_file.read_text().strip() == secret
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["dev-secret"]  # no temporary left


async def test_the_development_secret_signs_tokens_the_app_accepts(
    serve: Serve, tmp_path: Path
) -> None:
    secret_file = tmp_path / "dev-secret"
    settings = make_settings(jwt_secret=None, jwt_dev_secret_file=secret_file)
    async with serve(jwt_secret=None, jwt_dev_secret_file=secret_file) as client:
        token = mint_token(settings, user_id="quinn", admin=False, ttl_seconds=60)
        viewer = viewer_of(await ask(client, token))
        refusal(await ask(client, hs256(claims("quinn"))))  # not signed with the dev secret
    assert viewer["id"] == "quinn"


def test_an_unknown_algorithm_in_the_allowlist_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="HS257"):
        TokenVerifier(make_settings(jwt_algorithms=["HS256", "HS257"]))


def test_the_verifier_refuses_a_token_directly_with_the_reason() -> None:
    verifier = TokenVerifier(make_settings())
    with pytest.raises(AuthenticationFailed, match="expired"):
        verifier.verify(hs256(claims(ttl=-3600)))
