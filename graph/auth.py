"""Identity: who the viewer is, from a bearer JWT or an anonymous visit.

Identity is external (Better Auth or any JWT issuer); the server only verifies tokens.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa
from jwt.algorithms import get_default_algorithms

from domain.viewers import ANONYMOUS_PREFIX, Viewer
from graph.secret_strength import GENERATE_A_SECRET, secret_weakness
from graph.settings import Settings

logger = logging.getLogger(__name__)

SYMMETRIC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
_NOT_ASYMMETRIC = SYMMETRIC_ALGORITHMS | {"none"}
# The subject becomes every owned row's user_id and travels in each NOTIFY payload (8,000
# bytes at most): bounded like any identifier. 255 fits every identity provider's ids.
SUBJECT_MAX = 255
EXP_CEILING = 2**53  # seconds: far past any token's life, and exact as a float
NUMERIC_DATE_CLAIMS = ("exp", "iat", "nbf")

_PRIVATE_KEY_TYPES = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
)


class AuthenticationFailed(Exception):
    """A token was sent but cannot be trusted. The request is answered with HTTP 401."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def log_refusal(error: AuthenticationFailed, path: str, answer: str = "401") -> None:
    """One line on the server's log for a refused token: the reason (expired, bad signature,
    malformed...), where, and the answer (HTTP's 401, or a WebSocket's close 4403), never the
    token, so whoever runs the server sees why a client was refused while the client only
    saw the answer."""
    logger.warning("%s refused a bearer token: %s", answer, error.message,
                   extra={"path": path})


class ConfigurationError(Exception):
    """The settings cannot verify tokens (production without a key, unreadable key file)."""


DEV_SECRET_NAME = Path("clarity-graph") / "jwt-secret"


def dev_secret_file(settings: Settings) -> tuple[Path, str]:
    """Where development keeps its generated secret, and why there.

    One fixed place per user, not the current folder: `serve` run from the project and
    `clarity-graph token` run from anywhere else used to make two secrets, and the token
    was refused. JWT_DEV_SECRET_FILE when set; else the XDG config folder
    ($XDG_CONFIG_HOME, else ~/.config) as every desktop tool keeps its per-user state."""
    if settings.jwt_dev_secret_file is not None:
        return settings.jwt_dev_secret_file.expanduser(), "JWT_DEV_SECRET_FILE is set"
    configured = os.environ.get("XDG_CONFIG_HOME", "")
    if configured and Path(configured).is_absolute():  # the spec ignores a relative one
        return Path(configured) / DEV_SECRET_NAME, "the XDG config folder ($XDG_CONFIG_HOME)"
    return Path.home() / ".config" / DEV_SECRET_NAME, "the XDG config folder (~/.config)"


def load_dev_secret(settings: Settings, *, create: bool) -> str:
    """The development HS256 secret, generated once and kept in `dev_secret_file`.

    The file is created with mode 0600 from the start (never world-readable for a moment),
    its folder 0700, and atomically, so two processes starting together end up sharing one
    secret. An empty file (an interrupted first run) is never used as a key.
    """
    path, _why = dev_secret_file(settings)
    existing = _read_secret(path)
    if existing:
        return existing
    if not create:
        raise ConfigurationError(f"no JWT_SECRET and no development secret at {path}")
    secret = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError as error:
        raise ConfigurationError(f"cannot write the development secret {path}: {error}") from error
    try:
        with os.fdopen(descriptor, "w") as file:  # mkstemp creates the file with mode 0600
            file.write(secret + "\n")
        if existing is None:
            try:
                os.link(temporary, path)  # fails if another process created it meanwhile
            except FileExistsError:
                winner = _read_secret(path)
                if winner:
                    return winner
                os.replace(temporary, path)
            except OSError:  # a file system without hard links
                os.replace(temporary, path)
        else:
            os.replace(temporary, path)  # an empty leftover
    except OSError as error:
        raise ConfigurationError(f"cannot write the development secret {path}: {error}") from error
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    return secret


def _read_secret(path: Path) -> str | None:
    """The secret in `path`; "" for an empty file; None when there is no file."""
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"cannot read the development secret {path}: {error}") from error


def hs_secret(settings: Settings) -> str | None:
    """The HS secret to verify and sign with, or None when only asymmetric keys are set.

    An empty secret is refused everywhere (it would refuse every token, or sign with
    nothing); production refuses one under 32 bytes (`JWT_SECRET=a` let a forged admin
    token be found in under 100 guesses) or under 128 estimated bits (`'changeme' * 4`);
    development only warns."""
    if settings.jwt_secret is not None:
        secret = settings.jwt_secret.get_secret_value()
        if not secret.strip():
            raise ConfigurationError("JWT_SECRET is empty")
        weakness = secret_weakness(secret)
        if weakness is not None:
            if settings.is_production:
                raise ConfigurationError(f"{weakness}; {GENERATE_A_SECRET}")
            logger.warning("%s (development only warns); %s", weakness, GENERATE_A_SECRET)
        return secret
    if settings.jwt_public_key_file or settings.jwks_file:
        return None
    if settings.is_production:
        raise ConfigurationError("production needs JWT_SECRET, JWT_PUBLIC_KEY_FILE or JWKS_FILE")
    logger.warning(
        "JWT_SECRET is not set: using the development secret in %s", dev_secret_file(settings)[0]
    )
    return load_dev_secret(settings, create=True)


