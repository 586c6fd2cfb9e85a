"""The estimate production's JWT_SECRET check stands on: what a guesser cannot predict.

Each rule of graph/secret_strength.py has its case; generated secrets always pass, drawn
from a seeded generator so that a run is repeatable.
"""

from __future__ import annotations

import base64
import math
import random
from collections.abc import Callable

import pytest

from graph.secret_strength import (
    HS_SECRET_MIN_BITS,
    alphabet_size,
    estimated_bits,
    novel_characters,
    secret_weakness,
)

DRAWS = 2_000


@pytest.mark.parametrize(
    ("secret", "size"),
    [
        ("0123", 10),
        ("deadbeef", 16),
        ("DEADBEEF", 16),
        ("changeme", 26),
        ("CHANGEME", 26),
        ("changeme1", 36),
        ("my-secret_key.v2 x", 40),
        ("ChangeMe1", 62),
        ("Zm9v+Ym/Fy-_==", 67),
        ("p@ss word!", 95),
        ("clé", 95),
    ],
)
def test_the_alphabet_is_the_smallest_usual_one_holding_every_character(
    secret: str, size: int
) -> None:
    assert alphabet_size(secret) == size


@pytest.mark.parametrize(
    ("secret", "novel"),
    [
        ("a" * 32, 1),  # a run
        ("a" + " " * 31, 2),
        ("abcdefgh", 2),  # a sequence, step 1
        ("hgfedcba", 2),  # down
        ("acegikmo", 2),  # step 2
        ("qwertyui", 2),  # a walk along a keyboard row
        ("1234567890", 2),
        ("changemechangeme", 10),  # the second copy adds its first two characters
        ("ChangeMeCHANGEME", 10),  # case ignored in repeats
        ("x7Kp2QzR", 8),  # nothing to predict
    ],
)
def test_predictable_characters_count_nothing(secret: str, novel: int) -> None:
    assert novel_characters(secret) == novel


def test_the_estimate_is_novel_characters_times_the_alphabets_bits() -> None:
    assert estimated_bits("changeme" * 4) == pytest.approx(10 * math.log2(26))
    assert estimated_bits("") == 0


GENERATORS: dict[str, Callable[[Callable[[int], bytes]], str]] = {
    "token_urlsafe(32)": lambda draw: base64.urlsafe_b64encode(draw(32)).decode().rstrip("="),
    "openssl rand -base64 32": lambda draw: base64.b64encode(draw(32)).decode(),
    "openssl rand -base64 48": lambda draw: base64.b64encode(draw(48)).decode(),
    "openssl rand -hex 32": lambda draw: draw(32).hex(),
    "uppercase hex of 32 bytes": lambda draw: draw(32).hex().upper(),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_a_generated_secret_of_32_random_bytes_always_passes(name: str) -> None:
    generator = random.Random(name)
    secrets = [GENERATORS[name](generator.randbytes) for _ in range(DRAWS)]
    weakest = min(estimated_bits(secret) for secret in secrets)
    assert weakest >= HS_SECRET_MIN_BITS + 48, (name, weakest)  # a wide margin, not a near miss
    assert all(secret_weakness(secret) is None for secret in secrets)


def test_sixteen_random_bytes_in_hex_are_not_enough() -> None:
    # 32 characters, but 128 bits at most: repeats and runs found by chance leave fewer.
    generator = random.Random(16)
    refused = [secret_weakness(generator.randbytes(16).hex()) for _ in range(200)]
    assert sum(weakness is not None for weakness in refused) > 150


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ("x" * 31, "JWT_SECRET has 31 bytes; production needs at least 32 random bytes"),
        ("é" * 15, "JWT_SECRET has 30 bytes"),
        ("changeme" * 4, "JWT_SECRET is guessable: an estimated 47 bits"),
    ],
)
def test_the_weakness_names_the_setting_and_what_is_missing(secret: str, reason: str) -> None:
    weakness = secret_weakness(secret)
    assert weakness is not None and weakness.startswith(reason)
    assert "\n" not in weakness
