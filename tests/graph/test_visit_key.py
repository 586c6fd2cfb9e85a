"""The key visit credentials are signed with: from VISIT_SECRET, else JWT_SECRET, else (in
development) the development secret; production refuses a weak or missing one at start-up."""

from __future__ import annotations

import base64
import secrets
from pathlib import Path
from typing import Any

import pytest

from domain.visit_credentials import VisitSigner
from graph.app import check_settings, create_app
from graph.auth import ConfigurationError
from graph.visits import build_visits, visit_key
from tests.conftest import TEST_SECRET, make_settings

STRONG = secrets.token_urlsafe(48)
WEAK = {
    "repeated letter": "a" * 32,
    "repeated word": "changeme" * 4,
    "a letter and spaces": "a" + " " * 31,
    "short": "0123456789abcdef",
    "two letters": "ab" * 20,
}


@pytest.mark.parametrize("secret", WEAK.values(), ids=WEAK.keys())
def test_production_refuses_a_weak_visit_secret(secret: str) -> None:
    settings = make_settings(environment="production", visit_secret=secret)
    with pytest.raises(ConfigurationError, match="VISIT_SECRET"):
        visit_key(settings)


@pytest.mark.parametrize(
    "secret", [STRONG, secrets.token_hex(32), base64.b64encode(secrets.token_bytes(32)).decode()]
)
def test_production_accepts_a_random_visit_secret(secret: str) -> None:
    visit_key(make_settings(environment="production", visit_secret=secret))


def test_development_warns_about_a_weak_visit_secret_and_uses_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = visit_key(make_settings(visit_secret="a" * 32))
    assert len(key) == 32
    assert "VISIT_SECRET is guessable" in caplog.text
    assert "development only warns" in caplog.text


def test_a_weak_jwt_secret_cannot_sign_visits_in_production_either() -> None:
    """Without VISIT_SECRET the key comes from JWT_SECRET, held to the same rule."""
    settings = make_settings(environment="production", jwt_secret="changeme" * 4)
    with pytest.raises(ConfigurationError, match="JWT_SECRET is guessable"):
        visit_key(settings)


def test_without_a_visit_secret_the_key_is_derived_from_jwt_secret() -> None:
    from_jwt = visit_key(make_settings())
    assert from_jwt == visit_key(make_settings())
    assert from_jwt != TEST_SECRET.encode()
    assert from_jwt != visit_key(make_settings(jwt_secret=TEST_SECRET + "x"))


def test_a_visit_secret_wins_over_jwt_secret() -> None:
    assert visit_key(make_settings(visit_secret=STRONG)) != visit_key(make_settings())


def test_production_with_neither_secret_refuses_to_start(tmp_path: Path) -> None:
    settings = make_settings(environment="production", jwt_secret=None,
                             jwt_dev_secret_file=tmp_path / "dev-secret")
    with pytest.raises(ConfigurationError, match="VISIT_SECRET"):
        visit_key(settings)


def test_development_with_neither_secret_uses_the_development_secret_file(
    tmp_path: Path,
) -> None:
    overrides: dict[str, Any] = {"jwt_secret": None, "jwt_dev_secret_file": tmp_path / "dev"}
    first = visit_key(make_settings(**overrides))
    assert (tmp_path / "dev").exists()
    assert visit_key(make_settings(**overrides)) == first  # every process, the same key


def test_credentials_survive_a_restart_with_the_same_settings() -> None:
    issued = build_visits(make_settings()).start(user_id="alice", ip=None)
    assert build_visits(make_settings()).verify(issued.text) == issued
    assert VisitSigner(visit_key(make_settings())).verify(issued.text) == issued


def test_the_settings_check_refuses_a_weak_visit_secret_before_anything_serves() -> None:
    """`check_settings` runs in create_app and once in `serve` before its workers."""
    settings = make_settings(environment="production", jwt_secret=STRONG, visit_secret="a" * 40)
    with pytest.raises(ConfigurationError, match="VISIT_SECRET"):
        check_settings(settings)
    with pytest.raises(ConfigurationError, match="VISIT_SECRET"):
        create_app(settings)