@dataclass(frozen=True)
class _JWK:
    """One key of the JWKS file, prepared for one algorithm."""

    kid: str | None
    algorithm: str
    key: Any


class TokenVerifier:
    """Verifies bearer tokens against the configured keys and algorithm allowlist.

    Every key is loaded and checked when the verifier is built, so a bad key file stops the
    server at start-up instead of refusing every request.
    """

    def __init__(self, settings: Settings) -> None:
        self._algorithms = list(settings.jwt_algorithms)
        known = get_default_algorithms()
        unknown = [alg for alg in self._algorithms if alg not in known or alg == "none"]
        if unknown:
            raise ConfigurationError(f"JWT_ALGORITHMS names unknown algorithms: {unknown}")
        asymmetric = [alg for alg in self._algorithms if alg not in SYMMETRIC_ALGORITHMS]
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._leeway = settings.jwt_leeway_seconds
        needs_secret = any(alg in SYMMETRIC_ALGORITHMS for alg in self._algorithms)
        self._secret = hs_secret(settings) if needs_secret else None
        self._public_keys = _load_public_key(settings.jwt_public_key_file, asymmetric)
        self._jwks = _load_jwks(settings.jwks_file, asymmetric)
        usable = [
            alg
            for alg in self._algorithms
            if (alg in SYMMETRIC_ALGORITHMS and self._secret is not None)
            or alg in self._public_keys
            or any(key.algorithm == alg for key in self._jwks or ())
        ]
        if not usable:
            raise ConfigurationError(
                f"no key can verify any of JWT_ALGORITHMS {self._algorithms}: set JWT_SECRET"
                " for HS algorithms, JWT_PUBLIC_KEY_FILE or JWKS_FILE for the others"
            )

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise AuthenticationFailed("malformed token") from error
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            named = f" {algorithm!r}" if isinstance(algorithm, str) and len(algorithm) <= 16 else ""
            raise AuthenticationFailed(f"token algorithm{named} is not accepted")
        _check_numeric_dates(token)
        keys = self._keys_for(algorithm, header.get("kid"))
        try:
            for key in keys[:-1]:  # a token without a key id: any key of its type may fit
                with contextlib.suppress(jwt.InvalidSignatureError):
                    return self._decode(token, key, algorithm)
            return self._decode(token, keys[-1], algorithm)
        except jwt.ExpiredSignatureError as error:
            raise AuthenticationFailed("token has expired") from error
        except jwt.InvalidAudienceError as error:
            raise AuthenticationFailed("token audience is not accepted") from error
        except jwt.InvalidIssuerError as error:
            raise AuthenticationFailed("token issuer is not accepted") from error
        except jwt.InvalidSignatureError as error:
            raise AuthenticationFailed("token signature is invalid") from error
        except jwt.MissingRequiredClaimError as error:
            raise AuthenticationFailed(f"token lacks the {error.claim!r} claim") from error
        except jwt.ImmatureSignatureError as error:
            raise AuthenticationFailed("token is not valid yet") from error
        except jwt.PyJWTError as error:
            raise AuthenticationFailed("token is invalid") from error

    def _decode(self, token: str, key: Any, algorithm: str) -> dict[str, Any]:
        return jwt.decode(
            token,
            key=key,
            algorithms=[algorithm],
            audience=self._audience,
            issuer=self._issuer,
            leeway=self._leeway,
            options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
        )

    def _keys_for(self, algorithm: str, kid: object) -> list[Any]:
        if algorithm in SYMMETRIC_ALGORITHMS:
            if self._secret is None:
                raise AuthenticationFailed("no key is configured for this algorithm")
            return [self._secret]
        if self._jwks is not None:
            keys = [
                jwk.key
                for jwk in self._jwks
                if jwk.algorithm == algorithm and (kid is None or jwk.kid == kid)
            ]
            if keys:
                return keys
        if algorithm in self._public_keys:
            return [self._public_keys[algorithm]]
        if self._jwks is not None and kid is not None:
            raise AuthenticationFailed("token key id is unknown")
        raise AuthenticationFailed("no key is configured for this algorithm")


def _check_numeric_dates(token: str) -> None:
    """Refuses a token whose `exp`, `iat` or `nbf` is not a JSON number (RFC 7519's
    NumericDate). PyJWT converts them with int(): `"exp": "4102444800"` passed as a date,
    and the viewer kept no expiry (a WebSocket it opened was never closed for it). Checked
    before the signature, so the reason is this one whoever signed the token; nothing of the
    unverified payload is used."""
    try:
        payload = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return  # not a JWT payload: the verifying decode says so
    for claim in NUMERIC_DATE_CLAIMS:
        if claim in payload and not _is_numeric_date(payload[claim]):
            raise AuthenticationFailed(
                f"token claim {claim!r} must be a number of seconds since 1970 (a NumericDate)"
            )


