"""Choosing the assistant provider at start-up: the OpenAI-compatible one without a key."""

from __future__ import annotations

import logging

import pytest

from domain.assistant import OfflineAssistant
from domain.assistant.openai import OpenAIAssistant
from graph.app import build_assistant, check_settings, create_app
from graph.auth import ConfigurationError
from tests.conftest import make_settings


def test_the_offline_assistant_is_the_default() -> None:
    assert isinstance(build_assistant(make_settings()), OfflineAssistant)


def test_a_key_configures_the_openai_compatible_provider() -> None:
    settings = make_settings(assistant_provider="openai", openai_api_key="k")
    assert isinstance(build_assistant(settings), OpenAIAssistant)


def test_no_key_is_a_clear_warning_in_development(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="graph.app"):
        check_settings(make_settings(assistant_provider="openai", openai_api_key=None))
    assert "OPENAI_API_KEY is not set" in caplog.text


def test_no_key_is_refused_in_production() -> None:
    settings = make_settings(assistant_provider="openai", openai_api_key=None,
                             environment="production")
    with pytest.raises(ConfigurationError, match="OPENAI_API_KEY"):
        create_app(settings)