def _is_numeric_date(value: object) -> bool:
    # bool is an int in Python (`"exp": true` was read as 1); NaN and Infinity are floats
    # Python's JSON parser accepts.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def viewer_from_claims(claims: dict[str, Any], session_id: str | None) -> Viewer:
    roles = claims.get("roles")
    is_admin = claims.get("role") == "admin" or (isinstance(roles, list) and "admin" in roles)
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject.strip():
        raise AuthenticationFailed("token subject is empty")
    if len(subject) > SUBJECT_MAX:
        raise AuthenticationFailed(f"token subject is longer than {SUBJECT_MAX} characters")
    if not _storable(subject):
        # It becomes every owned row's user_id: PostgreSQL refuses NUL in text, and a lone
        # surrogate is not UTF-8 (every query of the request failed on PostgreSQL).
        raise AuthenticationFailed("token subject holds characters that are not allowed")
    if subject.startswith(ANONYMOUS_PREFIX):
        # A token may not claim an anonymous visitor's identity.
        raise AuthenticationFailed("token subject is not accepted")
    expires_at = claims.get("exp")
    return Viewer(
        user_id=subject,
        is_admin=is_admin,
        session_id=session_id,
        # min(): an `exp` past 1e308 would not convert to a float; PyJWT checked it is a number
        expires_at=float(min(expires_at, EXP_CEILING))
        if isinstance(expires_at, int | float) else None,
    )


def _storable(text: str) -> bool:
    """Printable text: no control characters (NUL included), no lone surrogates (both are
    Unicode's "Other" categories), no separators but the space."""
    return text.isprintable()


def signing_key_origin(settings: Settings) -> str:
    """Which secret `mint_token` signs with and why, for `clarity-graph token` to say."""
    if settings.jwt_secret is not None:
        return "signed with JWT_SECRET (set in the environment)"
    path, why = dev_secret_file(settings)
    return (
        f"signed with the development secret {path} (JWT_SECRET is not set; {why}); a server"
        " run by this user with the same settings reads the same file"
    )


def mint_token(settings: Settings, *, user_id: str, admin: bool, ttl_seconds: int) -> str:
    """A development token signed with the key the server verifies with (HS only)."""
    algorithm = next((a for a in settings.jwt_algorithms if a in SYMMETRIC_ALGORITHMS), None)
    secret = hs_secret(settings) if algorithm is not None else None
    if algorithm is None or secret is None:
        raise ConfigurationError("token minting needs an HS algorithm and a shared secret")
    now = int(time.time())
    claims: dict[str, Any] = {"sub": user_id, "iat": now, "exp": now + ttl_seconds}
    if admin:
        claims["role"] = "admin"
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    return jwt.encode(claims, secret, algorithm=algorithm)


def _prepare(algorithm: str, material: Any) -> Any | None:
    """`material` as a public key object for `algorithm`, or None when it does not fit."""
    try:
        key = get_default_algorithms()[algorithm].prepare_key(material)
    except (jwt.PyJWTError, TypeError, ValueError):
        return None
    return key.public_key() if isinstance(key, _PRIVATE_KEY_TYPES) else key


def _load_public_key(path: Path | None, algorithms: list[str]) -> dict[str, Any]:
    """The PEM key of JWT_PUBLIC_KEY_FILE, prepared for each allowed algorithm it fits."""
    if path is None:
        return {}
    text = _read(path)
    every = [alg for alg in get_default_algorithms() if alg not in _NOT_ASYMMETRIC]
    if all(_prepare(alg, text) is None for alg in every):
        raise ConfigurationError(f"{path} does not hold a PEM public key")
    prepared = {alg: _prepare(alg, text) for alg in algorithms}
    return {alg: key for alg, key in prepared.items() if key is not None}


def _load_jwks(path: Path | None, algorithms: list[str]) -> list[_JWK] | None:
    """The keys of JWKS_FILE, each prepared for the allowed algorithms it fits."""
    if path is None:
        return None
    try:
        document = json.loads(_read(path))
        entries = document["keys"]
        if not isinstance(entries, list):
            raise TypeError("'keys' is not a list")
    except (ValueError, KeyError, TypeError) as error:
        raise ConfigurationError(f"{path} is not a JWK set: {error}") from error
    keys: list[_JWK] = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        kid = entry.get("kid") if isinstance(entry.get("kid"), str) else None
        for algorithm in algorithms:
            if entry.get("alg", algorithm) != algorithm:
                continue
            try:
                jwk = jwt.PyJWK(entry, algorithm=algorithm)
            except jwt.PyJWTError:
                continue
            key = _prepare(algorithm, jwk.key)
            if key is not None:
                keys.append(_JWK(kid=kid, algorithm=algorithm, key=key))
    if not keys:
        raise ConfigurationError(f"{path} holds no signing key for JWT_ALGORITHMS {algorithms}")
    return keys


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"cannot read key file {path}: {error}") from error
